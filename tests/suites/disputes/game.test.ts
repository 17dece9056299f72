// The dissection game end to end on the local cluster: verifiable jobs of the example guests,
// honest and cheating providers, challengers playing from their own replays through the SDK, and
// the one-step proof run by the program. Payouts are checked to the token.
import assert from "node:assert/strict";
import { getAssociatedTokenAddressSync } from "@solana/spl-token";
import type { PublicKey } from "@solana/web3.js";
import { variantOf } from "@compute-market/sdk";
import { expectProgramError } from "../../support/assertions";
import { MARKET_PARAMS } from "../../support/auction";
import { nextMove, type Trace } from "@compute-market/vm";
import {
  commit,
  freeReplays,
  gameView,
  honestClaim,
  vm,
  LyingTrace,
  playGame,
  RandomChallenger,
  setupVerifiableJob,
  wrongExitCode,
  type Claim,
  type VerifiableSetup,
} from "../../support/verifiable";
import type { Actor } from "../../support/env";
import type { Replay } from "@compute-market/vm";

const TEXT = new TextEncoder().encode("verifiable compute on Solana");
const LOCK = MARKET_PARAMS.jobStakeLock;
/** The replay's snapshot interval the k-positions straddle. */
const C = 1024n;

function u32s(...values: number[]): Uint8Array {
  const bytes = new Uint8Array(4 * values.length);
  values.forEach((v, i) => new DataView(bytes.buffer).setUint32(4 * i, v >>> 0, true));
  return bytes;
}

function matmulInput(n: number): Uint8Array {
  return u32s(n, ...Array.from({ length: 2 * n * n }, (_, i) => (i * 2_654_435_761) % 1000));
}

/** The example programs and inputs the games run on (small inputs: thousands of steps). */
const PROGRAMS: { guest: string; input: Uint8Array }[] = [
  { guest: "sha256", input: TEXT },
  { guest: "matmul", input: matmulInput(5) },
  { guest: "montecarlo", input: u32s(42, 40) },
  { guest: "arith", input: TEXT },
];

type Kind = "store" | "load" | "branch" | "jal" | "divide by zero" | "mulh" | "halt";

/** The instruction the machine executes at `step`, classified, read from the step's witness. */
function kindAt(replay: Replay, step: bigint): Kind | null {
  const witness = replay.witnessAt(step);
  const view = new DataView(witness.buffer, witness.byteOffset);
  const pc = view.getUint32(0, true);
  if (witness[173] === 0) return null;
  const word = view.getUint32(174 + 4 + (pc % 32), true);
  const reg = (r: number) => (r === 0 ? 0 : view.getUint32(4 + 4 * (r - 1), true));
  const opcode = word & 0x7f;
  const funct3 = (word >> 12) & 7;
  const funct7 = word >>> 25;
  const rs2 = (word >> 20) & 31;
  if (opcode === 0x23) return "store";
  if (opcode === 0x03) return "load";
  if (opcode === 0x63) return "branch";
  if (opcode === 0x6f) return "jal";
  if (opcode === 0x73) return "halt";
  if (opcode === 0x33 && funct7 === 1 && funct3 === 1) return "mulh";
  if (opcode === 0x33 && funct7 === 1 && funct3 >= 4 && reg(rs2) === 0) return "divide by zero";
  return null;
}

/** The first step executing each kind of instruction, up to `limit` steps. */
function firstSteps(replay: Replay, steps: bigint, limit = 20_000n): Map<Kind, bigint> {
  const found = new Map<Kind, bigint>();
  for (let step = 0n; step < steps && step < limit; step++) {
    const kind = kindAt(replay, step);
    if (kind && !found.has(kind)) found.set(kind, step);
  }
  return found;
}

const ata = (owner: PublicKey, mint: PublicKey) => getAssociatedTokenAddressSync(mint, owner, true);

interface Balances {
  challenger: bigint;
  treasury: bigint;
  owner: bigint;
  consumer: bigint;
  vault: bigint;
  escrow: bigint;
}

function balances(setup: VerifiableSetup, challenger: Actor): Balances {
  const { env } = setup;
  return {
    challenger: env.tokenBalance(ata(challenger.publicKey, env.stakeMint)),
    treasury: env.tokenBalance(ata(setup.authority.publicKey, env.stakeMint)),
    owner: env.tokenBalance(ata(setup.providers[0].owner.publicKey, env.stakeMint)),
    consumer: env.tokenBalance(ata(setup.consumer.publicKey, env.paymentMint)),
    vault: env.tokenBalance(setup.providers[0].vault),
    escrow: env.tokenBalance(setup.escrow),
  };
}

