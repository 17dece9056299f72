// How long each CLI takes to answer --help: the built bin (dist/, what `npm pack` ships) against
// the TypeScript entry run through ts-node (what `npm run provider` does in the repository). The
// median of BENCH_CLI_RUNS runs (default 5) each, measured in one run of this bench.
import { execFileSync, spawnSync } from "node:child_process";
import path from "node:path";

const ROOT = path.resolve(__dirname, "..");
const RUNS = Number(process.env.BENCH_CLI_RUNS ?? 5);

const CLIS = [
  { bin: "compute-market-keeper", dist: "app/keeper/dist/compute-market-keeper.mjs", source: "app/keeper/src/main.ts" },
  { bin: "compute-market-provider", dist: "app/provider/dist/compute-market-provider.mjs", source: "app/provider/src/main.ts" },
  { bin: "compute-market-localnet", dist: "app/localnet/dist/compute-market-localnet.mjs", source: "app/localnet/src/cli.ts" },
];

/** Median wall time of `args` run with node, in milliseconds; throws if it fails or (with
 * `help`) prints no usage. */
function medianMs(args: string[], help = true): number {
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const started = process.hrtime.bigint();
    const result = spawnSync(process.execPath, args, { cwd: ROOT, env: { ...process.env, TS_NODE_PROJECT: path.join(ROOT, "tsconfig.json") }, encoding: "utf8" });
    times.push(Number(process.hrtime.bigint() - started) / 1e6);
    if (result.status !== 0 || (help && !result.stdout.startsWith("Usage: "))) throw new Error(`${args.join(" ")} failed: ${result.stderr}`);
  }
  return times.sort((a, b) => a - b)[Math.floor(times.length / 2)];
}

function main(): void {
  execFileSync(process.execPath, [path.join(ROOT, "scripts/build-packages.mjs")], { cwd: ROOT, stdio: "inherit" });
  const baseline = medianMs(["-e", "0"], false);
  console.log(`\nCLI --help, median of ${RUNS} (node itself starts in ${baseline.toFixed(0)} ms)\n`);
  console.log(`${"cli".padEnd(26)}${"built bin".padStart(12)}${"ts-node".padStart(12)}${"ratio".padStart(8)}`);
  for (const cli of CLIS) {
    const built = medianMs([cli.dist, "--help"]);
    const source = medianMs(["-r", "ts-node/register", cli.source, "--help"]);
    console.log(`${cli.bin.padEnd(26)}${`${built.toFixed(0)} ms`.padStart(12)}${`${source.toFixed(0)} ms`.padStart(12)}${(source / built).toFixed(1).padStart(8)}`);
  }
}

main();
