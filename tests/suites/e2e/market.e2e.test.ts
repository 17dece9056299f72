// End to end with real processes: a local cluster process, two keeper processes and scripted
// providers; a consumer posts 50 jobs. Every job must end in the right terminal state, each
// award must go to the best bid standing, and the keepers must never pay out twice.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { AnchorProvider, Wallet } from "@coral-xyz/anchor";
import { createMint, getAssociatedTokenAddressSync, getOrCreateAssociatedTokenAccount, mintTo } from "@solana/spl-token";
import { Connection, Keypair, LAMPORTS_PER_SOL, PublicKey } from "@solana/web3.js";
import { ComputeMarketClient, parseEvents, toNative, transportError, variantOf, type BidAccount, type ComputeMarketEvent, type JobAccount } from "@compute-market/sdk";
import { withRetry } from "@compute-market/common";
import { startFaultProxy, type FaultProxy } from "@compute-market/localnet";
import { startKeeperProcess, startLocalnetProcess, type Spawned } from "../../support/processes";

const JOBS = 50;
const SLOT_MS = 40;
const HONEST = 4;
const PARAMS = {
  minStake: 10_000n,
  jobStakeLock: 1_000n,
  crankFee: 1_000n,
  bidWindowSlots: 250n,
  revealWindowSlots: 10n,
  // 4 s: the scripted providers poll 50 jobs one RPC at a time on a shared 2-core machine.
  startWindowSlots: 100n,
  challengeWindowSlots: 10n,
  unbondingSlots: 10n,
  slashNoShowBps: 1_000,
  slashTimeoutBps: 5_000,
  slashConsumerShareBps: 5_000,
  defaultReplication: 1,
};

interface Wallet_ {
  keypair: Keypair;
  client: ComputeMarketClient;
}

/** Honest provider p's price for job i: a rotation, so every job has distinct prices and a different best bidder. */
const honestPrice = (p: number, i: number) => 400_000n + BigInt((p + i) % HONEST) * 50_000n;
/** The flaky provider undercuts every fifth job, wins it, and never starts. */
const flakyBids = (i: number) => i % 5 === 0;