/** Opens a game by `challenger` against provider 0's commitment. */
async function open(setup: VerifiableSetup, challenger: Actor): Promise<PublicKey> {
  const { dispute } = await challenger.client.openDispute({ job: setup.job, provider: setup.providers[0].provider, challengerToken: challenger.stakeToken });
  return dispute;
}

/** A provider lying from `divergeAfter` on (its claim is `claim`) against the honest challenger
 * (provider 1): the challenger must win; returns the game's record and asserts the payouts. */
async function cheatAndLose(setup: VerifiableSetup, divergeAfter: bigint, claimedSteps: bigint): Promise<void> {
  const challenger = setup.providers[1].owner;
  const dispute = await open(setup, challenger);
  const before = balances(setup, challenger);
  const liar = new LyingTrace(setup.honest, divergeAfter, claimedSteps, setup.claimHash);
  const record = await playGame(setup.env, dispute, { actor: setup.providers[0].owner, trace: liar }, { actor: challenger, trace: setup.honest }, setup.authority);
  assert.equal(record.winner, "challengerWon", `corrupting step ${divergeAfter} must lose`);
  assert.equal(record.byTimeout, false, "decided by the one-step proof");
  const game = await setup.authority.client.fetchDispute(dispute);
  assert.equal(game!.hi - game!.lo, 1n);
  assert.equal(game!.lo, divergeAfter < claimedSteps ? divergeAfter : claimedSteps - 1n);
  await setup.authority.client.settleDispute({ dispute });
  const after = balances(setup, challenger);
  assert.equal(after.challenger - before.challenger, LOCK + LOCK / 2n, "bond back plus the challenger reward");
  assert.equal(after.treasury - before.treasury, LOCK, "the per-job lock to the treasury");
  assert.equal(before.vault - after.vault, LOCK + LOCK / 2n, "the provider's whole lock (per-job lock and reward) is slashed");
  assert.equal(after.consumer - before.consumer, before.escrow, "the consumer gets the whole escrow back");
  assert.equal(setup.env.exists(setup.job), false, "the refuted job is closed with its last game");
  const provider = await setup.authority.client.fetchProvider(setup.providers[0].provider);
  assert.equal(provider!.reputation.disputesLost, 1);
  assert.equal(provider!.locked, 0n);
}

