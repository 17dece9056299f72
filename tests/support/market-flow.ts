// One job's whole life over any JSON-RPC cluster (the real validator, or our local cluster with a
// running clock), through the SDK and its transaction layer only: mints and accounts made with
// spl-token, config and market, staked providers, a job, their bids, award, start, commit, finalize.
// With a replication of r, r providers win and are paid together: finalize then names 5 accounts
// per winner, more than a transaction without a lookup table can carry once r reaches 5.
// Returns the compute units the program consumed in each instruction (from its own log lines)
// and the payouts, so that two clusters can be compared.
import { AnchorProvider, Wallet } from "@coral-xyz/anchor";
import { createMint, getAssociatedTokenAddressSync, getOrCreateAssociatedTokenAccount, mintTo } from "@solana/spl-token";
import { Connection, Keypair, LAMPORTS_PER_SOL, type PublicKey } from "@solana/web3.js";
import { ComputeMarketClient } from "@compute-market/sdk";

export interface FlowResult {
  /** Compute units the program consumed, by instruction, as its runtime logged them. */
  units: Map<string, number>;
  /** What each winning provider was paid, in ranking order; `providerPaid` is the first. */
  providersPaid: bigint[];
  providerPaid: bigint;
  consumerRefund: bigint;
  treasuryFee: bigint;
  /** Wall-clock milliseconds of the whole flow. */
  ms: number;
  /** Who created the market, to run another flow on the same cluster. */
  authority: FlowAuthority;
  /** The JSON-RPC requests, by method, the SDK made to resolve finalize's accounts. */
  finalizeReads: Record<string, number>;
  /** The lookup tables the authority's transaction layer created and extended so far. */
  lookupTables: { created: number; extended: number; addressesAdded: number };
}

const PRICE = 700_000n;

/** JSON-RPC requests made by every connection of the flows, by method. */
const requests = new Map<string, number>();
const countingFetch: typeof fetch = (input, init) => {
  for (const request of [JSON.parse(String(init?.body ?? "null"))].flat()) {
    if (request?.method) requests.set(request.method, (requests.get(request.method) ?? 0) + 1);
  }
  return fetch(input, init);
};

/** The requests `work` made, by method. */
async function requestsOf(work: () => Promise<unknown>): Promise<Record<string, number>> {
  const before = new Map(requests);
  await work();
  return Object.fromEntries([...requests].map(([method, count]) => [method, count - (before.get(method) ?? 0)]).filter(([, count]) => Number(count) > 0));
}
const MAX_PRICE = 1_000_000n;

export async function funded(connection: Connection, lamports = 10n * BigInt(LAMPORTS_PER_SOL)): Promise<Keypair> {
  const keypair = Keypair.generate();
  const signature = await connection.requestAirdrop(keypair.publicKey, Number(lamports));
  const { blockhash, lastValidBlockHeight } = await connection.getLatestBlockhash("confirmed");
  await connection.confirmTransaction({ signature, blockhash, lastValidBlockHeight }, "confirmed");
  return keypair;
}