describe("end to end: cluster, two keepers, providers, 50 jobs", function () {
  this.timeout(700_000);
  const processes: Spawned[] = [];
  const proxies: FaultProxy[] = [];
  afterEach(async () => {
    // Keepers first, so none of them retries against a cluster that is already gone.
    for (const spawned of processes.splice(0).reverse()) await spawned.stop();
    for (const proxy of proxies.splice(0)) await proxy.close();
  });

  it("ends every job correctly with the best bids winning and nothing paid twice", async () => {
    await endToEnd(false);
  });

  // `npm run test:faults` runs this one alone.
  it("does the same with a fifth of the daemons' RPC requests failing, delayed or dropped and their subscriptions cut", async () => {
    const counts = await endToEnd(true);
    assert.ok(counts && counts.errors + counts.drops + counts.delays > 0 && counts.cuts > 0, `faults were injected: ${JSON.stringify(counts)}`);
  });

  /** The whole run; with `faulty`, the keepers and the providers reach the cluster through a fault proxy. */
  async function endToEnd(faulty: boolean): Promise<FaultProxy["counts"] | null> {
    // Given a cluster and two keepers, as separate processes
    const cluster = await startLocalnetProcess(SLOT_MS);
    processes.push(cluster);
    const connection = new Connection(cluster.url, "confirmed");
    const proxy = faulty ? await startFaultProxy({ target: cluster.url, errorRate: 0.1, dropRate: 0.05, delayRate: 0.05, maxDelayMs: 500, holdMs: 3_000, cutRatePerSecond: 0.05, seed: Number(process.env.E2E_FAULT_SEED ?? 20) }) : null;
    if (proxy) proxies.push(proxy);
    const daemonUrl = proxy?.url ?? cluster.url;
    // 429s are the scripted providers' to retry (retryingTransport), not web3.js's with a line printed for each.
    const daemonConnection = new Connection(daemonUrl, { commitment: "confirmed", disableRetryOnRateLimit: true });
    const wallet = async (): Promise<Wallet_> => {
      const keypair = Keypair.generate();
      await connection.confirmTransaction(await connection.requestAirdrop(keypair.publicKey, 100 * LAMPORTS_PER_SOL));
      return { keypair, client: new ComputeMarketClient(new AnchorProvider(connection, new Wallet(keypair), { commitment: "confirmed" })) };
    };
    const keepers = [await wallet(), await wallet()];
    for (const keeper of keepers) processes.push(startKeeperProcess(daemonUrl, keeper.keypair, 200, faulty ? ["--priority-fee", "none"] : []));

    // And a market with four honest providers and a flaky one, all staked
    const authority = await wallet();
    const paymentMint = await createMint(connection, authority.keypair, authority.keypair.publicKey, null, 6);
    const stakeMint = await createMint(connection, authority.keypair, authority.keypair.publicKey, null, 9);
    const fund = async (owner: Wallet_, mint: PublicKey, amount: bigint) => {
      const account = await getOrCreateAssociatedTokenAccount(connection, authority.keypair, mint, owner.keypair.publicKey);
      await mintTo(connection, authority.keypair, mint, account.address, authority.keypair, amount);
    };
    await authority.client.initializeConfig({ protocolFeeBps: 250, treasury: authority.keypair.publicKey });
    const { market } = await authority.client.createMarket({
      class: { minGpuCount: 0, minVramMb: 0, minCpuCores: 1, minMemoryMb: 1 },
      // Under faults a provider's read or send can be held 3 s, refused or lost and sent again: room for a few such losses in a row.
      params: faulty ? { ...PARAMS, bidWindowSlots: 750n, startWindowSlots: 500n } : PARAMS,
      paymentMint,
      stakeMint,
    });
    const providers: ScriptedProvider[] = [];
    for (let p = 0; p <= HONEST; p++) {
      const owner = await wallet();
      await fund(owner, stakeMint, 1_000_000n);
      const { provider } = await owner.client.registerProvider({ market, spec: { cpuCores: 8, memoryMb: 16_384, diskGb: 100, gpuCount: 0, vramMb: 0 }, endpoint: `https://p${p}.example` });
      await owner.client.stake({ provider, amount: 500_000n });
      // The scripted providers act through the daemons' connection (faults included).
      const client = new ComputeMarketClient(new AnchorProvider(daemonConnection, new Wallet(owner.keypair), { commitment: "confirmed" }));
      providers.push({ ...owner, client, provider, flaky: p === HONEST });
    }

    // And every program event recorded as it happens
    const events: ComputeMarketEvent[] = [];
    const listener = connection.onLogs(authority.client.programId, (logs) => {
      if (!logs.err) events.push(...parseEvents(authority.client.program, logs.logs));
    });

    // When the consumer posts 50 jobs and the providers follow them
    const consumer = await wallet();
    await fund(consumer, paymentMint, 1_000_000_000n);
    const jobs: PublicKey[] = [];
    const stopProviders = runProviders(providers, jobs);
    for (let i = 0; i < JOBS; i++) {
      const { job } = await consumer.client.postJob({
        market,
        specHash: createHash("sha256").update(`job-${i}`).digest(),
        // The commit is due this long after the start deadline: under faults, room for a start that landed late and a commit sent twice.
        requirements: { cpuCores: 1, memoryMb: 1, maxDurationSlots: faulty ? 250n : 50n },
        mode: "replicated",
        replication: 1,
        onFailure: "reopen",
        maxPrice: 1_000_000n,
        instantPrice: 0n,
        bidWindowSlots: 0n,
      });
      jobs.push(job);
    }
    const terminal = await waitFor(async () => (await connection.getMultipleAccountsInfo(jobs)).every((a) => a === null), faulty ? 540_000 : 240_000);
    await stopProviders();
    await new Promise((resolve) => setTimeout(resolve, 500));
    await connection.removeOnLogsListener(listener);
    assert.ok(terminal, "every job reached a terminal state");

    // Then each job ended once, finalized (an honest bid always stands behind a flaky one)
    const ends = events.filter((e) => e.name === "jobFinalized" || e.name === "jobExpired" || e.name === "jobRefunded");
    for (const job of jobs) {
      const own = ends.filter((e) => (e.data as { job: PublicKey }).job.equals(job));
      assert.deepEqual(own.map((e) => e.name), ["jobFinalized"], `job ${job.toBase58()} ended exactly once, finalized`);
    }

    // And every award went to the best bid standing at that moment
    for (const job of jobs) assertBestBidsWon(events, job);
    const failures = events.filter((e) => e.name === "winnerFailed");
    assert.equal(failures.length, JOBS / 5, "the flaky provider was failed once per job it won");
    const flaky = providers.find((p) => p.flaky)!.provider;
    assert.ok(failures.every((e) => e.name === "winnerFailed" && e.data.provider.equals(flaky)), "no honest provider was failed (and slashed)");

    // And nothing was paid twice: crank fees, prices and protocol fees add up to the events
    const paid = events.filter((e) => e.name === "winnerPaid");
    assert.equal(paid.length, JOBS);
    const balance = async (owner: PublicKey) => BigInt((await connection.getTokenAccountBalance(getAssociatedTokenAddressSync(paymentMint, owner)).catch(() => ({ value: { amount: "0" } }))).value.amount);
    const keeperFees = (await Promise.all(keepers.map((k) => balance(k.keypair.publicKey)))).reduce((a, b) => a + b, 0n);
    assert.equal(keeperFees, PARAMS.crankFee * BigInt(JOBS));
    const providerIncome = (await Promise.all(providers.map((p) => balance(p.keypair.publicKey)))).reduce((a, b) => a + b, 0n);
    const prices = paid.reduce((sum, e) => sum + (e.name === "winnerPaid" ? e.data.price : 0n), 0n);
    const fees = paid.reduce((sum, e) => sum + (e.name === "winnerPaid" ? e.data.fee : 0n), 0n);
    assert.equal(providerIncome, prices);
    assert.equal(await balance(authority.keypair.publicKey), fees);
    return proxy ? { ...proxy.counts } : null;
  }
});

