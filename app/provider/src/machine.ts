// Verifiable jobs on the provider: the rv32im machine (its WebAssembly build, loaded on first
// need by the common `lazyMachineRuntime`) runs the job's program to its stop or step limit. The replay stays in a small cache so
// that the node's defender answers a dispute from the same run without replaying from scratch;
// after a restart the defender rebuilds it from the program in the blob store.
import type { PublicKey } from "@solana/web3.js";
import { bytesToHex } from "@noble/hashes/utils";
import type { JobAccount, MachineProgram } from "@compute-market/sdk";
import { runToEnd, type MachineRuntime, type RunEnd } from "@compute-market/common";
import { VmStatus } from "@compute-market/vm";
import type { ExecutionResult } from "./lifecycle/node";
import type { JobLogHub } from "./results/catalog";
import type { BlobStore } from "./results/store";

/** How a run ended, as the job's outcome (committed and paid whatever it is). */
export function machineOutcome(end: RunEnd, maxSteps: bigint): ExecutionResult["outcome"] {
  const { status, exitCode, steps } = end.summary;
  if (status === VmStatus.Halted) return exitCode === 0 ? { status: "succeeded", exitCode } : { status: "failed", reason: "exit-nonzero", exitCode, message: `halted with exit code ${exitCode}` };
  if (status === VmStatus.Running) return { status: "failed", reason: "step-limit", exitCode: null, message: `still running at the job's limit of ${maxSteps} steps` };
  return { status: "failed", reason: "machine-fault", exitCode: null, message: `stopped by ${VmStatus[status] ?? `status ${status}`} after ${steps} steps` };
}

export interface MachineRunOptions {
  runtime: MachineRuntime;
  store: BlobStore;
  hub: JobLogHub;
}

/** Runs a verifiable job's program and stores its output; the result commits the final state. */
export async function executeMachineJob(options: MachineRunOptions, job: PublicKey, account: JobAccount, program: MachineProgram, signal: AbortSignal): Promise<ExecutionResult> {
  const id = job.toBase58();
  const replays = await options.runtime.replays();
  options.hub.append(id, "system", `running ${program.spec.code.size} bytes of rv32im code on ${program.spec.input.size} bytes of input, at most ${account.maxSteps} steps`);
  let reported = Date.now();
  const end = await replays.with(id, async () => program, (replay) =>
    runToEnd(replay, account.maxSteps, {
      signal,
      onProgress: (steps) => {
        if (Date.now() - reported < 2_000) return;
        reported = Date.now();
        options.hub.append(id, "system", `${steps} steps`);
      },
    }),
  );
  const outcome = machineOutcome(end, account.maxSteps);
  const outputBlob = await options.store.put(end.output);
  options.hub.append(id, "system", `${outcome.status} after ${end.summary.steps} steps: state ${bytesToHex(end.hash)}, output ${end.output.length} bytes`);
  options.hub.end(id, outcome.reason ?? outcome.status);
  return { outputRoot: end.outputRoot, outcome, outputBlob, machine: { finalState: end.blob, heapRoot: end.heapRoot, lowNode: end.lowNode } };
}
