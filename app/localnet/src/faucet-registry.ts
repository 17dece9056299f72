// Which ledger has a faucet: the sandbox registers its own, and the RPC method
// `localnet_requestTokens` finds it here (a plain cluster has none and says so).
import type { PublicKey } from "@solana/web3.js";
import type { Ledger } from "./ledger";

/** What a faucet hands out, as the RPC method answers it. */
export interface FaucetGrant {
  wallet: string;
  lamports: string;
  paymentToken: string;
  stakeToken: string;
  tokens: string;
}

export interface TokenFaucet {
  fund(owner: PublicKey, amount: bigint, lamports?: bigint): FaucetGrant;
}

const faucets = new WeakMap<Ledger, TokenFaucet>();

export function registerFaucet(ledger: Ledger, faucet: TokenFaucet): void {
  faucets.set(ledger, faucet);
}

export function faucetOf(ledger: Ledger): TokenFaucet | undefined {
  return faucets.get(ledger);
}
