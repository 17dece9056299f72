// Builds the verifiable-compute instructions: `commit_verifiable` and the dissection game
// (`open_dispute`, `dissect`, `choose_segment`, `write_witness`, `prove_step`, `timeout_dispute`,
// `settle_dispute`).
import type { Program } from "@coral-xyz/anchor";
import type { PublicKey, TransactionInstruction } from "@solana/web3.js";
import type { ComputeMarket } from "../generated/compute_market";
import { bytes32, uint } from "../native";

/** Bytes of the machine's state blob. */
export const STATE_BYTES = 173;
/** Inner boundaries one dissection posts at most. */
export const MAX_DISSECTION_POINTS = 15;
/** Bytes of one `write_witness` chunk. */
export const WITNESS_CHUNK_BYTES = 880;
/** The largest witness: the state, a flags byte and two leaves with their 19-hash paths. */
export const MAX_WITNESS_BYTES = STATE_BYTES + 1 + 2 * (4 + 32 + 19 * 32);

export interface CommitVerifiableArgs {
  /** The final state blob (173 bytes). */
  finalState: Uint8Array;
  outputRoot: Uint8Array;
  heapRoot: Uint8Array;
  lowNode: Uint8Array;
  resultUriHash: Uint8Array;
}

export function commitVerifiableInstruction(
  program: Program<ComputeMarket>,
  args: CommitVerifiableArgs,
  accounts: { owner: PublicKey; market: PublicKey; job: PublicKey; bid: PublicKey },
): Promise<TransactionInstruction> {
  if (args.finalState.length !== STATE_BYTES) throw new RangeError(`finalState must be ${STATE_BYTES} bytes, got ${args.finalState.length}`);
  return program.methods
    .commitVerifiable(
      Array.from(args.finalState),
      bytes32(args.outputRoot, "outputRoot"),
      bytes32(args.heapRoot, "heapRoot"),
      bytes32(args.lowNode, "lowNode"),
      bytes32(args.resultUriHash, "resultUriHash"),
    )
    .accountsPartial(accounts)
    .instruction();
}

export interface OpenDisputeAccounts {
  challenger: PublicKey;
  market: PublicKey;
  job: PublicKey;
  bid: PublicKey;
  dispute: PublicKey;
  bondVault: PublicKey;
  challengerToken: PublicKey;
  stakeMint: PublicKey;
}

export function openDisputeInstruction(program: Program<ComputeMarket>, accounts: OpenDisputeAccounts): Promise<TransactionInstruction> {
  return program.methods.openDispute().accountsPartial(accounts).instruction();
}

/** The 15 hash slots of a dissection: the posted hashes, then zeros. */
export function dissectionSlots(hashes: Uint8Array[]): number[][] {
  if (hashes.length > MAX_DISSECTION_POINTS) throw new RangeError(`a dissection posts at most ${MAX_DISSECTION_POINTS} hashes`);
  const slots = hashes.map((hash, i) => bytes32(hash, `hashes[${i}]`));
  while (slots.length < MAX_DISSECTION_POINTS) slots.push(new Array(32).fill(0));
  return slots;
}

export function dissectInstruction(
  program: Program<ComputeMarket>,
  hashes: Uint8Array[],
  accounts: { owner: PublicKey; dispute: PublicKey },
): Promise<TransactionInstruction> {
  return program.methods.dissect(dissectionSlots(hashes)).accountsPartial(accounts).instruction();
}

export function chooseSegmentInstruction(
  program: Program<ComputeMarket>,
  segment: number,
  accounts: { challenger: PublicKey; dispute: PublicKey },
): Promise<TransactionInstruction> {
  return program.methods.chooseSegment(uint(segment, 8, "segment")).accountsPartial(accounts).instruction();
}

