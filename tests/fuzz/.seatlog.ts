import { runCase, stepsFor } from "./runner";
async function main() {
  const seeds = process.argv.slice(2).map(Number);
  for (const seed of seeds) {
    const r = await runCase(seed, stepsFor(seed, 300));
    for (const line of r.log) if (/seat|end_replica|fail_no_show|withdraw_bid/.test(line)) console.log(seed, line);
  }
}
main();
