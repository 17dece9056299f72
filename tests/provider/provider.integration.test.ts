// The provider node in full — chain, Docker, blob store, results server — with a keeper, against
// a local cluster whose clock runs: a consumer publishes a spec and an input, posts the job, the
// node bids, wins, runs the container and commits; the consumer downloads the results and checks
// them against the on-chain root. Then each failure of the job's own making (exit code, time
// limit, memory limit, output size) is committed and paid with the run record saying why, and a
// job whose image the node does not have is never bid on.
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import WebSocket from "ws";
import { PublicKey } from "@solana/web3.js";
import {
  fetchResults,
  inputEntry,
  keypairSigner,
  publishSpec,
  providerEndpoint,
  streamLogs,
  variantOf,
  type ContainerJobSpec,
  type JobLogMessage,
  type WebSocketConstructor,
} from "@compute-market/sdk";
import { createLogger } from "@compute-market/common";
import { KeeperConfigSchema, startKeeper, type Keeper } from "@compute-market/keeper";
import { ProviderConfigSchema, startProvider, type ProviderNodeHandle } from "@compute-market/provider";
import { startClusterMarket, type ClusterMarket, type ClusterWallet } from "../support/cluster-market";
import { shellSpec, testDocker } from "../support/docker";

const SLOT_MS = 50;
const PARAMS = {
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
const logger = createLogger("provider-integration", process.env.TEST_LOG_LEVEL ?? "silent");

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
    server.once("error", reject);
  });
}

