// Builds `register_provider` (an operator joins a market with its hardware; vault created) and
// `update_provider` (it re-registers its hardware or endpoint).
import type { Program } from "@coral-xyz/anchor";
import type { PublicKey, TransactionInstruction } from "@solana/web3.js";
import type { ComputeMarket } from "../generated/compute_market";
import { encodeEndpoint } from "../native";
import { encodeHardwareSpec, type HardwareSpecInput } from "../types";

export interface RegisterProviderArgs {
  spec: HardwareSpecInput;
  /** The provider's public endpoint URL (at most 96 bytes of UTF-8). */
  endpoint: string;
}

export interface RegisterProviderAccounts {
  owner: PublicKey;
  market: PublicKey;
  provider: PublicKey;
  vault: PublicKey;
  stakeMint: PublicKey;
}

export function registerProviderInstruction(
  program: Program<ComputeMarket>,
  args: RegisterProviderArgs,
  accounts: RegisterProviderAccounts,
): Promise<TransactionInstruction> {
  return program.methods
    .registerProvider(encodeHardwareSpec(args.spec), encodeEndpoint(args.endpoint))
    .accountsPartial(accounts)
    .instruction();
}

export type UpdateProviderArgs = RegisterProviderArgs;

export interface UpdateProviderAccounts {
  owner: PublicKey;
  provider: PublicKey;
  market: PublicKey;
}

export function updateProviderInstruction(
  program: Program<ComputeMarket>,
  args: UpdateProviderArgs,
  accounts: UpdateProviderAccounts,
): Promise<TransactionInstruction> {
  return program.methods
    .updateProvider(encodeHardwareSpec(args.spec), encodeEndpoint(args.endpoint))
    .accountsPartial(accounts)
    .instruction();
}
