// Builds `update_config`: the authority replaces fee, treasury, authority and pause flag.
import type { Program } from "@coral-xyz/anchor";
import type { PublicKey, TransactionInstruction } from "@solana/web3.js";
import type { ComputeMarket } from "../generated/compute_market";
import { uint } from "../native";

export interface UpdateConfigArgs {
  protocolFeeBps: number;
  treasury: PublicKey;
  authority: PublicKey;
  paused: boolean;
}

export interface UpdateConfigAccounts {
  authority: PublicKey;
  config: PublicKey;
}

export function updateConfigInstruction(
  program: Program<ComputeMarket>,
  args: UpdateConfigArgs,
  accounts: UpdateConfigAccounts,
): Promise<TransactionInstruction> {
  return program.methods
    .updateConfig(uint(args.protocolFeeBps, 16, "protocolFeeBps"), args.treasury, args.authority, args.paused)
    .accountsPartial(accounts)
    .instruction();
}
