// Cost-plus pricing that follows demand: the cost floor (cost per unit × the job's units) marked
// up more as the node fills (base + k·u²), raised towards the market's recent clearing price
// when that is higher (just under it, to stay the best bid), never below the floor, never above
// the job's maximum; a node past its utilisation ceiling passes.
import { PRICE_SCALE } from "@compute-market/sdk";
import { workUnits, type BiddingStrategy, type QuoteContext } from "./types";

export interface UtilisationMarkupConfig {
  /** Cost of one unit (GPU-slot, or slot for CPU jobs), in base units × PRICE_SCALE (millionths). */
  costPerUnitSlot: bigint;
  baseMarkupBps: number;
  /** Extra markup at full utilisation; it grows with the square of utilisation. */
  utilisationMarkupBps: number;
  /** Utilisation at or above which the node stops bidding, in [0, 1]. */
  ceiling: number;
  /** How far under the market price to bid, in basis points. */
  undercutBps?: number;
}

const BPS = 10_000n;

export class UtilisationMarkupStrategy implements BiddingStrategy {
  readonly name = "utilisation-markup";

  constructor(private readonly config: UtilisationMarkupConfig) {
    if (config.costPerUnitSlot <= 0n) throw new RangeError("costPerUnitSlot must be positive");
    if (!(config.ceiling > 0 && config.ceiling <= 1)) throw new RangeError("ceiling must be in (0, 1]");
  }

  /** The markup at utilisation u, in basis points (integer). */
  markupBps(utilisation: number): bigint {
    const u = Math.min(Math.max(utilisation, 0), 1);
    return BigInt(this.config.baseMarkupBps) + BigInt(Math.round(this.config.utilisationMarkupBps * u * u));
  }

  quote({ job, market, utilisation }: QuoteContext): bigint | null {
    if (utilisation >= this.config.ceiling) return null;
    const units = workUnits(job.requirements);
    const floor = ceilDiv(this.config.costPerUnitSlot * units, PRICE_SCALE);
    if (floor > job.maxPrice) return null;
    let price = ceilDiv(floor * (BPS + this.markupBps(utilisation)), BPS);
    if (market.ewmaPrice > 0n) {
      const marketPrice = (market.ewmaPrice * units) / PRICE_SCALE;
      const underMarket = (marketPrice * (BPS - BigInt(this.config.undercutBps ?? 100))) / BPS;
      if (underMarket > price) price = underMarket;
    }
    if (price < floor) price = floor;
    return price > job.maxPrice ? job.maxPrice : price;
  }
}

function ceilDiv(a: bigint, b: bigint): bigint {
  return (a + b - 1n) / b;
}
