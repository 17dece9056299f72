// The web console in a real browser (Debian's Chromium driven by playwright-core) against a
// sandbox cluster: the page reads the cluster's markets, providers and jobs through the SDK from
// another origin, and the development wallet, registered through the Wallet Standard, connects
// as any wallet would; a provider's page shows its stake and unstakes and withdraws through the
// wallet. Screenshots go to target/screenshots/ (not committed), for a person to look.
import assert from "node:assert/strict";
import path from "node:path";
import { Keypair, PublicKey } from "@solana/web3.js";
import type { Browser, Page } from "playwright-core";
import { ComputeMarketClient, DEFAULT_PROGRAM_ID } from "@compute-market/sdk";
import { bootstrapSandbox, localProvider, startLocalCluster, type LocalCluster, type Sandbox } from "@compute-market/localnet";
import { buildConsole, serveConsole, type ConsoleServer } from "../../../app/console/server/serve";
import { consoleUrl, launchChromium, openConnected, SCREENSHOTS } from "../../support/console";
import { PROGRAM_PATH } from "../../support/env";
import { until } from "../../support/wait";


describe("console in a browser: markets", function () {
  this.timeout(120_000);
  let cluster: LocalCluster;
  let sandbox: Sandbox;
  let server: ConsoleServer;
  let browser: Browser;
  let page: Page;
  const consumer = Keypair.generate();
  const operator = Keypair.generate();
  let provider: string;
  let job: string;

  before(async () => {
    buildConsole();
    cluster = await startLocalCluster({ port: 0, slotMs: 0, programs: [{ programId: DEFAULT_PROGRAM_ID, path: PROGRAM_PATH }] });
    sandbox = await bootstrapSandbox(cluster.ledger, DEFAULT_PROGRAM_ID, { wallets: [consumer.publicKey, operator.publicKey] });
    // A provider with stake and a posted job, made outside the page: the page must find them.
    const market = new PublicKey(sandbox.summary.markets[0].address);
    const operatorClient = new ComputeMarketClient(localProvider(cluster.ledger, operator));
    const registered = await operatorClient.registerProvider({ market, spec: { cpuCores: 8, memoryMb: 16_384, diskGb: 100, gpuCount: 0, vramMb: 0 }, endpoint: "http://127.0.0.1:1" });
    await operatorClient.stake({ provider: registered.provider, amount: 150_000_000n });
    provider = registered.provider.toBase58();
    const consumerClient = new ComputeMarketClient(localProvider(cluster.ledger, consumer));
    const posted = await consumerClient.postJob({ market, specHash: new Uint8Array(32).fill(5), requirements: { cpuCores: 1, memoryMb: 256, maxDurationSlots: 300n }, mode: "replicated", replication: 1, onFailure: "refund", maxPrice: 1_000_000n, instantPrice: 0n, bidWindowSlots: 0n });
    job = posted.job.toBase58();
    server = await serveConsole();
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  });

  after(async () => {
    await browser?.close();
    await server?.close();
    await cluster?.close();
  });

  it("shows each market with its class and parameters, its staked provider and its open job", async () => {
    const errors: string[] = [];
    page.on("pageerror", (error) => errors.push(error.message));
    await page.goto(consoleUrl(server.url, cluster.url, consumer));
    await page.getByTestId("market").first().waitFor({ timeout: 30_000 });
    const markets = await page.getByTestId("market").evaluateAll((cards) => cards.map((card) => card.getAttribute("data-address")));
    assert.deepEqual(markets.sort(), sandbox.summary.markets.map((m) => m.address).sort(), "the sandbox's markets, read from the page's origin");
    await page.getByTestId("provider").first().waitFor();
    const providerRow = page.locator(`[data-testid=provider][data-address="${provider}"]`);
    assert.match(await providerRow.innerText(), /150000000/, "the provider's stake");
    const jobRow = page.locator(`[data-testid=job][data-address="${job}"]`);
    assert.match(await jobRow.innerText(), /batch\s+open/);
    assert.match(await page.getByTestId("cluster").innerText(), /slot \d+/);
    assert.deepEqual(errors, [], "no error in the page");
    await page.screenshot({ path: path.join(SCREENSHOTS, "markets.png"), fullPage: true });
  });

  it("connects the development wallet through the Wallet Standard", async () => {
    await page.getByTestId("connect-Development wallet").click();
    await page.getByTestId("wallet-address").waitFor();
    assert.equal(await page.getByTestId("wallet-address").innerText(), consumer.publicKey.toBase58());
    await page.screenshot({ path: path.join(SCREENSHOTS, "wallet-connected.png") });
  });

  it("shows a provider its stake and bids, and unstakes and withdraws from the page", async () => {
    const operatorPage = await openConnected(browser, server.url, cluster.url, operator, { width: 1280, height: 900 });
    await operatorPage.getByTestId("nav-provider").click();
    const card = operatorPage.locator(`[data-testid=my-provider][data-address="${provider}"]`);
    await card.waitFor({ timeout: 30_000 });
    assert.equal(await card.getByTestId("staked").innerText(), "150000000");
    await card.locator("input[name=amount]").fill("1000");
    await card.getByTestId("unstake-submit").click();
    await until("the unbonding amount", async () => (await card.getByTestId("unbonding").innerText()).startsWith("1000 "), 15_000);
    // Before the unbonding delay: the program refuses, and the page says why.
    await card.getByTestId("withdraw").click();
    await until("the refusal", async () => /UnbondingNotElapsed/.test(await operatorPage.getByTestId("provider-message").innerText().catch(() => "")), 15_000);
    const unlockSlot = (await new ComputeMarketClient(localProvider(cluster.ledger, operator)).fetchProvider(new PublicKey(provider)))!.unlockSlot;
    cluster.ledger.warpToSlot(unlockSlot + 1n);
    await card.getByTestId("withdraw").click();
    await until("the withdrawal", async () => (await card.getByTestId("unbonding").innerText()) === "0", 15_000);
    assert.equal(await card.getByTestId("staked").innerText(), "149999000");
    await operatorPage.screenshot({ path: path.join(SCREENSHOTS, "provider.png"), fullPage: true });
    await operatorPage.close();
  });
});
