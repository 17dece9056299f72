// Replays of verifiable jobs for the daemons: one per job, kept while its games last (each holds
// a 16 MiB machine and its tree, so only a few are kept), rebuilt from the job's program whenever
// it is gone — after a restart, or an eviction — since a replay is a pure function of the program.
// Long runs go in slices so that the daemon's event loop keeps ticking.
import { Replay, VmModule } from "@compute-market/vm";
import type { MachineProgram } from "@compute-market/sdk";
import { summarizeState, type StateSummary } from "./view";

/** Steps run between two yields to the event loop (≈0.1 s of WebAssembly). */
export const SLICE_STEPS = 10_000_000n;

/** A run's end: the state at its stop or at the step limit, with what a commitment needs. */
export interface RunEnd {
  blob: Uint8Array;
  hash: Uint8Array;
  summary: StateSummary;
  outputRoot: Uint8Array;
  heapRoot: Uint8Array;
  lowNode: Uint8Array;
  output: Uint8Array;
}

const yieldToLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * Runs `replay` to its stop or to `maxSteps`, whichever comes first, yielding between slices;
 * `onProgress` hears the steps done so far. `signal` aborts between slices.
 */
export async function runToEnd(replay: Replay, maxSteps: bigint, options: { onProgress?: (steps: bigint) => void; signal?: AbortSignal } = {}): Promise<RunEnd> {
  for (let target = SLICE_STEPS < maxSteps ? SLICE_STEPS : maxSteps; ; target = target + SLICE_STEPS < maxSteps ? target + SLICE_STEPS : maxSteps) {
    if (options.signal?.aborted) throw new Error("the run was aborted");
    const state = replay.stateAt(target);
    const summary = summarizeState(state.blob);
    options.onProgress?.(summary.steps);
    if (summary.status !== 0 || summary.steps >= maxSteps) {
      const machine = replay.final(0n);
      return { ...state, summary, ...machine.outputProof(), output: machine.output() };
    }
    await yieldToLoop();
  }
}

export interface ReplayCacheOptions {
  vm: VmModule;
  /** Replays kept at once; the least recently used one is freed first. */
  capacity?: number;
}

export class ReplayCache {
  private readonly entries = new Map<string, { replay: Replay; users: number }>();
  private readonly capacity: number;

  constructor(private readonly options: ReplayCacheOptions) {
    this.capacity = Math.max(1, options.capacity ?? 4);
  }

  /**
   * Runs `use` with the replay of `job`'s program, made from `program` when not kept. The replay
   * is not freed while in use; past the capacity, the least recently used idle ones are.
   */
  async with<T>(job: string, program: () => Promise<MachineProgram>, use: (replay: Replay) => Promise<T> | T): Promise<T> {
    let entry = this.entries.get(job);
    if (!entry) {
      const { code, input } = await program();
      // Another caller may have made it while the program was being fetched.
      entry = this.entries.get(job) ?? { replay: new Replay(this.options.vm, code, input), users: 0 };
    }
    // Most recently used last.
    this.entries.delete(job);
    this.entries.set(job, entry);
    entry.users += 1;
    try {
      return await use(entry.replay);
    } finally {
      entry.users -= 1;
      this.evict();
    }
  }

  /** Forgets `job`'s replay (freed once no one uses it). */
  drop(job: string): void {
    const entry = this.entries.get(job);
    if (!entry || entry.users > 0) return;
    entry.replay.free();
    this.entries.delete(job);
  }

  clear(): void {
    for (const job of [...this.entries.keys()]) this.drop(job);
  }

  private evict(): void {
    for (const [job, entry] of this.entries) {
      if (this.entries.size <= this.capacity) return;
      if (entry.users === 0) this.drop(job);
    }
  }
}

/** The machine and a replay cache, loaded on first need: a daemon that never meets a verifiable
 * job never loads the WebAssembly module. */
export interface MachineRuntime {
  vm(): Promise<VmModule>;
  replays(): Promise<ReplayCache>;
  /** Frees every kept replay. */
  close(): Promise<void>;
}

export function lazyMachineRuntime(capacity = 4): MachineRuntime {
  let vm: Promise<VmModule> | undefined;
  let replays: Promise<ReplayCache> | undefined;
  const load = () => (vm ??= VmModule.load());
  return {
    vm: load,
    replays: () => (replays ??= load().then((module) => new ReplayCache({ vm: module, capacity }))),
    close: async () => (await replays)?.clear(),
  };
}
