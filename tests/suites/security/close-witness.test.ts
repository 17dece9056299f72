// A proof buffer nobody proves from (a second writer's, or one left when the game ended another
// way) used to be closable by no instruction: its rent was lost. close_witness returns it to the
// writer once the game is decided or gone, and to nobody else.
import assert from "node:assert/strict";
import type { PublicKey } from "@solana/web3.js";
import { closeWitnessInstruction, findWitnessBufferPda, sendInstructions, variantOf } from "@compute-market/sdk";
import { nextMove } from "@compute-market/vm";
import { assertNothingMoved, expectProgramError, snapshot } from "../../support/assertions";
import type { Actor } from "../../support/env";
import { commit, freeReplays, gameView, honestClaim, LyingTrace, setupVerifiableJob, wrongExitCode, type VerifiableSetup } from "../../support/verifiable";

const TEXT = new TextEncoder().encode("verifiable compute on Solana");

/** A cheater's game played by both sides up to the one-step proof; returns the proof witness. */
async function toProof(setup: VerifiableSetup, challenger: Actor, dispute: PublicKey): Promise<Uint8Array> {
  const liar = new LyingTrace(setup.honest, setup.steps / 2n, setup.steps, setup.claimHash);
  for (let guard = 0; guard < 32; guard++) {
    const game = gameView((await challenger.client.fetchDispute(dispute))!);
    if (game.turn === "proof") {
      const move = nextMove("challenger", game, setup.honest);
      assert.equal(move.kind, "prove");
      if (move.kind === "prove") return move.witness;
    }
    const defender = nextMove("defender", game, liar);
    const chooser = nextMove("challenger", game, setup.honest);
    if (defender.kind === "dissect") await setup.providers[0].owner.client.dissect({ dispute, hashes: defender.hashes });
    else if (chooser.kind === "choose") await challenger.client.chooseSegment({ dispute, segment: chooser.segment });
    else throw new Error(`no move at turn ${game.turn}`);
  }
  throw new Error("the game did not reach the proof");
}

describe("security: close_witness", function () {
  this.timeout(300_000);
  afterEach(freeReplays);

  it("returns a leftover proof buffer's rent to its writer once the game is decided, and only then", async () => {
    const started = await setupVerifiableJob({ guest: "arith", input: TEXT });
    const setup = await commit(started, wrongExitCode(honestClaim(started.honest)));
    const challenger = setup.providers[1].owner;
    const helper = setup.providers[2].owner; // a second writer of the same witness
    const { dispute } = await challenger.client.openDispute({ job: setup.job, provider: setup.providers[0].provider, challengerToken: challenger.stakeToken });
    const witness = await toProof(setup, challenger, dispute);

    // Both write the witness; while the game is open the buffer stays.
    const { buffer } = await helper.client.writeWitness({ dispute, witness });
    await challenger.client.writeWitness({ dispute, witness });
    const before = snapshot(setup.env, [buffer, helper.publicKey]);
    await expectProgramError(helper.client.closeWitness({ dispute }), "DisputeUndecided");
    assertNothingMoved(setup.env, before, [helper.publicKey]);

    // The challenger proves from its own buffer (closed by prove_step): the helper's is left.
    await challenger.client.proveStep({ dispute });
    assert.equal(variantOf((await challenger.client.fetchDispute(dispute))!.status), "challengerWon");
    assert.equal(setup.env.exists(buffer), true);

    // Nobody but the writer may close it.
    const attacker = setup.consumer;
    const stolen = await closeWitnessInstruction(attacker.client.program, { writer: attacker.publicKey, dispute, buffer });
    const untouched = snapshot(setup.env, [buffer, attacker.publicKey]);
    await expectProgramError(sendInstructions(attacker.provider, [stolen]), "NotWitnessWriter");
    assertNothingMoved(setup.env, untouched, [attacker.publicKey]);

    // After settlement (the game's account closed) the writer takes the rent back.
    await setup.authority.client.settleDispute({ dispute });
    assert.equal(setup.env.exists(dispute), false);
    const rent = setup.env.lamports(buffer);
    const lamportsBefore = setup.env.lamports(helper.publicKey);
    await helper.client.closeWitness({ dispute });
    assert.equal(setup.env.exists(buffer), false);
    // The writer gets the rent, less the fee of its own one-signature transaction.
    const gain = setup.env.lamports(helper.publicKey) - lamportsBefore;
    assert.ok(rent > 10_000n && gain <= rent && gain >= rent - 10_000n, `gained ${gain} of ${rent}`);
    assert.ok(findWitnessBufferPda({ dispute, writer: helper.publicKey, programId: setup.env.programId })[0].equals(buffer));
  });
});
