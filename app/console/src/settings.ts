// What the page talks to, from its URL: `?rpc=<JSON-RPC URL>` (default: a local cluster on its
// default port) and `?program=<id>` (default: the program's localnet id).
import { PublicKey } from "@solana/web3.js";
import { DEFAULT_PROGRAM_ID } from "@compute-market/sdk";

export interface Settings {
  rpcUrl: string;
  programId: PublicKey;
}

export const DEFAULT_RPC_URL = "http://127.0.0.1:8899";

export function settingsFrom(search: string): Settings {
  const query = new URLSearchParams(search);
  const program = query.get("program");
  return { rpcUrl: query.get("rpc") ?? DEFAULT_RPC_URL, programId: program ? new PublicKey(program) : DEFAULT_PROGRAM_ID };
}
