// A provider node set to serve services, against a local cluster whose clock runs, with a keeper
// and Docker: it bids on a lease, starts its replica's container (a busybox HTTP server) with the
// port published, tells where it is (GET /v1/services/<job>), is acknowledged by the consumer's
// watchdog probing that URL, streams the replica's lines to the consumer over the logs WebSocket,
// opens a shell into the replica for the consumer only,
// claims the acknowledged time on its schedule, and stops the container once the consumer ends
// the replica; the keeper then settles the lease.
import assert from "node:assert/strict";
import { Keypair, type PublicKey } from "@solana/web3.js";
import WebSocket from "ws";
import { deliverAcknowledgement, fetchReplicaReport, httpHealthy, keypairSigner, openShell, providerEndpoint, publishSpec, ServiceWatchdog, streamLogs, type ContainerJobSpec, type WebSocketConstructor } from "@compute-market/sdk";
import { startProvider, type ProviderNodeHandle } from "@compute-market/provider";
import { shellSpec, testDocker } from "../../support/docker";
import { providerConfig, startProviderMarket, testLogger, until, type ProviderMarket } from "../../support/provider-market";

const PERIOD = 20n;
const RATE_CAP = 10n;

describe("provider node serving a service lease", function () {
  this.timeout(120_000);
  let market: ProviderMarket;
  let node: ProviderNodeHandle;
  let image: string;
  let endpoint: string;
  let config: Awaited<ReturnType<typeof providerConfig>>;

  before(async () => {
    ({ image } = await testDocker());
    market = await startProviderMarket();
    config = await providerConfig(market, { serveServices: true, strategy: { name: "fixed-floor", price: 1_000n, serviceRate: 5n } });
    endpoint = config.endpoint!;
    node = await startProvider(config, market.operator.keypair, testLogger);
  });

  after(async () => {
    await node?.stop();
    await market?.close();
  });

  async function lease(spec: ContainerJobSpec, watchdog: Keypair): Promise<PublicKey> {
    const endpoints = (await market.consumer.client.providersOf(market.env.market)).map((p) => providerEndpoint(p.account));
    const report = await publishSpec(endpoints, spec, new Map());
    const { job } = await market.consumer.client.postService({
      market: market.env.market,
      specHash: report.specHash,
      requirements: { cpuCores: 1, memoryMb: spec.memoryMb, maxDurationSlots: 9_000n },
      replicas: 1,
      maxRate: RATE_CAP,
      watchdog: watchdog.publicKey,
      ackPeriodSlots: PERIOD,
      deposit: 1_000_000n,
      bidWindowSlots: 10n,
    });
    return job;
  }

  it("serves the replica at a published URL, is paid for acknowledged time, and stops when the replica ends", async () => {
    const spec = shellSpec(image, "echo replica up; echo ok > /tmp/health; exec httpd -f -p 8080 -h /tmp", { network: true, service: { ports: [8080], healthCheck: { kind: "http", port: 8080, path: "/health", expectedStatus: 200 } } });
    const watchdogKey = Keypair.generate();
    const job = await lease(spec, watchdogKey);
    await market.bidReaching(job, "started");

    // Where the replica is: asked of the node, as a watchdog would.
    const { urls } = await until("the replica's URL", async () => {
      const response = await fetch(`${endpoint}/v1/services/${job.toBase58()}`);
      return response.status === 200 ? ((await response.json()) as { urls: string[] }) : null;
    });
    assert.equal(urls.length, 1);
    await until("the replica healthy", () => httpHealthy(`${urls[0]}/health`));

    const events: string[] = [];
    const watchdog = new ServiceWatchdog({
      client: market.consumer.client,
      watchdog: watchdogKey,
      job,
      probe: () => httpHealthy(`${urls[0]}/health`),
      deliver: (ack) => deliverAcknowledgement(endpoint, ack),
      onEvent: (event) => events.push(event.kind),
    });
    // The node claims once three periods are acknowledged and unclaimed.
    const bidAddress = market.consumer.client.bidAddress(job, market.provider);
    const claimed = await until("a claim", async () => {
      await watchdog.tick();
      const bid = await market.consumer.client.fetchBid(bidAddress);
      return bid && bid.claimedSlot > 0n ? bid : null;
    }, 60_000);
    assert.ok(claimed.claimedSlot - claimed.startedSlot >= 3n * PERIOD, "claimed on the schedule, not every acknowledgement");
    assert.ok(events.includes("acknowledged") && !events.includes("delivery-failed"));
    const paid = market.env.paymentBalance(market.operator.keypair.publicKey);
    assert.equal(paid, (claimed.claimedSlot - claimed.startedSlot) * claimed.awardedPrice, "paid its rate for every acknowledged slot");
    // The node's report: its own health check's last run, and the latest acknowledgement it holds.
    const report = (await fetchReplicaReport(endpoint, job))!;
    assert.deepEqual(report.urls, urls);
    assert.equal(report.health?.healthy, true, "the spec's health check passed at the node");
    assert.ok(BigInt(report.acknowledgedUpToSlot!) >= claimed.claimedSlot, "it holds an acknowledgement at least as far as it claimed");

    // The consumer follows the replica's lines over the logs WebSocket (wallet-signed, as for a job).
    const lines: string[] = [];
    const following = (async () => {
      const stream = streamLogs({ endpoint, job: job.toBase58(), publicKey: market.consumer.keypair.publicKey, signMessage: keypairSigner(market.consumer.keypair), WebSocket: WebSocket as unknown as WebSocketConstructor });
      for await (const message of stream) lines.push("event" in message ? `end: ${message.status}` : `${message.stream}: ${message.line}`);
    })();
    await until("the replica's first line", async () => lines.includes("stdout: replica up"));

    // A shell into the replica, for the consumer only.
    const shell = await openShell({ endpoint, job: job.toBase58(), publicKey: market.consumer.keypair.publicKey, signMessage: keypairSigner(market.consumer.keypair), WebSocket: WebSocket as unknown as WebSocketConstructor });
    shell.write("echo $((6 * 7)); cat /tmp/health\n");
    shell.write("echo oops >&2; exit 3\n");
    let stdout = "";
    let stderr = "";
    let exit: number | null | undefined;
    for await (const message of shell.messages) {
      if ("event" in message) exit = message.code;
      else if (message.stream === "stdout") stdout += message.data;
      else stderr += message.data;
    }
    assert.equal(stdout, "42\nok\n", "the commands ran inside the replica's container");
    assert.equal(stderr, "oops\n");
    assert.equal(exit, 3);
    const stranger = Keypair.generate();
    const refused = await openShell({ endpoint, job: job.toBase58(), publicKey: stranger.publicKey, signMessage: keypairSigner(stranger), WebSocket: WebSocket as unknown as WebSocketConstructor });
    await assert.rejects(refused.messages.next(), /shell (failed|closed)/, "another wallet gets no shell");

    // The consumer ends the replica: the node stops its container and no longer lists it.
    await market.consumer.client.endReplica({ job, provider: market.provider });
    await until("the container stopped", async () => !(await httpHealthy(`${urls[0]}/health`, 200, 500)));
    await until("the replica no longer listed", async () => (await fetch(`${endpoint}/v1/services/${job.toBase58()}`)).status === 404);
    await following;
    assert.equal(lines.at(-1), "end: replica ended", "the log stream ends with the replica");
    // A period later the keeper closes the replica, which settles the lease.
    await market.closed(job, 60_000);
    assert.equal((await market.consumer.client.fetchProvider(market.provider))!.locked, 0n, "the stake lock is released");
  });

  it("keeps a replica's container and URL across a restart of the node", async () => {
    const spec = shellSpec(image, "echo ok > /tmp/health; exec httpd -f -p 8080 -h /tmp", { network: true, service: { ports: [8080], healthCheck: { kind: "http", port: 8080, path: "/health", expectedStatus: 200 } } });
    const job = await lease(spec, Keypair.generate());
    await market.bidReaching(job, "started");
    const urlsOf = async () => {
      const response = await fetch(`${endpoint}/v1/services/${job.toBase58()}`).catch(() => null);
      return response?.status === 200 ? ((await response.json()) as { urls: string[] }).urls : null;
    };
    const before = await until("the replica's URL", urlsOf);
    await until("the replica healthy", () => httpHealthy(`${before[0]}/health`));
    const docker = (await testDocker()).docker;
    const containers = async () => (await docker.listContainers({ filters: { label: [`compute-market.service=${job.toBase58()}`] } })).map((c) => c.Id);
    const [containerId] = await containers();

    await node.stop();
    assert.ok(await httpHealthy(`${before[0]}/health`), "the replica serves on while its node is down");
    // The same configuration: its work directory (the journal) and its endpoint.
    node = await startProvider(config, market.operator.keypair, testLogger);
    // The restarted node supervises the replica again: it took the container back.
    await until("the restarted node serving the replica", async () => node.node.stats.serves === 1, 60_000);
    const after = await until("the replica's URL from the restarted node", urlsOf);
    assert.deepEqual(after, before, "the same URL");
    assert.deepEqual(await containers(), [containerId], "the same container, not a new one");
    assert.ok(await httpHealthy(`${after[0]}/health`));

    await market.consumer.client.endReplica({ job, provider: market.provider });
    await until("the container stopped", async () => (await containers()).length === 0);
  });
});
