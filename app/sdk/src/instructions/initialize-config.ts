// Builds `initialize_config`: creates the protocol config; the authority signs and pays.
import type { Program } from "@coral-xyz/anchor";
import type { PublicKey, TransactionInstruction } from "@solana/web3.js";
import type { ComputeMarket } from "../generated/compute_market";
import { uint } from "../native";

export interface InitializeConfigArgs {
  protocolFeeBps: number;
  treasury: PublicKey;
}

export interface InitializeConfigAccounts {
  authority: PublicKey;
  config: PublicKey;
}

export function initializeConfigInstruction(
  program: Program<ComputeMarket>,
  args: InitializeConfigArgs,
  accounts: InitializeConfigAccounts,
): Promise<TransactionInstruction> {
  return program.methods
    .initializeConfig(uint(args.protocolFeeBps, 16, "protocolFeeBps"), args.treasury)
    .accountsPartial(accounts)
    .instruction();
}