/** The chunks a witness is written in: offset, length and the zero-padded chunk. */
export function witnessChunks(witness: Uint8Array): { offset: number; len: number; chunk: number[] }[] {
  if (witness.length === 0 || witness.length > MAX_WITNESS_BYTES) {
    throw new RangeError(`a witness has 1..${MAX_WITNESS_BYTES} bytes, got ${witness.length}`);
  }
  const chunks = [];
  for (let offset = 0; offset < witness.length; offset += WITNESS_CHUNK_BYTES) {
    const part = witness.subarray(offset, offset + WITNESS_CHUNK_BYTES);
    const chunk = new Array(WITNESS_CHUNK_BYTES).fill(0);
    part.forEach((byte, i) => (chunk[i] = byte));
    chunks.push({ offset, len: part.length, chunk });
  }
  return chunks;
}

export function writeWitnessInstruction(
  program: Program<ComputeMarket>,
  chunk: { offset: number; len: number; chunk: number[] },
  accounts: { writer: PublicKey; dispute: PublicKey; buffer: PublicKey },
): Promise<TransactionInstruction> {
  return program.methods
    .writeWitness(uint(chunk.offset, 16, "offset"), uint(chunk.len, 16, "len"), chunk.chunk)
    .accountsPartial(accounts)
    .instruction();
}

export function proveStepInstruction(
  program: Program<ComputeMarket>,
  accounts: { prover: PublicKey; dispute: PublicKey; buffer: PublicKey; writer: PublicKey },
): Promise<TransactionInstruction> {
  return program.methods.proveStep().accountsPartial(accounts).instruction();
}

export function closeWitnessInstruction(
  program: Program<ComputeMarket>,
  accounts: { writer: PublicKey; dispute: PublicKey; buffer: PublicKey },
): Promise<TransactionInstruction> {
  return program.methods.closeWitness().accountsPartial(accounts).instruction();
}

export function timeoutDisputeInstruction(
  program: Program<ComputeMarket>,
  accounts: { cranker: PublicKey; dispute: PublicKey },
): Promise<TransactionInstruction> {
  return program.methods.timeoutDispute().accountsPartial(accounts).instruction();
}

export interface SettleDisputeAccounts {
  cranker: PublicKey;
  config: PublicKey;
  market: PublicKey;
  job: PublicKey;
  escrow: PublicKey;
  consumer: PublicKey;
  consumerToken: PublicKey;
  bid: PublicKey;
  provider: PublicKey;
  vault: PublicKey;
  owner: PublicKey;
  ownerStakeToken: PublicKey;
  challenger: PublicKey;
  challengerStakeToken: PublicKey;
  treasuryStakeToken: PublicKey;
  dispute: PublicKey;
  bondVault: PublicKey;
}

export function settleDisputeInstruction(program: Program<ComputeMarket>, accounts: SettleDisputeAccounts): Promise<TransactionInstruction> {
  return program.methods.settleDispute().accountsPartial(accounts).instruction();
}

export function refereeInstruction(
  program: Program<ComputeMarket>,
  accounts: { cranker: PublicKey; market: PublicKey; job: PublicKey; defenderBid: PublicKey; challengerBid: PublicKey; dispute: PublicKey },
): Promise<TransactionInstruction> {
  return program.methods.referee().accountsPartial(accounts).instruction();
}

export interface SettleRefereeAccounts {
  cranker: PublicKey;
  config: PublicKey;
  job: PublicKey;
  dispute: PublicKey;
  payer: PublicKey;
  defenderBid: PublicKey;
  defenderProvider: PublicKey;
  defenderVault: PublicKey;
  defenderOwnerToken: PublicKey;
  challengerBid: PublicKey;
  challengerProvider: PublicKey;
  challengerVault: PublicKey;
  challengerOwnerToken: PublicKey;
  treasuryStakeToken: PublicKey;
}

export function settleRefereeInstruction(program: Program<ComputeMarket>, accounts: SettleRefereeAccounts): Promise<TransactionInstruction> {
  return program.methods.settleReferee().accountsPartial(accounts).instruction();
}