async function until<T>(what: string, probe: () => Promise<T | null | undefined | false>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe("provider node with Docker, a keeper and a consumer", function () {
  this.timeout(120_000);
  let env: ClusterMarket;
  let keeper: Keeper;
  let node: ProviderNodeHandle;
  let operator: ClusterWallet;
  let consumer: ClusterWallet;
  let image: string;
  let endpoint: string;

  before(async () => {
    ({ image } = await testDocker());
    env = await startClusterMarket(PARAMS, SLOT_MS);
    const keeperWallet = await env.wallet();
    keeper = await startKeeper(KeeperConfigSchema.parse({ url: env.cluster.url, port: 0, tickMs: 100 }), keeperWallet.keypair, logger);
    operator = await env.wallet({ stake: 100_000n });
    const { provider } = await operator.client.registerProvider({ market: env.market, spec: { cpuCores: 2, memoryMb: 1_024, diskGb: 10, gpuCount: 0, vramMb: 0 }, endpoint: "http://127.0.0.1:1" });
    await operator.client.stake({ provider, amount: 50_000n });
    // The node registers its results server's URL itself when it starts.
    const port = await freePort();
    endpoint = `http://127.0.0.1:${port}`;
    const config = ProviderConfigSchema.parse({
      url: env.cluster.url,
      market: env.market.toBase58(),
      endpoint,
      port,
      statusPort: 0,
      workDir: mkdtempSync(path.join(os.tmpdir(), "provider-")),
      strategy: { name: "fixed-floor", price: "700" },
      maxConcurrentJobs: 2,
      tickMs: 100,
      logLevel: "silent",
      reserveMemoryMb: 0,
      reserveDiskGb: 0,
    });
    node = await startProvider(config, operator.keypair, logger);
    consumer = await env.wallet({ payment: 10_000_000n });
  });

  after(async () => {
    await node?.stop();
    await keeper?.stop();
    await env?.close();
  });

  async function submit(spec: ContainerJobSpec, inputs = new Map<string, Uint8Array>(), auction = { instantPrice: 0n, bidWindowSlots: 0n }): Promise<PublicKey> {
    const endpoints = (await consumer.client.providersOf(env.market)).map((p) => providerEndpoint(p.account));
    const report = await publishSpec(endpoints, spec, inputs);
    assert.deepEqual(report.failed, []);
    const { job } = await consumer.client.postJob({
      market: env.market,
      specHash: report.specHash,
      requirements: { cpuCores: 1, memoryMb: spec.memoryMb, maxDurationSlots: 600n },
      mode: "replicated",
      replication: 1,
      onFailure: "refund",
      maxPrice: 1_000n,
      ...auction,
    });
    return job;
  }

  /** The winner's bid once the job is committed. */
  async function committed(job: PublicKey) {
    return until(`job ${job.toBase58()} committed`, async () => {
      const bid = await consumer.client.fetchBid(consumer.client.bidAddress(job, node.provider));
      return bid && variantOf(bid.status) === "committed" ? bid : null;
    });
  }

  async function results(job: PublicKey, root: number[] | Uint8Array) {
    return fetchResults({ endpoint, job, publicKey: consumer.keypair.publicKey, signMessage: keypairSigner(consumer.keypair), expectedRoot: Uint8Array.from(root) });
  }

  const text = (bytes: Uint8Array | undefined) => new TextDecoder().decode(bytes);

  it("runs a published job end to end; the consumer verifies the outputs against the chain", async () => {
    const input = new TextEncoder().encode("hello from the consumer\n");
    const spec = shellSpec(image, "echo working; sha256sum /inputs/message.txt | head -c 64 > /outputs/digest; cp /inputs/message.txt /outputs/copy.txt", {
      inputs: [inputEntry("message.txt", input)],
    });
    const job = await submit(spec, new Map([["message.txt", input]]));

    const bid = await committed(job);
    const got = await results(job, bid.outputRoot);
    const paths = got.manifest.files.map((f) => f.path).sort();
    assert.deepEqual(paths, ["logs/container.log", "outputs/copy.txt", "outputs/digest", "run.json"]);
    assert.equal(text(got.files.get("outputs/copy.txt")), "hello from the consumer\n");
    assert.match(text(got.files.get("outputs/digest")), /^[0-9a-f]{64}$/);
    assert.equal(JSON.parse(text(got.files.get("run.json"))).status, "succeeded");
    assert.match(text(got.files.get("logs/container.log")), /working/);

    // The logs stay available to the consumer, ending with the run's status.
    const messages: JobLogMessage[] = [];
    for await (const message of streamLogs({ endpoint, job, publicKey: consumer.keypair.publicKey, signMessage: keypairSigner(consumer.keypair), WebSocket: WebSocket as unknown as WebSocketConstructor })) messages.push(message);
    assert.ok(messages.some((m) => "line" in m && m.line === "working"));
    assert.deepEqual(messages.at(-1), { event: "end", status: "succeeded" });

    // And the keeper finalizes: the provider is paid its price.
    await until("finalization", async () => (await env.connection.getAccountInfo(job)) === null);
    assert.equal(env.paymentBalance(operator.keypair.publicKey), 700n);
  });

  it("commits, and is paid for, runs that failed on the job's own terms, saying why", async () => {
    const cases: [string, ContainerJobSpec][] = [
      ["exit-nonzero", shellSpec(image, "echo bad input >&2; exit 7")],
      ["timeout", shellSpec(image, "sleep 60", { timeoutSeconds: 1 })],
      ["oom-killed", shellSpec(image, "x=$(head -c 64000000 /dev/zero | tr '\\0' a); echo ${#x}", { memoryMb: 16 })],
      ["output-too-large", shellSpec(image, "head -c 10000 /dev/zero > /outputs/big", { maxOutputBytes: 1_000 })],
    ];
    // More jobs than the node holds at once: each is awarded as soon as it is bid on (instant
    // price), and the node takes the next one when a run ends and frees its capacity.
    const jobs = [];
    for (const [reason, spec] of cases) jobs.push({ reason, job: await submit(spec, new Map(), { instantPrice: 1_000n, bidWindowSlots: 400n }) });
    const bids = await Promise.all(jobs.map(({ job }) => committed(job)));
    for (const [i, { reason, job }] of jobs.entries()) {
      const bid = bids[i];
      const got = await results(job, bid.outputRoot);
      const record = JSON.parse(text(got.files.get("run.json")));
      assert.equal(record.status, "failed");
      assert.equal(record.reason, reason);
      if (reason === "exit-nonzero") assert.equal(record.exitCode, 7);
      if (reason === "output-too-large") assert.ok(!got.files.has("outputs/big"), "an oversized output is not kept");
    }
  });

  it("never bids on a job whose image it does not have", async () => {
    const job = await submit(shellSpec(`sha256:${"00".repeat(32)}`, "true"));
    await until("the auction to end", async () => (await env.connection.getSlot()) > Number((await consumer.client.fetchJob(job))?.bidDeadlineSlot ?? 0n) + 2);
    assert.equal(await consumer.client.fetchBid(consumer.client.bidAddress(job, node.provider)), null);
    // The keeper expires the job and the consumer gets everything back.
    await until("expiry", async () => (await env.connection.getAccountInfo(job)) === null);
  });
});
