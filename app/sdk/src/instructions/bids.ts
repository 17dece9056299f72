// Builds the provider's bid instructions: `place_bid`, `reveal_bid`, `withdraw_bid`; and the
// sealed-bid commitment.
import type { Program } from "@coral-xyz/anchor";
import { sha256 } from "@noble/hashes/sha256";
import type { PublicKey, TransactionInstruction } from "@solana/web3.js";
import type { ComputeMarket } from "../generated/compute_market";
import { bytes32, u64 } from "../native";
import { u64Seed } from "../pda";

export interface PlaceBidAccounts {
  owner: PublicKey;
  provider: PublicKey;
  market: PublicKey;
  job: PublicKey;
  bid: PublicKey;
}

export interface RevealBidAccounts {
  owner: PublicKey;
  provider: PublicKey;
  job: PublicKey;
  bid: PublicKey;
}

export interface WithdrawBidAccounts {
  owner: PublicKey;
  provider: PublicKey;
  vault: PublicKey;
  config: PublicKey;
  market: PublicKey;
  job: PublicKey;
  bid: PublicKey;
  treasuryStakeToken: PublicKey;
}

/** sha256(price as u64 LE ‖ salt ‖ provider), as the program checks it at reveal. */
export function bidCommitment(price: bigint, salt: Uint8Array, provider: PublicKey): Uint8Array {
  bytes32(salt, "salt");
  return sha256(new Uint8Array([...u64Seed(price), ...salt, ...provider.toBytes()]));
}

/** An open bid at `price`, or a sealed bid (price 0) carrying `commitment`. */
export function placeBidInstruction(
  program: Program<ComputeMarket>,
  args: { price: bigint; commitment?: Uint8Array },
  accounts: PlaceBidAccounts,
): Promise<TransactionInstruction> {
  const commitment = args.commitment ?? new Uint8Array(32);
  return program.methods
    .placeBid(u64(args.price, "price"), bytes32(commitment, "commitment"))
    .accountsPartial(accounts)
    .instruction();
}

export function revealBidInstruction(
  program: Program<ComputeMarket>,
  args: { price: bigint; salt: Uint8Array },
  accounts: RevealBidAccounts,
): Promise<TransactionInstruction> {
  return program.methods
    .revealBid(u64(args.price, "price"), bytes32(args.salt, "salt"))
    .accountsPartial(accounts)
    .instruction();
}

export function withdrawBidInstruction(
  program: Program<ComputeMarket>,
  accounts: WithdrawBidAccounts,
): Promise<TransactionInstruction> {
  return program.methods.withdrawBid().accountsPartial(accounts).instruction();
}