/** Waits until the cluster's confirmed slot is past `slot`. */
export async function slotPast(connection: Connection, slot: bigint): Promise<void> {
  const deadline = Date.now() + 120_000;
  while (BigInt(await connection.getSlot("confirmed")) <= slot) {
    if (Date.now() > deadline) throw new Error(`the cluster did not reach slot ${slot}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The units the program consumed in the transaction `signature`, from its log lines. */
export async function unitsOf(connection: Connection, signature: string, programId: PublicKey): Promise<number> {
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

/** The protocol authority of a cluster: it creates the markets. */
export interface FlowAuthority {
  keypair: Keypair;
  client: ComputeMarketClient;
}

export interface FlowOptions {
  /** Providers that win the job and are paid together (1–7). */
  replication?: number;
  /** The authority of a config initialized by an earlier flow on the same cluster (default: a new one, which initializes it). */
  authority?: FlowAuthority;
}

export async function runMarketFlow(url: string, options: FlowOptions = {}): Promise<FlowResult> {
  const { replication = 1 } = options;
  const started = Date.now();
  const connection = new Connection(url, { commitment: "confirmed", fetch: countingFetch });
  const [consumer, ...owners] = await Promise.all(Array.from({ length: 1 + replication }, () => funded(connection)));
  const client = (keypair: Keypair) => new ComputeMarketClient(new AnchorProvider(connection, new Wallet(keypair), { commitment: "confirmed" }));
  const keypair = options.authority?.keypair ?? (await funded(connection));
  const admin = options.authority?.client ?? client(keypair);
  const authority = keypair;
  const buyer = client(consumer);
  const operators = owners.map(client);
  const programId = admin.programId;
  const units = new Map<string, number>();
  const measure = async (name: string, signature: Promise<string>): Promise<void> => {
    units.set(name, await unitsOf(connection, await signature, programId));
  };

  const paymentMint = await createMint(connection, authority, authority.publicKey, null, 6);
  const stakeMint = await createMint(connection, authority, authority.publicKey, null, 6);
  const account = (mint: PublicKey, who: PublicKey) => getOrCreateAssociatedTokenAccount(connection, authority, mint, who).then((a) => a.address);
  for (const owner of owners) await mintTo(connection, authority, stakeMint, await account(stakeMint, owner.publicKey), authority, 1_000_000n);
  const consumerPayment = await account(paymentMint, consumer.publicKey);
  await mintTo(connection, authority, paymentMint, consumerPayment, authority, 10_000_000n);

  if (!options.authority) await measure("initialize_config", admin.initializeConfig({ protocolFeeBps: 250, treasury: authority.publicKey }).then((r) => r.signature));
  const created = admin.createMarket({
    class: { minGpuCount: 0, minVramMb: 0, minCpuCores: 1, minMemoryMb: 1 },
    params: {
      minStake: 10_000n, jobStakeLock: 1_000n, crankFee: 1_000n, bidWindowSlots: 4n, revealWindowSlots: 4n, startWindowSlots: 50n,
      challengeWindowSlots: replication === 1 ? 4n : 30n, unbondingSlots: 4n, slashNoShowBps: 1_000, slashTimeoutBps: 5_000, slashConsumerShareBps: 5_000, defaultReplication: 1,
    },
    paymentMint,
    stakeMint,
  });
  await measure("create_market", created.then((r) => r.signature));
  const { market } = await created;
  for (const operator of operators) {
    const registered = operator.registerProvider({ market, spec: { cpuCores: 2, memoryMb: 1_024, diskGb: 10, gpuCount: 0, vramMb: 0 }, endpoint: "http://127.0.0.1:1" });
    await measure("register_provider", registered.then((r) => r.signature));
    await measure("stake", operator.stake({ provider: (await registered).provider, amount: 50_000n }));
  }
  const posted = buyer.postJob({
    market, specHash: new Uint8Array(32).fill(9), requirements: { cpuCores: 1, memoryMb: 64, maxDurationSlots: 200n },
    mode: "replicated", replication, onFailure: "refund", maxPrice: MAX_PRICE, instantPrice: 0n, bidWindowSlots: 4n + 2n * BigInt(replication - 1),
  });
  await measure("post_job", posted.then((r) => r.signature));
  const { job } = await posted;
  // All at once: the bid window is short.
  await Promise.all(operators.map((operator) => measure("place_bid", operator.placeBid({ job, price: PRICE }).then((r) => r.signature))));
  const bidding = (await buyer.fetchJob(job))!;
  await slotPast(connection, bidding.bidDeadlineSlot);
  await measure("award", admin.award({ job }));
  const outputRoot = new Uint8Array(32).fill(1);
  await Promise.all(operators.map((operator) => measure("start_job", operator.startJob({ job }))));
  const resultUriHash = new Uint8Array(32).fill(2);
  if (replication === 1) await measure("commit_result", operators[0].commitResult({ job, outputRoot, resultUriHash }));
  else {
    // Several winners seal their roots, then reveal them once all have committed.
    const salts = operators.map((_, i) => new Uint8Array(32).fill(10 + i));
    await Promise.all(operators.map((operator, i) => measure("commit_sealed_result", operator.commitSealedResult({ job, outputRoot, salt: salts[i], resultUriHash }))));
    await Promise.all(operators.map((operator, i) => measure("reveal_result", operator.revealResult({ job, outputRoot, salt: salts[i] }))));
  }
  const committed = (await buyer.fetchJob(job))!;
  await slotPast(connection, committed.progress.challengeDeadlineSlot);
  const payees = [...owners.map((owner) => owner.publicKey), consumer.publicKey, authority.publicKey];
  // What the SDK reads to build the settlement, without sending it.
  const finalizeReads = await requestsOf(() => admin.instructionsOf((c) => c.finalize({ job })));
  const before = await balances(connection, [paymentMint], payees);
  await measure("finalize", admin.finalize({ job }));
  const after = await balances(connection, [paymentMint], payees);
  const gained = after.map((value, i) => value - before[i]);
  return {
    units,
    providersPaid: gained.slice(0, replication),
    providerPaid: gained[0],
    consumerRefund: gained[replication],
    treasuryFee: gained[replication + 1],
    ms: Date.now() - started,
    authority: { keypair, client: admin },
    finalizeReads,
    lookupTables: { ...admin.transactions.lookupTableStore.stats },
  };
}

/** Payment-mint balances of each owner's associated account (0 where it does not exist). */
export async function balances(connection: Connection, [mint]: PublicKey[], owners: PublicKey[]): Promise<bigint[]> {
  return Promise.all(
    owners.map(async (owner) => {
      const address = getAssociatedTokenAddressSync(mint, owner);
      const info = await connection.getTokenAccountBalance(address, "confirmed").catch(() => null);
      return info ? BigInt(info.value.amount) : 0n;
    }),
  );
}
