// The tiny guest every machine job of the fuzzer runs (arith, 379 steps), its honest run and a
// wrong claim of it (another exit code over the same memory), built once per process.
import { Replay } from "@compute-market/vm";
import { claimHash, guestCode, honestClaim, vm, wrongExitCode, type Claim } from "../support/verifiable";

export interface Machine {
  replay: Replay;
  steps: bigint;
  codeRoot: Uint8Array;
  inputRoot: Uint8Array;
  honest: Claim;
  wrong: Claim;
  honestHash: Uint8Array;
}

const INPUT = new TextEncoder().encode("verifiable compute on Solana");
let machine: Promise<Machine> | undefined;

export function loadMachine(): Promise<Machine> {
  machine ??= (async () => {
    const module = await vm();
    const code = guestCode("arith");
    const replay = new Replay(module, code, INPUT);
    const honest = honestClaim(replay);
    const roots = module.programRoots(code, INPUT);
    return { replay, steps: replay.final().steps, ...roots, honest, wrong: wrongExitCode(honest), honestHash: claimHash(honest) };
  })();
  return machine;
}
