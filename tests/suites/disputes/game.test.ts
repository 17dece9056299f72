// The dissection game end to end on the local cluster: verifiable jobs of the example guests,
// honest and cheating providers, challengers playing from their own replays through the SDK, and
// the one-step proof run by the program.
import assert from "node:assert/strict";
import { variantOf } from "@compute-market/sdk";
import { MARKET_PARAMS } from "../../support/auction";
import { commit, honestClaim, LyingTrace, playGame, setupVerifiableJob, wrongExitCode, type VerifiableSetup } from "../../support/verifiable";
import { createHash } from "node:crypto";

const INPUT = new TextEncoder().encode("verifiable compute on Solana");
const sha256 = (bytes: Uint8Array) => new Uint8Array(createHash("sha256").update(bytes).digest());

describe("dispute game", function () {
  this.timeout(300_000);

  it("an honest result finalizes after the window when nobody disputes it", async () => {
    const started = await setupVerifiableJob({ guest: "sha256", input: INPUT });
    const setup = await commit(started, honestClaim(started.honest));
    const job = await setup.consumer.client.fetchJob(setup.job);
    assert.equal(variantOf(job!.state), "committed");
    setup.env.ledger.warpToSlot(job!.progress.challengeDeadlineSlot);
    await setup.authority.client.finalize({ job: setup.job });
    assert.equal(await setup.consumer.client.fetchJob(setup.job), null);
  });

  it("a provider that corrupts the final state loses the game to an honest challenger", async () => {
    const started = await setupVerifiableJob({ guest: "sha256", input: INPUT });
    const claim = wrongExitCode(honestClaim(started.honest));
    const setup: VerifiableSetup = await commit(started, claim);
    const challenger = setup.providers[1].owner;
    const { dispute } = await challenger.client.openDispute({ job: setup.job, provider: setup.providers[0].provider, challengerToken: challenger.stakeToken });
    const liar = new LyingTrace(setup.honest, setup.steps - 1n, setup.steps, sha256(claim.finalState));
    const record = await playGame(setup.env, dispute, { actor: setup.providers[0].owner, trace: liar }, { actor: challenger, trace: setup.honest }, setup.authority);
    assert.equal(record.winner, "challengerWon");
    assert.equal(record.byTimeout, false);
    await setup.authority.client.settleDispute({ dispute });
    assert.equal(await setup.consumer.client.fetchJob(setup.job), null, "the refuted job is closed with its last game");
    void MARKET_PARAMS;
  });
});
