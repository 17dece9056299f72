// Builds the service lease instructions: post, fund, claim (after its Ed25519 verification),
// end and close a replica, close a dead job's terms, and the seat round that replaces an ended
// replica (bid for a seat, award the round, start a won seat).
import type { Program } from "@coral-xyz/anchor";
import { PublicKey, SYSVAR_INSTRUCTIONS_PUBKEY, type TransactionInstruction } from "@solana/web3.js";
import type { ComputeMarket } from "../generated/compute_market";
import { bytes32, u64, uint } from "../native";
import { encodeJobRequirements, type JobRequirementsInput } from "../types";

export interface PostServiceArgs {
  nonce: bigint;
  /** sha256 of the service spec (image, ports, health check). */
  specHash: Uint8Array;
  /** Every replica's hardware; `maxDurationSlots` is the lease's longest term. */
  requirements: JobRequirementsInput;
  /** Replicas; 0 selects the market default. */
  replicas: number;
  /** Highest rate per slot per replica. */
  maxRate: bigint;
  /** 0 selects the market default. */
  bidWindowSlots: bigint;
  sealed?: boolean;
  /** The key that signs acknowledgements (and may end replicas). */
  watchdog: PublicKey;
  /** Slots one acknowledgement covers at most. */
  ackPeriodSlots: bigint;
  /** Slots a failing replica is given before the watchdog ends it. */
  graceSlots: bigint;
  /** Tokens escrowed now: at least one period of every replica at `maxRate`, with fees and the crank fee. */
  deposit: bigint;
}

export interface PostServiceAccounts {
  consumer: PublicKey;
  config: PublicKey;
  market: PublicKey;
  job: PublicKey;
  escrow: PublicKey;
  service: PublicKey;
  consumerToken: PublicKey;
  paymentMint: PublicKey;
}

export interface FundServiceAccounts {
  funder: PublicKey;
  funderToken: PublicKey;
  job: PublicKey;
  escrow: PublicKey;
  service: PublicKey;
}

export interface PauseServiceAccounts {
  cranker: PublicKey;
  market: PublicKey;
  job: PublicKey;
  escrow: PublicKey;
  service: PublicKey;
}

export interface ClaimServiceAccounts {
  owner: PublicKey;
  ownerToken: PublicKey;
  config: PublicKey;
  job: PublicKey;
  escrow: PublicKey;
  service: PublicKey;
  bid: PublicKey;
  treasuryToken: PublicKey;
}

export interface EndReplicaAccounts {
  signer: PublicKey;
  market: PublicKey;
  job: PublicKey;
  service: PublicKey;
  bid: PublicKey;
}

export interface CloseReplicaAccounts {
  keeper: PublicKey;
  keeperToken: PublicKey;
  job: PublicKey;
  escrow: PublicKey;
  service: PublicKey;
  bid: PublicKey;
  provider: PublicKey;
  owner: PublicKey;
  consumer: PublicKey;
  consumerToken: PublicKey;
}

export interface CloseServiceAccounts {
  service: PublicKey;
  job: PublicKey;
  consumer: PublicKey;
}

export function postServiceInstruction(program: Program<ComputeMarket>, args: PostServiceArgs, accounts: PostServiceAccounts): Promise<TransactionInstruction> {
  return program.methods
    .postService(
      u64(args.nonce, "nonce"),
      bytes32(args.specHash, "specHash"),
      encodeJobRequirements(args.requirements),
      uint(args.replicas, 8, "replicas"),
      u64(args.maxRate, "maxRate"),
      u64(args.bidWindowSlots, "bidWindowSlots"),
      args.sealed ?? false,
      args.watchdog,
      u64(args.ackPeriodSlots, "ackPeriodSlots"),
      u64(args.graceSlots, "graceSlots"),
      u64(args.deposit, "deposit"),
    )
    .accountsPartial(accounts)
    .instruction();
}

export function fundServiceInstruction(program: Program<ComputeMarket>, amount: bigint, accounts: FundServiceAccounts): Promise<TransactionInstruction> {
  return program.methods.fundService(u64(amount, "amount")).accountsPartial(accounts).instruction();
}

/** The claim itself; the Ed25519 verification of its acknowledgement must come right before it. */
export function claimServiceInstruction(program: Program<ComputeMarket>, upToSlot: bigint, accounts: ClaimServiceAccounts): Promise<TransactionInstruction> {
  return program.methods
    .claimService(u64(upToSlot, "upToSlot"))
    .accountsPartial({ ...accounts, instructions: SYSVAR_INSTRUCTIONS_PUBKEY })
    .instruction();
}

/** `replace` puts the seat up for a replacement (the consumer or the watchdog only). */
export function endReplicaInstruction(program: Program<ComputeMarket>, accounts: EndReplicaAccounts, replace = false): Promise<TransactionInstruction> {
  return program.methods.endReplica(replace).accountsPartial(accounts).instruction();
}

export interface BidSeatAccounts {
  owner: PublicKey;
  provider: PublicKey;
  market: PublicKey;
  job: PublicKey;
  service: PublicKey;
  bid: PublicKey;
}

export interface AwardSeatAccounts {
  cranker: PublicKey;
  market: PublicKey;
  job: PublicKey;
  service: PublicKey;
}

export interface StartSeatAccounts {
  owner: PublicKey;
  job: PublicKey;
  service: PublicKey;
  bid: PublicKey;
}

/** An open bid of `price` per slot for a seat of a running lease. */
export function bidSeatInstruction(program: Program<ComputeMarket>, price: bigint, accounts: BidSeatAccounts): Promise<TransactionInstruction> {
  return program.methods.bidSeat(u64(price, "price")).accountsPartial(accounts).instruction();
}

/** Closes the seat round; `winningBids` are the round's best ranked bids, best first. */
export function awardSeatInstruction(program: Program<ComputeMarket>, accounts: AwardSeatAccounts, winningBids: PublicKey[]): Promise<TransactionInstruction> {
  return program.methods
    .awardSeat()
    .accountsPartial(accounts)
    .remainingAccounts(winningBids.map((pubkey) => ({ pubkey, isSigner: false, isWritable: true })))
    .instruction();
}

export function startSeatInstruction(program: Program<ComputeMarket>, accounts: StartSeatAccounts): Promise<TransactionInstruction> {
  return program.methods.startSeat().accountsPartial(accounts).instruction();
}

export function closeReplicaInstruction(program: Program<ComputeMarket>, accounts: CloseReplicaAccounts): Promise<TransactionInstruction> {
  return program.methods.closeReplica().accountsPartial(accounts).instruction();
}

export function pauseServiceInstruction(program: Program<ComputeMarket>, accounts: PauseServiceAccounts): Promise<TransactionInstruction> {
  return program.methods.pauseService().accountsPartial(accounts).instruction();
}

export function closeServiceInstruction(program: Program<ComputeMarket>, accounts: CloseServiceAccounts): Promise<TransactionInstruction> {
  return program.methods.closeService().accountsPartial(accounts).instruction();
}
