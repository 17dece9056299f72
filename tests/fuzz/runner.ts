// One fuzz case: a world, a seeded sequence of steps, after each the model comparison and the
// invariants, at the end the liveness drain. And the shrinker: delta debugging over the steps of
// a case, keeping a subsequence that still shows the same finding, within a time budget.
import { isDeepStrictEqual } from "node:util";
import "./speed";
import { ACTIONS, WEIGHTS, type ActionKind, type Executed, type Step } from "./actions";
import { checkInvariants } from "./invariants";
import { drain } from "./liveness";
import { loadMachine } from "./machine";
import { Draws, Rng } from "./prng";
import { World } from "./world";

export type Category = "mismatch" | "invariant" | "liveness" | "harness";

export interface Finding {
  category: Category;
  /** Stable across runs (no addresses): what a shrink looks for. */
  key: string;
  message: string;
  /** Index of the step after which it showed (steps.length for the drain). */
  step: number;
}

export interface Tally {
  accepted: number;
  refused: number;
  /** Of which the model did not cover (no comparison made). */
  unknown: number;
}

export interface CaseResult {
  seed: number;
  steps: Step[];
  /** Transactions the program executed (instructions of the program, not out-of-band moves). */
  executed: number;
  tally: Map<string, Tally>;
  findings: Finding[];
  stranded: bigint;
  ms: number;
  /** One line per step: what it did and how it ended. */
  log: string[];
  /** Substituted instructions the program accepted (to review: most are equivalent swaps). */
  acceptedSwaps: string[];
}

const WORDS_PER_STEP = 12;

/** The step sequence of a seed. */
export function stepsFor(seed: number, count: number): Step[] {
  const rng = new Rng(seed);
  const kinds = Object.keys(WEIGHTS) as ActionKind[];
  const total = kinds.reduce((sum, kind) => sum + WEIGHTS[kind], 0);
  const steps: Step[] = [];
  for (let i = 0; i < count; i++) {
    let roll = rng.below(total);
    const kind = kinds.find((candidate) => (roll -= WEIGHTS[candidate]) < 0)!;
    steps.push({ kind, words: Array.from({ length: WORDS_PER_STEP }, () => rng.u32()) });
  }
  return steps;
}

/** Compares the model's prediction with what happened; a message when they differ. */
export function compare(executed: Executed): { key: string; message: string } | null {
  const { predicted, outcome } = executed;
  const plain = (message: string) => ({ key: message, message });
  if (executed.mustRefuse && outcome.ok) return plain(`${executed.name}: accepted, though it must be refused`);
  // What an accepted instruction did, against the rules (the key without amounts, for a shrink).
  if (executed.check && outcome.ok) return { key: `${executed.name}: ${executed.check.split(/[\d(]/)[0].trim()}`, message: executed.check };
  if (predicted === "unknown" || predicted === "move") return null;
  const actual = outcome.ok ? "accepted" : outcome.error;
  const expected = predicted === null ? "accepted" : predicted;
  return actual === expected ? null : plain(`${executed.name}: model says ${expected}, program says ${actual}`);
}

export interface RunOptions {
  /** Run the liveness drain at the end (default true). */
  drain?: boolean;
  /** Stop at the first finding with this key (shrinking). */
  stopAt?: string;
}

