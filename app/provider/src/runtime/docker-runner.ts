// One job's container run through dockerode: make sure the image is here, create the container
// from the spec, stream its output line by line, enforce the wall-clock limit, read how it ended
// and always remove it. Failures come back classified (errors.ts), never as a hang: every call
// to the daemon has a time limit, and a daemon that goes away ends the run.
import fs from "node:fs/promises";
import path from "node:path";
import { PassThrough } from "node:stream";
import readline from "node:readline";
import type Docker from "dockerode";
import type { ContainerJobSpec } from "@compute-market/sdk";
import { containerOptions, JOB_LABEL, NODE_LABEL } from "./container-options";
import { ContainerRunError, isDaemonError, type RunFailureReason } from "./errors";

export type LogStreamName = "stdout" | "stderr";

export interface RunOptions {
  docker: Docker;
  spec: ContainerJobSpec;
  jobId: string;
  /** The node the container belongs to (labelled, so only this node cleans it up). */
  nodeId?: string;
  /** Host directory mounted read-only at /inputs (already filled). */
  inputsDir: string;
  /** Host directory mounted at /outputs; created when missing. */
  outputDir: string;
  onLog?: (stream: LogStreamName, line: string) => void;
  signal?: AbortSignal;
  /** Limit on each daemon request other than waiting for the container (default 15 s). */
  daemonTimeoutMs?: number;
  /** Limit on pulling a missing image (default 120 s). */
  pullTimeoutMs?: number;
}

export interface RunResult {
  status: "succeeded" | "failed";
  exitCode: number | null;
  reason?: RunFailureReason;
  message?: string;
  outputDir: string;
  /** Milliseconds since the epoch. */
  startedAt: number;
  finishedAt: number;
  durationMs: number;
}

const DEFAULT_DAEMON_TIMEOUT_MS = 15_000;
const DEFAULT_PULL_TIMEOUT_MS = 120_000;
/** Pulls are tried only for registry references pinned by digest. */
const PULLABLE = /^[a-z0-9][a-z0-9._\-/:]*@sha256:[0-9a-f]{64}$/;

