// Pricing strategies: exact prices, the market's clearing price, the cost floor and the caps.
import assert from "node:assert/strict";
import { createStrategy, FixedFloorStrategy, UtilisationMarkupStrategy, type QuoteContext } from "../../app/provider/src/strategy";

function context(overrides: { maxPrice?: bigint; gpuCount?: number; slots?: bigint; ewma?: bigint; utilisation?: number; instantPrice?: bigint } = {}): QuoteContext {
  return {
    job: {
      maxPrice: overrides.maxPrice ?? 1_000_000n,
      instantPrice: overrides.instantPrice ?? 0n,
      requirements: { gpuModel: [], gpuCount: overrides.gpuCount ?? 2, vramMb: 0, cpuCores: 1, memoryMb: 1, diskGb: 0, maxDurationSlots: overrides.slots ?? 1_000n },
    } as unknown as QuoteContext["job"],
    market: { ewmaPrice: overrides.ewma ?? 0n },
    utilisation: overrides.utilisation ?? 0,
  };
}

describe("pricing strategies", () => {
  it("fixed floor: its price when the job allows it, else a pass", () => {
    const strategy = new FixedFloorStrategy(5_000n);
    assert.equal(strategy.quote(context()), 5_000n);
    assert.equal(strategy.quote(context({ maxPrice: 4_999n })), null);
    assert.throws(() => new FixedFloorStrategy(0n), /positive/);
  });

  // 2 GPUs × 1,000 slots = 2,000 units; cost 150 millionths a unit → floor 0.3, rounded up to 1.
  const markup = new UtilisationMarkupStrategy({ costPerUnitSlot: 1_500_000n, baseMarkupBps: 1_000, utilisationMarkupBps: 4_000, ceiling: 0.9 });

  it("utilisation markup: cost floor × (1 + base + k·u²)", () => {
    // floor = 1.5 × 2,000 = 3,000; idle: +10 % = 3,300; half full: +10 % + 40 % × 0.25 = +20 % = 3,600.
    assert.equal(markup.quote(context()), 3_300n);
    assert.equal(markup.quote(context({ utilisation: 0.5 })), 3_600n);
    assert.equal(markup.markupBps(1), 5_000n);
  });

  it("bids just under a higher market price, never under its own markup", () => {
    // Market: 2.0 a unit × 2,000 units = 4,000; 1 % under = 3,960 > 3,300.
    assert.equal(markup.quote(context({ ewma: 2_000_000n })), 3_960n);
    // Market below the markup price: the markup price stands.
    assert.equal(markup.quote(context({ ewma: 1_000_000n })), 3_300n);
  });

  it("passes past its utilisation ceiling or when the floor exceeds the maximum, and caps at the maximum", () => {
    assert.equal(markup.quote(context({ utilisation: 0.9 })), null);
    assert.equal(markup.quote(context({ maxPrice: 2_999n })), null);
    assert.equal(markup.quote(context({ maxPrice: 3_100n })), 3_100n);
  });

  it("counts a CPU job as one unit per slot and rounds the floor up", () => {
    const cheap = new UtilisationMarkupStrategy({ costPerUnitSlot: 1n, baseMarkupBps: 0, utilisationMarkupBps: 0, ceiling: 1 });
    assert.equal(cheap.quote(context({ gpuCount: 0, slots: 10n })), 1n);
  });

  it("is created by name from configuration", () => {
    assert.equal(createStrategy({ name: "fixed-floor", price: 7n }).name, "fixed-floor");
    assert.equal(createStrategy({ name: "utilisation-markup", costPerUnitSlot: 1n, baseMarkupBps: 0, utilisationMarkupBps: 0, ceiling: 1 }).name, "utilisation-markup");
  });
});
