// The sandbox's faucet from outside the cluster's process: `localnet_requestTokens` over JSON-RPC,
// with errors that say what to do (no cluster there, a cluster without a sandbox, a refused amount).
import type { PublicKey } from "@solana/web3.js";
import type { FaucetGrant } from "./faucet-registry";

/** Asks the faucet at `url` for `amount` base units of each sandbox token and `lamports` of SOL for `owner`. */
export async function requestTokens(url: string, owner: PublicKey, amount: bigint, lamports = 0n): Promise<FaucetGrant> {
  const body = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "localnet_requestTokens", params: [owner.toBase58(), Number(amount), Number(lamports)] });
  let response: Response;
  try {
    response = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body });
  } catch {
    throw new Error(`nothing answers at ${url}: start a sandbox with \`npm run localnet -- --bootstrap\` (or pass its --url)`);
  }
  const reply = (await response.json().catch(() => ({}))) as { result?: FaucetGrant; error?: { message: string } };
  if (reply.error) throw new Error(`the faucet at ${url} refused: ${reply.error.message}`);
  if (!reply.result) throw new Error(`${url} did not answer as a local cluster (HTTP ${response.status})`);
  return reply.result;
}
