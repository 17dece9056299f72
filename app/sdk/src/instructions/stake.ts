// Builds the stake instructions: `stake`, `request_unstake`, `withdraw_unstaked`.
import type { Program } from "@coral-xyz/anchor";
import type { PublicKey, TransactionInstruction } from "@solana/web3.js";
import type { ComputeMarket } from "../generated/compute_market";
import { u64 } from "../native";

export interface StakeAccounts {
  owner: PublicKey;
  provider: PublicKey;
  vault: PublicKey;
  ownerToken: PublicKey;
}

export interface RequestUnstakeAccounts {
  owner: PublicKey;
  provider: PublicKey;
  market: PublicKey;
}

export function stakeInstruction(
  program: Program<ComputeMarket>,
  args: { amount: bigint },
  accounts: StakeAccounts,
): Promise<TransactionInstruction> {
  return program.methods.stake(u64(args.amount, "amount")).accountsPartial(accounts).instruction();
}

export function requestUnstakeInstruction(
  program: Program<ComputeMarket>,
  args: { amount: bigint },
  accounts: RequestUnstakeAccounts,
): Promise<TransactionInstruction> {
  return program.methods.requestUnstake(u64(args.amount, "amount")).accountsPartial(accounts).instruction();
}

export function withdrawUnstakedInstruction(
  program: Program<ComputeMarket>,
  accounts: StakeAccounts,
): Promise<TransactionInstruction> {
  return program.methods.withdrawUnstaked().accountsPartial(accounts).instruction();
}
