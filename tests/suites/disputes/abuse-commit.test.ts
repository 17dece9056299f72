// post_job's step limit and commit_verifiable: a verifiable job names how many steps its program
// may run; its winner commits a final state after at least one step and within that limit,
// stopped unless it is exactly at the limit (a run still going there ends there). Every other
// commitment, and every commitment by the wrong signer, for the wrong job or market, in the wrong
// state, is refused by name and changes nothing.
import assert from "node:assert/strict";
import {
  commitVerifiableInstruction,
  DEFAULT_MAX_STEPS,
  sendInstructions,
  settleDisputeInstruction,
  variantOf,
  type CommitVerifiableArgs,
} from "@compute-market/sdk";
import { assertNothingMoved, expectProgramError, snapshot, withoutSignature } from "../../support/assertions";
import { awarded, setupAuction } from "../../support/auction";
import { TestEnv } from "../../support/env";
import { eventsOf } from "../../support/events";
import { jobInput, MARKET_CLASS, MARKET_PARAMS, setupMarket } from "../../support/fixtures";
import {
  claimAt,
  forgedCopy,
  secondJob,
  send,
  setSteps,
  settleDisputeAccounts,
  STATUS_OFFSET,
  watched,
} from "../../support/disputes";
import {
  commit,
  freeReplays,
  guestCode,
  honestClaim,
  LyingTrace,
  playGame,
  RandomChallenger,
  setupVerifiableJob,
  TargetingChallenger,
  vm,
  type Claim,
} from "../../support/verifiable";

const TEXT = new TextEncoder().encode("verifiable compute on Solana");
/** 4 KiB for the sha256 guest: about 330,000 steps, far from halting at the limit below. */
const BIG = Uint8Array.from({ length: 4096 }, (_, i) => (i * 31 + 7) & 0xff);
const LIMIT = 1_000n;
const LOCK = MARKET_PARAMS.jobStakeLock;
const URI = new Uint8Array(32).fill(1);

type Started = Awaited<ReturnType<typeof setupVerifiableJob>>;

/** A sha256 job of the big input limited to LIMIT steps, started by provider 0. */
const limited = () => setupVerifiableJob({ guest: "sha256", input: BIG, maxSteps: LIMIT });

/** The steps the sha256 guest runs on TEXT to its halt. */
async function stepsOfText(): Promise<bigint> {
  const machine = (await vm()).machine(guestCode("sha256"), TEXT);
  machine.run();
  const steps = machine.steps;
  machine.free();
  return steps;
}

/** The commit instruction of `claim` for `setup`'s job, by provider 0's owner, accounts overridable. */
function commitIx(setup: Started, claim: Claim, accounts: Partial<Parameters<typeof commitVerifiableInstruction>[2]> = {}) {
  const owner = setup.providers[0].owner;
  const args: CommitVerifiableArgs = { ...claim, resultUriHash: URI };
  return commitVerifiableInstruction(owner.client.program, args, { owner: owner.publicKey, market: setup.market, job: setup.job, bid: setup.bid, ...accounts });
}

/** Asserts that `claim` is refused with `error` and that the bid stays started, nothing moved. */
async function refused(setup: Started, claim: Claim, error: Parameters<typeof expectProgramError>[1]): Promise<void> {
  const owner = setup.providers[0].owner;
  const before = snapshot(setup.env, watched(setup));
  await expectProgramError(owner.client.commitVerifiable({ job: setup.job, ...claim, resultUriHash: URI }), error);
  assertNothingMoved(setup.env, before, [owner.publicKey]);
  assert.equal(variantOf((await owner.client.fetchBid(setup.bid))!.status), "started");
}

