// A daemon's first contact with its cluster: the URL checked for shape at once, then asked until
// it answers, with backoff, saying each time what it cannot reach; a node that is down or a URL
// with a typo keeps the daemon waiting and telling, not dead.
import type { Connection } from "@solana/web3.js";
import type { Logger } from "./logger";
import { withRetry } from "./retry";

export interface WaitForClusterOptions {
  /** The first retry's delay and the longest one. */
  baseMs?: number;
  maxMs?: number;
  signal?: AbortSignal;
}

/** Throws at once for a URL that cannot be a JSON-RPC endpoint, naming it. */
export function checkRpcUrl(url: string): void {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(`--url ${url} is not a URL: pass a JSON-RPC endpoint such as http://127.0.0.1:8899`);
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") throw new Error(`--url ${url} is not an http(s) URL: pass a JSON-RPC endpoint such as http://127.0.0.1:8899`);
}

/** Waits until the cluster at `url` answers `getVersion`, asking again for as long as it takes; returns its version. */
export async function waitForCluster(connection: Pick<Connection, "getVersion">, url: string, logger: Logger, options: WaitForClusterOptions = {}): Promise<string> {
  checkRpcUrl(url);
  let misses = 0;
  const version = await withRetry(() => connection.getVersion(), {
    attempts: Infinity,
    baseMs: options.baseMs ?? 1_000,
    maxMs: options.maxMs ?? 30_000,
    signal: options.signal,
    onRetry: (error, attempt, retryInMs) => {
      misses = attempt;
      logger.warn({ url, err: error instanceof Error ? error.message : String(error), attempt, retryInMs }, `cannot reach the cluster at ${url}: is it running, and is --url right? retrying`);
    },
  });
  if (misses > 0) logger.info({ url, attempts: misses + 1 }, "the cluster answers");
  return version["solana-core"];
}
