// A running market for the verifiable-compute daemons: a local cluster with a running clock, a
// blob mirror (a provider results server of its own) that keeps every published program, funded
// wallets, in-process keepers and provider nodes, and scripted players for the sides a real node
// would never take (a provider that commits a wrong state, a challenger that disputes at random).
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { PublicKey } from "@solana/web3.js";
import { parseEvents, providerEndpoint, publishMachineJob, variantOf, type ComputeMarketEvent, type DisputeAccount, type JobAccount } from "@compute-market/sdk";
import { disputeStatus, playMove, type Logger } from "@compute-market/common";
import { KeeperConfigSchema, startKeeper, type Keeper, type KeeperConfig } from "@compute-market/keeper";
import { BlobStore, JobLogHub, ProviderConfigSchema, startProvider, startResultsServer, type ProviderConfig, type ProviderNodeHandle, type ResultsServer } from "@compute-market/provider";
import { Replay, type Role, type Trace } from "@compute-market/vm";
import { startClusterMarket, type ClusterMarket, type ClusterWallet, type MarketOnCluster } from "./cluster-market";
import { freePort, testLogger, until } from "./provider-market";
import { guestCode, honestClaim, LyingTrace, vm, wrongExitCode } from "./verifiable";

export const SLOT_MS = 50;
export const VERIFIABLE_MARKET_PARAMS = {
  minStake: 10_000n,
  jobStakeLock: 2_000n,
  crankFee: 1_000n,
  bidWindowSlots: 10n,
  revealWindowSlots: 10n,
  startWindowSlots: 40n,
  // Each side's clock too: 8 s a move at 50 ms slots, far above a move's cost here, and above a
  // node's restart (index load, Docker check, results server) on a loaded 2-core machine.
  challengeWindowSlots: 160n,
  unbondingSlots: 10n,
  slashNoShowBps: 1_000,
  slashTimeoutBps: 5_000,
  slashConsumerShareBps: 5_000,
  defaultReplication: 1,
};
const SPEC = { cpuCores: 2, memoryMb: 1_024, diskGb: 10, gpuCount: 0, vramMb: 0 };

export interface VerifiableMarket<E extends MarketOnCluster = ClusterMarket> {
  env: E;
  mirror: ResultsServer;
  consumer: ClusterWallet;
  /** Every program event so far, in order. */
  events: ComputeMarketEvent[];
  /** A registered, staked provider owner whose endpoint is the mirror (for scripted providers). */
  scriptedProvider(): Promise<{ owner: ClusterWallet; provider: PublicKey }>;
  /** A wallet with stake tokens for bonds. */
  challenger(): Promise<ClusterWallet>;
  /** An in-process keeper on this market (its blob sources include the mirror). */
  keeper(wallet?: ClusterWallet, overrides?: Partial<KeeperConfig>): Promise<{ keeper: Keeper; wallet: ClusterWallet }>;
  /** An in-process provider node, registered and staked; `start` again on the same config to restart it. */
  providerNode(overrides?: Partial<ProviderConfig>): Promise<{ config: ProviderConfig; owner: ClusterWallet; start(): Promise<ProviderNodeHandle> }>;
  /** Publishes `guest` on `input` to the mirror and every provider, and posts it. */
  post(guest: string, input: Uint8Array, terms?: { refereed?: boolean; maxSteps?: bigint; maxPrice?: bigint }): Promise<{ job: PublicKey; code: Uint8Array }>;
  job(job: PublicKey): Promise<JobAccount | null>;
  /** The one game over `job` once it exists. */
  gameOf(job: PublicKey, timeoutMs?: number): Promise<{ address: PublicKey; account: DisputeAccount }>;
  close(): Promise<void>;
}

export async function startVerifiableMarket(params: Partial<typeof VERIFIABLE_MARKET_PARAMS> = {}): Promise<VerifiableMarket> {
  return verifiableMarketOn(await startClusterMarket({ ...VERIFIABLE_MARKET_PARAMS, ...params }, SLOT_MS));
}

