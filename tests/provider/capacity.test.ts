// The capacity ledger: the program's requirement check, reservations that never exceed the
// machine, and utilisation as the fullest dimension.
import assert from "node:assert/strict";
import { label16 } from "@compute-market/sdk";
import { CapacityLedger, satisfies, type Requirements } from "../../app/provider/src/capacity";

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

describe("capacity ledger", () => {
  it("mirrors the program's requirement check", () => {
    assert.equal(satisfies(BOX, need()), true);
    assert.equal(satisfies(BOX, need({ gpuModel: label16("L4", "m") })), true);
    assert.equal(satisfies(BOX, need({ gpuModel: label16("H100", "m") })), false);
    assert.equal(satisfies(BOX, need({ vramMb: 40_000 })), false);
    assert.equal(satisfies(BOX, need({ gpuCount: 3 })), false);
    assert.equal(satisfies(BOX, need({ diskGb: 101 })), false);
  });

  it("reserves until a dimension is full, and frees on release", () => {
    const ledger = new CapacityLedger(BOX, 10);
    ledger.reserve("a", need());
    assert.equal(ledger.fits(need()), true);
    ledger.reserve("b", need());
    assert.equal(ledger.fits(need()), false, "both GPUs are held");
    assert.equal(ledger.fits(need({ gpuCount: 0, vramMb: 0 })), true, "a CPU job still fits");
    assert.throws(() => ledger.reserve("c", need()), /does not fit/);
    ledger.reserve("a", need());
    assert.equal(ledger.jobs(), 2, "reserving a held job again changes nothing");
    ledger.release("a");
    assert.equal(ledger.fits(need()), true);
  });

  it("caps the number of jobs held", () => {
    const ledger = new CapacityLedger(BOX, 1);
    ledger.reserve("a", need({ gpuCount: 0, vramMb: 0, cpuCores: 1, memoryMb: 1 }));
    assert.equal(ledger.fits(need({ gpuCount: 0, vramMb: 0, cpuCores: 1, memoryMb: 1 })), false);
  });

  it("reports utilisation as the fullest dimension", () => {
    const ledger = new CapacityLedger(BOX, 10);
    assert.equal(ledger.utilisation(), 0);
    ledger.reserve("a", need({ cpuCores: 6 }));
    assert.equal(ledger.utilisation(), 0.75);
    ledger.reserve("b", need({ cpuCores: 1 }));
    assert.equal(ledger.utilisation(), 1);
  });

  it("follows a machine that lost a GPU, keeping the jobs it holds", () => {
    const ledger = new CapacityLedger(BOX, 10);
    ledger.reserve("a", need());
    ledger.resize({ ...BOX, gpuCount: 1 });
    assert.equal(ledger.fits(need()), false);
    assert.equal(ledger.utilisation(), 1);
    ledger.release("a");
    assert.equal(ledger.fits(need()), true);
  });
});