/** Rejects with a daemon-unavailable error when `promise` takes longer than `ms`. */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new ContainerRunError("daemon-unavailable", `the Docker daemon did not answer ${what} within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export async function isDaemonReachable(docker: Docker, timeoutMs = 3_000): Promise<boolean> {
  try {
    await withTimeout(docker.ping(), timeoutMs, "a ping");
    return true;
  } catch {
    return false;
  }
}

/**
 * Removes containers of earlier runs — every job's (a node starting after a crash) or one job's
 * (before running it again) — and returns how many were removed.
 */
export async function cleanupLeftovers(docker: Docker, timeoutMs = DEFAULT_DAEMON_TIMEOUT_MS, job?: string, node?: string, keep: (container: Docker.ContainerInfo) => boolean = () => false): Promise<number> {
  // Docker matches every label filter given: this job's containers, of this node only.
  const labels = [job === undefined ? JOB_LABEL : `${JOB_LABEL}=${job}`, ...(node === undefined ? [] : [`${NODE_LABEL}=${node}`])];
  const listed = await withTimeout(docker.listContainers({ all: true, filters: { label: labels } }), timeoutMs, "the container list");
  const leftovers = listed.filter((container) => !keep(container));
  await Promise.all(leftovers.map((c) => withTimeout(docker.getContainer(c.Id).remove({ force: true, v: true }), timeoutMs, "a removal").catch(() => undefined)));
  return leftovers.length;
}

function statusCodeOf(error: unknown): number | undefined {
  return (error as { statusCode?: number } | null)?.statusCode;
}

/** Makes sure the image is present: inspected, else pulled when it names a registry digest. */
export async function ensureImage(docker: Docker, image: string, daemonTimeoutMs: number, pullTimeoutMs: number): Promise<void> {
  try {
    await withTimeout(docker.getImage(image).inspect(), daemonTimeoutMs, "an image inspection");
    return;
  } catch (error) {
    if (statusCodeOf(error) !== 404) throw error;
  }
  if (!PULLABLE.test(image)) throw new ContainerRunError("image-missing", `image ${image} is not present on this node (a local image ID cannot be pulled)`);
  try {
    const stream = await withTimeout(docker.pull(image), daemonTimeoutMs, "a pull request");
    await withTimeout(
      new Promise<void>((resolve, reject) => docker.modem.followProgress(stream, (error: Error | null) => (error ? reject(error) : resolve()))),
      pullTimeoutMs,
      "the pull",
    );
  } catch (error) {
    if (isDaemonError(error) && !(error instanceof ContainerRunError && /the pull/.test(error.message))) throw error;
    throw new ContainerRunError("image-missing", `image ${image} is not present and could not be pulled: ${error instanceof Error ? error.message : String(error)}`, error);
  }
}

/** Total bytes of the regular files under `dir`, not following links. */
export async function directorySize(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await fs.readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) total += await directorySize(full);
    else total += (await fs.lstat(full)).size;
  }
  return total;
}

function linesOf(stream: PassThrough, name: LogStreamName, onLog: RunOptions["onLog"]): Promise<void> {
  const reader = readline.createInterface({ input: stream, crlfDelay: Infinity });
  reader.on("line", (line) => onLog?.(name, line));
  return new Promise((resolve) => reader.once("close", () => resolve()));
}

/**
 * Attaches to a container (before it starts, so nothing is missed) and hands each line of its
 * stdout and stderr to `onLog`; `done` resolves once the streams end (it stopped).
 */
export async function attachLines(docker: Docker, container: Docker.Container, daemonTimeoutMs: number, onLog: RunOptions["onLog"]): Promise<{ done: Promise<void> }> {
  const attached = await withTimeout(container.attach({ stream: true, stdout: true, stderr: true }), daemonTimeoutMs, "attach");
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  docker.modem.demuxStream(attached, stdout, stderr);
  const done = Promise.all([linesOf(stdout, "stdout", onLog), linesOf(stderr, "stderr", onLog)]).then(() => undefined);
  const close = () => {
    stdout.end();
    stderr.end();
  };
  attached.on("end", close);
  attached.on("error", close);
  // In an object: a promise returned from an async function would be awaited with it.
  return { done };
}

export async function runContainer(options: RunOptions): Promise<RunResult> {
  const { docker, spec, signal } = options;
  const daemonTimeoutMs = options.daemonTimeoutMs ?? DEFAULT_DAEMON_TIMEOUT_MS;
  const startedAt = Date.now();
  const finish = (status: RunResult["status"], exitCode: number | null, reason?: RunFailureReason, message?: string): RunResult => {
    const finishedAt = Date.now();
    return { status, exitCode, reason, message, outputDir: options.outputDir, startedAt, finishedAt, durationMs: finishedAt - startedAt };
  };
  if (signal?.aborted) return finish("failed", null, "cancelled", "cancelled before start");
  await fs.mkdir(options.outputDir, { recursive: true });

  let container: Docker.Container | null = null;
  try {
    // An earlier attempt cut off by a lost daemon connection may still be there.
    await cleanupLeftovers(docker, daemonTimeoutMs, options.jobId, options.nodeId);
    await ensureImage(docker, spec.image, daemonTimeoutMs, options.pullTimeoutMs ?? DEFAULT_PULL_TIMEOUT_MS);
    container = await withTimeout(docker.createContainer(containerOptions(spec, { inputsDir: options.inputsDir, outputDir: options.outputDir }, options.jobId, options.nodeId)), daemonTimeoutMs, "container creation");
    const { done: logsDone } = await attachLines(docker, container, daemonTimeoutMs, options.onLog);

    // "next-exit": the default condition answers at once for a container not started yet.
    const exited = container.wait({ condition: "next-exit" }) as Promise<{ StatusCode: number }>;
    await withTimeout(container.start(), daemonTimeoutMs, "container start");
    const ending = await waitForEnd(exited, spec.timeoutSeconds * 1000, signal);
    if (ending !== "exited") await withTimeout(container.kill(), daemonTimeoutMs, "kill").catch(() => undefined);
    const { StatusCode } = await withTimeout(exited, daemonTimeoutMs, "the container's exit");
    await withTimeout(logsDone, 5_000, "the end of the logs").catch(() => undefined);
    const state = (await withTimeout(container.inspect(), daemonTimeoutMs, "container inspection")).State;

    if (ending === "cancelled") return finish("failed", StatusCode, "cancelled", "the run was cancelled");
    if (ending === "timeout") return finish("failed", StatusCode, "timeout", `the job ran past its ${spec.timeoutSeconds} s limit and was killed`);
    if (state.OOMKilled) return finish("failed", StatusCode, "oom-killed", `the job exceeded its ${spec.memoryMb} MB memory limit and was killed`);
    const outputBytes = await directorySize(options.outputDir);
    if (outputBytes > spec.maxOutputBytes) return finish("failed", StatusCode, "output-too-large", `the job wrote ${outputBytes} bytes of outputs, more than its ${spec.maxOutputBytes} limit`);
    if (StatusCode !== 0) return finish("failed", StatusCode, "exit-nonzero", `the job's command exited with status ${StatusCode}`);
    return finish("succeeded", 0);
  } catch (error) {
    if (error instanceof ContainerRunError) return finish("failed", null, error.reason, error.message);
    if (isDaemonError(error)) return finish("failed", null, "daemon-unavailable", `the Docker daemon is unavailable: ${error instanceof Error ? error.message : String(error)}`);
    throw error;
  } finally {
    if (container) await withTimeout(container.remove({ force: true, v: true }), daemonTimeoutMs, "container removal").catch(() => undefined);
  }
}

/** Whichever comes first: the container exits, its time is up, or the node cancels the run. */
function waitForEnd(exited: Promise<unknown>, limitMs: number, signal?: AbortSignal): Promise<"exited" | "timeout" | "cancelled"> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => resolve("timeout"), limitMs);
    const onAbort = () => resolve("cancelled");
    signal?.addEventListener("abort", onAbort, { once: true });
    exited.then(
      () => resolve("exited"),
      (error: unknown) => reject(error),
    ).finally(() => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
    });
  });
}
