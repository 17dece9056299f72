// Bids one fixed price on every job whose maximum price allows it, and one fixed rate per slot on
// every lease whose rate cap allows it: predictable, for operators who know their costs and do
// not chase the market.
import { isLease, type BiddingStrategy, type QuoteContext } from "./types";

export interface FixedFloorConfig {
  /** The price bid on every job, in base units of the payment token. */
  price: bigint;
  /** The rate per slot bid on every service lease; without it, leases are passed on. */
  serviceRate?: bigint;
}

export class FixedFloorStrategy implements BiddingStrategy {
  readonly name = "fixed-floor";

  constructor(
    private readonly price: bigint,
    private readonly serviceRate?: bigint,
  ) {
    if (price <= 0n) throw new RangeError("fixed-floor price must be positive");
    if (serviceRate !== undefined && serviceRate <= 0n) throw new RangeError("fixed-floor serviceRate must be positive");
  }

  quote({ job }: QuoteContext): bigint | null {
    const asked = isLease(job) ? this.serviceRate : this.price;
    return asked !== undefined && asked <= job.maxPrice ? asked : null;
  }
}