describe("post_job: a verifiable job's step limit", function () {
  this.timeout(120_000);

  async function consumerIn() {
    const env = await TestEnv.create();
    const { market } = await setupMarket(env);
    const consumer = await env.actor();
    const roots = (await vm()).programRoots(guestCode("sha256"), TEXT);
    return { env, market, consumer, roots };
  }

  it("records the step limit the job names", async () => {
    const { market, consumer, roots } = await consumerIn();
    for (const maxSteps of [1n, LIMIT, DEFAULT_MAX_STEPS, 2n ** 64n - 1n]) {
      const { job } = await consumer.client.postJob(jobInput(market, { consumerToken: consumer.paymentToken, mode: "verifiable", program: { ...roots, maxSteps } }));
      assert.equal((await consumer.client.fetchJob(job))!.maxSteps, maxSteps);
    }
  });

  it("rejects a verifiable job with no step limit", async () => {
    const { env, market, consumer, roots } = await consumerIn();
    const before = snapshot(env, [consumer.paymentToken]);
    await expectProgramError(
      consumer.client.postJob(jobInput(market, { consumerToken: consumer.paymentToken, mode: "verifiable", program: { ...roots, maxSteps: 0n } })),
      "InvalidStepLimit",
    );
    assertNothingMoved(env, before, [consumer.publicKey]);
  });

  it("rejects a refereed job with no step limit", async () => {
    const { env, market, consumer, roots } = await consumerIn();
    const before = snapshot(env, [consumer.paymentToken]);
    await expectProgramError(
      consumer.client.postJob(jobInput(market, { consumerToken: consumer.paymentToken, mode: "refereed", replication: 2, program: { ...roots, maxSteps: 0n } })),
      "InvalidStepLimit",
    );
    assertNothingMoved(env, before, [consumer.publicKey]);
  });

  it("rejects a container job that names a step limit", async () => {
    const { env, market, consumer } = await consumerIn();
    const none = new Uint8Array(32);
    const before = snapshot(env, [consumer.paymentToken]);
    await expectProgramError(
      consumer.client.postJob(jobInput(market, { consumerToken: consumer.paymentToken, program: { codeRoot: none, inputRoot: none, maxSteps: 5n } })),
      "InvalidStepLimit",
    );
    assertNothingMoved(env, before, [consumer.publicKey]);
  });
});

