// expire_job: anyone closes an auction that ended short of bids; the consumer gets the whole escrow and the rent back, no keeper fee.
import assert from "node:assert/strict";
import { getAssociatedTokenAddressSync } from "@solana/spl-token";
import { expireJobInstruction, findBidPda, sendInstructions, type ExpireJobAccounts } from "@compute-market/sdk";
import { assertNothingMoved, expectProgramError, snapshot } from "../../support/assertions";
import { assertLedgerInvariants, awarded, bid, endAuction, setupAuction, type AuctionSetup } from "../../support/auction";
import type { Actor } from "../../support/env";
import { eventsOf } from "../../support/events";
import { escrowFor, jobInput, MARKET_PARAMS } from "../../support/fixtures";

const TX_FEE = 5_000n;
const ESCROW = escrowFor(2_000_000n);

function accountsFor(setup: AuctionSetup, cranker: Actor): ExpireJobAccounts {
  return {
    cranker: cranker.publicKey,
    job: setup.job,
    escrow: setup.escrow,
    consumer: setup.consumer.publicKey,
    consumerToken: setup.consumer.paymentToken,
  };
}

describe("expire_job", () => {
  it("refunds the whole escrow and closes job and escrow, their rent to the consumer", async () => {
    // Given a job whose auction ended without a bid
    const setup = await setupAuction({ providers: 0 });
    await endAuction(setup);
    const keeper = await setup.env.actor();
    const consumerTokens = setup.env.tokenBalance(setup.consumer.paymentToken);
    const consumerLamports = setup.env.lamports(setup.consumer.publicKey);
    const keeperLamports = setup.env.lamports(keeper.publicKey);
    const rent = setup.env.lamports(setup.job) + setup.env.lamports(setup.escrow);

    // When a keeper expires it
    const signature = await keeper.client.expireJob({ job: setup.job, consumerToken: setup.consumer.paymentToken });

    // Then the consumer has everything back, and the keeper earned nothing but paid its fee
    assert.equal(setup.env.tokenBalance(setup.consumer.paymentToken), consumerTokens + ESCROW);
    assert.equal(setup.env.exists(setup.job), false);
    assert.equal(setup.env.exists(setup.escrow), false);
    assert.equal(setup.env.lamports(setup.consumer.publicKey), consumerLamports + rent);
    assert.equal(setup.env.lamports(keeper.publicKey), keeperLamports - TX_FEE);
    assert.equal(setup.env.tokenBalance(keeper.paymentToken), 1_000_000_000n);
    const [event] = eventsOf(setup.env, keeper.client.program, signature);
    assert.equal(event.name, "jobExpired");
    assert.equal(event.data.refunded, ESCROW);
    await assertLedgerInvariants(setup);
  });

  it("expires a replicated job with fewer ranked bids than winners; the bid keeps its lock until withdrawn", async () => {
    // Given a job for two providers that got one bid
    const setup = await setupAuction({ job: { replication: 2 } });
    await bid(setup, [1_500_000n]);
    await endAuction(setup);
    const before = setup.env.tokenBalance(setup.consumer.paymentToken);

    await setup.consumer.client.expireJob({ job: setup.job, consumerToken: setup.consumer.paymentToken });

    assert.equal(setup.env.tokenBalance(setup.consumer.paymentToken), before + escrowFor(2_000_000n, 2n));
    assert.equal(setup.env.exists(setup.job), false);
    const { provider } = setup.providers[0];
    assert.equal(setup.env.exists(findBidPda({ job: setup.job, provider, programId: setup.env.programId })[0]), true);
    assert.equal((await setup.consumer.client.fetchProvider(provider))?.locked, MARKET_PARAMS.jobStakeLock);
  });

  it("waits for the reveal deadline of a sealed auction", async () => {
    // Given a sealed job whose only bid is never revealed
    const setup = await setupAuction({ job: { sealed: true } });
    await setup.providers[0].owner.client.placeSealedBid({ job: setup.job, price: 900_000n });
    const job = await setup.consumer.client.fetchJob(setup.job);

    // When bidding has closed but revealing has not, the job cannot expire
    setup.env.ledger.warpToSlot(job!.revealDeadlineSlot);
    await expectProgramError(setup.consumer.client.expireJob({ job: setup.job, consumerToken: setup.consumer.paymentToken }), "AuctionStillOpen");

    // Then, once the reveal deadline has passed, it can
    setup.env.ledger.advanceSlots(1n);
    const before = setup.env.tokenBalance(setup.consumer.paymentToken);
    await setup.consumer.client.expireJob({ job: setup.job, consumerToken: setup.consumer.paymentToken });
    assert.equal(setup.env.tokenBalance(setup.consumer.paymentToken), before + ESCROW);
  });

  it("refunds into the consumer's associated token account by default, created by the cranker", async () => {
    const setup = await setupAuction({ providers: 0 });
    await endAuction(setup);
    const keeper = await setup.env.actor();
    const ata = getAssociatedTokenAddressSync(setup.env.paymentMint, setup.consumer.publicKey, true);
    assert.equal(setup.env.exists(ata), false);

    await keeper.client.expireJob({ job: setup.job });

    assert.equal(setup.env.tokenBalance(ata), ESCROW);
    assert.equal(setup.env.exists(setup.job), false);
  });

  it("also returns tokens someone sent to the escrow directly", async () => {
    const setup = await setupAuction({ providers: 0 });
    await setup.env.mintTo(setup.env.paymentMint, setup.escrow, 777n);
    await endAuction(setup);
    const before = setup.env.tokenBalance(setup.consumer.paymentToken);
    const signature = await setup.consumer.client.expireJob({ job: setup.job, consumerToken: setup.consumer.paymentToken });
    assert.equal(setup.env.tokenBalance(setup.consumer.paymentToken), before + ESCROW + 777n);
    const [event] = eventsOf(setup.env, setup.consumer.client.program, signature);
    assert.equal(event.name === "jobExpired" && event.data.refunded, ESCROW + 777n);
  });

  it("expires a job reopened after a no-show once no ranked bid is left", async () => {
    // Given the only bidder won, never started and was failed: the job reopened with no bid
    const setup = await setupAuction();
    await awarded(setup, [1_500_000n]);
    setup.env.ledger.warpToSlot((await setup.consumer.client.fetchJob(setup.job))!.progress.startDeadlineSlot + 1n);
    const keeper = await setup.env.actor();
    await keeper.client.failNoShow({ job: setup.job, provider: setup.providers[0].provider });
    const reopened = await keeper.client.fetchJob(setup.job);
    assert.equal(reopened?.auction.rankedCount, 0);

    // When the new auction is over, too early and then in time
    setup.env.ledger.warpToSlot(reopened!.bidDeadlineSlot);
    await expectProgramError(keeper.client.expireJob({ job: setup.job, consumerToken: setup.consumer.paymentToken }), "AuctionStillOpen");
    setup.env.ledger.advanceSlots(1n);
    const before = setup.env.tokenBalance(setup.consumer.paymentToken);
    await keeper.client.expireJob({ job: setup.job, consumerToken: setup.consumer.paymentToken });

    // Then the consumer has the whole escrow back, the unused crank fee included
    assert.equal(setup.env.tokenBalance(setup.consumer.paymentToken), before + ESCROW);
    assert.equal(setup.env.exists(setup.escrow), false);
    await assertLedgerInvariants(setup);
  });

  it("rejects an expiry while bidding is open (up to the deadline slot itself)", async () => {
    const setup = await setupAuction({ providers: 0 });
    setup.env.ledger.warpToSlot((await setup.consumer.client.fetchJob(setup.job))!.bidDeadlineSlot);
    const keeper = await setup.env.actor();
    const before = snapshot(setup.env, [setup.escrow, setup.job, setup.consumer.paymentToken]);
    await expectProgramError(keeper.client.expireJob({ job: setup.job, consumerToken: setup.consumer.paymentToken }), "AuctionStillOpen");
    assertNothingMoved(setup.env, before);
  });

  it("rejects an expiry when enough bids are ranked: the job must be awarded", async () => {
    const setup = await setupAuction();
    await bid(setup, [1_500_000n]);
    await endAuction(setup);
    const keeper = await setup.env.actor();
    const before = snapshot(setup.env, [setup.escrow, setup.job, setup.consumer.paymentToken]);
    await expectProgramError(keeper.client.expireJob({ job: setup.job, consumerToken: setup.consumer.paymentToken }), "AuctionHasWinners");
    assertNothingMoved(setup.env, before);
  });

  it("rejects a job that was awarded", async () => {
    const setup = await setupAuction();
    await awarded(setup, [1_500_000n]);
    const keeper = await setup.env.actor();
    const before = snapshot(setup.env, [setup.escrow, setup.job, setup.consumer.paymentToken]);
    await expectProgramError(keeper.client.expireJob({ job: setup.job, consumerToken: setup.consumer.paymentToken }), "InvalidJobState");
    assertNothingMoved(setup.env, before);
  });

  const tampered: [string, (a: ExpireJobAccounts, s: AuctionSetup, keeper: Actor) => Promise<void> | void, Parameters<typeof expectProgramError>[1]][] = [
    ["a consumer other than the job's", (a, _s, k) => void (a.consumer = k.publicKey), "ConsumerMismatch"],
    [
      "an escrow other than the job's",
      async (a, s) => {
        a.escrow = (await s.consumer.client.postJob(jobInput(s.market, { consumerToken: s.consumer.paymentToken }))).escrow;
      },
      "InvalidVault",
    ],
    ["a refund into an account the consumer does not own", (a, _s, k) => void (a.consumerToken = k.paymentToken), "TokenAccountOwnerMismatch"],
    ["a refund into the consumer's stake-mint account", (a, s) => void (a.consumerToken = s.consumer.stakeToken), "WrongMint"],
  ];
  for (const [what, tamper, error] of tampered) {
    it(`rejects ${what}`, async () => {
      const setup = await setupAuction({ providers: 0 });
      await endAuction(setup);
      const keeper = await setup.env.actor();
      const accounts = accountsFor(setup, keeper);
      await tamper(accounts, setup, keeper);
      const before = snapshot(setup.env, [setup.escrow, setup.job, setup.consumer.paymentToken, keeper.paymentToken, keeper.publicKey]);
      const ix = await expireJobInstruction(keeper.client.program, accounts);
      await expectProgramError(sendInstructions(keeper.provider, [ix]), error);
      assertNothingMoved(setup.env, before, [keeper.publicKey]);
    });
  }

  it("refunds once: expiring again finds no job (replay)", async () => {
    const setup = await setupAuction({ providers: 0 });
    await endAuction(setup);
    const keeper = await setup.env.actor();
    await sendInstructions(keeper.provider, [await expireJobInstruction(keeper.client.program, accountsFor(setup, keeper))]);
    const before = snapshot(setup.env, [setup.consumer.paymentToken, setup.consumer.publicKey]);
    const replay = await expireJobInstruction(keeper.client.program, accountsFor(setup, keeper));
    await expectProgramError(sendInstructions(keeper.provider, [replay]), "InvalidAccountOwner");
    assertNothingMoved(setup.env, before);
  });
});
