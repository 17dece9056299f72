// The keeper's page: what a keeper wallet cranked and earned, read from the chain alone — its
// recent transactions (getSignaturesForAddress, getTransaction), each of the program's
// instructions in them counted by name (each bot sends its own kinds), the token amounts its
// accounts gained in them (crank fees, slash shares, challenge rewards) and the SOL it spent on fees.
import { useEffect, useState } from "preact/hooks";
import { PublicKey } from "@solana/web3.js";
import bs58 from "bs58";
import { Buffer } from "buffer";
import type { ComputeMarketClient } from "@compute-market/sdk";
import { recentTransactions, type LandedTransaction } from "../chain";
import type { SigningWallet } from "../wallet/connect";

/** How far back the page reads: the keeper's latest transactions. */
const HISTORY = 200;

interface CrankRow {
  name: string;
  count: number;
  /** Token amounts gained, by mint. */
  earned: Map<string, bigint>;
}

interface KeeperReport {
  transactions: number;
  failed: number;
  feesLamports: number;
  cranks: CrankRow[];
}

/** The IDL's instruction decoder (Anchor's Borsh coder has one; its interface type does not say so). */
const decoder = (client: ComputeMarketClient) => client.program.coder.instruction as unknown as { decode(data: Buffer): { name: string } | null };

/** The program's instruction names in `tx`, from their discriminators. */
function instructionNames(client: ComputeMarketClient, tx: LandedTransaction): string[] {
  const message = tx.transaction.message;
  const keys = "staticAccountKeys" in message ? message.staticAccountKeys : (message as { accountKeys: PublicKey[] }).accountKeys;
  const instructions = "compiledInstructions" in message ? message.compiledInstructions.map((ix) => ({ program: ix.programIdIndex, data: ix.data })) : (message as { instructions: { programIdIndex: number; data: string }[] }).instructions.map((ix) => ({ program: ix.programIdIndex, data: bs58.decode(ix.data) }));
  return instructions
    .filter((ix) => keys[ix.program]?.equals(client.programId))
    .map((ix) => decoder(client).decode(Buffer.from(ix.data))?.name ?? "unknown");
}

/** What the keeper's token accounts gained in `tx`, by mint. */
function gains(tx: LandedTransaction, keeper: string): Map<string, bigint> {
  const gained = new Map<string, bigint>();
  const before = new Map((tx.meta?.preTokenBalances ?? []).filter((b) => b.owner === keeper).map((b) => [b.accountIndex, BigInt(b.uiTokenAmount.amount)]));
  for (const after of tx.meta?.postTokenBalances ?? []) {
    if (after.owner !== keeper) continue;
    const delta = BigInt(after.uiTokenAmount.amount) - (before.get(after.accountIndex) ?? 0n);
    if (delta > 0n) gained.set(after.mint, (gained.get(after.mint) ?? 0n) + delta);
  }
  return gained;
}

async function loadReport(client: ComputeMarketClient, keeper: PublicKey): Promise<KeeperReport> {
  const transactions = await recentTransactions(client, keeper, HISTORY);
  const rows = new Map<string, CrankRow>();
  let failed = 0;
  let feesLamports = 0;
  for (const tx of transactions) {
    const paidByKeeper = ("staticAccountKeys" in tx.transaction.message ? tx.transaction.message.staticAccountKeys[0] : undefined)?.equals(keeper) ?? false;
    if (paidByKeeper) feesLamports += tx.meta?.fee ?? 0;
    if (tx.meta?.err) {
      failed += 1;
      continue;
    }
    const names = instructionNames(client, tx);
    if (names.length === 0) continue;
    // A transaction's gains go to its first instruction of the program (the keeper packs one kind per transaction).
    const earned = gains(tx, keeper.toBase58());
    names.forEach((name, i) => {
      const row = rows.get(name) ?? { name, count: 0, earned: new Map() };
      row.count += 1;
      if (i === 0) for (const [mint, amount] of earned) row.earned.set(mint, (row.earned.get(mint) ?? 0n) + amount);
      rows.set(name, row);
    });
  }
  return { transactions: transactions.length, failed, feesLamports, cranks: [...rows.values()].sort((a, b) => b.count - a.count) };
}

export function KeeperPage({ client, wallet }: { client: ComputeMarketClient; wallet: SigningWallet | null }) {
  const [address, setAddress] = useState(wallet?.publicKey.toBase58() ?? "");
  const [report, setReport] = useState<KeeperReport | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    if (!address) return;
    let live = true;
    setReport(null);
    try {
      const keeper = new PublicKey(address);
      loadReport(client, keeper).then((loaded) => live && (setReport(loaded), setError(null)), (failure: unknown) => live && setError(String(failure)));
    } catch {
      setError(`not an address: ${address}`);
    }
    return () => {
      live = false;
    };
  }, [client, address]);

  return (
    <section>
      <h2>A keeper's cranks</h2>
      <form
        data-testid="keeper-form"
        onSubmit={(event) => {
          event.preventDefault();
          setAddress((event.currentTarget.elements.namedItem("keeper") as HTMLInputElement).value.trim());
        }}
      >
        <label>
          keeper wallet <input name="keeper" defaultValue={address} />
        </label>
        <button type="submit" data-testid="keeper-submit">
          read
        </button>
      </form>
      {error && <p class="error">{error}</p>}
      {address && !report && !error && <p>reading the keeper's transactions…</p>}
      {report && (
        <div data-testid="keeper-report">
          <p>
            latest {report.transactions} transactions: {report.failed} failed, {report.feesLamports} lamports of fees paid
          </p>
          <table>
            <thead>
              <tr>
                <th>crank</th>
                <th>count</th>
                <th>earned (by mint)</th>
              </tr>
            </thead>
            <tbody>
              {report.cranks.map((row) => (
                <tr data-testid="crank" data-name={row.name}>
                  <td>{row.name}</td>
                  <td data-testid="crank-count">{row.count}</td>
                  <td data-testid="crank-earned">{[...row.earned].map(([mint, amount]) => `${amount} ${mint.slice(0, 6)}…`).join(", ") || "–"}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
