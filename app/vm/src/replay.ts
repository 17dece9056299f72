// A job's run that can be asked for its state at any step: the machine only moves forward, so
// a question about an earlier step reloads it and replays from the start. Snapshots every C
// steps are not kept yet: from a cold start a state 10M steps in costs ≈0.13 s in WebAssembly.
import type { VmMachine, VmModule } from "./index";

export class Replay {
  private machine: VmMachine;
  /** The step the machine was last asked to be at (past a halt it stays at the halt). */
  private position = 0n;

  constructor(
    private readonly vm: VmModule,
    private readonly code: Uint8Array,
    private readonly input: Uint8Array,
  ) {
    this.machine = vm.machine(code, input);
  }

  /** The machine at step `step` (or at its halt, if it stops earlier). */
  private at(step: bigint): VmMachine {
    if (step < 0n) throw new RangeError("steps are not negative");
    if (step < this.position) {
      this.machine.free();
      this.machine = this.vm.machine(this.code, this.input);
      this.position = 0n;
    }
    this.machine.run(step - this.position);
    this.position = step;
    return this.machine;
  }

  /** The state hash at `step`. */
  hashAt(step: bigint): Uint8Array {
    return this.at(step).state().hash;
  }

  /** The state blob and hash at `step`. */
  stateAt(step: bigint): { blob: Uint8Array; hash: Uint8Array } {
    return this.at(step).state();
  }

  /** The one-step witness from `step` to `step + 1`. */
  witnessAt(step: bigint): Uint8Array {
    return this.at(step).witness();
  }

  /** Runs to the end (or `maxSteps`): the final machine, for the commitment. */
  final(maxSteps?: bigint): VmMachine {
    const machine = this.at(this.position);
    machine.run(maxSteps);
    this.position = machine.steps;
    return machine;
  }

  free(): void {
    this.machine.free();
  }
}
