// Pricing strategies: exact prices, the market's clearing price, the cost floor, the caps, and
// bigint arithmetic at the edges of u64.
import assert from "node:assert/strict";
import { label16, suggestMaxPrice } from "@compute-market/sdk";
import { createStrategy, FixedFloorStrategy, UtilisationMarkupStrategy, workUnits, type QuoteContext, type StrategyConfig } from "../../../app/provider/src/strategy";

const U64_MAX = 2n ** 64n - 1n;

interface Overrides {
  maxPrice?: bigint;
  instantPrice?: bigint;
  gpuCount?: number;
  slots?: bigint;
  ewma?: bigint;
  utilisation?: number;
  replication?: number;
}

function context(o: Overrides = {}): QuoteContext {
  return {
    job: {
      maxPrice: o.maxPrice ?? 1_000_000n,
      instantPrice: o.instantPrice ?? 0n,
      replication: o.replication ?? 1,
      requirements: { gpuModel: label16("", "m"), gpuCount: o.gpuCount ?? 2, vramMb: 0, cpuCores: 1, memoryMb: 1, diskGb: 0, maxDurationSlots: o.slots ?? 1_000n },
    },
    market: { ewmaPrice: o.ewma ?? 0n },
    utilisation: o.utilisation ?? 0,
    openBids: 0,
  };
}

