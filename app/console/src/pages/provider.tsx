// The provider's page: the wallet's providers, each with its stake (staked, locked by bids,
// unbonding and when it unlocks), its track record, what it earned (from its payment events), the
// fees it paid on completed jobs, its bids and their states; unstake and withdraw from here.
import { useEffect, useState } from "preact/hooks";
import { accountFieldOffset, fetchAllOf, parseEvents, rules, type BidAccount, type ComputeMarketClient, type ProviderAccount } from "@compute-market/sdk";
import type { PublicKey } from "@solana/web3.js";
import { recentTransactions } from "../chain";
import type { SigningWallet } from "../wallet/connect";

const OWNER_OFFSET = accountFieldOffset("Provider", "owner");
const BID_PROVIDER_OFFSET = accountFieldOffset("Bid", "provider");

interface ProviderView {
  address: PublicKey;
  account: ProviderAccount;
  bids: { address: PublicKey; account: BidAccount }[];
  /** What it was paid, from its payment events (WinnerPaid, ServiceClaimed) in its latest transactions. */
  earned: bigint;
}

/** How many of a provider's latest transactions its earnings are read from. */
const EARNINGS_HISTORY = 200;

/** What its jobs paid and its replicas claimed, in its latest transactions. */
async function earnings(client: ComputeMarketClient, provider: PublicKey): Promise<bigint> {
  let total = 0n;
  for (const tx of await recentTransactions(client, provider, EARNINGS_HISTORY)) {
    if (tx.meta?.err) continue;
    for (const event of parseEvents(client.program, tx.meta?.logMessages ?? [])) {
      const data = event.data as { provider?: PublicKey; price?: bigint; paid?: bigint };
      if (!data.provider?.equals(provider)) continue;
      if (event.name === "winnerPaid") total += data.price ?? 0n;
      if (event.name === "serviceClaimed") total += data.paid ?? 0n;
    }
  }
  return total;
}

async function loadProviders(client: ComputeMarketClient, owner: PublicKey): Promise<ProviderView[]> {
  const providers = await fetchAllOf(client.program, "provider", [{ offset: OWNER_OFFSET, address: owner }]);
  return Promise.all(
    providers.map(async ({ address, account }) => ({
      address,
      account,
      bids: await fetchAllOf(client.program, "bid", [{ offset: BID_PROVIDER_OFFSET, address }]),
      earned: await earnings(client, address),
    })),
  );
}

export function ProviderPage({ client, wallet, slot }: { client: ComputeMarketClient; wallet: SigningWallet | null; slot: number | null }) {
  const [providers, setProviders] = useState<ProviderView[] | null>(null);
  const [message, setMessage] = useState<{ error: boolean; text: string } | null>(null);
  const [refresh, setRefresh] = useState(0);

  useEffect(() => {
    if (!wallet) return;
    let live = true;
    const load = () => loadProviders(client, wallet.publicKey).then((loaded) => live && setProviders(loaded), (error: unknown) => live && setMessage({ error: true, text: String(error) }));
    void load();
    const timer = setInterval(load, 2_000);
    return () => {
      live = false;
      clearInterval(timer);
    };
  }, [client, wallet, refresh]);

  if (!wallet) return <p data-testid="provider-no-wallet">connect a provider's wallet to see its stake</p>;
  if (!providers) return <p>reading the wallet's providers…</p>;
  if (providers.length === 0) return <p data-testid="no-providers">this wallet registered no provider (npm run provider -- register)</p>;

  const act = async (what: string, action: () => Promise<string>) => {
    try {
      const signature = await action();
      setMessage({ error: false, text: `${what}: ${signature.slice(0, 12)}…` });
      setRefresh((n) => n + 1);
    } catch (error) {
      setMessage({ error: true, text: `${what} refused: ${error instanceof Error ? error.message : String(error)}` });
    }
  };

  return (
    <section>
      <h2>Your providers</h2>
      {message && (
        <p class={message.error ? "error" : ""} data-testid="provider-message">
          {message.text}
        </p>
      )}
      {providers.map(({ address, account, bids, earned }) => {
        const free = account.staked - account.locked - account.unbonding;
        const unlocksIn = slot === null || account.unbonding === 0n ? null : Number(account.unlockSlot) - slot;
        const r = account.reputation;
        return (
          <article class="market" data-testid="my-provider" data-address={address.toBase58()}>
            <h3>provider {address.toBase58().slice(0, 8)}… in market {account.market.toBase58().slice(0, 8)}…</h3>
            <dl>
              <dt>staked</dt>
              <dd data-testid="staked">{account.staked.toString()}</dd>
              <dt>locked by bids</dt>
              <dd data-testid="locked">{account.locked.toString()}</dd>
              <dt>unbonding</dt>
              <dd data-testid="unbonding">
                {account.unbonding.toString()}
                {unlocksIn !== null && (unlocksIn > 0 ? ` (unlocks at slot ${account.unlockSlot}, in ${unlocksIn} slots)` : " (withdrawable now)")}
              </dd>
              <dt>free</dt>
              <dd>{free.toString()}</dd>
              <dt>completed / failed / slashed / disputes won / lost</dt>
              <dd data-testid="record">
                {r.completed} / {r.failed} / {r.slashed} / {r.disputesWon} / {r.disputesLost}
              </dd>
              <dt>earned (jobs paid and service time claimed, in its latest transactions)</dt>
              <dd data-testid="earned">{earned.toString()}</dd>
              <dt>protocol fees paid on completed jobs</dt>
              <dd>{account.feesPaid.toString()}</dd>
            </dl>
            <form
              data-testid="unstake"
              onSubmit={(event) => {
                event.preventDefault();
                const amount = BigInt((event.currentTarget.elements.namedItem("amount") as HTMLInputElement).value || "0");
                void act("unstake", () => client.requestUnstake({ provider: address, amount }));
              }}
            >
              <label>
                amount to unstake <input name="amount" defaultValue="0" />
              </label>
              <button type="submit" data-testid="unstake-submit">
                request unstake
              </button>
              <button type="button" data-testid="withdraw" onClick={() => void act("withdraw", () => client.withdrawUnstaked({ provider: address }))}>
                withdraw unbonded stake
              </button>
            </form>
            <h4>Bids ({bids.length})</h4>
            <table data-testid="provider-bids">
              <thead>
                <tr>
                  <th>job</th>
                  <th>status</th>
                  <th>price</th>
                  <th>stake locked</th>
                </tr>
              </thead>
              <tbody>
                {bids.map(({ account: bid }) => (
                  <tr>
                    <td>{bid.job.toBase58().slice(0, 8)}…</td>
                    <td>{rules.statusOf(bid)}</td>
                    <td>{(bid.awardedPrice > 0n ? bid.awardedPrice : bid.price).toString()}</td>
                    <td>{bid.locked.toString()}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </article>
        );
      })}
    </section>
  );
}
