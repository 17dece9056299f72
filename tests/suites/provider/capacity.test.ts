// The capacity ledger: the program's requirement check, reservations that never exceed the
// machine, and utilisation as the fullest dimension.
import assert from "node:assert/strict";
import { label16 } from "@compute-market/sdk";
import { CapacityLedger, satisfies, type Requirements } from "../../../app/provider/src/capacity";

const BOX = { gpuModel: "L4", gpuCount: 2, vramMb: 24_000, cpuCores: 8, memoryMb: 32_768, diskGb: 100 };
const need = (overrides: Partial<Requirements> = {}): Requirements => ({
  gpuModel: label16("", "m"),
  gpuCount: 1,
  vramMb: 16_000,
  cpuCores: 2,
  memoryMb: 8_192,
  diskGb: 10,
  maxDurationSlots: 100n,
  ...overrides,
});
const cpuJob = (overrides: Partial<Requirements> = {}): Requirements => need({ gpuCount: 0, vramMb: 0, ...overrides });

/** A small deterministic generator, so the randomised test fails the same way every time. */
function lcg(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
    return state / 2 ** 32;
  };
}

describe("capacity ledger", () => {
  describe("satisfies (Job::admits)", () => {
    it("accepts any model when none is asked, and only the same model otherwise", () => {
      assert.equal(satisfies(BOX, need()), true);
      assert.equal(satisfies(BOX, need({ gpuModel: label16("L4", "m") })), true);
      assert.equal(satisfies(BOX, need({ gpuModel: label16("H100", "m") })), false);
      assert.equal(satisfies(BOX, need({ gpuModel: label16("L", "m") })), false, "a prefix is another model");
      assert.equal(satisfies({ ...BOX, gpuModel: undefined, gpuCount: 0, vramMb: 0 }, cpuJob()), true);
      assert.equal(satisfies({ ...BOX, gpuModel: undefined }, need({ gpuModel: label16("L4", "m") })), false);
    });

    it("compares all 16 bytes of the model, as the program does", () => {
      // Given a requirement "L4" with a stray byte after its padding
      const stray = label16("L4", "m");
      stray[15] = 0x41;

      // Then neither the registered label nor an empty model matches it
      assert.equal(satisfies(BOX, need({ gpuModel: stray })), false);
      const padOnly = label16("", "m");
      padOnly[3] = 0x41;
      assert.equal(satisfies(BOX, need({ gpuModel: padOnly })), false, "not all zero, so not 'any model'");

      // And a spec given as its on-chain bytes compares the same way
      assert.equal(satisfies({ ...BOX, gpuModel: label16("L4", "m") }, need({ gpuModel: label16("L4", "m") })), true);
      assert.equal(satisfies({ ...BOX, gpuModel: stray }, need({ gpuModel: stray })), true);
    });

    it("needs every quantity at least as asked, GPU memory per GPU", () => {
      assert.equal(satisfies(BOX, need({ vramMb: 24_000, gpuCount: 2, cpuCores: 8, memoryMb: 32_768, diskGb: 100 })), true, "equal is enough");
      assert.equal(satisfies(BOX, need({ vramMb: 24_001 })), false);
      assert.equal(satisfies(BOX, need({ vramMb: 40_000, gpuCount: 1 })), false, "two 24 GB cards are not one 40 GB card");
      assert.equal(satisfies(BOX, need({ gpuCount: 3 })), false);
      assert.equal(satisfies(BOX, need({ cpuCores: 9 })), false);
      assert.equal(satisfies(BOX, need({ memoryMb: 32_769 })), false);
      assert.equal(satisfies(BOX, need({ diskGb: 101 })), false);
    });
  });

  describe("reservations", () => {
    it("reserves until a dimension is full, and frees on release", () => {
      // Given a ledger holding one GPU job
      const ledger = new CapacityLedger(BOX, 10);
      ledger.reserve("a", need());
      assert.equal(ledger.fits(need()), true);

      // When a second GPU job takes the last GPU
      ledger.reserve("b", need());

      // Then no GPU job fits, a CPU job still does, and reserving one throws
      assert.equal(ledger.fits(need()), false, "both GPUs are held");
      assert.equal(ledger.fits(cpuJob()), true, "a CPU job still fits");
      assert.throws(() => ledger.reserve("c", need()), /job c does not fit/);
      assert.deepEqual(ledger.free(), { gpus: 0, cpuCores: 4, memoryMb: 16_384, diskGb: 80 });

      // And releasing one frees its GPU
      ledger.release("a");
      assert.equal(ledger.fits(need()), true);
      assert.equal(ledger.holds("a"), false);
      assert.equal(ledger.holds("b"), true);
    });

    it("treats a second reserve of a held job, and a release of an unknown one, as no-ops", () => {
      const ledger = new CapacityLedger(BOX, 10);
      ledger.reserve("a", need());
      ledger.reserve("a", need({ gpuCount: 2 }));
      assert.equal(ledger.jobs(), 1);
      assert.equal(ledger.free().gpus, 1, "the first reservation stands");
      ledger.release("nobody");
      assert.equal(ledger.jobs(), 1);
    });

    it("refuses a job the machine does not meet, even when it is empty", () => {
      const ledger = new CapacityLedger(BOX, 10);
      assert.equal(ledger.fits(need({ gpuModel: label16("H100", "m") })), false);
      assert.throws(() => ledger.reserve("h", need({ vramMb: 48_000 })), /does not fit/);
      assert.equal(ledger.jobs(), 0);
    });

    it("caps the number of jobs held", () => {
      const ledger = new CapacityLedger(BOX, 1);
      ledger.reserve("a", cpuJob({ cpuCores: 1, memoryMb: 1 }));
      assert.equal(ledger.fits(cpuJob({ cpuCores: 1, memoryMb: 1 })), false);
      assert.throws(() => new CapacityLedger(BOX, 1.5), /maxJobs/);
    });

    it("never holds more than the machine, whatever order jobs come and go in", () => {
      // Given a ledger and a stream of random reserves and releases
      const random = lcg(42);
      const ledger = new CapacityLedger(BOX, 6);
      const held = new Set<string>();
      for (let step = 0; step < 2_000; step++) {
        const job = `job-${Math.floor(random() * 12)}`;
        if (held.has(job) && random() < 0.5) {
          ledger.release(job);
          held.delete(job);
          continue;
        }
        const requirements = need({
          gpuCount: Math.floor(random() * 3),
          vramMb: 0,
          cpuCores: 1 + Math.floor(random() * 4),
          memoryMb: Math.floor(random() * 16_384),
          diskGb: Math.floor(random() * 40),
        });

        // When the node reserves only what fits
        if (!held.has(job) && ledger.fits(requirements)) {
          ledger.reserve(job, requirements);
          held.add(job);
        }

        // Then no dimension is ever overdrawn, and utilisation stays in [0, 1]
        const free = ledger.free();
        assert.ok(free.gpus >= 0 && free.cpuCores >= 0 && free.memoryMb >= 0 && free.diskGb >= 0, `overdrawn at step ${step}: ${JSON.stringify(free)}`);
        assert.ok(ledger.jobs() <= 6);
        const u = ledger.utilisation();
        assert.ok(u >= 0 && u <= 1);
      }
    });
  });

  describe("utilisation", () => {
    it("is the fullest dimension", () => {
      const ledger = new CapacityLedger(BOX, 10);
      assert.equal(ledger.utilisation(), 0);
      ledger.reserve("a", need({ cpuCores: 6 }));
      assert.equal(ledger.utilisation(), 0.75, "6 of 8 cores");
      ledger.reserve("b", need({ cpuCores: 1 }));
      assert.equal(ledger.utilisation(), 1, "both GPUs");
    });

    it("counts held jobs against the maximum of concurrent jobs", () => {
      const ledger = new CapacityLedger(BOX, 4);
      ledger.reserve("a", cpuJob({ cpuCores: 1, memoryMb: 1, diskGb: 0 }));
      assert.equal(ledger.utilisation(), 0.25);
    });

    it("ignores dimensions the machine does not have", () => {
      const ledger = new CapacityLedger({ ...BOX, gpuModel: undefined, gpuCount: 0, vramMb: 0, diskGb: 0 }, 10);
      ledger.reserve("a", cpuJob({ cpuCores: 2, memoryMb: 8_192, diskGb: 0 }));
      assert.equal(ledger.utilisation(), 0.25);
    });

    it("follows a machine that lost a GPU, keeping the jobs it holds", () => {
      const ledger = new CapacityLedger(BOX, 10);
      ledger.reserve("a", need());
      ledger.reserve("b", need());
      ledger.resize({ ...BOX, gpuCount: 1 });
      assert.equal(ledger.jobs(), 2);
      assert.equal(ledger.free().gpus, -1);
      assert.equal(ledger.fits(need()), false);
      assert.equal(ledger.utilisation(), 1, "capped at 1 while overcommitted");
      ledger.release("a");
      ledger.release("b");
      assert.equal(ledger.fits(need()), true);
    });
  });
});
