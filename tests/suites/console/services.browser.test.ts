// A service lease in the web console, in a real browser (Debian's Chromium via playwright-core),
// against a local cluster with a keeper and a provider node serving a busybox HTTP replica: the
// lease's deposit against a period's cost (flagged low, then topped up from the page through the
// wallet), the replica's URL and that it answers, the node's health check and the acknowledged
// time it holds, its log lines and a shell into it, both signed with the development wallet.
import assert from "node:assert/strict";
import path from "node:path";
import { Keypair, type PublicKey } from "@solana/web3.js";
import type { Browser, Page } from "playwright-core";
import { deliverAcknowledgement, providerEndpoint, publishSpec, rules, signAcknowledgement } from "@compute-market/sdk";
import { cleanupLeftovers, startProvider, type ProviderNodeHandle } from "@compute-market/provider";
import { buildConsole, serveConsole, type ConsoleServer } from "../../../app/console/server/serve";
import { launchChromium, openConnected, SCREENSHOTS } from "../../support/console";
import { shellSpec, testDocker } from "../../support/docker";
import { providerConfig, startProviderMarket, testLogger, until, type ProviderMarket } from "../../support/provider-market";

const PERIOD = 20n;
const RATE_CAP = 10n;

describe("console in a browser: a service lease", function () {
  this.timeout(120_000);
  let market: ProviderMarket;
  let node: ProviderNodeHandle;
  let server: ConsoleServer;
  let browser: Browser;
  let page: Page;
  let job: PublicKey;
  let periodCost: bigint;
  const watchdog = Keypair.generate();

  before(async () => {
    buildConsole();
    const { image } = await testDocker();
    market = await startProviderMarket();
    node = await startProvider(await providerConfig(market, { serveServices: true, strategy: { name: "fixed-floor", price: 1_000n, serviceRate: 5n } }), market.operator.keypair, testLogger);
    const spec = shellSpec(image, "echo replica up; echo ok > /tmp/health; exec httpd -f -p 8080 -h /tmp", { network: true, service: { ports: [8080], healthCheck: { kind: "http", port: 8080, path: "/health", expectedStatus: 200 } } });
    const endpoints = (await market.consumer.client.providersOf(market.env.market)).map((p) => providerEndpoint(p.account));
    const report = await publishSpec(endpoints, spec, new Map());
    const marketAccount = (await market.consumer.client.fetchMarket(market.env.market))!;
    periodCost = rules.minDeposit(RATE_CAP, 1, PERIOD, 250, marketAccount.params.crankFee)!;
    // Two periods: under the page's three-period warning.
    ({ job } = await market.consumer.client.postService({ market: market.env.market, specHash: report.specHash, requirements: { cpuCores: 1, memoryMb: spec.memoryMb, maxDurationSlots: 9_000n }, replicas: 1, maxRate: RATE_CAP, watchdog: watchdog.publicKey, ackPeriodSlots: PERIOD, deposit: 2n * periodCost, bidWindowSlots: 10n }));
    await market.bidReaching(job, "started");
    server = await serveConsole();
    browser = await launchChromium();
    page = await openConnected(browser, server.url, market.env.cluster.url, market.consumer.keypair);
    await page.getByTestId("nav-services").click();
  });

  after(async () => {
    await browser?.close();
    await server?.close();
    await node?.stop();
    // A replica's container outlives its node's process by design (a restarted node takes it
    // back); this node is gone for good, so its container goes too.
    if (market) await cleanupLeftovers((await testDocker()).docker, undefined, undefined, market.provider.toBase58());
    await market?.close();
  });

  it("shows the deposit against a period's cost, flags it low and tops it up through the wallet", async () => {
    const card = page.locator(`[data-testid=lease][data-address="${job.toBase58()}"]`);
    await card.waitFor({ timeout: 30_000 });
    assert.equal(await card.getByTestId("balance").innerText(), String(2n * periodCost));
    await card.getByTestId("low-balance").waitFor();
    await card.locator("input[name=amount]").fill(String(10n * periodCost));
    await card.getByTestId("top-up-submit").click();
    await until("the topped-up deposit", async () => (await card.getByTestId("balance").innerText()) === String(12n * periodCost), 15_000);
    await until("the warning gone", async () => (await card.getByTestId("low-balance").count()) === 0, 10_000);
  });

  it("shows where the replica answers, follows its log and runs a shell in it", async () => {
    const replica = page.locator(`[data-testid=replica][data-provider="${market.provider.toBase58()}"]`);
    await until("the replica answering", async () => (await replica.getByTestId("replica-answers").innerText()) === "yes", 30_000);
    assert.match(await replica.getByTestId("replica-url").innerText(), /^http:\/\/127\.0\.0\.1:\d+$/);
    await until("the node's health check", async () => /^healthy at /.test(await replica.getByTestId("replica-health").innerText()), 30_000);
    // An acknowledgement from the lease's watchdog, delivered to the node: the page shows it, and
    // the slots it covers that the chain has not paid for.
    const bid = (await market.consumer.client.fetchBid(market.consumer.client.bidAddress(job, market.provider)))!;
    const upToSlot = BigInt(await market.env.connection.getSlot("confirmed"));
    const jobIncarnation = (await market.consumer.client.fetchJob(job))!.incarnation;
    await deliverAcknowledgement(providerEndpoint((await market.consumer.client.fetchProvider(market.provider))!), signAcknowledgement(watchdog.secretKey, { job, jobIncarnation, provider: market.provider, upToSlot }));
    const shown = await until("the acknowledgement in the page", async () => /^(\d+) \((\d+)\)$/.exec(await replica.getByTestId("replica-acknowledged").innerText()), 15_000);
    assert.equal(BigInt(shown[1]), upToSlot);
    assert.ok(BigInt(shown[2]) <= upToSlot - bid.startedSlot, "unpaid: at most the slots since the start");
    const tools = page.locator(`[data-testid=replica-tools][data-provider="${market.provider.toBase58()}"]`);
    await tools.getByTestId("follow-logs").click();
    await until("the replica's first line", async () => /stdout: replica up/.test(await tools.getByTestId("replica-log").innerText()), 15_000);
    await tools.locator("input[name=command]").fill("echo $((6 * 7))");
    await tools.getByTestId("shell-run").click();
    await until("the shell's exit", async () => /\(exit 0\)/.test(await tools.getByTestId("shell-output").innerText()), 15_000);
    assert.equal(await tools.getByTestId("shell-output").innerText(), "42\n\n(exit 0)");
    await page.screenshot({ path: path.join(SCREENSHOTS, "service-lease.png"), fullPage: true });
  });
});
