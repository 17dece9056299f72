// The provider node in full — chain, Docker, blob store, results server — with a keeper, against
// a local cluster whose clock runs: a consumer publishes a spec and an input, posts the job, the
// node bids, wins, runs the container and commits; the consumer downloads the results and checks
// them against the on-chain root. Each failure of the job's own making (exit code, time limit,
// memory limit, output size) is committed and paid with the run record saying why, and a job
// whose image the node does not have is never bid on.
import assert from "node:assert/strict";
import WebSocket from "ws";
import type { PublicKey } from "@solana/web3.js";
import { inputEntry, keypairSigner, streamLogs, type ContainerJobSpec, type JobLogMessage, type WebSocketConstructor } from "@compute-market/sdk";
import { startProvider, type ProviderNodeHandle } from "@compute-market/provider";
import { shellSpec, testDocker } from "../../support/docker";
import { providerConfig, startProviderMarket, testLogger, until, type ProviderMarket } from "../../support/provider-market";

describe("provider node with Docker, a keeper and a consumer", function () {
  this.timeout(120_000);
  let market: ProviderMarket;
  let node: ProviderNodeHandle;
  let image: string;
  let endpoint: string;

  before(async () => {
    ({ image } = await testDocker());
    market = await startProviderMarket();
    // The node registers its results server's URL itself when it starts.
    const config = await providerConfig(market);
    endpoint = config.endpoint!;
    node = await startProvider(config, market.operator.keypair, testLogger);
  });

  after(async () => {
    await node?.stop();
    await market?.close();
  });

  const text = (bytes: Uint8Array | undefined) => new TextDecoder().decode(bytes);

  it("runs a published job end to end; the consumer verifies the outputs against the chain", async () => {
    const { consumer } = market;
    const input = new TextEncoder().encode("hello from the consumer\n");
    const spec = shellSpec(image, "echo working; sha256sum /inputs/message.txt | head -c 64 > /outputs/digest; cp /inputs/message.txt /outputs/copy.txt", {
      inputs: [inputEntry("message.txt", input)],
    });
    const job = await market.submit(spec, new Map([["message.txt", input]]));

    const bid = await market.bidReaching(job, "committed");
    const got = await market.results(endpoint, job, bid.outputRoot);
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
    await market.closed(job);
    assert.equal(market.env.paymentBalance(market.operator.keypair.publicKey), 700n);
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
    const jobs: { reason: string; job: PublicKey }[] = [];
    for (const [reason, spec] of cases) jobs.push({ reason, job: await market.submit(spec, new Map(), { instantPrice: 1_000n, bidWindowSlots: 400n }) });
    const bids = await Promise.all(jobs.map(({ job }) => market.bidReaching(job, "committed")));
    for (const [i, { reason, job }] of jobs.entries()) {
      const got = await market.results(endpoint, job, bids[i].outputRoot);
      const record = JSON.parse(text(got.files.get("run.json")));
      assert.equal(record.status, "failed");
      assert.equal(record.reason, reason);
      if (reason === "exit-nonzero") assert.equal(record.exitCode, 7);
      if (reason === "output-too-large") assert.ok(!got.files.has("outputs/big"), "an oversized output is not kept");
    }
  });

  it("never bids on a job whose image it does not have", async () => {
    const { consumer, env } = market;
    const job = await market.submit(shellSpec(`sha256:${"00".repeat(32)}`, "true"));
    await until("the auction to end", async () => (await env.connection.getSlot()) > Number((await consumer.client.fetchJob(job))?.bidDeadlineSlot ?? 0n) + 2);
    assert.equal(await consumer.client.fetchBid(consumer.client.bidAddress(job, market.provider)), null);
    // The keeper expires the job and the consumer gets everything back.
    await market.closed(job);
  });
});
