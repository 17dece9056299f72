// What goes wrong on the provider's side, with real processes and a real Docker daemon: the node
// process killed mid-run and restarted, the daemon down at start, the daemon lost mid-run (and
// back), and an image gone after the bid. Each ends honestly on-chain — committed once, retried,
// never bid, or cranked and slashed — and no token is lost.
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import Docker from "dockerode";
import { getAssociatedTokenAddressSync } from "@solana/spl-token";
import { startProvider, type ProviderConfig, type ProviderNodeHandle } from "@compute-market/provider";
import { shellSpec, testDocker, jobContainers } from "../../support/docker";
import { startDockerProxy } from "../../support/docker-proxy";
import { startProviderProcess, type Spawned } from "../../support/processes";
import { freePort, PROVIDER_MARKET_PARAMS, providerConfig, startProviderMarket, testLogger, until, type ProviderMarket } from "../../support/provider-market";

describe("provider failures", function () {
  this.timeout(180_000);
  let docker: Docker;
  let image: string;
  let market: ProviderMarket;
  const stoppers: (() => Promise<void>)[] = [];

  before(async () => {
    ({ docker, image } = await testDocker());
  });
  beforeEach(async () => {
    market = await startProviderMarket();
  });
  afterEach(async () => {
    for (const stop of stoppers.splice(0).reverse()) await stop().catch(() => undefined);
    await market.close();
    assert.equal(await jobContainers(docker), 0, "no job container is left behind");
  });

  async function inProcessNode(overrides: Partial<ProviderConfig> = {}): Promise<{ node: ProviderNodeHandle; endpoint: string }> {
    const config = await providerConfig(market, overrides);
    const node = await startProvider(config, market.operator.keypair, testLogger);
    stoppers.push(() => node.stop());
    return { node, endpoint: config.endpoint! };
  }

  const stakeOf = async () => (await market.operator.client.fetchProvider(market.provider))!;
  const consumerPayment = () => market.env.paymentBalance(market.consumer.keypair.publicKey);

  it("a node killed mid-run and restarted runs the job again and commits it once", async () => {
    const port = await freePort();
    const endpoint = `http://127.0.0.1:${port}`;
    const workDir = mkdtempSync(path.join(os.tmpdir(), "provider-"));
    const launch = (): Spawned => startProviderProcess({ url: market.env.cluster.url, wallet: market.operator.keypair, market: market.env.market.toBase58(), endpoint, port, workDir, extra: ["--strategy", '{"name":"fixed-floor","price":"700"}'] });
    let node = launch();
    stoppers.push(() => node.stop());
    const registered = async () => (await market.operator.client.fetchProvider(market.provider)) && node.output.some((line) => line.includes('"provider started"'));
    await until("the node to start", registered, 60_000);
    const job = await market.submit(shellSpec(image, "if [ ! -f /outputs/.seen ]; then :; fi; sleep 3; echo done > /outputs/result"));

    // When the container is running, the node is killed without warning.
    await until("the container to run", async () => (await jobContainers(docker)) > 0, 60_000).catch((error: Error) => {
      throw new Error(`${error.message}; the node printed:\n${node.output.slice(-20).join("\n")}`);
    });
    node.child.kill("SIGKILL");
    await node.stop();
    assert.equal((await market.bidReaching(job, "started")).committedSlot, 0n);

    // Then a new process on the same work directory removes the orphan, runs the job again and commits.
    node = launch();
    const bid = await market.bidReaching(job, "committed", 60_000);
    const got = await market.results(endpoint, job, bid.outputRoot);
    assert.equal(new TextDecoder().decode(got.files.get("outputs/result")), "done\n");
    const commits = node.output.filter((line) => line.includes('"result committed"'));
    assert.equal(commits.length, 1, "committed exactly once");
    await market.closed(job);
    assert.equal(market.env.paymentBalance(market.operator.keypair.publicKey), 700n);
  });

  it("a node whose Docker daemon is down at start takes no job, says so, and the job expires with a full refund", async () => {
    const before = consumerPayment();
    const { node } = await inProcessNode({ dockerSocket: "/nonexistent/docker.sock" });
    const job = await market.submit(shellSpec(image, "true"));
    await market.closed(job);
    assert.equal(node.node.stats.bids, 0);
    assert.equal(consumerPayment(), before, "the consumer got everything back");
    const health = await fetch(`http://127.0.0.1:${node.status.port}/health`);
    assert.equal(health.status, 503);
    assert.equal(((await health.json()) as { details: { docker: boolean } }).details.docker, false);
  });

  it("a daemon lost mid-run: the run fails on the node's side and is run again when the daemon is back", async () => {
    const proxy = await startDockerProxy();
    stoppers.push(() => proxy.close());
    const { node, endpoint } = await inProcessNode({ dockerSocket: proxy.socketPath });
    const job = await market.submit(shellSpec(image, "sleep 2; echo survived > /outputs/result"));
    await until("the container to run", async () => (await jobContainers(docker)) > 0, 30_000);
    await proxy.cut();
    await until("the node to notice", async () => node.node.stats.failures > 0, 30_000);
    await proxy.restore();
    const bid = await market.bidReaching(job, "committed", 60_000);
    const got = await market.results(endpoint, job, bid.outputRoot);
    assert.equal(new TextDecoder().decode(got.files.get("outputs/result")), "survived\n");
    assert.ok(node.node.stats.runs >= 1);
  });

  it("an image gone after the bid: the node cannot run, the keeper cranks the timeout, the provider is slashed and the consumer refunded", async () => {
    // A private copy of the test image, so removing it touches nothing else.
    const base = docker.getContainer((await docker.createContainer({ Image: image, Cmd: ["true"] })).id);
    const copy = (await base.commit({ repo: "compute-market/doomed", tag: "test" })) as { Id: string };
    await base.remove();
    const { node } = await inProcessNode();
    const escrowed = consumerPayment();
    const staked = (await stakeOf()).staked;
    const job = await market.submit(shellSpec(copy.Id, "echo never"), new Map(), { bidWindowSlots: 60n, maxDurationSlots: 60n });
    await until("the bid", async () => node.node.stats.bids > 0, 30_000);
    await docker.getImage(copy.Id).remove({ force: true });

    await market.closed(job, 60_000);
    const slash = (PROVIDER_MARKET_PARAMS.jobStakeLock * BigInt(PROVIDER_MARKET_PARAMS.slashTimeoutBps)) / 10_000n;
    assert.equal((await stakeOf()).staked, staked - slash, "the provider lost its timeout slash");
    assert.equal((await stakeOf()).locked, 0n);
    // The consumer's payment escrow came back whole, crank fee included (the failed provider paid
    // the keeper); its share of the slash is paid in stake tokens.
    const consumerShare = (slash * BigInt(PROVIDER_MARKET_PARAMS.slashConsumerShareBps)) / 10_000n;
    assert.equal(consumerPayment(), escrowed, "the whole escrow came back");
    const stakeToken = getAssociatedTokenAddressSync(market.env.stakeMint, market.consumer.keypair.publicKey);
    assert.equal((await market.env.connection.getTokenAccountBalance(stakeToken)).value.amount, consumerShare.toString());
    assert.ok(node.node.stats.failures > 0, "the node reported its failures");
  });
});
