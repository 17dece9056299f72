// Child processes for end-to-end tests: the local cluster and keepers, each a real process
// started the way an operator would start it, stopped with SIGTERM (SIGKILL after a grace period).
import { spawn, type ChildProcess } from "node:child_process";
import { writeFileSync, mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import readline from "node:readline";
import type { Keypair } from "@solana/web3.js";

const ROOT = path.resolve(__dirname, "../..");
const STOP_GRACE_MS = 5_000;

export interface Spawned {
  child: ChildProcess;
  /** Everything the process wrote, for failure reports. */
  output: string[];
  stop(): Promise<void>;
}

/** Runs a TypeScript entry point of the repository with ts-node, as the npm scripts do. */
export function spawnTs(entry: string, args: string[], env: Record<string, string> = {}): Spawned {
  const child = spawn(process.execPath, ["-r", "ts-node/register", path.join(ROOT, entry), ...args], {
    cwd: ROOT,
    env: { ...process.env, TS_NODE_PROJECT: path.join(ROOT, "tsconfig.json"), ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const output: string[] = [];
  for (const stream of [child.stdout!, child.stderr!]) readline.createInterface({ input: stream }).on("line", (line) => output.push(line));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  return {
    child,
    output,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGTERM");
      // A daemon that ignores SIGTERM for too long is killed so the suite cannot hang.
      const killTimer = setTimeout(() => child.kill("SIGKILL"), STOP_GRACE_MS);
      await exited;
      clearTimeout(killTimer);
    },
  };
}

/** The local cluster on free ports; resolves once it prints its ready line. */
export async function startLocalnetProcess(slotMs: number): Promise<Spawned & { url: string; wsUrl: string }> {
  const spawned = spawnTs("app/localnet/src/cli.ts", ["--port", "0", "--slot-ms", String(slotMs)]);
  const ready = await new Promise<{ url: string; wsUrl: string }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`localnet did not start:\n${spawned.output.join("\n")}`)), 60_000);
    readline.createInterface({ input: spawned.child.stdout! }).on("line", (line) => {
      try {
        const parsed = JSON.parse(line) as { event?: string; url: string; wsUrl: string };
        if (parsed.event === "ready") {
          clearTimeout(timer);
          resolve(parsed);
        }
      } catch {
        // not the ready line
      }
    });
    spawned.child.once("exit", (code) => reject(new Error(`localnet exited with ${code}:\n${spawned.output.join("\n")}`)));
  });
  return { ...spawned, ...ready };
}

/** A keeper daemon with its own wallet file; its status port is chosen by the system. */
export function startKeeperProcess(url: string, wallet: Keypair, tickMs: number): Spawned {
  const dir = mkdtempSync(path.join(os.tmpdir(), "keeper-"));
  const keypair = path.join(dir, "id.json");
  writeFileSync(keypair, JSON.stringify(Array.from(wallet.secretKey)));
  return spawnTs("app/keeper/src/main.ts", ["run", "--url", url, "--keypair", keypair, "--port", "0", "--tick-ms", String(tickMs)], { LOG_LEVEL: "info" });
}

/** A provider node process (`provider run`) with its own wallet file and work directory. */
export function startProviderProcess(options: { url: string; wallet: Keypair; market: string; endpoint: string; port: number; workDir: string; extra?: string[] }): Spawned {
  const dir = mkdtempSync(path.join(os.tmpdir(), "provider-wallet-"));
  const keypair = path.join(dir, "id.json");
  writeFileSync(keypair, JSON.stringify(Array.from(options.wallet.secretKey)));
  return spawnTs(
    "app/provider/src/main.ts",
    ["run", "--url", options.url, "--keypair", keypair, "--market", options.market, "--endpoint", options.endpoint, "--port", String(options.port), "--status-port", "0", "--work-dir", options.workDir, "--tick-ms", "100", ...(options.extra ?? [])],
    { LOG_LEVEL: "info", PROVIDER_RESERVE_MEMORY_MB: "0", PROVIDER_RESERVE_DISK_GB: "0" },
  );
}
