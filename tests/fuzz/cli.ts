// npm run fuzz -- --steps N --seed S [--cases C] [--shrink-seconds T] [--shrink-only TEXT] [--replay file.json] [--out DIR]
// Runs C cases (seeds S, S+1, …) of N steps each, shrinks each finding's sequence, and prints a
// table: cases, instructions, rate, accepted/refused per instruction, and every finding with its
// seed and shortest sequence. Exits 1 when anything was found.
import { readFileSync, writeFileSync, mkdirSync } from "node:fs";
import path from "node:path";
import { runCase, shrink, stepsFor, stepsJson, type CaseResult, type Finding, type Tally } from "./runner";
import type { Step } from "./actions";

function option(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? Number(process.argv[at + 1]) : fallback;
}

function textOption(name: string): string | undefined {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? process.argv[at + 1] : undefined;
}

async function main(): Promise<void> {
  const steps = option("steps", 150);
  const seed = option("seed", 1);
  const cases = option("cases", 1);
  const shrinkSeconds = option("shrink-seconds", 60);
  const replay = textOption("replay");
  // Shrink only the findings whose "category/key" contains this (shrinking each takes a while).
  const shrinkOnly = textOption("shrink-only");
  const outDir = path.resolve(textOption("out") ?? "target/fuzz");
  mkdirSync(outDir, { recursive: true });
  const started = Date.now();
  const results: CaseResult[] = [];
  for (let i = 0; i < cases; i++) {
    const caseSeed = seed + i;
    const sequence: Step[] = replay ? (JSON.parse(readFileSync(replay, "utf8")) as Step[]) : stepsFor(caseSeed, steps);
    const result = await runCase(caseSeed, sequence);
    results.push(result);
    console.log(`case seed=${caseSeed}: ${result.executed} instructions in ${(result.ms / 1000).toFixed(1)} s, ${result.findings.length} findings`);
  }
  const elapsed = (Date.now() - started) / 1000;
  const executed = results.reduce((sum, r) => sum + r.executed, 0);
  const tally = new Map<string, Tally>();
  for (const r of results) {
    for (const [name, t] of r.tally) {
      const total = tally.get(name) ?? { accepted: 0, refused: 0, unknown: 0 };
      tally.set(name, { accepted: total.accepted + t.accepted, refused: total.refused + t.refused, unknown: total.unknown + t.unknown });
    }
  }
  console.log(`\ncases ${cases}   instructions ${executed}   ${(executed / elapsed).toFixed(1)} instructions/s   (${elapsed.toFixed(1)} s)`);
  console.log(`\n${"instruction".padEnd(26)}${"accepted".padStart(10)}${"refused".padStart(10)}${"unmodelled".padStart(12)}`);
  for (const [name, t] of [...tally.entries()].sort()) console.log(`${name.padEnd(26)}${String(t.accepted).padStart(10)}${String(t.refused).padStart(10)}${String(t.unknown).padStart(12)}`);
  const swaps = results.flatMap((r) => r.acceptedSwaps);
  console.log(`\nsubstituted instructions the program accepted (review; a token account of the same owner is an equivalent swap): ${swaps.length}`);
  for (const line of swaps) console.log(`  ${line}`);
  const stranded = results.reduce((sum, r) => sum + r.stranded, 0n);
  console.log(`\ndust stranded in stake vaults after full unstake (no instruction sweeps a vault): ${stranded}`);

  // Each distinct finding once, shrunk from its first case.
  const distinct = new Map<string, { finding: Finding; result: CaseResult; count: number }>();
  for (const result of results) {
    for (const finding of result.findings) {
      const id = `${finding.category}/${finding.key}`;
      const known = distinct.get(id);
      if (known) known.count++;
      else distinct.set(id, { finding, result, count: 1 });
    }
  }
  const byCategory = (category: string) => [...distinct.values()].filter((d) => d.finding.category === category).length;
  console.log(`model mismatches ${byCategory("mismatch")}   invariant violations ${byCategory("invariant")}   liveness failures ${byCategory("liveness")}   harness errors ${byCategory("harness")}`);
  let n = 0;
  for (const { finding, result, count } of distinct.values()) {
    n++;
    if (shrinkOnly !== undefined && !`${finding.category}/${finding.key}`.includes(shrinkOnly)) {
      console.log(`\n[${finding.category}] ${finding.key}  (seen in ${count} case(s); first seed ${result.seed}, step ${finding.step}; not shrunk)`);
      continue;
    }
    console.log(`\n[${finding.category}] ${finding.key}  (seen in ${count} case(s); first seed ${result.seed}, step ${finding.step})\n  ${finding.message}`);
    const shortest = await shrink(result.seed, result.steps, finding, shrinkSeconds * 1000);
    const file = path.join(outDir, `seed${result.seed}-${n}.json`);
    writeFileSync(file, stepsJson(shortest));
    const replayed = await runCase(result.seed, shortest, { drain: finding.category === "liveness" });
    console.log(`  shortest sequence: ${shortest.length} steps (replay: npm run fuzz -- --seed ${result.seed} --replay ${path.relative(process.cwd(), file)})`);
    for (const line of replayed.log) console.log(`   ${line}`);
  }
  process.exitCode = distinct.size > 0 ? 1 : 0;
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 2;
});
