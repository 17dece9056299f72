// Builds the instructions that move an awarded job to its end: `award`, `start_job`,
// `commit_result`, `finalize`, `expire_job`, `fail_no_show`, `fail_timeout`.
import type { Program } from "@coral-xyz/anchor";
import type { AccountMeta, PublicKey, TransactionInstruction } from "@solana/web3.js";
import type { ComputeMarket } from "../generated/compute_market";
import { bytes32, u64 } from "../native";

export interface AwardAccounts {
  cranker: PublicKey;
  market: PublicKey;
  job: PublicKey;
}

export interface WinnerAccounts {
  owner: PublicKey;
  job: PublicKey;
  bid: PublicKey;
}

export interface CommitResultArgs {
  outputRoot: Uint8Array;
  resultUriHash: Uint8Array;
  /** Verifiable jobs only; zero otherwise. */
  finalStateHash?: Uint8Array;
  steps?: bigint;
}

export interface FinalizeAccounts {
  keeper: PublicKey;
  keeperToken: PublicKey;
  config: PublicKey;
  job: PublicKey;
  escrow: PublicKey;
  consumer: PublicKey;
  consumerToken: PublicKey;
  treasuryToken: PublicKey;
}

/** What `finalize` needs of each winner, in award order. */
export interface FinalizeWinner {
  bid: PublicKey;
  provider: PublicKey;
  /** The winner's owner's payment-mint token account, paid the price. */
  ownerToken: PublicKey;
  owner: PublicKey;
}

export interface ExpireJobAccounts {
  cranker: PublicKey;
  job: PublicKey;
  escrow: PublicKey;
  consumer: PublicKey;
  consumerToken: PublicKey;
}

export interface FailWinnerAccounts {
  keeper: PublicKey;
  keeperToken: PublicKey;
  config: PublicKey;
  market: PublicKey;
  job: PublicKey;
  escrow: PublicKey;
  consumer: PublicKey;
  consumerToken: PublicKey;
  consumerStakeToken: PublicKey;
  treasuryStakeToken: PublicKey;
  bid: PublicKey;
  provider: PublicKey;
  vault: PublicKey;
  owner: PublicKey;
}

const writable = (pubkey: PublicKey): AccountMeta => ({ pubkey, isSigner: false, isWritable: true });

/** Awards the job to `winningBids`, which must be its best ranked bids, best first. */
export function awardInstruction(
  program: Program<ComputeMarket>,
  accounts: AwardAccounts,
  winningBids: PublicKey[],
): Promise<TransactionInstruction> {
  return program.methods.award().accountsPartial(accounts).remainingAccounts(winningBids.map(writable)).instruction();
}

export function startJobInstruction(program: Program<ComputeMarket>, accounts: WinnerAccounts): Promise<TransactionInstruction> {
  return program.methods.startJob().accountsPartial(accounts).instruction();
}

export function commitResultInstruction(
  program: Program<ComputeMarket>,
  args: CommitResultArgs,
  accounts: WinnerAccounts & { market: PublicKey },
): Promise<TransactionInstruction> {
  return program.methods
    .commitResult(
      bytes32(args.outputRoot, "outputRoot"),
      bytes32(args.resultUriHash, "resultUriHash"),
      bytes32(args.finalStateHash ?? new Uint8Array(32), "finalStateHash"),
      u64(args.steps ?? 0n, "steps"),
    )
    .accountsPartial(accounts)
    .instruction();
}

export function finalizeInstruction(
  program: Program<ComputeMarket>,
  accounts: FinalizeAccounts,
  winners: FinalizeWinner[],
): Promise<TransactionInstruction> {
  const remaining = winners.flatMap((w) => [w.bid, w.provider, w.ownerToken, w.owner].map(writable));
  return program.methods.finalize().accountsPartial(accounts).remainingAccounts(remaining).instruction();
}

export function expireJobInstruction(program: Program<ComputeMarket>, accounts: ExpireJobAccounts): Promise<TransactionInstruction> {
  return program.methods.expireJob().accountsPartial(accounts).instruction();
}

export function failNoShowInstruction(program: Program<ComputeMarket>, accounts: FailWinnerAccounts): Promise<TransactionInstruction> {
  return program.methods.failNoShow().accountsPartial(accounts).instruction();
}

export function failTimeoutInstruction(program: Program<ComputeMarket>, accounts: FailWinnerAccounts): Promise<TransactionInstruction> {
  return program.methods.failTimeout().accountsPartial(accounts).instruction();
}
