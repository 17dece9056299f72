// award: anyone closes the auction; only the best ranked bids can win, at the right price.
import assert from "node:assert/strict";
import { awardInstruction, findBidPda, PRICE_SCALE, sendInstructions, suggestMaxPrice, variantOf } from "@compute-market/sdk";
import { expectProgramError } from "../../support/assertions";
import { assertLedgerInvariants, bid, endAuction, setupAuction, type AuctionSetup } from "../../support/auction";
import { eventsOf } from "../../support/events";
import { MARKET_PARAMS } from "../../support/fixtures";

const bidOf = (setup: AuctionSetup, i: number) =>
  findBidPda({ job: setup.job, provider: setup.providers[i].provider, programId: setup.env.programId })[0];

describe("award", () => {
  it("awards the lowest bid after the deadline, at its own price, and sets the deadlines", async () => {
    const setup = await setupAuction();
    await bid(setup, [1_500_000n, 1_200_000n, 1_800_000n]);
    await endAuction(setup);
    const keeper = await setup.env.actor();
    const now = setup.env.ledger.slot;

    const signature = await keeper.client.award({ job: setup.job });

    const job = await keeper.client.fetchJob(setup.job);
    assert.equal(variantOf(job!.state), "awarded");
    assert.equal(job?.progress.awardedSlot, now);
    assert.equal(job?.progress.startDeadlineSlot, now + MARKET_PARAMS.startWindowSlots);
    assert.equal(job?.progress.commitDeadlineSlot, now + MARKET_PARAMS.startWindowSlots + 9_000n);
    const winner = await keeper.client.fetchBid(bidOf(setup, 1));
    assert.equal(variantOf(winner!.status), "won");
    assert.equal(winner?.awardedPrice, 1_200_000n);
    assert.equal(variantOf((await keeper.client.fetchBid(bidOf(setup, 0)))!.status), "active");
    const events = eventsOf(setup.env, keeper.client.program, signature);
    assert.deepEqual(events.map((e) => e.name), ["winnerSelected", "jobAwarded"]);
    // The event carries the market's moving average once the award counted (what a chart plots).
    const market = await keeper.client.fetchMarket(job!.market);
    assert.ok(market!.ewmaPrice > 0n);
    assert.equal((events[0].data as { marketEwmaPrice: bigint }).marketEwmaPrice, market!.ewmaPrice);
    await assertLedgerInvariants(setup);
  });

  it("awards at once when a bid meets the instant price", async () => {
    const setup = await setupAuction({ job: { instantPrice: 1_000_000n } });
    await bid(setup, [1_100_000n]);
    await expectProgramError(setup.consumer.client.award({ job: setup.job }), "AuctionStillOpen");
    await setup.providers[1].owner.client.placeBid({ job: setup.job, price: 950_000n });
    await setup.consumer.client.award({ job: setup.job });
    const winner = await setup.consumer.client.fetchBid(bidOf(setup, 1));
    assert.equal(variantOf(winner!.status), "won");
  });

  it("awards the r best bids of a replicated job", async () => {
    const setup = await setupAuction({ providers: 4, job: { replication: 2 } });
    await bid(setup, [900n, 700n, 800n, 600n]);
    await endAuction(setup);
    await setup.consumer.client.award({ job: setup.job });
    const statuses = await Promise.all([0, 1, 2, 3].map(async (i) => variantOf((await setup.consumer.client.fetchBid(bidOf(setup, i)))!.status)));
    assert.deepEqual(statuses, ["active", "won", "active", "won"]);
  });

  it("pays every winner of a sealed auction the first losing price", async () => {
    // Given sealed bids of 900, 700 and 800 for two winners
    const setup = await setupAuction({ providers: 3, job: { sealed: true, replication: 2 } });
    const prices = [900n, 700n, 800n];
    const salts = [];
    for (const [i, price] of prices.entries()) salts.push((await setup.providers[i].owner.client.placeSealedBid({ job: setup.job, price })).salt);
    const job = await setup.consumer.client.fetchJob(setup.job);
    setup.env.ledger.warpToSlot(job!.bidDeadlineSlot + 1n);
    for (const [i, price] of prices.entries()) await setup.providers[i].owner.client.revealBid({ job: setup.job, price, salt: salts[i] });
    await endAuction(setup);

    await setup.consumer.client.award({ job: setup.job });

    // Then the winners (700 and 800) are both paid 900
    for (const i of [1, 2]) assert.equal((await setup.consumer.client.fetchBid(bidOf(setup, i)))?.awardedPrice, 900n);
    assert.equal(variantOf((await setup.consumer.client.fetchBid(bidOf(setup, 0)))!.status), "active");
  });

  it("pays the consumer's maximum when no sealed bid lost", async () => {
    const setup = await setupAuction({ providers: 1, job: { sealed: true } });
    const { salt } = await setup.providers[0].owner.client.placeSealedBid({ job: setup.job, price: 10n });
    const job = await setup.consumer.client.fetchJob(setup.job);
    setup.env.ledger.warpToSlot(job!.bidDeadlineSlot + 1n);
    await setup.providers[0].owner.client.revealBid({ job: setup.job, price: 10n, salt });
    await endAuction(setup);
    await setup.consumer.client.award({ job: setup.job });
    assert.equal((await setup.consumer.client.fetchBid(bidOf(setup, 0)))?.awardedPrice, 2_000_000n);
  });

  it("updates the market's average price per unit of work", async () => {
    const setup = await setupAuction();
    await bid(setup, [900_000n]);
    await endAuction(setup);
    await setup.consumer.client.award({ job: setup.job });
    const market = await setup.consumer.client.fetchMarket(setup.market);
    // one GPU × 9,000 slots
    assert.equal(market?.ewmaPrice, (900_000n * PRICE_SCALE) / 9_000n);
    const requirements = { gpuCount: 2, cpuCores: 1, memoryMb: 1, maxDurationSlots: 1_000n };
    assert.equal(suggestMaxPrice(market!, requirements, 0), 200_000n);
  });

  it("rejects an award before the auction ends", async () => {
    const setup = await setupAuction();
    await bid(setup, [900_000n]);
    await expectProgramError(setup.consumer.client.award({ job: setup.job }), "AuctionStillOpen");
  });

  it("rejects an award with fewer bids than winners needed", async () => {
    const setup = await setupAuction({ job: { replication: 2 } });
    await bid(setup, [900_000n]);
    await endAuction(setup);
    await expectProgramError(setup.consumer.client.award({ job: setup.job }), "NotEnoughBids");
  });

  it("rejects any bid but the best", async () => {
    const setup = await setupAuction();
    await bid(setup, [900_000n, 800_000n]);
    await endAuction(setup);
    const ix = await awardInstruction(setup.consumer.client.program, { cranker: setup.consumer.publicKey, market: setup.market, job: setup.job }, [bidOf(setup, 0)]);
    await expectProgramError(sendInstructions(setup.consumer.provider, [ix]), "WrongWinner");
    assert.equal(variantOf((await setup.consumer.client.fetchJob(setup.job))!.state), "open");
  });

  it("rejects an award without the winning bids", async () => {
    const setup = await setupAuction();
    await bid(setup, [900_000n]);
    await endAuction(setup);
    const ix = await awardInstruction(setup.consumer.client.program, { cranker: setup.consumer.publicKey, market: setup.market, job: setup.job }, []);
    await expectProgramError(sendInstructions(setup.consumer.provider, [ix]), "WinnersMissing");
  });

  it("rejects a second award (replay)", async () => {
    const setup = await setupAuction();
    await bid(setup, [900_000n]);
    await endAuction(setup);
    await setup.consumer.client.award({ job: setup.job });
    await expectProgramError(setup.consumer.client.award({ job: setup.job }), "InvalidJobState");
  });

  it("rejects a market other than the job's", async () => {
    const setup = await setupAuction();
    await bid(setup, [900_000n]);
    await endAuction(setup);
    const { market: other } = await setup.authority.client.createMarket({
      class: { minGpuCount: 0, minVramMb: 0, minCpuCores: 1, minMemoryMb: 1 },
      params: MARKET_PARAMS,
      paymentMint: setup.env.paymentMint,
      stakeMint: setup.env.stakeMint,
    });
    const ix = await awardInstruction(setup.consumer.client.program, { cranker: setup.consumer.publicKey, market: other, job: setup.job }, [bidOf(setup, 0)]);
    await expectProgramError(sendInstructions(setup.consumer.provider, [ix]), "MarketMismatch");
  });
});
