// A disputed verifiable job in the web console, in a real browser (Debian's Chromium via
// playwright-core): the consumer posts it from the page; a provider that commits a wrong final
// state and defends it with made-up states wins it; the keeper's challenger disputes it and plays
// the game to its end; the job's timeline in the page shows the game round by round (the moves
// name only the game: the page finds its job), its decision and its settlement, and the job
// closed with the consumer refunded.
import assert from "node:assert/strict";
import path from "node:path";
import { PublicKey } from "@solana/web3.js";
import type { Browser, Page } from "playwright-core";
import { Replay } from "@compute-market/vm";
import { buildConsole, serveConsole, type ConsoleServer } from "../../../app/console/server/serve";
import { launchChromium, openConnected, SCREENSHOTS } from "../../support/console";
import { until } from "../../support/provider-market";
import { guestCode } from "../../support/verifiable";
import { cheat, closedJob, gameDecided, startVerifiableMarket, type VerifiableMarket } from "../../support/verifiable-market";

describe("console in a browser: a disputed verifiable job", function () {
  this.timeout(180_000);
  let market: VerifiableMarket;
  let server: ConsoleServer;
  let browser: Browser;
  let page: Page;
  let cheater: Awaited<ReturnType<VerifiableMarket["scriptedProvider"]>>;
  let keeperWallet: PublicKey;
  const replays: Replay[] = [];

  before(async () => {
    buildConsole();
    market = await startVerifiableMarket();
    // A keeper whose challenger replays every result, and a provider that will lie: registered
    // before the page loads the market's providers, to whom it publishes the program.
    keeperWallet = (await market.keeper()).wallet.keypair.publicKey;
    cheater = await market.scriptedProvider();
    server = await serveConsole();
    browser = await launchChromium();
    page = await openConnected(browser, server.url, market.env.cluster.url, market.consumer.keypair);
    await page.getByTestId("market").first().waitFor();
    await page.getByTestId("nav-consumer").click();
  });

  after(async () => {
    await browser?.close();
    await server?.close();
    await market?.close();
    for (const replay of replays.splice(0)) replay.free();
  });

  it("shows the game over a wrong result round by round in the job's timeline, to its settlement", async () => {
    const code = guestCode("sha256");
    const input = new TextEncoder().encode("a disputed input\n".repeat(40));
    const consumerBefore = market.env.paymentBalance(market.consumer.keypair.publicKey);

    // When the consumer posts the job from the page, and the cheater wins and commits a wrong state
    const form = page.getByTestId("post-verifiable");
    await form.locator("input[name=code]").setInputFiles({ name: "sha256.bin", mimeType: "application/octet-stream", buffer: Buffer.from(code) });
    await form.locator("input[name=input]").setInputFiles({ name: "input.txt", mimeType: "text/plain", buffer: Buffer.from(input) });
    await page.getByTestId("post-verifiable-submit").click();
    await until("the job in the page", async () => (await page.getByTestId("my-job").count()) > 0 || (await page.getByTestId("consumer-error").count()) > 0, 30_000);
    if ((await page.getByTestId("consumer-error").count()) > 0) assert.fail(`the page refused the job: ${await page.getByTestId("consumer-error").innerText()}`);
    const card = page.getByTestId("my-job").first();
    const job = new PublicKey((await card.getAttribute("data-address"))!);
    const { honest, defender } = await cheat(market, cheater.owner, job, code, input);
    replays.push(honest);
    try {
      const game = await market.gameOf(job);
      assert.ok(game.account.challenger.equals(keeperWallet), "the keeper opened the game");
      assert.equal(await gameDecided(market, game.address), "challengerWon");
      await closedJob(market, job);
    } finally {
      await defender.stop();
    }

    // Then the page's timeline has the game: opened, its moves, decided, settled
    const timeline = card.getByTestId("timeline");
    await until("the settlement in the timeline", async () => /disputeSettled/.test(await timeline.innerText()), 30_000);
    const lines = (await timeline.innerText()).split("\n");
    const moves = market.events.filter((event) => event.name === "disputeMoved").length;
    assert.ok(moves >= 1, "the game had moves");
    assert.equal(lines.filter((line) => /disputeMoved: steps \d+–\d+ left, \w+ to move/.test(line)).length, moves, "every move of the game, with the interval it left");
    assert.ok(lines.some((line) => /disputeOpened \S+: \d+ steps disputed, provider to move/.test(line)));
    assert.ok(lines.some((line) => /disputeDecided: challengerWon/.test(line)));
    assert.ok(lines.some((line) => /disputeSettled: challengerWon/.test(line)));
    const order = ["resultCommitted", "disputeOpened", "disputeMoved", "disputeDecided", "disputeSettled"].map((name) => lines.findIndex((line) => line.includes(name)));
    assert.deepEqual([...order].sort((a, b) => a - b), order, "in the order they happened");
    await until("the page showing it closed", async () => (await card.getByTestId("job-state").innerText()) === "closed", 10_000);
    assert.equal(market.env.paymentBalance(market.consumer.keypair.publicKey), consumerBefore, "the consumer refunded to the token");
    await card.screenshot({ path: path.join(SCREENSHOTS, "dispute-timeline.png") });
  });
});
