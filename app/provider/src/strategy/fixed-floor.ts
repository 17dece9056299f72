// Bids one fixed price on every job whose maximum price allows it: predictable, for operators
// who know their costs and do not chase the market.
import type { BiddingStrategy, QuoteContext } from "./types";

export interface FixedFloorConfig {
  /** The price bid on every job, in base units of the payment token. */
  price: bigint;
}

export class FixedFloorStrategy implements BiddingStrategy {
  readonly name = "fixed-floor";

  constructor(private readonly price: bigint) {
    if (price <= 0n) throw new RangeError("fixed-floor price must be positive");
  }

  quote({ job }: QuoteContext): bigint | null {
    return this.price <= job.maxPrice ? this.price : null;
  }
}
