// Set-up for the verifiable-compute abuse suites: a second job in the same market, the explicit
// account lists of the dispute instructions (so a test can swap one account for a wrong one), a
// game played up to the one-step proof, and the accounts whose tokens and existence an abuse must
// leave untouched.
import assert from "node:assert/strict";
import { Keypair, PublicKey, type TransactionInstruction } from "@solana/web3.js";
import {
  findBidPda,
  findBondVaultPda,
  findConfigPda,
  findDisputePda,
  findWitnessBufferPda,
  sendInstructions,
  variantOf,
  type DisputeAccount,
  type OpenDisputeAccounts,
  type SettleDisputeAccounts,
  type SettleRefereeAccounts,
} from "@compute-market/sdk";
import { nextMove } from "@compute-market/vm";
import type { Actor, TestEnv } from "./env";
import { jobInput } from "./fixtures";
import { gameView, honestClaim, vm, type Claim, type Player, type RefereedSetup, type VerifiableSetup } from "./verifiable";

type StartedSetup = Omit<VerifiableSetup, "claim" | "claimHash" | "commitSignature">;

/** Sends `instructions` in one transaction paid and signed by `actor`. */
export function send(actor: Actor, ...instructions: TransactionInstruction[]): Promise<string> {
  return sendInstructions(actor.provider, instructions);
}

export interface SecondJob {
  job: PublicKey;
  escrow: PublicKey;
  /** Each bidder's bid, provider 0's (the winner's) first. */
  bids: PublicKey[];
}

/** What a provider would commit after running `code` on `input` for `steps` steps (or to its
 * halt, if sooner): the state blob, edited by `edit`, with that memory's output proof. */
export async function claimAt(code: Uint8Array, input: Uint8Array, steps: bigint, edit: (blob: Uint8Array) => void = () => {}): Promise<Claim> {
  const machine = (await vm()).machine(code, input);
  try {
    machine.run(steps);
    const finalState = machine.state().blob.slice();
    edit(finalState);
    return { finalState, ...machine.outputProof() };
  } finally {
    machine.free();
  }
}

/** Offsets in the 173-byte state blob: the step count (u64 LE) and the status byte. */
export const STEPS_OFFSET = 160;
export const STATUS_OFFSET = 168;

/** Sets a state blob's step count. */
export function setSteps(blob: Uint8Array, steps: bigint): void {
  new DataView(blob.buffer, blob.byteOffset, blob.byteLength).setBigUint64(STEPS_OFFSET, steps, true);
}

/**
 * Another verifiable job of the same program and input in `setup`'s market: providers 0, 1, …
 * bid `prices` (provider 0 lowest, so it wins), the auction ends (the clock moves past its bid
 * window), provider 0 starts (unless `start` is false) and, with `commit`, commits the honest
 * result.
 */
export async function secondJob(setup: StartedSetup, options: { prices?: bigint[]; start?: boolean; commit?: boolean } = {}): Promise<SecondJob> {
  const { env, consumer, providers } = setup;
  const first = (await consumer.client.fetchJob(setup.job))!;
  const program = { codeRoot: Uint8Array.from(first.codeRoot), inputRoot: Uint8Array.from(first.inputRoot), maxSteps: first.maxSteps };
  const { job, escrow } = await consumer.client.postJob(jobInput(setup.market, { consumerToken: consumer.paymentToken, mode: "verifiable", program }));
  const prices = options.prices ?? [1_500_000n];
  for (const [i, price] of prices.entries()) await providers[i].owner.client.placeBid({ job, price });
  const posted = (await consumer.client.fetchJob(job))!;
  env.ledger.warpToSlot(posted.bidDeadlineSlot + 1n);
  await consumer.client.award({ job });
  if (options.start !== false) await providers[0].owner.client.startJob({ job });
  if (options.commit) {
    await providers[0].owner.client.commitVerifiable({ job, ...honestClaim(setup.honest), resultUriHash: new Uint8Array(32).fill(1) });
  }
  const bids = prices.map((_, i) => findBidPda({ job, provider: providers[i].provider, programId: env.programId })[0]);
  return { job, escrow, bids };
}

/** The accounts of `open_dispute` for `challenger` against `setup`'s winning bid. */
export function openDisputeAccounts(setup: StartedSetup, challenger: Actor): OpenDisputeAccounts {
  const dispute = findDisputePda({ job: setup.job, challenger: challenger.publicKey, programId: setup.env.programId })[0];
  return {
    challenger: challenger.publicKey,
    market: setup.market,
    job: setup.job,
    bid: setup.bid,
    dispute,
    bondVault: findBondVaultPda({ dispute, programId: setup.env.programId })[0],
    challengerToken: challenger.stakeToken,
    stakeMint: setup.env.stakeMint,
  };
}

