// Found by the fuzzer (seed 10): once a verifiable result is refuted by the first game settled
// for the challenger, the job is failed but other games against the same bid are still open. The
// refuted provider then withdrew its bid: the rest of its lock (the other challengers' reward
// shares) was released to it, and the open games could never settle (their bid account was
// gone), so the honest challengers' bonds were frozen for good. The bid of a refuted job now
// stays bound to it until its last game settles, which closes it.
import assert from "node:assert/strict";
import { expectProgramError } from "../../support/assertions";
import { commit, freeReplays, honestClaim, playGame, setupVerifiableJob, wrongExitCode, openGame } from "../../support/verifiable";

const TEXT = new TextEncoder().encode("verifiable compute on Solana");

describe("security: withdrawing the bid of a refuted verifiable job", function () {
  this.timeout(300_000);
  afterEach(freeReplays);

  it("is refused while games against it are open, so they still settle and pay their challengers", async () => {
    const started = await setupVerifiableJob({ guest: "arith", input: TEXT, challengers: 2 });
    const setup = await commit(started, wrongExitCode(honestClaim(started.honest)));
    const cheater = setup.providers[0];
    const first = setup.providers[1].owner;
    const second = await setup.env.actor();
    const firstGame = await openGame(setup, first);
    const secondGame = await openGame(setup, second);

    // The cheater stays silent in the first game; it is settled for the challenger: refuted.
    const record = await playGame(setup.env, firstGame, { actor: cheater.owner, trace: null }, { actor: first, trace: setup.honest }, setup.authority);
    assert.equal(record.winner, "challengerWon");
    await setup.authority.client.settleDispute({ dispute: firstGame });
    const lockedBefore = (await setup.authority.client.fetchProvider(cheater.provider))!.locked;
    assert.ok(lockedBefore > 0n, "the other game's share of the reward is still locked");

    await expectProgramError(cheater.owner.client.withdrawBid({ job: setup.job }), "BidHoldsAward");
    assert.equal((await setup.authority.client.fetchProvider(cheater.provider))!.locked, lockedBefore, "no stake released");

    // The second game is still decided and settled, which closes the bid and the job.
    const secondRecord = await playGame(setup.env, secondGame, { actor: cheater.owner, trace: null }, { actor: second, trace: setup.honest }, setup.authority);
    assert.equal(secondRecord.winner, "challengerWon");
    await setup.authority.client.settleDispute({ dispute: secondGame });
    assert.equal(setup.env.exists(setup.job), false, "the refuted job closes with its last game");
    assert.equal((await setup.authority.client.fetchProvider(cheater.provider))!.locked, 0n);
  });
});
