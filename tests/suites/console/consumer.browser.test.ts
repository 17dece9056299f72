// The consumer's path through the web console in a real browser (Debian's Chromium via
// playwright-core), against a local cluster with a keeper and a provider node running Docker:
// connect the development wallet (Wallet Standard), post a container job from the form (its input
// files uploaded to the providers with progress), watch
// its timeline to the payment, download the result with the page checking every file against
// the on-chain root; a result a provider forges is shown as failing verification; a job still
// open is cancelled from the page; a verifiable job posted from its code and input files has its
// output checked by the machine's WebAssembly in the page, and a forged output fails. Screenshots
// go to target/screenshots/.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import path from "node:path";
import { PublicKey } from "@solana/web3.js";
import type { Browser, Page } from "playwright-core";
import { parseEvents } from "@compute-market/sdk";
import { startProvider, type ProviderNodeHandle } from "@compute-market/provider";
import { buildConsole, serveConsole, type ConsoleServer } from "../../../app/console/server/serve";
import { launchChromium, openConnected, SCREENSHOTS } from "../../support/console";
import { testDocker } from "../../support/docker";
import { PROVIDER_MARKET_PARAMS, providerConfig, startProviderMarket, testLogger, until, type ProviderMarket } from "../../support/provider-market";
import { guestCode } from "../../support/verifiable";


