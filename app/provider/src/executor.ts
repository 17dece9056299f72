// Runs one awarded job: inputs out of the blob store, the container through the runtime, then the
// result set — the container's outputs, its log and a run record — hashed into the Merkle root
// the node commits. What happened inside the container (a non-zero exit, its own time or memory
// limit, too much output) is the consumer's outcome and is committed and paid; what failed on the
// node's side (Docker down, image gone) is a ProviderFault, retried while the deadline allows.
import { createWriteStream, type WriteStream } from "node:fs";
import fs from "node:fs/promises";
import path from "node:path";
import type Docker from "dockerode";
import type { PublicKey } from "@solana/web3.js";
import { hexToBytes } from "@noble/hashes/utils";
import type { ContainerJobSpec, ResultManifest } from "@compute-market/sdk";
import type { Logger } from "@compute-market/common";
import { ProviderFault, type ExecutionResult } from "./lifecycle/node";
import { hashOutputDir, type BlobStore } from "./results/store";
import type { JobLogHub } from "./results/catalog";
import { materializeInputs, runContainer, type RunFailureReason } from "./runtime";

/** The container's log kept in the result set, cut at this size. */
export const MAX_LOG_BYTES = 1024 * 1024;
/** Failures that are the job's own doing: committed as its result. */
const CONSUMER_OUTCOMES: ReadonlySet<RunFailureReason> = new Set<RunFailureReason>(["exit-nonzero", "timeout", "oom-killed", "output-too-large"]);

export interface ExecutorOptions {
  docker: Docker;
  store: BlobStore;
  hub: JobLogHub;
  /** Each run works in <workDir>/runs/<job>, removed before a new attempt. */
  workDir: string;
  logger: Logger;
  /** The node the job containers belong to. */
  nodeId?: string;
}

/** The run record at `run.json` in every result set. */
export interface RunRecord {
  job: string;
  image: string;
  status: "succeeded" | "failed";
  reason: RunFailureReason | null;
  exitCode: number | null;
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  message: string | null;
}

export async function executeJob(options: ExecutorOptions, job: PublicKey, spec: ContainerJobSpec, signal: AbortSignal): Promise<ExecutionResult & { manifest: ResultManifest }> {
  const { docker, store, hub } = options;
  const id = job.toBase58();
  const runDir = path.join(options.workDir, "runs", id);
  const resultDir = path.join(runDir, "result");
  const inputsDir = path.join(runDir, "inputs");
  await fs.rm(runDir, { recursive: true, force: true });
  await fs.mkdir(path.join(resultDir, "logs"), { recursive: true });
  await fs.mkdir(inputsDir, { recursive: true });

  await materializeInputs(spec, inputsDir, (sha256) => readBlob(store, sha256));
  const log = createWriteStream(path.join(resultDir, "logs", "container.log"));
  const logBytes = { written: 0 };
  hub.append(id, "system", `starting ${spec.image}`);
  let run;
  try {
    run = await runContainer({
      docker,
      spec,
      jobId: id,
      nodeId: options.nodeId,
      inputsDir,
      outputDir: path.join(resultDir, "outputs"),
      signal,
      onLog: (stream, line) => {
        hub.append(id, stream, line);
        appendCapped(log, logBytes, `${line}\n`);
      },
    });
  } finally {
    await new Promise<void>((resolve) => log.end(resolve));
  }

  if (run.status === "failed" && run.reason && !CONSUMER_OUTCOMES.has(run.reason)) {
    hub.append(id, "system", `provider-side failure: ${run.message ?? run.reason}`);
    throw new ProviderFault(`${run.reason}: ${run.message ?? "container run failed"}`);
  }
  if (run.reason === "output-too-large") {
    // Nothing of an oversized result is kept or served; the run record says why.
    await fs.rm(path.join(resultDir, "outputs"), { recursive: true, force: true });
  }
  const record: RunRecord = {
    job: id,
    image: spec.image,
    status: run.status,
    reason: run.reason ?? null,
    exitCode: run.exitCode ?? null,
    startedAt: new Date(run.startedAt).toISOString(),
    finishedAt: new Date(run.finishedAt).toISOString(),
    durationMs: run.durationMs,
    message: run.message ?? null,
  };
  await fs.writeFile(path.join(resultDir, "run.json"), `${JSON.stringify(record, null, 2)}\n`);
  const manifest = await hashOutputDir(resultDir, spec.maxOutputBytes + MAX_LOG_BYTES + 64 * 1024, { store });
  hub.setManifest(id, manifest);
  hub.end(id, record.reason ?? record.status);
  await fs.rm(runDir, { recursive: true, force: true });
  return {
    manifest,
    outputRoot: hexToBytes(manifest.root),
    outcome: { status: record.status, reason: record.reason ?? undefined, exitCode: record.exitCode, message: record.message ?? undefined },
  };
}

async function readBlob(store: BlobStore, sha256: string): Promise<Uint8Array> {
  const stream = await store.get(sha256);
  if (!stream) throw new ProviderFault(`input ${sha256} is missing from the store`);
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function appendCapped(log: WriteStream, counter: { written: number }, text: string): void {
  if (counter.written >= MAX_LOG_BYTES) return;
  const bytes = Buffer.from(text);
  const room = MAX_LOG_BYTES - counter.written;
  const chunk = bytes.length <= room ? bytes : Buffer.concat([bytes.subarray(0, room)]);
  counter.written += chunk.length;
  log.write(chunk);
}
