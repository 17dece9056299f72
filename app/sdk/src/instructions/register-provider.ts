// Builds `register_provider`: an operator joins a market with its hardware; vault created.
import type { Program } from "@coral-xyz/anchor";
import type { PublicKey, TransactionInstruction } from "@solana/web3.js";
import type { ComputeMarket } from "../generated/compute_market";
import { bytes32 } from "../native";
import { encodeHardwareSpec, type HardwareSpecInput } from "../types";

export interface RegisterProviderArgs {
  spec: HardwareSpecInput;
  /** sha256 of the provider's public endpoint URL. */
  endpointHash: Uint8Array;
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
    .registerProvider(encodeHardwareSpec(args.spec), bytes32(args.endpointHash, "endpointHash"))
    .accountsPartial(accounts)
    .instruction();
}
