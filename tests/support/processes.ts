// Child processes for end-to-end tests: the local cluster, keepers and provider nodes, each a
// real process started the way an operator would start it, and shell scripts run the way a
// reader runs the README's blocks.
import { spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Keypair } from "@solana/web3.js";
import { spawnTs as spawnEntry, watchChild, type Spawned } from "@compute-market/common";

export type { Spawned };

const ROOT = path.resolve(__dirname, "../..");

export function spawnTs(entry: string, args: string[], env: Record<string, string> = {}): Spawned {
  return spawnEntry(ROOT, entry, args, env);
}

/** How long a stopped shell's process group has after SIGTERM before SIGKILL. */
const SHELL_STOP_GRACE_MS = 5_000;

/**
 * A bash script run as a reader runs a README block: from the repository's root (or `cwd`), with
 * `env` added to this process's environment (less ts-node's settings), under `set -euo pipefail`.
 * It leads a process group of its own, so that `stop` reaches what `npm run` started under it
 * (SIGTERM, then SIGKILL).
 */
export function spawnShell(script: string, env: Record<string, string> = {}, cwd = ROOT): Spawned {
  // A reader's shell has none of the test runner's ts-node settings (ts-mocha's relative
  // TS_NODE_PROJECT would send `npm run`'s ts-node looking for a tsconfig beside each script).
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith("TS_NODE_")));
  const child = spawn("bash", ["-c", `set -euo pipefail\n${script}`], { cwd, env: { ...inherited, ...env }, stdio: ["ignore", "pipe", "pipe"], detached: true });
  const spawned = watchChild(child, `bash -c ${JSON.stringify(script.split("\n")[0])}`);
  const group = (signal: NodeJS.Signals | 0): boolean => {
    try {
      process.kill(-child.pid!, signal);
      return true;
    } catch {
      return false; // no process of the group is left
    }
  };
  return {
    ...spawned,
    stop: async () => {
      if (!group(0)) return;
      group("SIGTERM");
      const deadline = Date.now() + SHELL_STOP_GRACE_MS;
      while (group(0) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
      group("SIGKILL");
    },
  };
}

/** Runs a script to its end (see `spawnShell`); its exit code and every line it wrote. */
export async function runShell(script: string, env: Record<string, string> = {}, cwd = ROOT): Promise<{ code: number | null; output: string[] }> {
  const spawned = spawnShell(script, env, cwd);
  const code = await new Promise<number | null>((resolve) => spawned.child.once("close", (exitCode) => resolve(exitCode)));
  return { code, output: spawned.output };
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
