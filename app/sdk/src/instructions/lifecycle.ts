// Builds the instructions that move an awarded job to its end: `award`, `start_job`,
// `commit_result`, `finalize`, `expire_job`, `fail_no_show`, `fail_timeout`.
import type { Program } from "@coral-xyz/anchor";
import type { AccountMeta, PublicKey, TransactionInstruction } from "@solana/web3.js";
import type { ComputeMarket } from "../generated/compute_market";
import { sha256 } from "@noble/hashes/sha256";
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

/** A sealed replicated result: binds the output root to a secret salt and to the provider. */
export function resultCommitment(outputRoot: Uint8Array, salt: Uint8Array, provider: PublicKey): Uint8Array {
  return sha256(new Uint8Array([...new TextEncoder().encode("result"), ...bytes32ToArray(outputRoot, "outputRoot"), ...bytes32ToArray(salt, "salt"), ...provider.toBytes()]));
}

function bytes32ToArray(value: Uint8Array, field: string): number[] {
  return bytes32(value, field);
}

export function commitSealedResultInstruction(
  program: Program<ComputeMarket>,
  args: { commitment: Uint8Array; resultUriHash: Uint8Array },
  accounts: WinnerAccounts & { market: PublicKey },
): Promise<TransactionInstruction> {
  return program.methods
    .commitSealedResult(bytes32(args.commitment, "commitment"), bytes32(args.resultUriHash, "resultUriHash"))
    .accountsPartial(accounts)
    .instruction();
}

export function revealResultInstruction(
  program: Program<ComputeMarket>,
  args: { outputRoot: Uint8Array; salt: Uint8Array },
  accounts: WinnerAccounts,
): Promise<TransactionInstruction> {
  return program.methods.revealResult(bytes32(args.outputRoot, "outputRoot"), bytes32(args.salt, "salt")).accountsPartial(accounts).instruction();
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
  /** The provider's stake vault (slashed when a sealed result is in the minority or unrevealed). */
  vault: PublicKey;
}

/** What `finalize` needs for a job with sealed results: where slashes go. */
export interface FinalizeSlashAccounts {
  market: PublicKey;
  /** The consumer's stake-mint token account (its share of slashes). */
  consumerStakeToken: PublicKey;
  /** The treasury's stake-mint token account. */
  treasuryStakeToken: PublicKey;
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
  /** The keeper's token account of the stake mint: its crank share of the slash. */
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
  slashes?: FinalizeSlashAccounts,
): Promise<TransactionInstruction> {
  const remaining = winners.flatMap((w) => [w.bid, w.provider, w.ownerToken, w.owner, w.vault].map(writable));
  if (slashes) remaining.push(...[slashes.market, slashes.consumerStakeToken, slashes.treasuryStakeToken].map(writable));
  return program.methods.finalize().accountsPartial(accounts).remainingAccounts(remaining).instruction();
}

export function expireJobInstruction(program: Program<ComputeMarket>, accounts: ExpireJobAccounts): Promise<TransactionInstruction> {
  return program.methods.expireJob().accountsPartial(accounts).instruction();
}

/** A lease's seat winner passes the lease's terms (`service`): its seat is given up, the lease runs on. */
export function failNoShowInstruction(program: Program<ComputeMarket>, accounts: FailWinnerAccounts, service?: PublicKey): Promise<TransactionInstruction> {
  return program.methods
    .failNoShow()
    .accountsPartial(accounts)
    .remainingAccounts(service ? [writable(service)] : [])
    .instruction();
}

export function failTimeoutInstruction(program: Program<ComputeMarket>, accounts: FailWinnerAccounts): Promise<TransactionInstruction> {
  return program.methods.failTimeout().accountsPartial(accounts).instruction();
}
