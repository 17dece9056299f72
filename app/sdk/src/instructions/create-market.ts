// Builds `create_market`: the authority opens a market for one resource class.
import type { Program } from "@coral-xyz/anchor";
import type { PublicKey, TransactionInstruction } from "@solana/web3.js";
import type { ComputeMarket } from "../generated/compute_market";
import { encodeMarketParams, encodeResourceClass, type MarketParamsInput, type ResourceClassInput } from "../types";

export interface CreateMarketArgs {
  class: ResourceClassInput;
  params: MarketParamsInput;
}

export interface CreateMarketAccounts {
  authority: PublicKey;
  config: PublicKey;
  market: PublicKey;
  paymentMint: PublicKey;
  stakeMint: PublicKey;
}

export function createMarketInstruction(
  program: Program<ComputeMarket>,
  args: CreateMarketArgs,
  accounts: CreateMarketAccounts,
): Promise<TransactionInstruction> {
  return program.methods
    .createMarket(encodeResourceClass(args.class), encodeMarketParams(args.params))
    .accountsPartial(accounts)
    .instruction();
}