describe("dispute game", function () {
  this.timeout(600_000);
  afterEach(freeReplays);

  it("an honest result finalizes after the window when nobody disputes it", async () => {
    const started = await setupVerifiableJob({ guest: "sha256", input: TEXT });
    const setup = await commit(started, honestClaim(started.honest));
    const job = await setup.consumer.client.fetchJob(setup.job);
    assert.equal(variantOf(job!.state), "committed");
    assert.equal(job!.initialStateHash.length, 32);
    assert.deepEqual(Uint8Array.from(job!.initialStateHash), setup.honest.hashAt(0n), "the program computes the same first state");
    await expectProgramError(setup.authority.client.finalize({ job: setup.job }), "ChallengeWindowOpen");
    setup.env.ledger.warpToSlot(job!.progress.challengeDeadlineSlot);
    await setup.authority.client.finalize({ job: setup.job });
    assert.equal(await setup.consumer.client.fetchJob(setup.job), null);
  });

  it("an honest provider beats challengers choosing at random, and each bond is split", async () => {
    for (const seed of [1, 2, 3]) {
      const started = await setupVerifiableJob({ guest: "sha256", input: TEXT });
      const setup = await commit(started, honestClaim(started.honest));
      const challenger = setup.providers[1].owner;
      const dispute = await open(setup, challenger);
      const before = balances(setup, challenger);
      const record = await playGame(
        setup.env,
        dispute,
        { actor: setup.providers[0].owner, trace: setup.honest },
        { actor: challenger, trace: new RandomChallenger(setup.honest, seed) },
        setup.authority,
      );
      assert.equal(record.winner, "providerWon");
      await setup.authority.client.settleDispute({ dispute });
      const after = balances(setup, challenger);
      assert.equal(after.owner - before.owner, LOCK / 2n, "half the bond to the provider");
      assert.equal(after.treasury - before.treasury, LOCK / 2n, "half to the treasury");
      assert.equal(after.challenger, before.challenger, "nothing back to the challenger");
      assert.equal(after.vault, before.vault, "no stake moves");
      const job = await setup.consumer.client.fetchJob(setup.job);
      setup.env.ledger.warpToSlot(job!.progress.challengeDeadlineSlot);
      await setup.authority.client.finalize({ job: setup.job });
    }
  });

  for (const { guest, input } of PROGRAMS) {
    describe(`${guest}: a cheating provider always loses`, () => {
      it("corrupting step k for k ∈ {0, 1, C−1, C, T/2, T−1}", async () => {
        const probe = await setupVerifiableJob({ guest, input });
        const steps = probe.steps;
        const positions = [0n, 1n, C - 1n, C, steps / 2n, steps - 1n].filter((k, i, all) => k < steps && all.indexOf(k) === i);
        for (const k of positions) {
          const started = await setupVerifiableJob({ guest, input });
          const setup = await commit(started, wrongExitCode(honestClaim(started.honest)));
          await cheatAndLose(setup, k, setup.steps);
        }
      });

      it("corrupting a store, a load, a branch, jal, division by zero, mulh or the halt", async () => {
        const probe = await setupVerifiableJob({ guest, input });
        const found = firstSteps(probe.honest, probe.steps);
        assert.ok(found.has("store") && found.has("load") && found.has("branch") && found.has("halt"), `${guest} has the common kinds`);
        for (const [kind, step] of found) {
          const started = await setupVerifiableJob({ guest, input });
          const setup = await commit(started, wrongExitCode(honestClaim(started.honest)));
          await cheatAndLose(setup, step, setup.steps).catch((error: Error) => {
            throw new Error(`${kind} at step ${step}: ${error.message}`);
          });
        }
      });
    });
  }

  it("the arith example exercises division by zero, mulh and jal", async () => {
    const probe = await setupVerifiableJob({ guest: "arith", input: TEXT });
    const found = firstSteps(probe.honest, probe.steps);
    for (const kind of ["divide by zero", "mulh", "jal"] as const) assert.ok(found.has(kind), `arith executes ${kind}`);
  });

  it("a claim of halting early loses", async () => {
    const started = await setupVerifiableJob({ guest: "sha256", input: TEXT });
    const early = started.steps / 3n;
    // The honest state at `early` (still running), relabelled as halted, with its real memory.
    const claim = await claimAt(started.code, started.input, early, (blob) => (blob[168] = 1));
    const setup = await commit(started, claim);
    await cheatAndLose(setup, early - 1n, early);
  });

  it("a claim of more steps than the program runs loses", async () => {
    const started = await setupVerifiableJob({ guest: "sha256", input: TEXT });
    const honest = honestClaim(started.honest);
    const finalState = honest.finalState.slice();
    new DataView(finalState.buffer).setBigUint64(160, started.steps + 40n, true);
    const setup = await commit(started, { ...honest, finalState });
    await cheatAndLose(setup, started.steps, started.steps + 40n);
  });

  it("a wrong output root is refused at commit", async () => {
    const started = await setupVerifiableJob({ guest: "sha256", input: TEXT });
    const claim = honestClaim(started.honest);
    await expectProgramError(
      started.providers[0].owner.client.commitVerifiable({ job: started.job, ...claim, outputRoot: new Uint8Array(32).fill(9), resultUriHash: new Uint8Array(32) }),
      "OutputNotInFinalState",
    );
  });

  describe("clocks", () => {
    async function cheated(): Promise<{ setup: VerifiableSetup; dispute: PublicKey; challenger: Actor; liar: LyingTrace }> {
      const started = await setupVerifiableJob({ guest: "sha256", input: TEXT });
      const setup = await commit(started, wrongExitCode(honestClaim(started.honest)));
      const challenger = setup.providers[1].owner;
      const dispute = await open(setup, challenger);
      return { setup, dispute, challenger, liar: new LyingTrace(setup.honest, setup.steps / 2n, setup.steps, setup.claimHash) };
    }

    it("a provider silent at its first dissection loses by timeout, not before its doubled clock", async () => {
      const { setup, dispute, challenger } = await cheated();
      const game = (await setup.authority.client.fetchDispute(dispute))!;
      assert.equal(game.providerClock, 2n * MARKET_PARAMS.challengeWindowSlots);
      setup.env.ledger.warpToSlot(game.turnStartedSlot + game.providerClock);
      await expectProgramError(setup.authority.client.timeoutDispute({ dispute }), "ClockRunning");
      const record = await playGame(setup.env, dispute, { actor: setup.providers[0].owner, trace: null }, { actor: challenger, trace: setup.honest }, setup.authority);
      assert.deepEqual([record.winner, record.byTimeout], ["challengerWon", true]);
    });

    it("a challenger silent at its choice loses by timeout", async () => {
      const { setup, dispute, challenger, liar } = await cheated();
      const record = await playGame(setup.env, dispute, { actor: setup.providers[0].owner, trace: liar }, { actor: challenger, trace: null }, setup.authority);
      assert.deepEqual([record.winner, record.byTimeout], ["providerWon", true]);
      assert.equal(record.rounds, 1);
    });

    it("a provider that cannot prove the disputed step loses when its clock runs out", async () => {
      const { setup, dispute, challenger, liar } = await cheated();
      const game = await playUntilProof(setup, dispute, liar, challenger, setup.honest);
      await expectProgramError(challenger.client.chooseSegment({ dispute, segment: 0 }), "NotYourTurn");
      await expectProgramError(setup.authority.client.timeoutDispute({ dispute }), "ClockRunning");
      setup.env.ledger.warpToSlot(game.turnStartedSlot + game.providerClock + 1n);
      await expectProgramError(setup.providers[0].owner.client.dissect({ dispute, hashes: [] }), "NotYourTurn");
      await setup.authority.client.timeoutDispute({ dispute });
      const decided = (await setup.authority.client.fetchDispute(dispute))!;
      assert.equal(variantOf(decided.status), "challengerWon");
      await expectProgramError(setup.authority.client.timeoutDispute({ dispute }), "NotYourTurn");
    });

    it("a move after the mover's clock ran out is refused", async () => {
      const { setup, dispute, liar } = await cheated();
      const game = (await setup.authority.client.fetchDispute(dispute))!;
      setup.env.ledger.warpToSlot(game.turnStartedSlot + game.providerClock + 1n);
      const move = nextMove("defender", gameView(game), liar);
      assert.equal(move.kind, "dissect");
      if (move.kind === "dissect") await expectProgramError(setup.providers[0].owner.client.dissect({ dispute, hashes: move.hashes }), "ClockExpired");
    });
  });

  it("two games at once: a colluding challenger abandons, the honest one wins, the bad result never finalizes", async () => {
    const started = await setupVerifiableJob({ guest: "sha256", input: TEXT, challengers: 2 });
    const setup = await commit(started, wrongExitCode(honestClaim(started.honest)));
    const [colluder, honest] = [setup.providers[1].owner, setup.providers[2].owner];
    const abandoned = await open(setup, colluder);
    const fought = await open(setup, honest);
    const job = await setup.consumer.client.fetchJob(setup.job);
    assert.equal(job!.progress.openDisputes, 2);
    const liar = new LyingTrace(setup.honest, 10n, setup.steps, setup.claimHash);
    const lost = await playGame(setup.env, abandoned, { actor: setup.providers[0].owner, trace: liar }, { actor: colluder, trace: null }, setup.authority);
    assert.equal(lost.winner, "providerWon");
    await setup.authority.client.settleDispute({ dispute: abandoned });
    setup.env.ledger.warpToSlot(job!.progress.challengeDeadlineSlot + 10n);
    await expectProgramError(setup.authority.client.finalize({ job: setup.job }), "DisputeOpen");
    const before = balances(setup, honest);
    const won = await playGame(setup.env, fought, { actor: setup.providers[0].owner, trace: liar }, { actor: honest, trace: setup.honest }, setup.authority);
    assert.equal(won.winner, "challengerWon");
    await setup.authority.client.settleDispute({ dispute: fought });
    const after = balances(setup, honest);
    assert.equal(after.challenger - before.challenger, LOCK + LOCK / 2n);
    assert.equal(after.consumer - before.consumer, before.escrow);
    assert.equal(setup.env.exists(setup.job), false);
  });
});