describe("commit_verifiable", function () {
  this.timeout(300_000);
  afterEach(freeReplays);

  describe("at the step limit", () => {
    it("accepts a running state at exactly the limit, which an honest provider defends against a random challenger", async () => {
      // Given a job limited to 1,000 steps of a program that runs far longer
      const started = await limited();
      const claim = await claimAt(started.code, started.input, LIMIT);
      assert.equal(claim.finalState[STATUS_OFFSET], 0, "the machine is still running at the limit");

      // When the provider commits the running state at the limit
      const setup = await commit(started, claim);

      // Then the commitment stands, at the limit, for the state the honest run reaches there
      const bid = (await setup.consumer.client.fetchBid(setup.bid))!;
      assert.equal(variantOf(bid.status), "committed");
      assert.equal(bid.steps, LIMIT);
      assert.deepEqual(Uint8Array.from(bid.finalStateHash), setup.honest.hashAt(LIMIT));
      const [event] = eventsOf(setup.env, setup.consumer.client.program, setup.commitSignature);
      assert.equal(event.name, "resultCommitted");
      assert.equal(event.data.steps, LIMIT);

      // And a challenger choosing at random loses the game over [0, 1000] and half its bond
      const challenger = setup.providers[1].owner;
      const { dispute } = await challenger.client.openDispute({ job: setup.job, provider: setup.providers[0].provider, challengerToken: challenger.stakeToken });
      assert.equal((await challenger.client.fetchDispute(dispute))!.hi, LIMIT);
      const record = await playGame(setup.env, dispute, { actor: setup.providers[0].owner, trace: setup.honest }, { actor: challenger, trace: new RandomChallenger(setup.honest, 7) }, setup.authority);
      assert.equal(record.winner, "providerWon");
      const ownerBefore = setup.env.tokenBalance(setup.providers[0].owner.stakeToken);
      const treasuryBefore = setup.env.tokenBalance(setup.authority.stakeToken);
      await send(setup.authority, await settleDisputeInstruction(setup.authority.client.program, settleDisputeAccounts(setup, challenger, setup.authority)));
      assert.equal(setup.env.tokenBalance(setup.providers[0].owner.stakeToken) - ownerBefore, LOCK / 2n);
      assert.equal(setup.env.tokenBalance(setup.authority.stakeToken) - treasuryBefore, LOCK / 2n);
      assert.equal(setup.env.tokenBalance(setup.providers[0].vault), (await setup.consumer.client.fetchProvider(setup.providers[0].provider))!.staked, "no stake moved");
    });

    it("the provider proves the last step before the limit against a challenger disputing it", async () => {
      const started = await limited();
      const setup = await commit(started, await claimAt(started.code, started.input, LIMIT));
      const challenger = setup.providers[1].owner;
      const { dispute } = await challenger.client.openDispute({ job: setup.job, provider: setup.providers[0].provider, challengerToken: challenger.stakeToken });
      const record = await playGame(setup.env, dispute, { actor: setup.providers[0].owner, trace: setup.honest }, { actor: challenger, trace: new TargetingChallenger(setup.honest, LIMIT - 1n) }, setup.authority);
      assert.deepEqual([record.winner, record.byTimeout], ["providerWon", false], "decided by the one-step proof of step 999 → 1000");
      const game = (await challenger.client.fetchDispute(dispute))!;
      assert.deepEqual([game.lo, game.hi], [LIMIT - 1n, LIMIT]);
    });

    it("a running claim at the limit of a program that halted earlier loses at the proof", async () => {
      // Given a limit 100 steps past the program's halt, and a provider claiming it still runs there
      const halt = await stepsOfText();
      const started = await setupVerifiableJob({ guest: "sha256", input: TEXT, maxSteps: halt + 100n });
      const claim = honestClaim(started.honest);
      claim.finalState = claim.finalState.slice();
      claim.finalState[STATUS_OFFSET] = 0;
      setSteps(claim.finalState, halt + 100n);
      const setup = await commit(started, claim);

      // When an honest challenger plays against it
      const challenger = setup.providers[1].owner;
      const { dispute } = await challenger.client.openDispute({ job: setup.job, provider: setup.providers[0].provider, challengerToken: challenger.stakeToken });
      const liar = new LyingTrace(setup.honest, halt, halt + 100n, setup.claimHash);
      const record = await playGame(setup.env, dispute, { actor: setup.providers[0].owner, trace: liar }, { actor: challenger, trace: setup.honest }, setup.authority);

      // Then the halted state's fixed point refutes it at the halt
      assert.deepEqual([record.winner, record.byTimeout], ["challengerWon", false]);
      assert.equal((await challenger.client.fetchDispute(dispute))!.lo, halt);
    });

    it("accepts a halted state exactly at the limit", async () => {
      const halt = await stepsOfText();
      const started = await setupVerifiableJob({ guest: "sha256", input: TEXT, maxSteps: halt });
      const setup = await commit(started, honestClaim(started.honest));
      assert.equal((await setup.consumer.client.fetchBid(setup.bid))!.steps, halt);
    });

    it("rejects a running state one step short of the limit", async () => {
      const setup = await limited();
      await refused(setup, await claimAt(setup.code, setup.input, LIMIT - 1n), "InvalidFinalState");
    });

    it("rejects a running state one step past the limit", async () => {
      const setup = await limited();
      await refused(setup, await claimAt(setup.code, setup.input, LIMIT + 1n), "InvalidFinalState");
    });

    it("rejects a halted state past the limit", async () => {
      // The honest halt at 5,734 steps, on a job limited to one step fewer
      const halt = await stepsOfText();
      const setup = await setupVerifiableJob({ guest: "sha256", input: TEXT, maxSteps: halt - 1n });
      await refused(setup, honestClaim(setup.honest), "InvalidFinalState");
    });
  });

  describe("the final state", () => {
    it("rejects the initial state (no step taken), running or relabelled halted", async () => {
      const setup = await setupVerifiableJob({ guest: "sha256", input: TEXT });
      await refused(setup, await claimAt(setup.code, setup.input, 0n), "InvalidFinalState");
      await refused(setup, await claimAt(setup.code, setup.input, 0n, (blob) => (blob[STATUS_OFFSET] = 1)), "InvalidFinalState");
    });

    it("rejects a state whose status byte names no status", async () => {
      const setup = await setupVerifiableJob({ guest: "sha256", input: TEXT });
      const claim = honestClaim(setup.honest);
      claim.finalState = claim.finalState.slice();
      claim.finalState[STATUS_OFFSET] = 9;
      await refused(setup, claim, "InvalidFinalState");
    });

    it("rejects output siblings that do not prove the output root into the state's memory", async () => {
      const setup = await setupVerifiableJob({ guest: "sha256", input: TEXT });
      const claim = honestClaim(setup.honest);
      await refused(setup, { ...claim, heapRoot: claim.lowNode }, "OutputNotInFinalState");
      await refused(setup, { ...claim, lowNode: claim.heapRoot }, "OutputNotInFinalState");
    });
  });

  describe("who, which job, when", () => {
    it("rejects a signer who does not own the winning bid", async () => {
      const setup = await setupVerifiableJob({ guest: "sha256", input: TEXT });
      const intruder = setup.providers[1].owner;
      const ix = await commitIx(setup, honestClaim(setup.honest), { owner: intruder.publicKey });
      const before = snapshot(setup.env, watched(setup));
      await expectProgramError(send(intruder, ix), "NotBidOwner");
      assertNothingMoved(setup.env, before, [intruder.publicKey]);
    });

    it("rejects the owner's key when it did not sign", async () => {
      const setup = await setupVerifiableJob({ guest: "sha256", input: TEXT });
      const payer = setup.providers[1].owner;
      const ix = withoutSignature(await commitIx(setup, honestClaim(setup.honest)), setup.providers[0].owner.publicKey);
      const before = snapshot(setup.env, watched(setup));
      await expectProgramError(sendInstructions(payer.provider, [ix]), "MissingSignature");
      assertNothingMoved(setup.env, before, [payer.publicKey]);
    });

    it("rejects the provider's bid on another job", async () => {
      const setup = await setupVerifiableJob({ guest: "sha256", input: TEXT });
      const other = await secondJob(setup);
      const before = snapshot(setup.env, watched(setup, ...other.bids));
      await expectProgramError(send(setup.providers[0].owner, await commitIx(setup, honestClaim(setup.honest), { bid: other.bids[0] })), "BidMismatch");
      assertNothingMoved(setup.env, before, [setup.providers[0].owner.publicKey]);
    });

    it("rejects another market than the job's", async () => {
      const setup = await setupVerifiableJob({ guest: "sha256", input: TEXT });
      const { market } = await setup.authority.client.createMarket({ class: MARKET_CLASS, params: MARKET_PARAMS, paymentMint: setup.env.paymentMint, stakeMint: setup.env.stakeMint });
      await expectProgramError(send(setup.providers[0].owner, await commitIx(setup, honestClaim(setup.honest), { market })), "MarketMismatch");
    });

    it("rejects a job account owned by another program", async () => {
      const setup = await setupVerifiableJob({ guest: "sha256", input: TEXT });
      const job = forgedCopy(setup.env, setup.job);
      await expectProgramError(send(setup.providers[0].owner, await commitIx(setup, honestClaim(setup.honest), { job })), "InvalidAccountOwner");
    });

    it("refuses a container job's winner, which commits with commit_result", async () => {
      const setup = await setupAuction();
      await awarded(setup);
      await setup.providers[0].owner.client.startJob({ job: setup.job });
      const claim = await claimAt(guestCode("sha256"), TEXT, 2n ** 64n - 1n);
      const before = snapshot(setup.env, [setup.job, setup.escrow]);
      await expectProgramError(setup.providers[0].owner.client.commitVerifiable({ job: setup.job, ...claim, resultUriHash: URI }), "WrongCommitInstruction");
      assertNothingMoved(setup.env, before);
    });

    it("rejects a winner that has not started", async () => {
      const setup = await setupVerifiableJob({ guest: "sha256", input: TEXT });
      const other = await secondJob(setup, { start: false });
      await expectProgramError(
        setup.providers[0].owner.client.commitVerifiable({ job: other.job, ...honestClaim(setup.honest), resultUriHash: URI }),
        "NotAssignedWinner",
      );
    });

    it("rejects a second commitment (replay)", async () => {
      const started = await setupVerifiableJob({ guest: "sha256", input: TEXT });
      const setup = await commit(started, honestClaim(started.honest));
      const job = (await setup.consumer.client.fetchJob(setup.job))!;
      const before = snapshot(setup.env, watched(setup));
      await expectProgramError(setup.providers[0].owner.client.commitVerifiable({ job: setup.job, ...setup.claim, resultUriHash: URI }), "NotAssignedWinner");
      assertNothingMoved(setup.env, before, [setup.providers[0].owner.publicKey]);
      assert.equal((await setup.consumer.client.fetchJob(setup.job))!.progress.challengeDeadlineSlot, job.progress.challengeDeadlineSlot, "the window is not reopened");
    });

    it("rejects a commitment after the commit deadline", async () => {
      const setup = await setupVerifiableJob({ guest: "sha256", input: TEXT });
      const job = (await setup.consumer.client.fetchJob(setup.job))!;
      setup.env.ledger.warpToSlot(job.progress.commitDeadlineSlot + 1n);
      await refused(setup, honestClaim(setup.honest), "CommitWindowClosed");
    });
  });
});
