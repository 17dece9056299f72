// A job's run that can be asked for its state at any step, in any order: the replay of
// crates/vm-core/src/replay.rs through the WebAssembly build. One working machine moves both
// ways: a snapshot every C steps (default 2^18) keeps the core, and each interval's undo/redo log
// the leaves it wrote, so a question about step s crosses whole intervals by their logs to the
// snapshot ⌊s/C⌋ and runs at most C − 1 steps; the memory tree then rehashes only the leaves that
// changed. Once the run has been made to the end, a state hash anywhere in a 10M-step run costs a
// few milliseconds instead of a replay from step 0 (`bench/vm-replay.ts` has the numbers).
import type { ReplayStats, VmMachine, VmModule, VmReplay } from "./machine";

export interface ReplayOptions {
  /** Steps between snapshots (default 2^18). */
  interval?: bigint;
}

export class Replay {
  private readonly replay: VmReplay;

  constructor(vm: VmModule, code: Uint8Array, input: Uint8Array, options: ReplayOptions = {}) {
    if (options.interval !== undefined && options.interval <= 0n) throw new RangeError("the snapshot interval is at least one step");
    this.replay = vm.replay(code, input, options.interval ?? 0n);
  }

  /** The state hash at `step` (past the run's stop: the stopped state, a fixed point). */
  hashAt(step: bigint): Uint8Array {
    return this.replay.hash(step);
  }

  /** The state blob and hash at `step`. */
  stateAt(step: bigint): { blob: Uint8Array; hash: Uint8Array } {
    return this.replay.state(step);
  }

  /** The one-step witness from `step` to `step + 1`. */
  witnessAt(step: bigint): Uint8Array {
    return this.replay.witness(step);
  }

  /**
   * Runs on from the step last asked to the end (or `maxSteps` more): the working machine, for
   * the commitment. It stays the replay's: a later question moves it, and freeing it frees the
   * replay.
   */
  final(maxSteps?: bigint): VmMachine {
    this.replay.machine.run(maxSteps);
    return this.replay.machine;
  }

  /** Snapshots and memory held, and the tree's hashing so far. */
  get stats(): ReplayStats {
    return this.replay.stats();
  }

  free(): void {
    this.replay.free();
  }
}
