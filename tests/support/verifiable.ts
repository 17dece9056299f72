// Set-up for the verifiable-compute suites: a verifiable job of an example guest run to its
// committed result (honest or not), and a referee loop that plays a dissection game between two
// traces on the local cluster, move by move, through the SDK.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import type { PublicKey } from "@solana/web3.js";
import { DEFAULT_MAX_STEPS, findBidPda, variantOf, type DisputeAccount } from "@compute-market/sdk";
import { nextMove, Replay, VmModule, type GameView, type Trace } from "@compute-market/vm";
import { PROVIDER_STAKE, type AuctionSetup } from "./auction";
import { TestEnv, type Actor } from "./env";
import { jobInput, MARKET_PARAMS, setupMarket, setupProvider, type ProviderSetup } from "./fixtures";
import type { MarketParamsInput } from "@compute-market/sdk";

const ROOT = path.resolve(__dirname, "../..");
export const guestCode = (name: string): Uint8Array => new Uint8Array(readFileSync(path.join(ROOT, "target/guests", `${name}.bin`)));

let vmModule: Promise<VmModule> | undefined;
/** Every replay the fixtures made: each holds a machine (16 MiB and its tree) until freed. */
const replays: Replay[] = [];

/** Frees the machines of every replay made so far (call after each test). */
export function freeReplays(): void {
  for (const replay of replays.splice(0)) replay.free();
}
export function vm(): Promise<VmModule> {
  return (vmModule ??= VmModule.load());
}

const sha256 = (...parts: Uint8Array[]): Uint8Array => {
  const hash = createHash("sha256");
  parts.forEach((part) => hash.update(part));
  return new Uint8Array(hash.digest());
};

function u64le(value: bigint): Uint8Array {
  const bytes = new Uint8Array(8);
  new DataView(bytes.buffer).setBigUint64(0, value, true);
  return bytes;
}

/** What a provider commits: the final state blob with its output proof. */
export interface Claim {
  finalState: Uint8Array;
  outputRoot: Uint8Array;
  heapRoot: Uint8Array;
  lowNode: Uint8Array;
}

/**
 * A dishonest provider's trace: the honest states up to and including step `divergeAfter`, then
 * made-up hashes, ending in the hash of the claimed final state at `claimedSteps` and after.
 * It can give witnesses only for steps it ran honestly.
 */
export class LyingTrace implements Trace {
  constructor(
    private readonly honest: Replay,
    private readonly divergeAfter: bigint,
    private readonly claimedSteps: bigint,
    private readonly claimedFinalHash: Uint8Array,
  ) {}

  hashAt(step: bigint): Uint8Array {
    if (step <= this.divergeAfter) return this.honest.hashAt(step);
    if (step >= this.claimedSteps) return this.claimedFinalHash;
    return sha256(new TextEncoder().encode("made-up state"), u64le(step));
  }

  witnessAt(step: bigint): Uint8Array {
    return this.honest.witnessAt(step);
  }
}

/** A challenger that accepts the honest run up to step `target` and disputes every state after
 * it: against an honest defender the game ends at [target, target + 1], where the defender's
 * proof must make the program compute the same post-state as the native machine. */
export class TargetingChallenger implements Trace {
  constructor(private readonly honest: Replay, private readonly target: bigint) {}

  hashAt(step: bigint): Uint8Array {
    return step <= this.target ? this.honest.hashAt(step) : sha256(new TextEncoder().encode("dispute"), u64le(step));
  }

  witnessAt(step: bigint): Uint8Array {
    return this.honest.witnessAt(step);
  }
}

/** A challenger that disputes an honest result by coin flips: it agrees with each posted point
 * or not at random, so it picks random segments (and may even submit the honest proof). */
export class RandomChallenger implements Trace {
  constructor(private readonly honest: Replay, private seed: number) {}

  hashAt(step: bigint): Uint8Array {
    if (this.next() % 2 === 0) return this.honest.hashAt(step);
    return sha256(new TextEncoder().encode("disagree"), u64le(step));
  }

  witnessAt(step: bigint): Uint8Array {
    return this.honest.witnessAt(step);
  }

  private next(): number {
    this.seed = (this.seed * 1_103_515_245 + 12_345) >>> 0;
    return this.seed;
  }
}