describe("console in a browser: a consumer's job", function () {
  this.timeout(120_000);
  let market: ProviderMarket;
  let node: ProviderNodeHandle;
  let server: ConsoleServer;
  let browser: Browser;
  let page: Page;
  let image: string;

  before(async () => {
    buildConsole();
    ({ image } = await testDocker());
    market = await startProviderMarket();
    node = await startProvider(await providerConfig(market), market.operator.keypair, testLogger);
    server = await serveConsole();
    browser = await launchChromium();
    page = await openConnected(browser, server.url, market.env.cluster.url, market.consumer.keypair);
    await page.getByTestId("market").first().waitFor();
    await page.getByTestId("nav-consumer").click();
  });

  after(async () => {
    await browser?.close();
    await server?.close();
    await node?.stop();
    await market?.close();
  });

  /** Posts a job from the form with `command`; returns its card once the page lists it. */
  async function postFromForm(command: string, instantPrice: string, bidWindowSlots = "0"): Promise<string> {
    const before = await page.getByTestId("my-job").count();
    const form = page.getByTestId("post-job");
    await form.locator("input[name=image]").fill(image);
    await form.locator("input[name=command]").fill(command);
    await form.locator("input[name=instantPrice]").fill(instantPrice);
    await form.locator("input[name=bidWindowSlots]").fill(bidWindowSlots);
    await page.getByTestId("post-submit").click();
    await until("the posted job in the page", async () => (await page.getByTestId("my-job").count()) > before || (await page.getByTestId("consumer-error").count()) > 0, 30_000);
    if ((await page.getByTestId("consumer-error").count()) > 0) assert.fail(`the page refused the job: ${await page.getByTestId("consumer-error").innerText()}`);
    return (await page.getByTestId("my-job").nth(before).getAttribute("data-address"))!;
  }

  it("posts a job, follows it to the payment and verifies the result in the page", async () => {
    const job = await postFromForm("echo 42 > /outputs/answer.txt", "1000");
    const card = page.locator(`[data-testid=my-job][data-address="${job}"]`);
    await until("the payment in the timeline", async () => /winnerPaid/.test(await card.getByTestId("timeline").innerText()), 60_000);
    const timeline = await card.getByTestId("timeline").innerText();
    for (const step of ["jobPosted", "bidPlaced", "winnerSelected", "jobStarted", "resultCommitted", "winnerPaid"]) assert.match(timeline, new RegExp(step), `the timeline shows ${step}`);
    assert.ok(await market.env.connection.getAccountInfo(new PublicKey(job)).then((info) => info === null), "finalized on-chain: the job account is closed");
    await card.getByTestId("verify").click();
    await card.getByTestId("verified").waitFor({ timeout: 30_000 });
    assert.equal(await card.getByTestId("file-outputs/answer.txt").innerText(), "42");
    await page.screenshot({ path: path.join(SCREENSHOTS, "job-timeline.png"), fullPage: true });
    // A small copy for the documentation (docs/images/ holds one made by a run of this suite).
    await card.screenshot({ path: path.join(SCREENSHOTS, "job-timeline.jpg"), type: "jpeg", quality: 70 });
  });

  it("uploads a job's input files to the providers with progress, and the job reads them", async () => {
    const data = "a line of input\n".repeat(500);
    await page.getByTestId("post-job").locator("input[name=inputs]").setInputFiles({ name: "data.txt", mimeType: "text/plain", buffer: Buffer.from(data) });
    const job = await postFromForm("wc -l < /inputs/data.txt > /outputs/answer.txt", "1000").finally(() => page.getByTestId("post-job").locator("input[name=inputs]").setInputFiles([]));
    assert.equal(await page.getByTestId("upload-progress").innerText(), `inputs uploaded: ${data.length} bytes to the providers`);
    const card = page.locator(`[data-testid=my-job][data-address="${job}"]`);
    await card.getByTestId("verify").waitFor({ timeout: 60_000 });
    await card.getByTestId("verify").click();
    await card.getByTestId("verified").waitFor({ timeout: 30_000 });
    assert.equal((await card.getByTestId("file-outputs/answer.txt").innerText()).trim(), "500", "the container read the uploaded input");
  });

  it("shows a result whose files a provider forged as failing verification", async () => {
    const job = await postFromForm("echo 7 > /outputs/answer.txt", "1000");
    const card = page.locator(`[data-testid=my-job][data-address="${job}"]`);
    await card.getByTestId("verify").waitFor({ timeout: 60_000 });
    // The provider's answer for the file, replaced on its way to the page.
    await page.route("**/results/files/outputs/answer.txt", (route) => route.fulfill({ status: 200, contentType: "application/octet-stream", headers: { "access-control-allow-origin": "*" }, body: "8\n" }));
    await card.getByTestId("verify").click();
    await card.getByTestId("verify-failed").waitFor({ timeout: 30_000 });
    // The forged file has the honest one's size: its hash gives it away.
    assert.match(await card.getByTestId("verify-failed").innerText(), /verification failed: .*outputs\/answer\.txt.*does not match the manifest.s sha256/);
    await page.unroute("**/results/files/outputs/answer.txt");
  });

  it("cancels a job still open from the page", async () => {
    // No instant price and a long bid window: bidding stays open.
    const job = await postFromForm("true", "0", "2000");
    const card = page.locator(`[data-testid=my-job][data-address="${job}"]`);
    await card.getByTestId("cancel").click();
    await until("the job cancelled", async () => (await market.env.connection.getAccountInfo(new PublicKey(job))) === null, 30_000);
    await until("the page showing it closed", async () => (await card.getByTestId("job-state").innerText()) === "closed", 10_000);
  });

  it("posts a verifiable job and checks its output with the machine in the page; a forged output fails", async () => {
    const input = new TextEncoder().encode("the quick brown fox jumps over the lazy dog\n".repeat(20));
    const before = await page.getByTestId("my-job").count();
    const form = page.getByTestId("post-verifiable");
    await form.locator("input[name=code]").setInputFiles({ name: "sha256.bin", mimeType: "application/octet-stream", buffer: Buffer.from(guestCode("sha256")) });
    await form.locator("input[name=input]").setInputFiles({ name: "book.txt", mimeType: "text/plain", buffer: Buffer.from(input) });
    await page.getByTestId("post-verifiable-submit").click();
    await until("the verifiable job in the page", async () => (await page.getByTestId("my-job").count()) > before || (await page.getByTestId("consumer-error").count()) > 0, 30_000);
    if ((await page.getByTestId("consumer-error").count()) > 0) assert.fail(`the page refused the job: ${await page.getByTestId("consumer-error").innerText()}`);
    const card = page.getByTestId("my-job").nth(before);
    await card.getByTestId("verify").waitFor({ timeout: 60_000 });
    await card.getByTestId("verify").click();
    await card.getByTestId("verified").waitFor({ timeout: 30_000 });
    assert.equal(await card.getByTestId("file-output").innerText(), createHash("sha256").update(input).digest("hex"), "the guest's output: the input's sha256");
    await page.screenshot({ path: path.join(SCREENSHOTS, "verifiable-job.png"), fullPage: true });

    // The same check against an output the provider forged.
    await page.route("**/v1/jobs/*/output", (route) => route.fulfill({ status: 200, contentType: "application/octet-stream", headers: { "access-control-allow-origin": "*" }, body: Buffer.alloc(32, 7) }));
    await card.getByTestId("verify").click();
    await card.getByTestId("verify-failed").waitFor({ timeout: 30_000 });
    assert.match(await card.getByTestId("verify-failed").innerText(), /verification failed/);
    await page.unroute("**/v1/jobs/*/output");
  });

  it("shows a keeper's cranks and what they earned, read from its transactions", async () => {
    await page.getByTestId("nav-keeper").click();
    await page.locator("input[name=keeper]").fill(market.keeper.wallet.toBase58());
    await page.getByTestId("keeper-submit").click();
    await page.getByTestId("keeper-report").waitFor({ timeout: 30_000 });
    const count = async (name: string) => Number(await page.locator(`[data-testid=crank][data-name="${name}"]`).getByTestId("crank-count").innerText());
    // The jobs above: three awarded by this keeper (the cancelled one never was); the first
    // finalized (the others' challenge windows may still run).
    assert.ok((await count("award")) >= 3, "its awards");
    assert.ok((await count("finalize")) >= 1, "its finalization");
    // Each finalization paid the market's crank fee into the keeper's payment account.
    const earned = await page.locator(`[data-testid=crank][data-name="finalize"]`).getByTestId("crank-earned").innerText();
    assert.equal(BigInt(earned.split(" ")[0]), BigInt(await count("finalize")) * PROVIDER_MARKET_PARAMS.crankFee, "the crank fees earned");
    await page.screenshot({ path: path.join(SCREENSHOTS, "keeper.png"), fullPage: true });
  });

  it("charts the market's clearing price from its awards' events", async () => {
    await page.getByTestId("nav-markets").click();
    const chart = page.locator(`[data-testid=market][data-address="${market.env.market.toBase58()}"]`).getByTestId("price-chart");
    // One point per award above (the cancelled job had none).
    await until("a point per award", async () => Number(await chart.getAttribute("data-points").catch(() => "0")) >= 3, 30_000);
    // uPlot draws in an effect after the holder renders: wait for its canvas before counting.
    await chart.locator("canvas").first().waitFor({ timeout: 10_000 });
    assert.equal(await chart.locator("canvas").count(), 1, "drawn by uPlot, once");
    await page.screenshot({ path: path.join(SCREENSHOTS, "markets-chart.png"), fullPage: true });
    await page.locator(`[data-testid=market][data-address="${market.env.market.toBase58()}"]`).screenshot({ path: path.join(SCREENSHOTS, "markets.jpg"), type: "jpeg", quality: 70 });
  });

  it("shows the provider what its jobs paid it, read from its payment events", async () => {
    const operatorPage = await openConnected(browser, server.url, market.env.cluster.url, market.operator.keypair);
    await operatorPage.getByTestId("nav-provider").click();
    const card = operatorPage.locator(`[data-testid=my-provider][data-address="${market.provider.toBase58()}"]`);
    await card.waitFor({ timeout: 30_000 });
    // Every job it was paid for: the payment events on the chain, counted here independently.
    const signatures = await market.env.connection.getSignaturesForAddress(market.provider);
    let paid = 0n;
    for (const { signature } of signatures) {
      const tx = await market.env.connection.getTransaction(signature, { maxSupportedTransactionVersion: 0 });
      for (const event of parseEvents(market.consumer.client.program, tx?.meta?.logMessages ?? [])) if (event.name === "winnerPaid") paid += (event.data as { price: bigint }).price;
    }
    assert.ok(paid > 0n, "a job above was paid");
    await until("the earnings", async () => (await card.getByTestId("earned").innerText()) === paid.toString(), 15_000);
    await operatorPage.close();
  });
});
