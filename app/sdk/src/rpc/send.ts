// Sending through the transaction layer with an Anchor provider's connection and wallet; the
// program's refusals come back as `ComputeMarketError`, the cluster's as `SendError`s.
import type { AnchorProvider } from "@coral-xyz/anchor";
import { PublicKey, type Signer, type TransactionInstruction } from "@solana/web3.js";
import idl from "../generated/compute_market.json";
import { TransactionSender, type TransactionOptions } from "./transactions";

/** The program's instruction names by discriminator (hex), for reports and metrics. */
export const INSTRUCTION_NAMES: ReadonlyMap<string, string> = new Map(
  idl.instructions.map((ix) => [ix.discriminator.map((byte) => byte.toString(16).padStart(2, "0")).join(""), ix.name]),
);

const senders = new WeakMap<AnchorProvider, TransactionSender>();

/** A transaction sender paid and signed by `provider`'s wallet. */
export function transactionSender(provider: AnchorProvider, options: TransactionOptions = {}, programId = new PublicKey(idl.address)): TransactionSender {
  return new TransactionSender(provider.connection, provider.wallet, programId, new Map(INSTRUCTION_NAMES), options, provider.opts.commitment ?? "confirmed");
}

/**
 * Sends the instructions in one transaction, paid and signed by the provider's wallet plus
 * `signers`, through the transaction layer with its default options; returns the signature.
 * Pass a `TransactionSender` to send with its options instead.
 */
export async function sendInstructions(
  via: AnchorProvider | TransactionSender,
  instructions: TransactionInstruction[],
  signers: Signer[] = [],
): Promise<string> {
  if (via instanceof TransactionSender) return via.send(instructions, signers);
  let sender = senders.get(via);
  if (!sender) {
    sender = transactionSender(via);
    senders.set(via, sender);
  }
  return sender.send(instructions, signers);
}
