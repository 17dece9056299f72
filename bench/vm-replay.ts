// `npm run bench` (last tables): replay speed of the rv32im machine — the WebAssembly build in
// Node (what the keeper and provider run) here, the native build by `cargo run --example mips`
// after it — on the sha256 guest over 1 MiB of input.
import { readFileSync } from "node:fs";
import path from "node:path";
import { VmModule, VmStatus } from "@compute-market/vm";

async function main(): Promise<void> {
  const code = readFileSync(path.resolve(__dirname, "../target/guests/sha256.bin"));
  const input = new Uint8Array(1 << 20).map((_, i) => (Math.imul(i, 2654435761) >>> 24) & 0xff);
  const vm = await VmModule.load();
  const machine = vm.machine(code, input);
  let started = process.hrtime.bigint();
  const steps = machine.run();
  const runSeconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (machine.status !== VmStatus.Halted) throw new Error(`the guest stopped with status ${machine.status}`);
  started = process.hrtime.bigint();
  machine.state();
  const hashMs = Number(process.hrtime.bigint() - started) / 1e6;
  console.log("\nrv32im replay, WebAssembly in Node (sha256 guest, 1 MiB input)\n");
  console.log("| steps | run s | MIPS | state hash (tree build) ms |");
  console.log("|---|---|---|---|");
  console.log(`| ${steps} | ${runSeconds.toFixed(3)} | ${(Number(steps) / runSeconds / 1e6).toFixed(1)} | ${hashMs.toFixed(0)} |`);
  // A challenger's question: the state hash at an arbitrary step, from a cold start.
  for (const target of [1_000_000n, 10_000_000n]) {
    const begin = process.hrtime.bigint();
    const cold = vm.machine(code, input);
    cold.run(target);
    cold.state();
    cold.free();
    console.log(`\nstate hash at step ${target} from a cold start: ${(Number(process.hrtime.bigint() - begin) / 1e6).toFixed(0)} ms`);
  }
  console.log("\nrv32im replay, native (same guest and input)\n");
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
