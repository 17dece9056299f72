// Time from a service replica's death to its replacement serving, in slots, in the demo's
// scenario: `npm run demo`'s service act run as it is (two replicas on three nodes, one node
// killed with its container), its measurements read from the report it writes. Each step is the
// slot its event landed in: the watchdog's end after the grace, the keeper's award after the
// seat round's bid window, the winner's start, and the first acknowledged health check.
import { mkdtempSync, readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { spawnTs } from "@compute-market/common";

const ROOT = path.resolve(__dirname, "..");
const SLOT_MS = 100;

type Report = Record<"deathSlot" | "endedSlot" | "seatAwardedSlot" | "seatStartedSlot" | "servingSlot" | "graceSlots" | "bidWindowSlots", string>;

async function main(): Promise<void> {
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), "bench-replacement-")), "report.json");
  const demo = spawnTs(ROOT, "app/demo/demo.ts", [], { DEMO_REPORT: file });
  const code = await new Promise<number | null>((resolve) => demo.child.once("exit", resolve));
  if (code !== 0) throw new Error(`the demo failed (${code}):\n${demo.output.slice(-20).join("\n")}`);
  const report = JSON.parse(readFileSync(file, "utf8")) as Report;
  const slot = (key: keyof Report) => BigInt(report[key]);
  const rows: [string, bigint, string][] = [
    ["death → ended by the watchdog", slot("endedSlot") - slot("deathSlot"), `grace ${report.graceSlots} slots from the last healthy probe`],
    ["ended → seat awarded", slot("seatAwardedSlot") - slot("endedSlot"), `the seat round's bid window, ${report.bidWindowSlots} slots`],
    ["awarded → started", slot("seatStartedSlot") - slot("seatAwardedSlot"), "the winner's next tick"],
    ["started → serving", slot("servingSlot") - slot("seatStartedSlot"), "container boot, first healthy probe"],
    ["death → replacement serving", slot("servingSlot") - slot("deathSlot"), ""],
  ];
  console.log(`\nA replica's death to its replacement serving (the demo's service act, ${SLOT_MS} ms slots)\n`);
  console.log(`${"step".padEnd(32)}${"slots".padStart(7)}${"seconds".padStart(9)}  what it waits for`);
  for (const [step, slots, why] of rows) console.log(`${step.padEnd(32)}${String(slots).padStart(7)}${((Number(slots) * SLOT_MS) / 1000).toFixed(1).padStart(9)}  ${why}`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