/** The same on a market of any cluster (the real validator's, say). */
export async function verifiableMarketOn<E extends MarketOnCluster>(env: E): Promise<VerifiableMarket<E>> {
  const store = await BlobStore.open(mkdtempSync(path.join(os.tmpdir(), "mirror-")));
  const mirror = await startResultsServer({ host: "127.0.0.1", port: 0, store, jobs: new JobLogHub(), consumerOf: async () => null, maxBlobBytes: 16 * 1024 * 1024, logger: testLogger });
  const consumer = await env.wallet({ payment: 100_000_000n });
  const keepers: Keeper[] = [];
  const nodes: ProviderNodeHandle[] = [];
  const events: ComputeMarketEvent[] = [];
  const listener = env.connection.onLogs(consumer.client.programId, (logs) => {
    if (!logs.err) events.push(...parseEvents(consumer.client.program, logs.logs));
  });
  const market: VerifiableMarket<E> = {
    env,
    mirror,
    consumer,
    events,
    async scriptedProvider() {
      const owner = await env.wallet({ stake: 100_000n });
      const { provider } = await owner.client.registerProvider({ market: env.market, spec: SPEC, endpoint: mirror.url });
      await owner.client.stake({ provider, amount: 50_000n });
      return { owner, provider };
    },
    challenger: () => env.wallet({ stake: 100_000n }),
    async keeper(wallet, overrides = {}) {
      const keeperWallet = wallet ?? (await env.wallet({ stake: 100_000n }));
      const keeper = await startKeeper(KeeperConfigSchema.parse({ url: env.cluster.url, port: 0, tickMs: 100, blobSources: [mirror.url], ...overrides }), keeperWallet.keypair, testLogger);
      keepers.push(keeper);
      return { keeper, wallet: keeperWallet };
    },
    async providerNode(overrides = {}) {
      const owner = await env.wallet({ stake: 100_000n });
      const port = await freePort();
      const endpoint = `http://127.0.0.1:${port}`;
      const { provider } = await owner.client.registerProvider({ market: env.market, spec: SPEC, endpoint });
      await owner.client.stake({ provider, amount: 50_000n });
      const config = ProviderConfigSchema.parse({
        url: env.cluster.url,
        market: env.market.toBase58(),
        endpoint,
        port,
        statusPort: 0,
        workDir: mkdtempSync(path.join(os.tmpdir(), "provider-")),
        strategy: { name: "fixed-floor", price: "700" },
        tickMs: 100,
        logLevel: "silent",
        reserveMemoryMb: 0,
        reserveDiskGb: 0,
        ...overrides,
      });
      return {
        config,
        owner,
        start: async () => {
          const handle = await startProvider(config, owner.keypair, testLogger);
          nodes.push(handle);
          return handle;
        },
      };
    },
    async post(guest, input, terms = {}) {
      const code = guestCode(guest);
      const endpoints = [mirror.url, ...(await consumer.client.providersOf(env.market)).map((p) => providerEndpoint(p.account))];
      const report = await publishMachineJob([...new Set(endpoints)], code, input);
      assert.ok(report.published.includes(mirror.url), "the program reached the mirror");
      const { job } = await consumer.client.postVerifiableJob({
        market: env.market,
        requirements: { cpuCores: 1, memoryMb: 64, maxDurationSlots: 600n },
        onFailure: "refund",
        maxPrice: terms.maxPrice ?? 10_000n,
        instantPrice: 0n,
        bidWindowSlots: 0n,
        specHash: report.specHash,
        code,
        input,
        machine: await vm(),
        maxSteps: terms.maxSteps,
        refereed: terms.refereed,
      });
      return { job, code };
    },
    job: (job) => consumer.client.fetchJob(job),
    gameOf: (job, timeoutMs = 30_000) =>
      until(`a game over ${job.toBase58()}`, async () => (await consumer.client.disputesOf(job))[0], timeoutMs),
    close: async () => {
      await env.connection.removeOnLogsListener(listener);
      for (const keeper of keepers) await keeper.stop().catch(() => undefined);
      for (const node of nodes) await node.stop().catch(() => undefined);
      await mirror.close();
      await env.close();
    },
  };
  return market;
}

/**
 * A player driven by the test: polls its games and moves from `trace` (or stays silent when
 * `trace` is null, or at the proof when `proves` is false), until stopped.
 */
