// A refuted bid could be withdrawn: after settle_referee marked the loser's bid refuted, the
// loser called withdraw_bid; finalize of the refereed job needs both winners' bids, so the honest
// winner was never paid and the escrow was frozen. Now a refuted bid of the current award stays
// bound to its job until finalize closes it.
import assert from "node:assert/strict";
import { getAssociatedTokenAddressSync } from "@solana/spl-token";
import { variantOf } from "@compute-market/sdk";
import { assertNothingMoved, expectProgramError, snapshot } from "../../support/assertions";
import { PROVIDER_STAKE } from "../../support/auction";
import { escrowFor, MARKET_PARAMS, PROTOCOL_FEE_BPS } from "../../support/fixtures";
import { claimHash, commitFor, freeReplays, honestClaim, LyingTrace, playGame, setupRefereedJob, wrongExitCode } from "../../support/verifiable";

const TEXT = new TextEncoder().encode("two providers, one answer");
const PRICE = 1_500_000n; // the honest winner's bid (the cheater bid 1_600_000)
const MAX_PRICE = 2_000_000n;
const fee = (price: bigint) => (price * BigInt(PROTOCOL_FEE_BPS)) / 10_000n;

describe("security: withdrawing a refuted bid", function () {
  this.timeout(300_000);
  afterEach(freeReplays);

  it("is refused while the job lives, so the honest winner is paid", async () => {
    const setup = await setupRefereedJob({ guest: "sha256", input: TEXT });
    const honest = honestClaim(setup.honest);
    const wrong = wrongExitCode(honest);
    await commitFor(setup, 0, honest);
    await commitFor(setup, 1, wrong);
    const { dispute } = await setup.authority.client.referee({ job: setup.job });
    const liar = new LyingTrace(setup.honest, setup.steps / 2n, setup.steps, claimHash(wrong));
    const record = await playGame(setup.env, dispute, { actor: setup.providers[0].owner, trace: setup.honest }, { actor: setup.providers[1].owner, trace: liar }, setup.authority);
    assert.equal(record.winner, "providerWon");
    await setup.authority.client.settleReferee({ dispute });
    assert.equal(variantOf((await setup.consumer.client.fetchBid(setup.bids[1]))!.status), "refuted");

    const loser = setup.providers[1];
    const before = snapshot(setup.env, [setup.bids[1], loser.vault, loser.provider, setup.job]);
    await expectProgramError(loser.owner.client.withdrawBid({ job: setup.job }), "BidHoldsAward");
    assertNothingMoved(setup.env, before);

    // settle_referee already took the cheater's per-job lock out of its vault.
    assert.equal(setup.env.tokenBalance(loser.vault), PROVIDER_STAKE - MARKET_PARAMS.jobStakeLock);

    const job = (await setup.consumer.client.fetchJob(setup.job))!;
    setup.env.ledger.warpToSlot(job.progress.challengeDeadlineSlot + 1n);
    const paymentAta = (owner: typeof setup.consumer.publicKey) => getAssociatedTokenAddressSync(setup.env.paymentMint, owner, true);
    const treasury = setup.env.tokenBalance(paymentAta(setup.authority.publicKey));
    const consumer = setup.env.tokenBalance(paymentAta(setup.consumer.publicKey));
    assert.equal(setup.env.tokenBalance(setup.escrow), escrowFor(MAX_PRICE, 2n));
    await setup.authority.client.finalize({ job: setup.job });
    assert.equal(setup.env.tokenBalance(paymentAta(setup.providers[0].owner.publicKey)), PRICE, "the honest winner is paid its price");
    assert.equal(setup.env.tokenBalance(paymentAta(loser.owner.publicKey)), 0n, "the cheater is not paid");
    // The authority is both the treasury and the cranking keeper here.
    assert.equal(setup.env.tokenBalance(paymentAta(setup.authority.publicKey)) - treasury, fee(PRICE) + MARKET_PARAMS.crankFee, "fee on the paid price and the crank fee");
    assert.equal(
      setup.env.tokenBalance(paymentAta(setup.consumer.publicKey)) - consumer,
      escrowFor(MAX_PRICE, 2n) - PRICE - fee(PRICE) - MARKET_PARAMS.crankFee,
      "the rest, the cheater's share included, back to the consumer",
    );
    assert.equal((await loser.owner.client.fetchProvider(loser.provider))!.locked, 0n, "the refuted bid's lock is released as it closes");
    for (const closed of [setup.job, setup.escrow, ...setup.bids]) assert.equal(setup.env.exists(closed), false);
  });
});