/** Plays moves (no proof) until the one-step proof is due; returns the game then. */
async function playUntilProof(setup: VerifiableSetup, dispute: PublicKey, defender: Trace, challenger: Actor, challengerTrace: Trace) {
  for (;;) {
    const game = (await setup.authority.client.fetchDispute(dispute))!;
    const view = gameView(game);
    if (view.turn === "proof") return game;
    if (view.turn === "provider") {
      const move = nextMove("defender", view, defender);
      assert.equal(move.kind, "dissect");
      if (move.kind === "dissect") await setup.providers[0].owner.client.dissect({ dispute, hashes: move.hashes });
    } else {
      const move = nextMove("challenger", view, challengerTrace);
      assert.equal(move.kind, "choose");
      if (move.kind === "choose") await challenger.client.chooseSegment({ dispute, segment: move.segment });
    }
  }
}

/** A claim made of the honest state at `step`, edited by `edit`, with that memory's output proof. */
async function claimAt(code: Uint8Array, input: Uint8Array, step: bigint, edit: (blob: Uint8Array) => void): Promise<Claim> {
  const machine = (await vm()).machine(code, input);
  machine.run(step);
  const blob = machine.state().blob.slice();
  edit(blob);
  const claim = { finalState: blob, ...machine.outputProof() };
  machine.free();
  return claim;
}