export interface VerifiableSetup extends AuctionSetup {
  code: Uint8Array;
  input: Uint8Array;
  /** The honest run. */
  honest: Replay;
  /** Steps of the honest run. */
  steps: bigint;
  /** The winning provider's bid. */
  bid: PublicKey;
  /** What the provider committed. */
  claim: Claim;
  claimHash: Uint8Array;
  /** Signatures of the job's post and of its commitment. */
  postSignature: string;
  commitSignature: string;
}

/** The honest commitment of a run. */
export function honestClaim(honest: Replay): Claim {
  const machine = honest.final();
  return { finalState: machine.state().blob, ...machine.outputProof() };
}

/** A verifiable job of `guest` on `input`, awarded to provider 0 and started (not committed). */
export async function setupVerifiableJob(options: {
  guest: string;
  input: Uint8Array;
  challengers?: number;
  params?: Partial<MarketParamsInput>;
  /** The job's step limit (default: the SDK's). */
  maxSteps?: bigint;
}): Promise<Omit<VerifiableSetup, "claim" | "claimHash" | "commitSignature">> {
  const module = await vm();
  const env = await TestEnv.create();
  const { authority, market } = await setupMarket(env, { ...MARKET_PARAMS, ...options.params });
  const providers = [];
  for (let i = 0; i < 1 + (options.challengers ?? 2); i++) providers.push(await setupProvider(env, market, PROVIDER_STAKE));
  const consumer = await env.actor();
  const code = guestCode(options.guest);
  const program = { ...module.programRoots(code, options.input), maxSteps: options.maxSteps ?? DEFAULT_MAX_STEPS };
  const { job, escrow, signature: postSignature } = await consumer.client.postJob(jobInput(market, { consumerToken: consumer.paymentToken, mode: "verifiable", program }));
  await providers[0].owner.client.placeBid({ job, price: 1_500_000n });
  const posted = await consumer.client.fetchJob(job);
  env.ledger.warpToSlot(posted!.bidDeadlineSlot + 1n);
  await consumer.client.award({ job });
  await providers[0].owner.client.startJob({ job });
  const honest = new Replay(module, code, options.input);
  replays.push(honest);
  const steps = honest.final().steps;
  const bid = findBidPda({ job, provider: providers[0].provider, programId: env.programId })[0];
  return { env, authority, market, consumer, providers, job, escrow, code, input: options.input, honest, steps, bid, postSignature };
}

/** Opens a game against the first provider's committed result, the challenger's bond from its
 * own stake-token account; returns the dispute's address. */
export async function openGame(setup: VerifiableSetup, challenger: Actor): Promise<PublicKey> {
  const { dispute } = await challenger.client.openDispute({ job: setup.job, provider: setup.providers[0].provider, challengerToken: challenger.stakeToken });
  return dispute;
}

/** Commits `claim` for provider 0. */
export async function commit(setup: Omit<VerifiableSetup, "claim" | "claimHash" | "commitSignature">, claim: Claim): Promise<VerifiableSetup> {
  const commitSignature = await setup.providers[0].owner.client.commitVerifiable({ job: setup.job, ...claim, resultUriHash: new Uint8Array(32).fill(1) });
  return { ...setup, claim, claimHash: sha256(claim.finalState), commitSignature };
}

/** A dishonest claim: the honest final state with another exit code (memory and output intact). */
export function wrongExitCode(claim: Claim): Claim {
  const finalState = claim.finalState.slice();
  finalState[169] ^= 0x5a;
  return { ...claim, finalState };
}

export function gameView(dispute: DisputeAccount): GameView {
  return {
    turn: variantOf(dispute.turn) as GameView["turn"],
    lo: dispute.lo,
    hi: dispute.hi,
    loHash: Uint8Array.from(dispute.loHash),
    hiHash: Uint8Array.from(dispute.hiHash),
    points: dispute.points.map((p) => Uint8Array.from(p)),
  };
}

/** A player: its wallet and its trace; a `null` trace never moves. */
export interface Player {
  actor: Actor;
  trace: Trace | null;
}

export interface GameRecord {
  winner: "providerWon" | "challengerWon";
  rounds: number;
  transactions: number;
  signatures: string[];
  /** Each transaction with the instruction it carried. */
  moves: { instruction: string; signature: string }[];
  byTimeout: boolean;
}

/**
 * Plays `dispute` to its end: each side moves per `nextMove` on its own trace; when the side to
 * move does not (a silent or beaten player), the clock is run past its budget and anyone calls
 * `timeout_dispute`.
 */
