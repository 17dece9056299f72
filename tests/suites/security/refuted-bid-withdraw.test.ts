// A refuted bid could be withdrawn: after settle_referee marked the loser's bid refuted, the
// loser called withdraw_bid; finalize of the refereed job needs both winners' bids, so the honest
// winner was never paid and the escrow was frozen. Now a refuted bid of the current award stays
// bound to its job until finalize closes it.
import assert from "node:assert/strict";
import { getAssociatedTokenAddressSync } from "@solana/spl-token";
import { variantOf } from "@compute-market/sdk";
import { assertNothingMoved, expectProgramError, snapshot } from "../../support/assertions";
import { claimHash, commitFor, freeReplays, honestClaim, LyingTrace, playGame, setupRefereedJob, wrongExitCode } from "../../support/verifiable";

const TEXT = new TextEncoder().encode("two providers, one answer");

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

    const job = (await setup.consumer.client.fetchJob(setup.job))!;
    setup.env.ledger.warpToSlot(job.progress.challengeDeadlineSlot + 1n);
    await setup.authority.client.finalize({ job: setup.job });
    const winnerToken = getAssociatedTokenAddressSync(setup.env.paymentMint, setup.providers[0].owner.publicKey, true);
    assert.equal(setup.env.tokenBalance(winnerToken), 1_500_000n, "the honest winner is paid its price");
    for (const closed of [setup.job, setup.escrow, ...setup.bids]) assert.equal(setup.env.exists(closed), false);
  });
});