export async function runCase(seed: number, steps: Step[], options: RunOptions = {}): Promise<CaseResult> {
  const started = Date.now();
  const machine = await loadMachine();
  const w = await World.create(seed);
  const supply = new Map(w.view().supply);
  const tally = new Map<string, Tally>();
  const findings: Finding[] = [];
  const seen = new Set<string>();
  const note = (finding: Finding) => {
    const id = `${finding.category}/${finding.key}`;
    if (seen.has(id)) return;
    seen.add(id);
    findings.push(finding);
  };
  let executed = 0;
  const log: string[] = [];
  const acceptedSwaps: string[] = [];
  let view = w.view();
  for (const [i, step] of steps.entries()) {
    let done: Executed | null;
    try {
      done = await ACTIONS[step.kind]({ w, view, d: new Draws(step.words), machine });
    } catch (error) {
      note({ category: "harness", key: `${step.kind} threw`, message: `${step.kind} threw: ${String(error).slice(0, 300)}`, step: i });
      done = null;
    }
    if (!done) log.push(`${String(i).padStart(3)} @${view.slot} ${step.kind} -> nothing to do`);
    if (done) {
      if (done.predicted !== "move") {
        executed++;
        const t = tally.get(done.name) ?? { accepted: 0, refused: 0, unknown: 0 };
        if (done.outcome.ok) t.accepted++;
        else t.refused++;
        if (done.predicted === "unknown") t.unknown++;
        tally.set(done.name, t);
      }
      const expected = done.predicted === null ? "accepted" : done.predicted;
      log.push(`${String(i).padStart(3)} @${view.slot} ${step.kind} -> ${done.name}: ${done.outcome.ok ? "accepted" : done.outcome.error}${done.predicted === "move" ? "" : ` (model: ${expected})`}${done.who ? ` {${done.who}}` : ""}${done.note ? ` [${done.note}]` : ""}`);
      if (done.note && done.outcome.ok) acceptedSwaps.push(`seed ${seed} step ${i}: ${done.name} accepted with ${done.note}`);
      const mismatch = compare(done);
      if (mismatch) note({ category: "mismatch", key: mismatch.key, message: mismatch.message, step: i });
    }
    view = w.view();
    for (const v of checkInvariants(w, view, supply)) note({ category: "invariant", key: v.key, message: v.message, step: i });
    if (options.stopAt && findings.some((f) => f.key === options.stopAt)) return { seed, steps, executed, tally, findings, stranded: 0n, ms: Date.now() - started, log, acceptedSwaps };
  }
  // The view is kept from the ledger's change notifications; it must equal a full scan.
  if (!isDeepStrictEqual(w.view(), w.scan())) note({ category: "harness", key: "view differs from a scan", message: "the incremental view differs from a full scan of the ledger", step: steps.length });
  let stranded = 0n;
  if (options.drain !== false) {
    const report = await drain(w, supply);
    stranded = report.stranded;
    // The drain's accepted cranks count apart from the steps' (it sends through the client, unmodelled).
    for (const [name, count] of report.accepted) tally.set(`${name} (drain)`, { accepted: count, refused: 0, unknown: count });
    for (const f of report.failures) note({ category: "liveness", key: f.key, message: f.message, step: steps.length });
  }
  return { seed, steps, executed, tally, findings, stranded, ms: Date.now() - started, log, acceptedSwaps };
}

/** Whether running `steps` shows a finding of `target`'s category and key. */
async function reproduces(seed: number, steps: Step[], target: Finding): Promise<boolean> {
  const result = await runCase(seed, steps, { drain: target.category === "liveness", stopAt: target.key });
  return result.findings.some((f) => f.category === target.category && f.key === target.key);
}

/**
 * The shortest step sequence found (ddmin) that still shows `target`, within `budgetMs`. Steps
 * after the one that showed it are dropped first (they cannot matter, but for the drain).
 */
export async function shrink(seed: number, steps: Step[], target: Finding, budgetMs: number): Promise<Step[]> {
  const deadline = Date.now() + budgetMs;
  let current = target.category === "liveness" ? steps : steps.slice(0, target.step + 1);
  let n = 2;
  while (current.length >= 2 && Date.now() < deadline) {
    const size = Math.ceil(current.length / n);
    let reduced = false;
    for (let start = 0; start < current.length && Date.now() < deadline; start += size) {
      const complement = [...current.slice(0, start), ...current.slice(start + size)];
      if (complement.length > 0 && (await reproduces(seed, complement, target))) {
        current = complement;
        n = Math.max(n - 1, 2);
        reduced = true;
        break;
      }
    }
    if (!reduced) {
      if (n >= current.length) break;
      n = Math.min(n * 2, current.length);
    }
  }
  return current;
}

/** The steps as JSON, to replay them (`--replay`). */
export function stepsJson(steps: Step[]): string {
  return JSON.stringify(steps);
}
