// Consumer-side helpers for verifiable jobs: what the machine must provide (roots), checking an
// output against the on-chain commitment, and reading a dispute's standing. Browser-safe: the
// machine itself (its WebAssembly build, `@compute-market/vm`) is passed in, never imported.
import type { BidAccount } from "./accounts";
import { sameBytes } from "./rules";

/** What the SDK needs of the machine: the roots of a job's code and input quarters. A
 * `VmModule` of `@compute-market/vm` is one. */
export interface MachineRoots {
  programRoots(code: Uint8Array, input: Uint8Array): { codeRoot: Uint8Array; inputRoot: Uint8Array };
}

/** Whether a job runs on the machine (verifiable or refereed): the rules module's `isMachine`. */
export { isMachine as isMachineJob } from "./rules";

/** The root of the output quarter holding `output` (length-prefixed, like the input quarter). */
export function outputRoot(machine: MachineRoots, output: Uint8Array): Uint8Array {
  return machine.programRoots(new Uint8Array(0), output).inputRoot;
}

/** Why an output does not match a verifiable commitment. */
export class OutputMismatchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "OutputMismatchError";
  }
}

/**
 * Checks output bytes against a provider's verifiable commitment: their quarter's root must be
 * the committed output root, which the program proved to lie in the committed final state's
 * memory. The result is final once the job finalizes (no game open or lost).
 */
export function verifyOutput(machine: MachineRoots, bid: Pick<BidAccount, "outputRoot" | "finalStateHash">, output: Uint8Array): void {
  if (sameBytes(bid.finalStateHash, new Uint8Array(32))) throw new OutputMismatchError("the bid holds no verifiable commitment");
  const root = outputRoot(machine, output);
  if (!sameBytes(root, bid.outputRoot)) throw new OutputMismatchError("the output's root is not the committed output root");
}

/** A dispute's standing at `slot`, for people and dashboards: the rules module's, in one place. */
export { disputeStanding, type DisputeStanding } from "./rules";