describe("pricing strategies", () => {
  it("counts work as the program's EWMA does: GPUs (at least one) × slots", () => {
    assert.equal(workUnits(context().job.requirements), 2_000n);
    assert.equal(workUnits(context({ gpuCount: 0, slots: 7n }).job.requirements), 7n);
    assert.equal(workUnits(context({ gpuCount: 255, slots: U64_MAX }).job.requirements), 255n * U64_MAX, "no overflow in bigint");
  });

  describe("fixed floor", () => {
    it("bids its price when the job allows it, else passes", () => {
      const strategy = new FixedFloorStrategy(5_000n);
      assert.equal(strategy.quote(context()), 5_000n);
      assert.equal(strategy.quote(context({ maxPrice: 5_000n })), 5_000n, "at the maximum exactly");
      assert.equal(strategy.quote(context({ maxPrice: 4_999n })), null);
      assert.equal(strategy.quote(context({ ewma: 10n ** 12n, utilisation: 0.99 })), 5_000n, "the market and the load do not move it");
    });

    it("refuses a price of zero", () => {
      assert.throws(() => new FixedFloorStrategy(0n), /positive/);
      assert.throws(() => new FixedFloorStrategy(-1n), /positive/);
    });
  });

  describe("utilisation markup", () => {
    // 2 GPUs × 1,000 slots = 2,000 units at 1.5 base units a unit (1,500,000 millionths): floor 3,000.
    const markup = new UtilisationMarkupStrategy({ costPerUnitSlot: 1_500_000n, baseMarkupBps: 1_000, utilisationMarkupBps: 4_000, ceiling: 0.9 });

    it("prices the cost floor × (1 + base + k·u²)", () => {
      assert.equal(markup.costFloor(context().job), 3_000n);
      // Idle: +10 % → 3,300.
      assert.equal(markup.quote(context()), 3_300n);
      // Half full: +10 % + 40 % × 0.25 = +20 % → 3,600.
      assert.equal(markup.quote(context({ utilisation: 0.5 })), 3_600n);
      // u = 0.3: +10 % + 40 % × 0.09 = +13.6 % → 3,408.
      assert.equal(markup.quote(context({ utilisation: 0.3 })), 3_408n);
      assert.equal(markup.markupBps(1), 5_000n);
      assert.equal(markup.markupBps(-1), 1_000n, "clamped to [0, 1]");
      assert.equal(markup.markupBps(2), 5_000n, "clamped to [0, 1]");
    });

    it("rounds the markup to whole basis points and the price up", () => {
      // u = 1/3: 4,000 × 1/9 = 444.4 → 444 bps; 3,000 × 1.1444 = 3,433.2 → 3,434.
      assert.equal(markup.markupBps(1 / 3), 1_444n);
      assert.equal(markup.quote(context({ utilisation: 1 / 3 })), 3_434n);
      // 3 units at 1.000001 a unit: 3.000003 → 4.
      const odd = new UtilisationMarkupStrategy({ costPerUnitSlot: 1_000_001n, baseMarkupBps: 0, utilisationMarkupBps: 0, ceiling: 1 });
      assert.equal(odd.quote(context({ gpuCount: 1, slots: 3n })), 4n);
    });

    it("counts a CPU job as one unit per slot, and never bids under 1", () => {
      const cheap = new UtilisationMarkupStrategy({ costPerUnitSlot: 1n, baseMarkupBps: 0, utilisationMarkupBps: 0, ceiling: 1 });
      // 10 slots at one millionth: 0.00001 → 1.
      assert.equal(cheap.quote(context({ gpuCount: 0, slots: 10n })), 1n);
      assert.equal(cheap.quote(context({ gpuCount: 0, slots: 0n })), 1n, "a zero-length job still costs the minimum bid");
    });

    it("bids just under a higher market price, never under its own markup", () => {
      // Market: 2.0 a unit × 2,000 units = 4,000; 1 % under = 3,960 > 3,300.
      assert.equal(markup.quote(context({ ewma: 2_000_000n })), 3_960n);
      // 1.700001 × 2,000 = 3,400.002 → 3,400; 1 % under = 3,366 > 3,300.
      assert.equal(markup.quote(context({ ewma: 1_700_001n })), 3_366n);
      // 1.666667 × 2,000 = 3,333.334 → 3,333; 1 % under = 3,299.67 → 3,299 < 3,300: the markup stands.
      assert.equal(markup.quote(context({ ewma: 1_666_667n })), 3_300n);
      // A market below the floor does not pull the price under the markup.
      assert.equal(markup.quote(context({ ewma: 1_000_000n })), 3_300n);
      assert.equal(markup.quote(context({ ewma: 1n })), 3_300n);
    });

    it("stays under what a consumer following the market would offer", () => {
      // Given a consumer that sets its maximum from the market (+20 %)
      const market = { ewmaPrice: 2_000_000n } as Parameters<typeof suggestMaxPrice>[0];
      const maxPrice = suggestMaxPrice(market, { cpuCores: 1, memoryMb: 1, gpuCount: 2, maxDurationSlots: 1_000n });
      assert.equal(maxPrice, 4_800n);

      // When the node quotes that job
      const price = markup.quote(context({ ewma: 2_000_000n, maxPrice: maxPrice! }));

      // Then it bids 1 % under the market, well inside the maximum
      assert.equal(price, 3_960n);
    });

    it("undercuts by the configured amount", () => {
      const exact = new UtilisationMarkupStrategy({ costPerUnitSlot: 1_500_000n, baseMarkupBps: 1_000, utilisationMarkupBps: 4_000, ceiling: 0.9, undercutBps: 0 });
      assert.equal(exact.quote(context({ ewma: 2_000_000n })), 4_000n);
      const deep = new UtilisationMarkupStrategy({ costPerUnitSlot: 1_500_000n, baseMarkupBps: 1_000, utilisationMarkupBps: 4_000, ceiling: 0.9, undercutBps: 2_000 });
      assert.equal(deep.quote(context({ ewma: 2_000_000n })), 3_300n, "4,000 − 20 % = 3,200 < 3,300");
    });

    it("passes at its utilisation ceiling or when the floor exceeds the maximum, and caps at the maximum", () => {
      assert.equal(markup.quote(context({ utilisation: 0.9 })), null);
      assert.equal(markup.quote(context({ utilisation: 0.95 })), null);
      // Just under: 0.89² × 4,000 = 3,168.4 → 3,168 bps; 3,000 × 1.4168 = 4,250.4 → 4,251.
      assert.equal(markup.quote(context({ utilisation: 0.89 })), 4_251n);
      assert.equal(markup.quote(context({ utilisation: Number.NaN })), null, "an unknown load passes");
      assert.equal(markup.quote(context({ maxPrice: 2_999n })), null);
      assert.equal(markup.quote(context({ maxPrice: 3_000n })), 3_000n, "the floor itself fits");
      assert.equal(markup.quote(context({ maxPrice: 3_100n })), 3_100n);
      assert.equal(markup.quote(context({ maxPrice: 3_500n, ewma: 2_000_000n })), 3_500n);
    });

    it("keeps exact arithmetic at the edges of u64", () => {
      // 8 GPUs × 2^61 slots = 2^64 units at 1 a unit: the floor is 2^64, past any u64 maximum.
      const onePerUnit = new UtilisationMarkupStrategy({ costPerUnitSlot: 1_000_000n, baseMarkupBps: 0, utilisationMarkupBps: 0, ceiling: 1 });
      assert.equal(onePerUnit.quote(context({ gpuCount: 8, slots: 2n ** 61n, maxPrice: U64_MAX })), null);
      assert.equal(onePerUnit.quote(context({ gpuCount: 8, slots: 2n ** 61n - 1n, maxPrice: U64_MAX })), 2n ** 64n - 8n);

      // A huge market price is capped at the job's maximum, not wrapped.
      const tiny = new UtilisationMarkupStrategy({ costPerUnitSlot: 1n, baseMarkupBps: 0, utilisationMarkupBps: 0, ceiling: 1 });
      assert.equal(tiny.quote(context({ gpuCount: 255, slots: U64_MAX, ewma: U64_MAX, maxPrice: U64_MAX })), U64_MAX);
      // 255 × (2^64 − 1) millionths, rounded up, marked up by nothing.
      assert.equal(tiny.quote(context({ gpuCount: 255, slots: U64_MAX, maxPrice: U64_MAX })), (255n * U64_MAX + 999_999n) / 1_000_000n);
    });

    it("refuses a configuration it cannot price with", () => {
      const base = { costPerUnitSlot: 1n, baseMarkupBps: 0, utilisationMarkupBps: 0, ceiling: 1 };
      assert.throws(() => new UtilisationMarkupStrategy({ ...base, costPerUnitSlot: 0n }), /costPerUnitSlot/);
      assert.throws(() => new UtilisationMarkupStrategy({ ...base, ceiling: 0 }), /ceiling/);
      assert.throws(() => new UtilisationMarkupStrategy({ ...base, ceiling: 1.5 }), /ceiling/);
      assert.throws(() => new UtilisationMarkupStrategy({ ...base, baseMarkupBps: -1 }), /baseMarkupBps/);
      assert.throws(() => new UtilisationMarkupStrategy({ ...base, utilisationMarkupBps: 0.5 }), /utilisationMarkupBps/);
      assert.throws(() => new UtilisationMarkupStrategy({ ...base, undercutBps: 10_001 }), /undercutBps/);
    });
  });

  describe("service leases, priced per slot", () => {
    const lease = (o: Overrides = {}): QuoteContext => {
      const c = context(o);
      return { ...c, job: { ...c.job, kind: { service: {} } } as QuoteContext["job"] };
    };

    it("a fixed floor bids its rate per slot on a lease whose cap allows it, and passes without one", () => {
      assert.equal(new FixedFloorStrategy(500n, 7n).quote(lease({ maxPrice: 10n })), 7n);
      assert.equal(new FixedFloorStrategy(500n, 7n).quote(lease({ maxPrice: 6n })), null, "the rate cap is below its rate");
      assert.equal(new FixedFloorStrategy(5n).quote(lease({ maxPrice: 10n })), null, "no rate set: its job price is not a rate");
      assert.equal(new FixedFloorStrategy(500n, 7n).quote(context({ maxPrice: 1_000n })), 500n, "a batch job still gets its price");
      assert.throws(() => new FixedFloorStrategy(5n, 0n), /serviceRate must be positive/);
    });

    it("utilisation markup prices one slot of a lease, marked up, and ignores the batch jobs' market price", () => {
      const strategy = new UtilisationMarkupStrategy({ costPerUnitSlot: 3_000_000n, baseMarkupBps: 1_000, utilisationMarkupBps: 0, ceiling: 1 });
      // 2 GPUs × one slot × 3 base units = 6, +10 % = 6.6 → 7.
      assert.equal(strategy.quote(lease({ gpuCount: 2, slots: 9_000n, maxPrice: 100n })), 7n);
      assert.equal(strategy.quote(lease({ gpuCount: 2, slots: 9_000n, maxPrice: 100n, ewma: 1_000_000_000n })), 7n);
      assert.equal(strategy.quote(lease({ gpuCount: 2, maxPrice: 5n })), null, "a cost of 6 per slot is above the cap");
      assert.equal(workUnits(lease({ gpuCount: 0, slots: 9_000n }).job.requirements, true), 1n);
    });
  });

  describe("createStrategy", () => {
    it("builds a strategy by name from configuration", () => {
      const fixed = createStrategy({ name: "fixed-floor", price: 7n });
      assert.equal(fixed.name, "fixed-floor");
      assert.equal(fixed.quote(context()), 7n);
      const markup = createStrategy({ name: "utilisation-markup", costPerUnitSlot: 1_500_000n, baseMarkupBps: 1_000, utilisationMarkupBps: 4_000, ceiling: 0.9 });
      assert.equal(markup.name, "utilisation-markup");
      assert.equal(markup.quote(context()), 3_300n);
    });

    it("names the strategies it knows when given another", () => {
      assert.throws(() => createStrategy({ name: "moon" } as unknown as StrategyConfig), /unknown strategy "moon": expected one of fixed-floor, utilisation-markup/);
    });
  });
});