export async function playGame(env: TestEnv, dispute: PublicKey, defender: Player, challenger: Player, cranker: Actor): Promise<GameRecord> {
  const moves: { instruction: string; signature: string }[] = [];
  const record = (instruction: string, ...sent: string[]) => sent.forEach((signature) => moves.push({ instruction, signature }));
  let rounds = 0;
  let byTimeout = false;
  for (let guard = 0; guard < 64; guard++) {
    const account = await cranker.client.fetchDispute(dispute);
    assert.ok(account, "the game exists until it is settled");
    const status = variantOf(account.status);
    if (status !== "open") {
      const signatures = moves.map((m) => m.signature);
      return { winner: status as GameRecord["winner"], rounds, transactions: signatures.length, signatures, moves, byTimeout };
    }
    const game = gameView(account);
    const defenderMove = defender.trace ? nextMove("defender", game, defender.trace) : { kind: "wait" as const };
    const challengerMove = challenger.trace ? nextMove("challenger", game, challenger.trace) : { kind: "wait" as const };
    if (defenderMove.kind === "dissect") {
      record("dissect", await defender.actor.client.dissect({ dispute, hashes: defenderMove.hashes }));
      rounds++;
    } else if (challengerMove.kind === "choose") {
      record("choose_segment", await challenger.actor.client.chooseSegment({ dispute, segment: challengerMove.segment }));
    } else if (defenderMove.kind === "prove") {
      const { signatures: written } = await defender.actor.client.writeWitness({ dispute, witness: defenderMove.witness });
      record("write_witness", ...written);
      record("prove_step", await defender.actor.client.proveStep({ dispute }));
    } else if (challengerMove.kind === "prove") {
      const { signatures: written } = await challenger.actor.client.writeWitness({ dispute, witness: challengerMove.witness });
      record("write_witness", ...written);
      record("prove_step", await challenger.actor.client.proveStep({ dispute }));
    } else {
      const clock = game.turn === "challenger" ? account.challengerClock : account.providerClock;
      env.ledger.warpToSlot(account.turnStartedSlot + clock + 1n);
      record("timeout_dispute", await cranker.client.timeoutDispute({ dispute }));
      byTimeout = true;
    }
  }
  throw new Error("the game did not end within 64 moves");
}

export interface RefereedSetup extends Omit<VerifiableSetup, "claim" | "claimHash" | "commitSignature"> {
  /** The two winners' bids, in ranking order (provider 0, then provider 1). */
  bids: [PublicKey, PublicKey];
}

/** A refereed job of `guest` on `input`: providers 0 and 1 win (in that order) and start. */
export async function setupRefereedJob(options: { guest: string; input: Uint8Array }): Promise<RefereedSetup> {
  const module = await vm();
  const env = await TestEnv.create();
  const { authority, market } = await setupMarket(env);
  const providers: ProviderSetup[] = [];
  for (let i = 0; i < 3; i++) providers.push(await setupProvider(env, market, PROVIDER_STAKE));
  const consumer = await env.actor();
  const code = guestCode(options.guest);
  const { job, escrow, signature: postSignature } = await consumer.client.postVerifiableJob({
    ...jobInput(market, { consumerToken: consumer.paymentToken }),
    code,
    input: options.input,
    machine: module,
    refereed: true,
  });
  await providers[0].owner.client.placeBid({ job, price: 1_500_000n });
  await providers[1].owner.client.placeBid({ job, price: 1_600_000n });
  const posted = await consumer.client.fetchJob(job);
  env.ledger.warpToSlot(posted!.bidDeadlineSlot + 1n);
  await consumer.client.award({ job });
  for (const provider of providers.slice(0, 2)) await provider.owner.client.startJob({ job });
  const honest = new Replay(module, code, options.input);
  replays.push(honest);
  const steps = honest.final().steps;
  const bids = [0, 1].map((i) => findBidPda({ job, provider: providers[i].provider, programId: env.programId })[0]) as [PublicKey, PublicKey];
  return { env, authority, market, consumer, providers, job, escrow, code, input: options.input, honest, steps, bid: bids[0], bids, postSignature };
}

/** Commits `claim` for provider `index`. */
export async function commitFor(setup: RefereedSetup, index: number, claim: Claim): Promise<string> {
  return setup.providers[index].owner.client.commitVerifiable({ job: setup.job, ...claim, resultUriHash: new Uint8Array(32).fill(index + 1) });
}

export const claimHash = (claim: Claim): Uint8Array => sha256(claim.finalState);
