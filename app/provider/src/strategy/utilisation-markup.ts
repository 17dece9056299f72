// Cost-plus pricing that follows demand: the cost floor (cost per unit × the job's units) marked
// up more as the node fills (base + k·u²), raised towards the market's recent clearing price
// when that is higher (just under it, to stay the best bid), never below the floor, never above
// the job's maximum; a node at or past its utilisation ceiling passes. A lease is priced per slot
// (the cost of one slot, marked up the same way).
import { PRICE_SCALE } from "@compute-market/sdk";
import { isLease, workUnits, type BiddingStrategy, type QuoteContext } from "./types";

export interface UtilisationMarkupConfig {
  /**
   * Cost of one unit of work (a GPU-slot, or a slot for jobs without GPUs: the unit of the
   * market's EWMA), in millionths of a base unit (× PRICE_SCALE), so sub-unit costs are exact.
   */
  costPerUnitSlot: bigint;
  /** Markup on the cost floor when idle, in basis points. */
  baseMarkupBps: number;
  /** Extra markup at full utilisation, in basis points; it grows with the square of utilisation. */
  utilisationMarkupBps: number;
  /** Utilisation at or above which the node stops bidding, in (0, 1]. */
  ceiling: number;
  /** How far under the market price to bid, in basis points (default 100: 1 %). */
  undercutBps?: number;
}

const BPS = 10_000n;
const DEFAULT_UNDERCUT_BPS = 100;

function requireBps(value: number, field: string, max = Number.MAX_SAFE_INTEGER): void {
  if (!Number.isInteger(value) || value < 0 || value > max) throw new RangeError(`${field} must be an integer number of basis points in [0, ${max}], got ${value}`);
}

/** ⌈a / b⌉ for a ≥ 0, b > 0. */
function ceilDiv(a: bigint, b: bigint): bigint {
  return (a + b - 1n) / b;
}

export class UtilisationMarkupStrategy implements BiddingStrategy {
  readonly name = "utilisation-markup";
  private readonly undercutBps: bigint;

  constructor(private readonly config: UtilisationMarkupConfig) {
    if (config.costPerUnitSlot <= 0n) throw new RangeError("costPerUnitSlot must be positive");
    if (!(config.ceiling > 0 && config.ceiling <= 1)) throw new RangeError("ceiling must be in (0, 1]");
    requireBps(config.baseMarkupBps, "baseMarkupBps");
    requireBps(config.utilisationMarkupBps, "utilisationMarkupBps");
    requireBps(config.undercutBps ?? DEFAULT_UNDERCUT_BPS, "undercutBps", 10_000);
    this.undercutBps = BigInt(config.undercutBps ?? DEFAULT_UNDERCUT_BPS);
  }

  /** The markup at utilisation u, in whole basis points (k·u² rounded to the nearest). */
  markupBps(utilisation: number): bigint {
    const u = Math.min(Math.max(utilisation, 0), 1);
    return BigInt(this.config.baseMarkupBps) + BigInt(Math.round(this.config.utilisationMarkupBps * u * u));
  }

  /** What the job costs the node to run: rounded up, and at least 1 (the program rejects 0). */
  costFloor(job: QuoteContext["job"]): bigint {
    const floor = ceilDiv(this.config.costPerUnitSlot * workUnits(job.requirements, isLease(job)), PRICE_SCALE);
    return floor > 0n ? floor : 1n;
  }

  quote({ job, market, utilisation }: QuoteContext): bigint | null {
    // An unknown load is treated as full: better to pass than to bid blind.
    if (!Number.isFinite(utilisation) || utilisation >= this.config.ceiling) return null;
    const floor = this.costFloor(job);
    if (floor > job.maxPrice) return null;
    let price = ceilDiv(floor * (BPS + this.markupBps(utilisation)), BPS);
    // The market's EWMA follows batch jobs' awards; a lease is priced from cost alone.
    if (market.ewmaPrice > 0n && !isLease(job)) {
      // The market's price for a job of this size, as the program folds awards into the EWMA.
      const marketPrice = (market.ewmaPrice * workUnits(job.requirements)) / PRICE_SCALE;
      const underMarket = (marketPrice * (BPS - this.undercutBps)) / BPS;
      if (underMarket > price) price = underMarket;
    }
    if (price < floor) price = floor;
    return price > job.maxPrice ? job.maxPrice : price;
  }
}
