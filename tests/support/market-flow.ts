// One job's whole life over any JSON-RPC cluster (the real validator, or our local cluster with a
// running clock), through the SDK and its transaction layer only: mints and accounts made with
// spl-token, config and market, a staked provider, a job, a bid, award, start, commit, finalize.
// Returns the compute units the program consumed in each instruction (from its own log lines)
// and the payouts, so that two clusters can be compared.
import { AnchorProvider, Wallet } from "@coral-xyz/anchor";
import { createMint, getAssociatedTokenAddressSync, getOrCreateAssociatedTokenAccount, mintTo } from "@solana/spl-token";
import { Connection, Keypair, LAMPORTS_PER_SOL, type PublicKey } from "@solana/web3.js";
import { ComputeMarketClient } from "@compute-market/sdk";

export interface FlowResult {
  /** Compute units the program consumed, by instruction, as its runtime logged them. */
  units: Map<string, number>;
  providerPaid: bigint;
  consumerRefund: bigint;
  treasuryFee: bigint;
  /** Wall-clock milliseconds of the whole flow. */
  ms: number;
}

const PRICE = 700_000n;
const MAX_PRICE = 1_000_000n;

async function funded(connection: Connection, lamports = 10n * BigInt(LAMPORTS_PER_SOL)): Promise<Keypair> {
  const keypair = Keypair.generate();
  const signature = await connection.requestAirdrop(keypair.publicKey, Number(lamports));
  const { blockhash, lastValidBlockHeight } = await connection.getLatestBlockhash("confirmed");
  await connection.confirmTransaction({ signature, blockhash, lastValidBlockHeight }, "confirmed");
  return keypair;
}

/** Waits until the cluster's confirmed slot is past `slot`. */
async function slotPast(connection: Connection, slot: bigint): Promise<void> {
  const deadline = Date.now() + 120_000;
  while (BigInt(await connection.getSlot("confirmed")) <= slot) {
    if (Date.now() > deadline) throw new Error(`the cluster did not reach slot ${slot}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The units the program consumed in the transaction `signature`, from its log lines. */
async function unitsOf(connection: Connection, signature: string, programId: PublicKey): Promise<number> {
  for (let tries = 0; tries < 20; tries += 1) {
    const landed = await connection.getTransaction(signature, { commitment: "confirmed", maxSupportedTransactionVersion: 0 });
    const logs = landed?.meta?.logMessages;
    if (logs) {
      const line = logs.find((l) => l.startsWith(`Program ${programId.toBase58()} consumed `));
      if (!line) throw new Error(`no compute-unit line for the program in ${signature}`);
      return Number(/consumed (\d+) of/.exec(line)![1]);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`transaction ${signature} not found`);
}

export async function runMarketFlow(url: string): Promise<FlowResult> {
  const started = Date.now();
  const connection = new Connection(url, "confirmed");
  const [authority, owner, consumer] = await Promise.all([funded(connection), funded(connection), funded(connection)]);
  const client = (keypair: Keypair) => new ComputeMarketClient(new AnchorProvider(connection, new Wallet(keypair), { commitment: "confirmed" }));
  const [admin, operator, buyer] = [client(authority), client(owner), client(consumer)];
  const programId = admin.programId;
  const units = new Map<string, number>();
  const measure = async (name: string, signature: Promise<string>): Promise<void> => {
    units.set(name, await unitsOf(connection, await signature, programId));
  };

  const paymentMint = await createMint(connection, authority, authority.publicKey, null, 6);
  const stakeMint = await createMint(connection, authority, authority.publicKey, null, 6);
  const account = (mint: PublicKey, who: PublicKey) => getOrCreateAssociatedTokenAccount(connection, authority, mint, who).then((a) => a.address);
  const ownerStake = await account(stakeMint, owner.publicKey);
  await mintTo(connection, authority, stakeMint, ownerStake, authority, 1_000_000n);
  const consumerPayment = await account(paymentMint, consumer.publicKey);
  await mintTo(connection, authority, paymentMint, consumerPayment, authority, 10_000_000n);

  await measure("initialize_config", admin.initializeConfig({ protocolFeeBps: 250, treasury: authority.publicKey }).then((r) => r.signature));
  const created = admin.createMarket({
    class: { minGpuCount: 0, minVramMb: 0, minCpuCores: 1, minMemoryMb: 1 },
    params: {
      minStake: 10_000n, jobStakeLock: 1_000n, crankFee: 1_000n, bidWindowSlots: 4n, revealWindowSlots: 4n, startWindowSlots: 50n,
      challengeWindowSlots: 4n, unbondingSlots: 4n, slashNoShowBps: 1_000, slashTimeoutBps: 5_000, slashConsumerShareBps: 5_000, defaultReplication: 1,
    },
    paymentMint,
    stakeMint,
  });
  await measure("create_market", created.then((r) => r.signature));
  const { market } = await created;
  const registered = operator.registerProvider({ market, spec: { cpuCores: 2, memoryMb: 1_024, diskGb: 10, gpuCount: 0, vramMb: 0 }, endpoint: "http://127.0.0.1:1" });
  await measure("register_provider", registered.then((r) => r.signature));
  const { provider } = await registered;
  await measure("stake", operator.stake({ provider, amount: 50_000n }));
  const posted = buyer.postJob({
    market, specHash: new Uint8Array(32).fill(9), requirements: { cpuCores: 1, memoryMb: 64, maxDurationSlots: 200n },
    mode: "replicated", replication: 1, onFailure: "refund", maxPrice: MAX_PRICE, instantPrice: 0n, bidWindowSlots: 4n,
  });
  await measure("post_job", posted.then((r) => r.signature));
  const { job } = await posted;
  await measure("place_bid", operator.placeBid({ job, price: PRICE }).then((r) => r.signature));
  const bidding = (await buyer.fetchJob(job))!;
  await slotPast(connection, bidding.bidDeadlineSlot);
  await measure("award", admin.award({ job }));
  await measure("start_job", operator.startJob({ job }));
  await measure("commit_result", operator.commitResult({ job, outputRoot: new Uint8Array(32).fill(1), resultUriHash: new Uint8Array(32).fill(2) }));
  const committed = (await buyer.fetchJob(job))!;
  await slotPast(connection, committed.progress.challengeDeadlineSlot);
  const before = await balances(connection, [paymentMint], [owner.publicKey, consumer.publicKey, authority.publicKey]);
  await measure("finalize", admin.finalize({ job }));
  const after = await balances(connection, [paymentMint], [owner.publicKey, consumer.publicKey, authority.publicKey]);
  return {
    units,
    providerPaid: after[0] - before[0],
    consumerRefund: after[1] - before[1],
    treasuryFee: after[2] - before[2],
    ms: Date.now() - started,
  };
}

/** Payment-mint balances of each owner's associated account (0 where it does not exist). */
async function balances(connection: Connection, [mint]: PublicKey[], owners: PublicKey[]): Promise<bigint[]> {
  return Promise.all(
    owners.map(async (owner) => {
      const address = getAssociatedTokenAddressSync(mint, owner);
      const info = await connection.getTokenAccountBalance(address, "confirmed").catch(() => null);
      return info ? BigInt(info.value.amount) : 0n;
    }),
  );
}
