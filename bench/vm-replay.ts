// `npm run bench` (last tables): replay speed of the rv32im machine — the WebAssembly build in
// Node (what the keeper and provider run) here, the native build by `cargo run --example mips`
// after it. First the sha256 guest over 1 MiB of input run without hashing (30 M steps), by a
// plain machine and by a `Replay` (snapshots every C steps and the undo journal on); then the
// state hash at random steps of a 10 M-step run (the guest over 128 KiB), from a cold start
// (load, run, hash: a replay from step 0) and from a `Replay` already run to the end once.
import { readFileSync } from "node:fs";
import path from "node:path";
import { Replay, VmModule, VmStatus } from "@compute-market/vm";

/** Steps between snapshots compared (2^16, 2^18 = the default, 2^20). */
const INTERVALS = [16n, 18n, 20n];
/** Questions asked of each replay, and of cold starts (each of which replays from step 0). */
const QUESTIONS = 50;
const COLD_QUESTIONS = 10;
/** Timed runs of each kind, interleaved; the fastest is shown. */
const ROUNDS = 5;
/** Steps of each timed run (of the 82.5 M the guest takes over 1 MiB). */
const RUN_STEPS = 30_000_000n;

const now = (): bigint => process.hrtime.bigint();
const msSince = (started: bigint): number => Number(now() - started) / 1e6;

function input(len: number): Uint8Array {
  return new Uint8Array(len).map((_, i) => (Math.imul(i, 2654435761) >>> 24) & 0xff);
}

/** Median, 90th percentile and maximum. */
function spread(times: number[]): [number, number, number] {
  const sorted = [...times].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length, Math.max(1, Math.ceil(q * sorted.length))) - 1];
  return [at(0.5), at(0.9), at(1)];
}

/** `count` steps in [0, end], in random order (a fixed-seed LCG). */
function randomSteps(count: number, end: bigint, seed: number): bigint[] {
  const steps: bigint[] = [];
  for (let i = 0; i < count; i++) {
    seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0;
    const high = BigInt(Math.imul(seed, 2_654_435_761) >>> 0);
    steps.push(((high << 32n) | BigInt(seed)) % (end + 1n));
  }
  return steps;
}

async function main(): Promise<void> {
  const code = readFileSync(path.resolve(__dirname, "../target/guests/sha256.bin"));
  const vm = await VmModule.load();

  // Running without hashing: what journaling every first write to a leaf costs. A short run
  // first lets the engine compile the module fully; then each run is timed ROUNDS times,
  // interleaved, and the fastest kept (a shared machine's noise is ±10%).
  const long = input(1 << 20);
  const warm = vm.machine(code, long);
  warm.run(20_000_000n);
  warm.state();
  warm.free();
  const best = [Infinity, ...INTERVALS.map(() => Infinity)];
  const rows: { label: string; steps: bigint; held: string; build: number }[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const machine = vm.machine(code, long);
    let started = now();
    const steps = machine.run(RUN_STEPS);
    best[0] = Math.min(best[0], Number(now() - started) / 1e9);
    if (machine.status !== VmStatus.Running) throw new Error(`the guest stopped with status ${machine.status}`);
    started = now();
    machine.state();
    const build = msSince(started);
    machine.free();
    if (round === 0) rows.push({ label: "plain machine", steps, held: "– | –", build });
    INTERVALS.forEach((log2, i) => {
      const replay = new Replay(vm, code, long, { interval: 1n << log2 });
      started = now();
      const end = replay.final(RUN_STEPS);
      best[i + 1] = Math.min(best[i + 1], Number(now() - started) / 1e9);
      started = now();
      end.state();
      const build = msSince(started);
      const stats = replay.stats;
      const held = `${stats.snapshots} | ${(stats.bytes / 1024).toFixed(0)}`;
      if (round === 0) rows.push({ label: `replay, C = 2^${log2}`, steps: end.steps, held, build });
      replay.free();
    });
  }
  console.log("\nrv32im replay, WebAssembly in Node (sha256 guest)\n");
  console.log(`| run without hashing (sha256 of 1 MiB, first ${RUN_STEPS} steps) | steps | run s | MIPS | snapshots | held KiB | state hash after (tree build) ms |`);
  console.log("|---|---|---|---|---|---|---|");
  rows.forEach((row, i) => {
    const mips = Number(row.steps) / best[i] / 1e6;
    console.log(`| ${row.label} | ${row.steps} | ${best[i].toFixed(3)} | ${mips.toFixed(1)} | ${row.held} | ${row.build.toFixed(0)} |`);
  });

  // A challenger's question: the state hash at an arbitrary step of a 10 M-step run.
  const short = input(128 << 10);
  const probe = vm.machine(code, short);
  const end = probe.run();
  probe.free();
  console.log(`\n| state hash at a random step of a ${end}-step run (sha256 of 128 KiB) | questions | median ms | p90 ms | max ms | snapshots | held KiB |`);
  console.log("|---|---|---|---|---|---|---|");
  const cold = randomSteps(COLD_QUESTIONS, end, 3).map((step) => {
    const begin = now();
    const fresh = vm.machine(code, short);
    fresh.run(step);
    fresh.state();
    fresh.free();
    return msSince(begin);
  });
  const [median, p90, max] = spread(cold);
  console.log(`| cold start (load, run, hash) | ${COLD_QUESTIONS} | ${median.toFixed(1)} | ${p90.toFixed(1)} | ${max.toFixed(1)} | – | – |`);
  for (const log2 of INTERVALS) {
    const replay = new Replay(vm, code, short, { interval: 1n << log2 });
    const begin = now();
    replay.final().state();
    const setup = msSince(begin);
    const times = randomSteps(QUESTIONS, end, 11).map((step) => {
      const asked = now();
      replay.hashAt(step);
      return msSince(asked);
    });
    const [median, p90, max] = spread(times);
    const stats = replay.stats;
    console.log(
      `| replay, C = 2^${log2}, after one run to the end (${setup.toFixed(0)} ms with its hash) | ${QUESTIONS} | ${median.toFixed(2)} | ${p90.toFixed(2)} | ${max.toFixed(2)} | ${stats.snapshots} | ${(stats.bytes / 1024).toFixed(0)} |`,
    );
    replay.free();
  }
  console.log("\nrv32im replay, native (same guests and inputs)\n");
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
