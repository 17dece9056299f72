// A running market for provider-node suites: a local cluster with a running clock, a keeper
// (in-process), a registered and staked operator, a funded consumer, and helpers to publish and
// post container jobs and to wait on the chain.
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { PublicKey } from "@solana/web3.js";
import { fetchResults, keypairSigner, providerEndpoint, publishSpec, variantOf, type BidAccount, type ContainerJobSpec } from "@compute-market/sdk";
import { createLogger, freePort } from "@compute-market/common";
import { ProviderConfigSchema, type ProviderConfig } from "@compute-market/provider";
import { KeeperConfigSchema, startKeeper, type Keeper } from "@compute-market/keeper";
import { startClusterMarket, type ClusterMarket, type ClusterWallet } from "./cluster-market";
import { until } from "./wait";

export const SLOT_MS = 50;
export const PROVIDER_MARKET_PARAMS = {
  minStake: 10_000n,
  jobStakeLock: 1_000n,
  crankFee: 1_000n,
  bidWindowSlots: 10n,
  revealWindowSlots: 10n,
  startWindowSlots: 40n,
  challengeWindowSlots: 40n,
  unbondingSlots: 10n,
  slashNoShowBps: 1_000,
  slashTimeoutBps: 5_000,
  slashConsumerShareBps: 5_000,
  defaultReplication: 1,
};
export const testLogger = createLogger("provider-suite", process.env.TEST_LOG_LEVEL ?? "silent");

export { freePort, until };

/** An in-process node's configuration on this market: a free port, its own work dir, fast ticks. */
export async function providerConfig(market: ProviderMarket, overrides: Partial<ProviderConfig> = {}): Promise<ProviderConfig> {
  const port = await freePort();
  return ProviderConfigSchema.parse({
    url: market.env.cluster.url,
    market: market.env.market.toBase58(),
    endpoint: `http://127.0.0.1:${port}`,
    port,
    statusPort: 0,
    workDir: mkdtempSync(path.join(os.tmpdir(), "provider-")),
    strategy: { name: "fixed-floor", price: "700" },
    maxConcurrentJobs: 2,
    tickMs: 100,
    logLevel: "silent",
    reserveMemoryMb: 0,
    reserveDiskGb: 0,
    ...overrides,
  });
}

export interface JobTerms {
  instantPrice?: bigint;
  bidWindowSlots?: bigint;
  maxDurationSlots?: bigint;
  onFailure?: "refund" | "reopen";
}

export interface ProviderMarket {
  env: ClusterMarket;
  keeper: Keeper;
  operator: ClusterWallet;
  provider: PublicKey;
  consumer: ClusterWallet;
  /** Publishes the spec to every provider of the market and posts the job; returns its address. */
  submit(spec: ContainerJobSpec, inputs?: Map<string, Uint8Array>, terms?: JobTerms): Promise<PublicKey>;
  /** The operator's bid on a job once it reaches `status`. */
  bidReaching(job: PublicKey, status: string, timeoutMs?: number): Promise<BidAccount>;
  /** Resolves once the job account is closed (finalized, expired or refunded). */
  closed(job: PublicKey, timeoutMs?: number): Promise<void>;
  results(endpoint: string, job: PublicKey, root: number[] | Uint8Array): ReturnType<typeof fetchResults>;
  close(): Promise<void>;
}

export async function startProviderMarket(): Promise<ProviderMarket> {
  const env = await startClusterMarket(PROVIDER_MARKET_PARAMS, SLOT_MS);
  const keeperWallet = await env.wallet();
  const keeper = await startKeeper(KeeperConfigSchema.parse({ url: env.cluster.url, port: 0, tickMs: 100 }), keeperWallet.keypair, testLogger);
  const operator = await env.wallet({ stake: 100_000n });
  const { provider } = await operator.client.registerProvider({ market: env.market, spec: { cpuCores: 2, memoryMb: 1_024, diskGb: 10, gpuCount: 0, vramMb: 0 }, endpoint: "http://127.0.0.1:1" });
  await operator.client.stake({ provider, amount: 50_000n });
  const consumer = await env.wallet({ payment: 10_000_000n });
  const bidOf = (job: PublicKey) => consumer.client.fetchBid(consumer.client.bidAddress(job, provider));
  return {
    env,
    keeper,
    operator,
    provider,
    consumer,
    async submit(spec, inputs = new Map(), terms = {}) {
      const endpoints = (await consumer.client.providersOf(env.market)).map((p) => providerEndpoint(p.account));
      const report = await publishSpec(endpoints, spec, inputs);
      assert.deepEqual(report.failed, [], "the spec reached every provider");
      const { job } = await consumer.client.postJob({
        market: env.market,
        specHash: report.specHash,
        requirements: { cpuCores: 1, memoryMb: spec.memoryMb, maxDurationSlots: terms.maxDurationSlots ?? 600n },
        mode: "replicated",
        replication: 1,
        onFailure: terms.onFailure ?? "refund",
        maxPrice: 1_000n,
        instantPrice: terms.instantPrice ?? 0n,
        bidWindowSlots: terms.bidWindowSlots ?? 0n,
      });
      return job;
    },
    bidReaching: (job, status, timeoutMs = 30_000) =>
      until(`the bid on ${job.toBase58()} to be ${status}`, async () => {
        const bid = await bidOf(job);
        return bid && variantOf(bid.status) === status ? bid : null;
      }, timeoutMs),
    closed: async (job, timeoutMs = 30_000) => {
      await until(`job ${job.toBase58()} to close`, async () => (await env.connection.getAccountInfo(job)) === null, timeoutMs);
    },
    results: (endpoint, job, root) => fetchResults({ endpoint, job, publicKey: consumer.keypair.publicKey, signMessage: keypairSigner(consumer.keypair), expectedRoot: Uint8Array.from(root) }),
    close: async () => {
      await keeper.stop();
      await env.close();
    },
  };
}
