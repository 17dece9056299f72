// commit_sealed_result and reveal_result: the winners of a replicated job seal their output
// roots, and reveal them only once every winner committed, so none can copy another's answer.
import assert from "node:assert/strict";
import {
  commitSealedResultInstruction,
  findBidPda,
  resultCommitment,
  revealResultInstruction,
  sendInstructions,
  variantOf,
} from "@compute-market/sdk";
import { assertNothingMoved, expectProgramError, snapshot } from "../../support/assertions";
import { awarded, MARKET_PARAMS, PROVIDER_STAKE, setupAuction, type AuctionSetup } from "../../support/auction";
import { eventsOf } from "../../support/events";
import { saltOf } from "../../support/results";

const ROOT = new Uint8Array(32).fill(0x11);
const URI = new Uint8Array(32).fill(0x33);

/** A replicated job with `winners` winners, all started. */
async function running(winners = 2): Promise<AuctionSetup> {
  const setup = await setupAuction({ providers: winners, job: { replication: winners } });
  await awarded(setup, [1_000_000n, 1_100_000n, 1_200_000n].slice(0, winners));
  for (let i = 0; i < winners; i++) await setup.providers[i].owner.client.startJob({ job: setup.job });
  return setup;
}

const seal = (setup: AuctionSetup, i: number, root = ROOT) =>
  setup.providers[i].owner.client.commitSealedResult({ job: setup.job, outputRoot: root, salt: saltOf(i), resultUriHash: URI });
const reveal = (setup: AuctionSetup, i: number, root = ROOT, salt = saltOf(i)) => setup.providers[i].owner.client.revealResult({ job: setup.job, outputRoot: root, salt });
const bidOf = (setup: AuctionSetup, i: number) => findBidPda({ job: setup.job, provider: setup.providers[i].provider, programId: setup.env.programId })[0];

describe("commit_sealed_result / reveal_result", () => {
  it("seals each result, hides the root until every winner committed, then reveals it", async () => {
    const setup = await running();
    const signature = await seal(setup, 0);
    const bid = (await setup.consumer.client.fetchBid(bidOf(setup, 0)))!;
    assert.deepEqual(Uint8Array.from(bid.resultCommitment), resultCommitment(ROOT, saltOf(0), setup.providers[0].provider));
    assert.deepEqual(bid.outputRoot, new Array(32).fill(0), "the root is not on-chain yet");
    const [committed] = eventsOf(setup.env, setup.consumer.client.program, signature);
    assert.ok(committed.name === "resultCommitted" && committed.data.outputRoot.every((b: number) => b === 0));
    await expectProgramError(reveal(setup, 0), "RevealNotOpen");
    await seal(setup, 1);
    assert.equal(variantOf((await setup.consumer.client.fetchJob(setup.job))!.state), "committed");
    const revealed = await reveal(setup, 0);
    assert.deepEqual((await setup.consumer.client.fetchBid(bidOf(setup, 0)))!.outputRoot, Array.from(ROOT));
    assert.deepEqual(eventsOf(setup.env, setup.consumer.client.program, revealed).map((e) => e.name), ["resultRevealed"]);
  });

  it("rejects a reveal whose root or salt does not match, a second reveal, and one after the deadline", async () => {
    const setup = await running();
    await seal(setup, 0);
    await seal(setup, 1);
    await expectProgramError(reveal(setup, 0, new Uint8Array(32).fill(0x12)), "ResultCommitmentMismatch");
    await expectProgramError(reveal(setup, 0, ROOT, saltOf(9)), "ResultCommitmentMismatch");
    await reveal(setup, 0);
    await expectProgramError(reveal(setup, 0), "ResultAlreadyRevealed");
    const job = (await setup.consumer.client.fetchJob(setup.job))!;
    setup.env.ledger.warpToSlot(job.progress.challengeDeadlineSlot);
    await expectProgramError(reveal(setup, 1), "RevealNotOpen");
  });

  it("a winner that copies another's sealed result cannot reveal it, and is slashed hard", async () => {
    const setup = await running(3);
    await seal(setup, 0);
    await seal(setup, 1);
    const copied = (await setup.consumer.client.fetchBid(bidOf(setup, 0)))!.resultCommitment;
    const copier = setup.providers[2].owner;
    const ix = await commitSealedResultInstruction(
      copier.client.program,
      { commitment: Uint8Array.from(copied), resultUriHash: URI },
      { owner: copier.publicKey, market: setup.market, job: setup.job, bid: bidOf(setup, 2) },
    );
    await sendInstructions(copier.provider, [ix]);
    await reveal(setup, 0);
    await reveal(setup, 1);
    // It learns the root from the first reveal, but the commitment binds the first provider.
    await expectProgramError(reveal(setup, 2, ROOT, saltOf(0)), "ResultCommitmentMismatch");
    setup.env.ledger.advanceSlots(MARKET_PARAMS.challengeWindowSlots);
    await setup.authority.client.finalize({ job: setup.job });
    const slash = (MARKET_PARAMS.jobStakeLock * BigInt(MARKET_PARAMS.slashTimeoutBps)) / 10_000n;
    assert.equal(setup.env.tokenBalance(setup.providers[2].vault), PROVIDER_STAKE - slash);
    assert.equal(setup.env.tokenBalance(setup.providers[0].vault), PROVIDER_STAKE);
  });

  it("rejects the sealed form for a single-winner job, a zero commitment, a non-owner and a replay, moving nothing", async () => {
    const single = await setupAuction();
    await awarded(single);
    await single.providers[0].owner.client.startJob({ job: single.job });
    await expectProgramError(seal(single, 0), "WrongCommitInstruction");

    const setup = await running();
    const owner = setup.providers[0].owner;
    const before = snapshot(setup.env, [setup.escrow, setup.providers[0].vault]);
    const zero = await commitSealedResultInstruction(owner.client.program, { commitment: new Uint8Array(32), resultUriHash: URI }, { owner: owner.publicKey, market: setup.market, job: setup.job, bid: bidOf(setup, 0) });
    await expectProgramError(sendInstructions(owner.provider, [zero]), "InvalidResultCommitment");
    const intruder = setup.providers[1].owner;
    const stolen = await commitSealedResultInstruction(intruder.client.program, { commitment: new Uint8Array(32).fill(1), resultUriHash: URI }, { owner: intruder.publicKey, market: setup.market, job: setup.job, bid: bidOf(setup, 0) });
    await expectProgramError(sendInstructions(intruder.provider, [stolen]), "NotBidOwner");
    await seal(setup, 0);
    await expectProgramError(seal(setup, 0), "NotAssignedWinner");
    await seal(setup, 1);
    const foreign = await revealResultInstruction(intruder.client.program, { outputRoot: ROOT, salt: saltOf(0) }, { owner: intruder.publicKey, job: setup.job, bid: bidOf(setup, 0) });
    await expectProgramError(sendInstructions(intruder.provider, [foreign]), "NotBidOwner");
    assertNothingMoved(setup.env, before, [owner.publicKey, intruder.publicKey]);
  });
});
