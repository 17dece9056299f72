// start_job: the winner acknowledges within the start window; nobody else can.
import assert from "node:assert/strict";
import { findBidPda, sendInstructions, startJobInstruction, variantOf } from "@compute-market/sdk";
import { expectProgramError } from "../../support/assertions";
import { awarded, setupAuction } from "../../support/auction";
import { eventsOf } from "../../support/events";
import { MARKET_PARAMS } from "../../support/fixtures";

describe("start_job", () => {
  it("moves the winner's bid to started and the job to running", async () => {
    const setup = await setupAuction();
    await awarded(setup, [1_000_000n]);
    const { owner, provider } = setup.providers[0];

    const signature = await owner.client.startJob({ job: setup.job });

    const bid = await owner.client.fetchBid(findBidPda({ job: setup.job, provider, programId: setup.env.programId })[0]);
    assert.equal(variantOf(bid!.status), "started");
    assert.equal(bid?.startedSlot, setup.env.ledger.slot);
    const job = await owner.client.fetchJob(setup.job);
    assert.equal(variantOf(job!.state), "running");
    assert.equal(job?.progress.started, 1);
    assert.equal(eventsOf(setup.env, owner.client.program, signature)[0].name, "jobStarted");
  });

  it("keeps a replicated job awarded until every winner started", async () => {
    const setup = await setupAuction({ job: { replication: 2 } });
    await awarded(setup, [1_000n, 2_000n]);
    await setup.providers[0].owner.client.startJob({ job: setup.job });
    assert.equal(variantOf((await setup.consumer.client.fetchJob(setup.job))!.state), "awarded");
    await setup.providers[1].owner.client.startJob({ job: setup.job });
    assert.equal(variantOf((await setup.consumer.client.fetchJob(setup.job))!.state), "running");
  });

  it("rejects a start after the start window", async () => {
    const setup = await setupAuction();
    await awarded(setup);
    setup.env.ledger.advanceSlots(MARKET_PARAMS.startWindowSlots + 1n);
    await expectProgramError(setup.providers[0].owner.client.startJob({ job: setup.job }), "StartWindowClosed");
  });

  it("rejects a losing bidder", async () => {
    const setup = await setupAuction();
    await awarded(setup, [1_000n, 2_000n]);
    await expectProgramError(setup.providers[1].owner.client.startJob({ job: setup.job }), "NotAssignedWinner");
  });

  it("rejects a signer who does not own the winning bid", async () => {
    const setup = await setupAuction();
    await awarded(setup);
    const intruder = setup.providers[1].owner;
    const bid = findBidPda({ job: setup.job, provider: setup.providers[0].provider, programId: setup.env.programId })[0];
    const ix = await startJobInstruction(intruder.client.program, { owner: intruder.publicKey, job: setup.job, bid });
    await expectProgramError(sendInstructions(intruder.provider, [ix]), "NotBidOwner");
  });

  it("rejects a second start (replay)", async () => {
    const setup = await setupAuction();
    await awarded(setup);
    await setup.providers[0].owner.client.startJob({ job: setup.job });
    await expectProgramError(setup.providers[0].owner.client.startJob({ job: setup.job }), "NotAssignedWinner");
  });

  it("rejects a start before any award", async () => {
    const setup = await setupAuction();
    await setup.providers[0].owner.client.placeBid({ job: setup.job, price: 5n });
    await expectProgramError(setup.providers[0].owner.client.startJob({ job: setup.job }), "NotAssignedWinner");
  });
});
