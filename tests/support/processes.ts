// Child processes for end-to-end tests: the local cluster, keepers and provider nodes, each a
// real process started the way an operator would start it.
import { mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Keypair } from "@solana/web3.js";
import { spawnTs as spawnEntry, type Spawned } from "@compute-market/common";

export type { Spawned };

const ROOT = path.resolve(__dirname, "../..");

export function spawnTs(entry: string, args: string[], env: Record<string, string> = {}): Spawned {
  return spawnEntry(ROOT, entry, args, env);
}

/** The local cluster on free ports; resolves once it prints its ready line. */
export async function startLocalnetProcess(slotMs: number): Promise<Spawned & { url: string; wsUrl: string }> {
  const spawned = spawnTs("app/localnet/src/cli.ts", ["--port", "0", "--slot-ms", String(slotMs)]);
  const ready = (await spawned.waitForLine((_line, json) => json?.event === "ready", 60_000)) as { url: string; wsUrl: string };
  return { ...spawned, url: ready.url, wsUrl: ready.wsUrl };
}

function walletFile(wallet: Keypair, prefix: string): string {
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), prefix)), "id.json");
  writeFileSync(file, JSON.stringify(Array.from(wallet.secretKey)));
  return file;
}

/** A keeper daemon with its own wallet file; its status port is chosen by the system. */
export function startKeeperProcess(url: string, wallet: Keypair, tickMs: number, extra: string[] = []): Spawned {
  return spawnTs("app/keeper/src/main.ts", ["run", "--url", url, "--keypair", walletFile(wallet, "keeper-"), "--port", "0", "--tick-ms", String(tickMs), ...extra], { LOG_LEVEL: "info" });
}

/** A provider node process (`provider run`) with its own wallet file and work directory. */
export function startProviderProcess(options: { url: string; wallet: Keypair; market: string; endpoint: string; port: number; workDir: string; extra?: string[] }): Spawned {
  return spawnTs(
    "app/provider/src/main.ts",
    [
      "run",
      "--url", options.url,
      "--keypair", walletFile(options.wallet, "provider-wallet-"),
      "--market", options.market,
      "--endpoint", options.endpoint,
      "--port", String(options.port),
      "--status-port", "0",
      "--work-dir", options.workDir,
      "--tick-ms", "100",
      ...(options.extra ?? []),
    ],
    { LOG_LEVEL: "info", PROVIDER_RESERVE_MEMORY_MB: "0", PROVIDER_RESERVE_DISK_GB: "0" },
  );
}
