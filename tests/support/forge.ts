// Rewrites a program account's fields in place, to reach states no instruction can reach yet
// (or only after many steps) and check the program's guards against them.
import type { Program } from "@coral-xyz/anchor";
import type { PublicKey } from "@solana/web3.js";
import type { ComputeMarket } from "@compute-market/sdk";
import type { TestEnv } from "./env";

type AccountName = "config" | "market" | "provider" | "job";

/** Decodes the account with Anchor's coder, lets `mutate` edit the decoded fields, writes it back. */
export async function forgeAccount(
  env: TestEnv,
  program: Program<ComputeMarket>,
  address: PublicKey,
  name: AccountName,
  mutate: (fields: Record<string, unknown>) => void,
): Promise<void> {
  const info = env.ledger.getAccount(address);
  if (!info) throw new Error(`no account at ${address.toBase58()}`);
  const fields = program.coder.accounts.decode(name, info.data) as Record<string, unknown>;
  mutate(fields);
  const data = await program.coder.accounts.encode(name, fields);
  env.ledger.setAccount(address, { ...info, data });
}
