// Builds the consumer's job instructions: `post_job` and `cancel_job`.
import type { Program } from "@coral-xyz/anchor";
import type { PublicKey, TransactionInstruction } from "@solana/web3.js";
import type { ComputeMarket } from "../generated/compute_market";
import { bytes32, u64, uint } from "../native";
import {
  encodeJobRequirements,
  enumVariant,
  type FailurePolicyName,
  type JobRequirementsInput,
  type VerificationModeName,
} from "../types";

export interface PostJobArgs {
  nonce: bigint;
  /** sha256 of the job spec. */
  specHash: Uint8Array;
  requirements: JobRequirementsInput;
  mode: VerificationModeName;
  /** Providers that run the job; 0 selects the market default. */
  replication: number;
  onFailure: FailurePolicyName;
  maxPrice: bigint;
  /** 0 disables instant award. */
  instantPrice: bigint;
  /** 0 selects the market default. */
  bidWindowSlots: bigint;
  /** Sealed-bid second-price auction instead of open bidding (default false). */
  sealed?: boolean;
  /** Verifiable and refereed jobs: the program's code and input roots and its step limit. */
  program?: VerifiableProgram;
}

/** What a verifiable job runs, by Merkle root (see `@compute-market/vm`'s `programRoots`), and
 * for how many steps at most: a run still going at `maxSteps` ends there. */
export interface VerifiableProgram {
  codeRoot: Uint8Array;
  inputRoot: Uint8Array;
  maxSteps: bigint;
}

export interface PostJobAccounts {
  consumer: PublicKey;
  config: PublicKey;
  market: PublicKey;
  job: PublicKey;
  escrow: PublicKey;
  consumerToken: PublicKey;
  paymentMint: PublicKey;
}

export interface CancelJobAccounts {
  consumer: PublicKey;
  job: PublicKey;
  escrow: PublicKey;
  consumerToken: PublicKey;
}

export function postJobInstruction(
  program: Program<ComputeMarket>,
  args: PostJobArgs,
  accounts: PostJobAccounts,
): Promise<TransactionInstruction> {
  return program.methods
    .postJob(
      u64(args.nonce, "nonce"),
      bytes32(args.specHash, "specHash"),
      encodeJobRequirements(args.requirements),
      enumVariant(args.mode),
      uint(args.replication, 8, "replication"),
      enumVariant(args.onFailure),
      u64(args.maxPrice, "maxPrice"),
      u64(args.instantPrice, "instantPrice"),
      u64(args.bidWindowSlots, "bidWindowSlots"),
      args.sealed ?? false,
      bytes32(args.program?.codeRoot ?? new Uint8Array(32), "codeRoot"),
      bytes32(args.program?.inputRoot ?? new Uint8Array(32), "inputRoot"),
      u64(args.program?.maxSteps ?? 0n, "maxSteps"),
    )
    .accountsPartial(accounts)
    .instruction();
}

export function cancelJobInstruction(
  program: Program<ComputeMarket>,
  accounts: CancelJobAccounts,
): Promise<TransactionInstruction> {
  return program.methods.cancelJob().accountsPartial(accounts).instruction();
}