/** Replays a job's events: bids enter a ranking, failed winners leave it; each award must go to its head. */
function assertBestBidsWon(events: ComputeMarketEvent[], job: PublicKey): void {
  const ranking: { provider: PublicKey; price: bigint; order: number }[] = [];
  let awards = 0;
  events.forEach((event, order) => {
    const data = event.data as { job: PublicKey; provider?: PublicKey };
    if (!data.job.equals(job)) return;
    if (event.name === "bidPlaced") ranking.push({ provider: event.data.provider, price: event.data.price, order });
    if (event.name === "winnerFailed") ranking.splice(ranking.findIndex((r) => r.provider.equals(event.data.provider)), 1);
    if (event.name === "winnerSelected") {
      const best = [...ranking].sort((a, b) => (a.price === b.price ? a.order - b.order : a.price < b.price ? -1 : 1))[0];
      assert.ok(best.provider.equals(event.data.provider), `award of ${job.toBase58()} went to the best bid`);
      assert.equal(event.data.price, best.price);
      awards++;
    }
  });
  assert.ok(awards >= 1, `job ${job.toBase58()} was awarded`);
}

/** Polls until `done` holds or the time is up; resolves to whether it held. */
async function waitFor(done: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await done()) return true;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return false;
}

/** A provider as the script plays it: its wallet, its provider account, and whether it is the flaky one. */
type ScriptedProvider = Wallet_ & { provider: PublicKey; flaky: boolean };

/** A request that failed before the send is the caller's to retry (after it, the SDK's transaction layer retries): at once, a few times. */
function retryingTransport<T>(call: () => Promise<T>): Promise<T> {
  return withRetry(call, { attempts: 5, baseMs: 200, maxMs: 1_000, retryable: (error) => transportError(error) !== null });
}

/** What a scripted provider does next for job `i`, given the job and its own bid as last read; null when nothing. */
function nextStep(owner: ScriptedProvider, p: number, i: number, job: PublicKey, state: JobAccount | null, bid: BidAccount | null, bidSent: boolean): { kind: "bid" | "run"; act: () => Promise<unknown> } | null {
  if (!state) return null;
  if (!bid && !bidSent && variantOf(state.state) === "open") {
    if (!owner.flaky) return { kind: "bid", act: () => retryingTransport(() => owner.client.placeBid({ job, price: honestPrice(p, i) })) };
    return { kind: "bid", act: async () => (flakyBids(i) ? retryingTransport(() => owner.client.placeBid({ job, price: 100_000n })) : null) };
  }
  if (!bid || owner.flaky || state.progress.awardedSlot === 0n || bid.awardedSlot !== state.progress.awardedSlot) return null;
  const status = variantOf(bid.status);
  if (status !== "won" && status !== "started") return null;
  return {
    kind: "run",
    act: async () => {
      if (status === "won") await retryingTransport(() => owner.client.startJob({ job }));
      await retryingTransport(() => owner.client.commitResult({ job, outputRoot: createHash("sha256").update(job.toBase58()).digest(), resultUriHash: new Uint8Array(32) }));
    },
  };
}

/**
 * The scripted providers, following `jobs` as it grows. Like a provider node acting from its
 * index, each pass reads every job and the provider's own bids on them in two requests, then runs
 * what is due for every job at once (one job's steps in order): each bids once on every job it
 * wants, honest winners start and commit, the flaky one never starts. A request the node did not
 * answer is retried at once; a step that still fails (a deadline that just passed, a race) is due
 * again on a later pass.
 */
function runProviders(providers: ScriptedProvider[], jobs: PublicKey[]): () => Promise<void> {
  let running = true;
  const loops = providers.map(async (owner, p) => {
    const bidSent = new Set<string>();
    const inFlight = new Map<string, Promise<void>>();
    const { program } = owner.client;
    while (running) {
      const known = [...jobs];
      try {
        const [states, bids] = await Promise.all([
          program.account.job.fetchMultiple(known),
          program.account.bid.fetchMultiple(known.map((job) => owner.client.bidAddress(job, owner.provider))),
        ]);
        known.forEach((job, i) => {
          const key = job.toBase58();
          // Its bid seen on chain counts as sent, however the call that sent it ended: never a second bid.
          if (bids[i]) bidSent.add(key);
          if (inFlight.has(key)) return;
          const step = nextStep(owner, p, i, job, states[i] && (toNative(states[i]) as JobAccount), bids[i] && (toNative(bids[i]) as BidAccount), bidSent.has(key));
          if (!step) return;
          const run = async (): Promise<void> => {
            try {
              await step.act();
              // Marked once sent: a send lost to a fault is tried again on a later pass.
              if (step.kind === "bid") bidSent.add(key);
            } catch {
              // a fault, a deadline that just passed or a race: a later pass sees the new state
            } finally {
              inFlight.delete(key);
            }
          };
          inFlight.set(key, run());
        });
      } catch {
        // a read lost to a fault: the next pass reads again
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await Promise.all(inFlight.values());
  });
  return async () => {
    running = false;
    await Promise.all(loops);
  };
}
