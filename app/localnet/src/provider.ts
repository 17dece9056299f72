// An Anchor provider whose wallet is a keypair and whose connection is the in-process ledger.
import { AnchorProvider, Wallet } from "@coral-xyz/anchor";
import type { Connection, Keypair } from "@solana/web3.js";
import { LiteSvmConnection } from "./connection";
import type { Ledger } from "./ledger";

export function localProvider(ledger: Ledger, payer: Keypair): AnchorProvider {
  const connection = new LiteSvmConnection(ledger);
  // The stand-in implements only what Anchor calls; see LiteSvmConnection.
  return new AnchorProvider(connection as unknown as Connection, new Wallet(payer), {
    commitment: "confirmed",
    preflightCommitment: "confirmed",
  });
}