/** The accounts of `settle_dispute` for `challenger`'s game against provider 0, every token
 * account the owner's own (the treasury is the market authority). */
export function settleDisputeAccounts(setup: StartedSetup, challenger: Actor, cranker: Actor): SettleDisputeAccounts {
  const { env, providers } = setup;
  const dispute = findDisputePda({ job: setup.job, challenger: challenger.publicKey, programId: env.programId })[0];
  return {
    cranker: cranker.publicKey,
    config: findConfigPda({ programId: env.programId })[0],
    market: setup.market,
    job: setup.job,
    escrow: setup.escrow,
    consumer: setup.consumer.publicKey,
    consumerToken: setup.consumer.paymentToken,
    bid: setup.bid,
    provider: providers[0].provider,
    vault: providers[0].vault,
    owner: providers[0].owner.publicKey,
    ownerStakeToken: providers[0].owner.stakeToken,
    challenger: challenger.publicKey,
    challengerStakeToken: challenger.stakeToken,
    treasuryStakeToken: setup.authority.stakeToken,
    dispute,
    bondVault: findBondVaultPda({ dispute, programId: env.programId })[0],
  };
}

/** The accounts of `settle_referee` for a refereed job's game (opened by `payer`). */
export function settleRefereeAccounts(setup: RefereedSetup, payer: Actor, cranker: Actor): SettleRefereeAccounts {
  const { env, providers } = setup;
  const [defender, challenger] = providers;
  return {
    cranker: cranker.publicKey,
    config: findConfigPda({ programId: env.programId })[0],
    job: setup.job,
    dispute: findDisputePda({ job: setup.job, challenger: challenger.owner.publicKey, programId: env.programId })[0],
    payer: payer.publicKey,
    defenderBid: setup.bids[0],
    defenderProvider: defender.provider,
    defenderVault: defender.vault,
    defenderOwnerToken: defender.owner.stakeToken,
    challengerBid: setup.bids[1],
    challengerProvider: challenger.provider,
    challengerVault: challenger.vault,
    challengerOwnerToken: challenger.owner.stakeToken,
    treasuryStakeToken: setup.authority.stakeToken,
  };
}

/** The proof buffer `writer` writes for `dispute`. */
export function bufferOf(env: TestEnv, dispute: PublicKey, writer: PublicKey): PublicKey {
  return findWitnessBufferPda({ dispute, writer, programId: env.programId })[0];
}

/** Plays dissections and choices (no proof) until `done` holds for the game (by default: the
 * one-step proof is due); returns the game then. */
export async function playUntil(
  dispute: PublicKey,
  defender: Player,
  challenger: Player,
  done: (game: DisputeAccount) => boolean = (game) => variantOf(game.turn) === "proof",
): Promise<DisputeAccount> {
  for (let guard = 0; guard < 32; guard++) {
    const account = await defender.actor.client.fetchDispute(dispute);
    assert.ok(account, "the game exists");
    assert.equal(variantOf(account.status), "open", "the game is still open");
    if (done(account)) return account;
    const view = gameView(account);
    const [role, player] = view.turn === "provider" ? (["defender", defender] as const) : (["challenger", challenger] as const);
    assert.ok(player.trace, `the ${role} moves`);
    const move = nextMove(role, view, player.trace);
    if (move.kind === "dissect") await player.actor.client.dissect({ dispute, hashes: move.hashes });
    else if (move.kind === "choose") await player.actor.client.chooseSegment({ dispute, segment: move.segment });
    else assert.fail(`unexpected ${move.kind} on the ${view.turn}'s turn`);
  }
  throw new Error(`the game at ${dispute.toBase58()} did not get there within 32 moves`);
}

/**
 * The accounts whose tokens, lamports and existence a refused dispute instruction must leave as
 * they were: the escrow and consumer's account, every provider's vault and owner's accounts, the
 * treasury's, the job and its winning bid, plus `extra` (games, bond vaults, proof buffers…).
 */
export function watched(setup: StartedSetup, ...extra: PublicKey[]): PublicKey[] {
  return [
    setup.job,
    setup.bid,
    setup.escrow,
    setup.consumer.paymentToken,
    setup.authority.stakeToken,
    ...setup.providers.flatMap((p) => [p.vault, p.provider, p.owner.stakeToken]),
    ...extra,
  ];
}

/** A copy of `address`'s account at a fresh address, owned by `owner` (another program). */
export function forgedCopy(env: TestEnv, address: PublicKey, owner: PublicKey = Keypair.generate().publicKey): PublicKey {
  const original = env.ledger.getAccount(address);
  assert.ok(original, `an account at ${address.toBase58()}`);
  const forged = Keypair.generate().publicKey;
  env.ledger.setAccount(forged, { ...original, owner });
  return forged;
}
