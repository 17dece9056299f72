// Child processes of the repository's own TypeScript entry points (the local cluster, keepers,
// provider nodes), started as an operator would start them and stopped with SIGTERM, then
// SIGKILL after a grace period, so that whoever started them can never hang on one.
import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import readline from "node:readline";

export interface Spawned {
  child: ChildProcess;
  /** Every line the process wrote, stdout and stderr, for reports. */
  output: string[];
  /** Resolves with the first output line that `match` accepts (parsed as JSON when possible). */
  waitForLine(match: (line: string, json: Record<string, unknown> | null) => boolean, timeoutMs: number): Promise<Record<string, unknown> | string>;
  stop(): Promise<void>;
}

const STOP_GRACE_MS = 5_000;

function parseJson(line: string): Record<string, unknown> | null {
  try {
    const value = JSON.parse(line) as unknown;
    return value !== null && typeof value === "object" ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** Runs `entry` (relative to `root`) with ts-node, as the npm scripts do. */
export function spawnTs(root: string, entry: string, args: string[], env: Record<string, string> = {}): Spawned {
  const child = spawn(process.execPath, ["-r", "ts-node/register", path.join(root, entry), ...args], {
    cwd: root,
    env: { ...process.env, TS_NODE_PROJECT: path.join(root, "tsconfig.json"), ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  return watchChild(child, entry);
}

/** Follows a child started elsewhere (with stdout and stderr piped): its output lines, a wait for
 * one of them, and a stop; `label` names it in errors. */
export function watchChild(child: ChildProcess, label: string): Spawned {
  const output: string[] = [];
  const listeners = new Set<(line: string) => void>();
  for (const stream of [child.stdout!, child.stderr!]) {
    readline.createInterface({ input: stream }).on("line", (line) => {
      output.push(line);
      for (const listener of listeners) listener(line);
    });
  }
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  return {
    child,
    output,
    waitForLine: (match, timeoutMs) =>
      new Promise((resolve, reject) => {
        const done = (outcome: () => void) => {
          clearTimeout(timer);
          listeners.delete(listener);
          child.off("exit", onExit);
          outcome();
        };
        const listener = (line: string) => {
          const json = parseJson(line);
          if (match(line, json)) done(() => resolve(json ?? line));
        };
        const onExit = (code: number | null) => done(() => reject(new Error(`${label} exited with ${code}:\n${output.slice(-20).join("\n")}`)));
        const timer = setTimeout(() => done(() => reject(new Error(`${label} did not get ready in ${timeoutMs} ms:\n${output.slice(-20).join("\n")}`))), timeoutMs);
        listeners.add(listener);
        child.once("exit", onExit);
        for (const line of output) listener(line);
      }),
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGTERM");
      const killTimer = setTimeout(() => child.kill("SIGKILL"), STOP_GRACE_MS);
      await exited;
      clearTimeout(killTimer);
    },
  };
}
