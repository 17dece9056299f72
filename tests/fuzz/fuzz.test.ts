// A short seeded fuzz of the program: fixed seeds, a few hundred random steps each (every
// instruction with plausible or hostile accounts, dust, closed token accounts, substitutions,
// clock warps to deadlines), after each step the model comparison and the invariants, at the end
// the liveness drain. Any finding fails the test with its seed and steps (replay them with
// `npm run fuzz -- --seed S --steps N`). Longer runs: `npm run fuzz -- --steps 300 --cases 50`.
import assert from "node:assert/strict";
import { runCase, stepsFor, type CaseResult } from "./runner";

const SEEDS = [1, 2, 3, 4];
const STEPS = 150;

function report(result: CaseResult): string {
  return result.findings.map((f) => `seed ${result.seed} step ${f.step} [${f.category}] ${f.message}`).join("\n");
}

describe("fuzz (short, seeded)", () => {
  for (const seed of SEEDS) {
    it(`seed ${seed}: ${STEPS} steps agree with the rules, keep the invariants and drain`, async () => {
      const result = await runCase(seed, stepsFor(seed, STEPS));
      // The case must have exercised the program, not only skipped steps.
      assert.ok(result.executed >= STEPS / 4, `only ${result.executed} instructions executed`);
      assert.equal(result.findings.length, 0, `findings:\n${report(result)}\n\nsteps:\n${result.log.join("\n")}`);
    });
  }
});
