// commit_result: a running winner posts its result before the commit deadline.
import assert from "node:assert/strict";
import { commitResultInstruction, findBidPda, sendInstructions, variantOf } from "@compute-market/sdk";
import { expectProgramError } from "../../support/assertions";
import { awarded, setupAuction, type AuctionSetup } from "../../support/auction";
import { eventsOf } from "../../support/events";
import { MARKET_PARAMS } from "../../support/fixtures";

const RESULT = { outputRoot: new Uint8Array(32).fill(0xab), resultUriHash: new Uint8Array(32).fill(0xcd) };

async function running(options: Parameters<typeof setupAuction>[0] = {}, prices?: bigint[]): Promise<AuctionSetup> {
  const setup = await setupAuction(options);
  await awarded(setup, prices);
  const winners = (await setup.consumer.client.fetchJob(setup.job))!.replication;
  for (let i = 0; i < winners; i++) await setup.providers[i].owner.client.startJob({ job: setup.job });
  return setup;
}

describe("commit_result", () => {
  it("records the commitment and opens the challenge window", async () => {
    const setup = await running();
    const { owner, provider } = setup.providers[0];

    const signature = await owner.client.commitResult({ job: setup.job, ...RESULT, steps: 42n });

    const bid = await owner.client.fetchBid(findBidPda({ job: setup.job, provider, programId: setup.env.programId })[0]);
    assert.equal(variantOf(bid!.status), "committed");
    assert.deepEqual(bid?.outputRoot, Array.from(RESULT.outputRoot));
    assert.deepEqual(bid?.resultUriHash, Array.from(RESULT.resultUriHash));
    assert.equal(bid?.steps, 42n);
    const job = await owner.client.fetchJob(setup.job);
    assert.equal(variantOf(job!.state), "committed");
    assert.equal(job?.progress.challengeDeadlineSlot, setup.env.ledger.slot + MARKET_PARAMS.challengeWindowSlots);
    const [event] = eventsOf(setup.env, owner.client.program, signature);
    assert.equal(event.name, "resultCommitted");
  });

  it("refuses the open form for a job with several winners, which seal their results", async () => {
    const setup = await running({ job: { replication: 2 } }, [1_000n, 2_000n]);
    await expectProgramError(setup.providers[0].owner.client.commitResult({ job: setup.job, ...RESULT }), "WrongCommitInstruction");
  });

  it("rejects a commitment after the commit deadline", async () => {
    const setup = await running();
    const job = await setup.consumer.client.fetchJob(setup.job);
    setup.env.ledger.warpToSlot(job!.progress.commitDeadlineSlot + 1n);
    await expectProgramError(setup.providers[0].owner.client.commitResult({ job: setup.job, ...RESULT }), "CommitWindowClosed");
  });

  it("rejects a zero output root", async () => {
    const setup = await running();
    await expectProgramError(
      setup.providers[0].owner.client.commitResult({ job: setup.job, ...RESULT, outputRoot: new Uint8Array(32) }),
      "InvalidOutputRoot",
    );
  });

  it("rejects a winner that has not started", async () => {
    const setup = await setupAuction();
    await awarded(setup);
    await expectProgramError(setup.providers[0].owner.client.commitResult({ job: setup.job, ...RESULT }), "NotAssignedWinner");
  });

  it("rejects a second commitment (replay)", async () => {
    const setup = await running();
    await setup.providers[0].owner.client.commitResult({ job: setup.job, ...RESULT });
    await expectProgramError(setup.providers[0].owner.client.commitResult({ job: setup.job, ...RESULT }), "NotAssignedWinner");
  });

  it("rejects a signer who does not own the winning bid", async () => {
    const setup = await running();
    const intruder = setup.providers[1].owner;
    const bid = findBidPda({ job: setup.job, provider: setup.providers[0].provider, programId: setup.env.programId })[0];
    const ix = await commitResultInstruction(intruder.client.program, RESULT, { owner: intruder.publicKey, market: setup.market, job: setup.job, bid });
    await expectProgramError(sendInstructions(intruder.provider, [ix]), "NotBidOwner");
  });
});
