// The SDK's verifiable-job helpers: posting by program and input, checking an output against the
// commitment, and reading a game's standing.
import assert from "node:assert/strict";
import { disputeStanding, OutputMismatchError, outputRoot, verifyOutput } from "@compute-market/sdk";
import { jobInput } from "../../support/fixtures";
import { commit, freeReplays, honestClaim, setupVerifiableJob, vm } from "../../support/verifiable";

const TEXT = new TextEncoder().encode("verifiable compute on Solana");

describe("SDK: verifiable jobs", function () {
  this.timeout(60_000);
  afterEach(freeReplays);

  it("postVerifiableJob names the program by its roots, and the chain derives the same first state", async () => {
    const setup = await setupVerifiableJob({ guest: "sha256", input: TEXT });
    const machine = await vm();
    const { job, codeRoot, inputRoot } = await setup.consumer.client.postVerifiableJob({
      ...jobInput(setup.market, { consumerToken: setup.consumer.paymentToken }),
      code: setup.code,
      input: TEXT,
      machine,
    });
    const posted = (await setup.consumer.client.fetchJob(job))!;
    assert.deepEqual(Uint8Array.from(posted.codeRoot), codeRoot);
    assert.deepEqual(Uint8Array.from(posted.inputRoot), inputRoot);
    assert.deepEqual(Uint8Array.from(posted.initialStateHash), setup.honest.hashAt(0n));
  });

  it("verifyOutput accepts the program's output and refuses any other", async () => {
    const started = await setupVerifiableJob({ guest: "sha256", input: TEXT });
    const setup = await commit(started, honestClaim(started.honest));
    const machine = await vm();
    const bid = (await setup.consumer.client.fetchBid(setup.bid))!;
    const final = setup.honest.final();
    const output = final.output();
    assert.equal(output.length, 32);
    assert.deepEqual(Buffer.from(output), (await import("node:crypto")).createHash("sha256").update(TEXT).digest());
    assert.deepEqual(outputRoot(machine, output), Uint8Array.from(bid.outputRoot));
    verifyOutput(machine, bid, output);
    const tampered = output.slice();
    tampered[0] ^= 1;
    assert.throws(() => verifyOutput(machine, bid, tampered), OutputMismatchError);
    assert.throws(() => verifyOutput(machine, bid, output.subarray(0, 31)), OutputMismatchError);
  });

  it("disputeStanding tells whose move it is, for how long, and how many rounds remain", async () => {
    const started = await setupVerifiableJob({ guest: "sha256", input: TEXT });
    const setup = await commit(started, honestClaim(started.honest));
    const challenger = setup.providers[1].owner;
    const { dispute } = await challenger.client.openDispute({ job: setup.job, provider: setup.providers[0].provider, challengerToken: challenger.stakeToken });
    const account = (await challenger.client.fetchDispute(dispute))!;
    const now = setup.env.ledger.slot;
    const standing = disputeStanding(account, now);
    assert.equal(standing.status, "open");
    assert.equal(standing.turn, "provider");
    assert.deepEqual(standing.interval, [0n, setup.steps]);
    assert.equal(standing.timeoutSlot, account.turnStartedSlot + account.providerClock + 1n);
    assert.equal(standing.slotsLeft, standing.timeoutSlot - now - 1n);
    assert.equal(disputeStanding(account, standing.timeoutSlot).slotsLeft, 0n);
    // 5,734 steps: the last segment is the widest, 5,734 → 364 → 34 → 4 → 1.
    assert.equal(standing.roundsLeft, 4);
    setup.env.ledger.warpToSlot(standing.timeoutSlot);
    await setup.authority.client.timeoutDispute({ dispute });
  });
});
