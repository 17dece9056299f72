// Signs and sends instructions through an Anchor provider; the program's refusals come back as
// `ComputeMarketError`.
import type { AnchorProvider } from "@coral-xyz/anchor";
import { Transaction, type Signer, type TransactionInstruction } from "@solana/web3.js";
import { translateError } from "../errors";

/**
 * Sends the instructions in one transaction, paid and signed by the provider's wallet plus
 * `signers`, and waits for confirmation. Returns the signature.
 */
export async function sendInstructions(
  provider: AnchorProvider,
  instructions: TransactionInstruction[],
  signers: Signer[] = [],
): Promise<string> {
  try {
    return await provider.sendAndConfirm(new Transaction().add(...instructions), signers);
  } catch (error) {
    throw translateError(error);
  }
}
