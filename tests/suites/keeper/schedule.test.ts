// The keeper's schedule: each crank is planned exactly when the program would accept it.
import assert from "node:assert/strict";
import { PublicKey } from "@solana/web3.js";
import { awardDue, challengeOpen, expiryDue, finalizeDue, noShowDue, refereeDue, timeoutDue } from "@compute-market/keeper";
import { expectProgramError } from "../../support/assertions";
import { commitFor, freeReplays, honestClaim, setupRefereedJob, wrongExitCode } from "../../support/verifiable";
import { awarded, bid, endAuction, setupAuction, type AuctionSetup } from "../../support/auction";
import { MARKET_PARAMS } from "../../support/fixtures";

async function jobOf(setup: AuctionSetup) {
  const job = await setup.consumer.client.fetchJob(setup.job);
  assert.ok(job);
  return job;
}

async function winningBid(setup: AuctionSetup, provider: PublicKey) {
  const bid = await setup.consumer.client.fetchBid(setup.consumer.client.bidAddress(setup.job, provider));
  assert.ok(bid);
  return bid;
}

describe("keeper schedule", () => {
  it("plans an award after the deadline with enough bids, and accepts it on-chain", async () => {
    const setup = await setupAuction();
    await bid(setup, [900n]);
    const job = await jobOf(setup);
    assert.equal(awardDue(job, job.bidDeadlineSlot), false);
    assert.equal(awardDue(job, job.bidDeadlineSlot + 1n), true);
    assert.equal(expiryDue(job, job.bidDeadlineSlot + 1n), false);
    await endAuction(setup);
    await setup.consumer.client.award({ job: setup.job });
  });

  it("plans an instant award as soon as a bid meets the instant price", async () => {
    const setup = await setupAuction({ job: { instantPrice: 1_000n } });
    await bid(setup, [1_000n]);
    const job = await jobOf(setup);
    assert.equal(awardDue(job, job.postedSlot), true);
  });

  it("plans an expiry, not an award, when the auction ended without enough bids", async () => {
    const setup = await setupAuction({ job: { replication: 2 } });
    await bid(setup, [900n]);
    const job = await jobOf(setup);
    assert.equal(awardDue(job, job.bidDeadlineSlot + 1n), false);
    assert.equal(expiryDue(job, job.bidDeadlineSlot), false);
    assert.equal(expiryDue(job, job.bidDeadlineSlot + 1n), true);
  });

  it("waits for the reveal deadline of a sealed auction", async () => {
    const setup = await setupAuction({ job: { sealed: true } });
    const job = await jobOf(setup);
    assert.equal(expiryDue(job, job.bidDeadlineSlot + 1n), false);
    assert.equal(expiryDue(job, job.revealDeadlineSlot + 1n), true);
  });

  it("plans a no-show only after the start deadline, for a winner that did not start", async () => {
    const setup = await setupAuction();
    await awarded(setup, [900n]);
    const job = await jobOf(setup);
    const won = await winningBid(setup, setup.providers[0].provider);
    assert.equal(noShowDue(job, won, job.progress.startDeadlineSlot), false);
    assert.equal(noShowDue(job, won, job.progress.startDeadlineSlot + 1n), true);
    await setup.providers[0].owner.client.startJob({ job: setup.job });
    const started = await winningBid(setup, setup.providers[0].provider);
    assert.equal(noShowDue(await jobOf(setup), started, job.progress.startDeadlineSlot + 1n), false);
  });

  it("plans a timeout after the commit deadline for a winner that did not commit", async () => {
    const setup = await setupAuction();
    await awarded(setup, [900n]);
    await setup.providers[0].owner.client.startJob({ job: setup.job });
    const job = await jobOf(setup);
    const started = await winningBid(setup, setup.providers[0].provider);
    assert.equal(timeoutDue(job, started, job.progress.commitDeadlineSlot), false);
    assert.equal(timeoutDue(job, started, job.progress.commitDeadlineSlot + 1n), true);
  });

  it("plans a settlement once the challenge window has passed", async () => {
    const setup = await setupAuction();
    await awarded(setup, [900n]);
    await setup.providers[0].owner.client.startJob({ job: setup.job });
    await setup.providers[0].owner.client.commitResult({ job: setup.job, outputRoot: new Uint8Array(32).fill(1), resultUriHash: new Uint8Array(32) });
    const job = await jobOf(setup);
    assert.equal(job.progress.challengeDeadlineSlot, setup.env.ledger.slot + MARKET_PARAMS.challengeWindowSlots);
    assert.equal(finalizeDue(job, job.progress.challengeDeadlineSlot - 1n), false);
    assert.equal(finalizeDue(job, job.progress.challengeDeadlineSlot), true);
    setup.env.ledger.warpToSlot(job.progress.challengeDeadlineSlot);
    await setup.consumer.client.finalize({ job: setup.job, consumerToken: setup.consumer.paymentToken });
  });

  it("plans a referee game, not a settlement, when a refereed job's winners differ, as the program decides", async () => {
    const setup = await setupRefereedJob({ guest: "sha256", input: new TextEncoder().encode("schedule") });
    try {
      const honest = honestClaim(setup.honest);
      const bidsNow = async () => (await Promise.all(setup.bids.map((bid) => setup.consumer.client.fetchBid(bid)))).filter((bid) => bid !== null);
      await commitFor(setup, 0, honest);
      let job = (await setup.consumer.client.fetchJob(setup.job))!;
      assert.equal(refereeDue(job, await bidsNow(), false), null, "not before both committed");
      await commitFor(setup, 1, wrongExitCode(honest));
      job = (await setup.consumer.client.fetchJob(setup.job))!;
      const bids = await bidsNow();
      const due = refereeDue(job, bids, false);
      assert.ok(due && due[0].provider.equals(setup.providers[0].provider), "the first-ranked defends");
      assert.equal(refereeDue(job, bids, true), null, "not twice");
      assert.equal(finalizeDue(job, job.progress.challengeDeadlineSlot, bids), false, "differing states are not paid");
      setup.env.ledger.warpToSlot(job.progress.challengeDeadlineSlot);
      await expectProgramError(setup.authority.client.finalize({ job: setup.job }), "ResultsDiffer");
      await setup.authority.client.referee({ job: setup.job });
      assert.equal(challengeOpen(job, bids[0], job.progress.challengeDeadlineSlot - 1n), false, "outsiders do not challenge refereed jobs");
    } finally {
      freeReplays();
    }
  });
});