export function scriptedPlayer(options: { wallet: ClusterWallet; role: Role; trace: () => Trace | null; proves?: boolean; logger?: Logger }): { stop(): Promise<void>; moves: string[] } {
  const moves: string[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const games = await options.wallet.client.program.account.dispute.all().catch(() => []);
      for (const { publicKey, account } of games) {
        const game = account as unknown as DisputeAccount;
        const mine = options.role === "defender" ? game.owner.equals(options.wallet.keypair.publicKey) : game.challenger.equals(options.wallet.keypair.publicKey);
        const trace = options.trace();
        if (!mine || !trace || variantOf(game.status) !== "open") continue;
        const native = (await options.wallet.client.fetchDispute(publicKey))!;
        if (disputeStatus(native) !== "open") continue;
        if (variantOf(native.turn) === "proof" && options.proves === false) continue;
        const played = await playMove(options.wallet.client, publicKey, native, options.role, trace).catch(() => ({ kind: "failed" as const }));
        if (played.kind !== "wait" && played.kind !== "failed") moves.push(played.kind);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  })();
  return {
    moves,
    stop: async () => {
      running = false;
      await loop;
    },
  };
}

/**
 * A provider that cheats: it wins `job` (bidding 600), commits the honest final state with another
 * exit code, and defends that claim with the honest states up to the last step and made-up ones
 * after it, never proving. Returns the honest replay (free it) and the running defender (stop it).
 */
export async function cheat(market: VerifiableMarket<MarketOnCluster>, owner: ClusterWallet, job: PublicKey, code: Uint8Array, input: Uint8Array, timeoutMs = 30_000): Promise<{ honest: Replay; defender: ReturnType<typeof scriptedPlayer> }> {
  await owner.client.placeBid({ job, price: 600n });
  // Its own award: with two winners the other may start first, moving the job on to running.
  const provider = owner.client.providerAddress(market.env.market);
  await until("the award", async () => variantOf((await owner.client.fetchBid(owner.client.bidAddress(job, provider)))?.status ?? { none: {} }) === "won", timeoutMs);
  await owner.client.startJob({ job }).catch(async (error: unknown) => {
    const account = await market.job(job);
    throw new Error(`the cheater could not start: job ${account ? variantOf(account.state) : "closed"}, slot ${await market.env.connection.getSlot()}, start deadline ${account?.progress.startDeadlineSlot}: ${String(error)}`);
  });
  const honest = new Replay(await vm(), code, input);
  const claim = wrongExitCode(honestClaim(honest));
  // A job runs, and takes commitments, once every winner has started.
  await until("the job to run", async () => variantOf((await market.job(job))!.state) === "running", timeoutMs);
  await owner.client.commitVerifiable({ job, ...claim, resultUriHash: new Uint8Array(32).fill(9) });
  const steps = honest.final().steps;
  const claimed = new Uint8Array(createHash("sha256").update(claim.finalState).digest());
  const defender = scriptedPlayer({ wallet: owner, role: "defender", trace: () => new LyingTrace(honest, steps - 1n, steps, claimed), proves: false });
  return { honest, defender };
}

/** Waits until `job`'s account is closed (finalized, refunded). */
export function closedJob(market: VerifiableMarket<MarketOnCluster>, job: PublicKey, timeoutMs = 60_000): Promise<true> {
  return until(`job ${job.toBase58()} to close`, async () => (await market.env.connection.getAccountInfo(job)) === null, timeoutMs);
}

/** How a game was decided, from the program's `DisputeDecided` event (the account itself may be
 * settled and closed before a poll sees it decided). */
export async function gameDecided(market: VerifiableMarket<MarketOnCluster>, dispute: PublicKey, timeoutMs = 60_000): Promise<"providerWon" | "challengerWon"> {
  return until(`game ${dispute.toBase58()} to be decided`, async () => {
    const decided = market.events.find((event) => event.name === "disputeDecided" && (event.data as { dispute: PublicKey }).dispute.equals(dispute));
    return decided ? (variantOf((decided.data as unknown as { status: never }).status) as "providerWon" | "challengerWon") : null;
  }, timeoutMs);
}
