// A bidding strategy prices a job the node can run, or passes. Prices are integers in the payment
// token's base units, per provider (each replica is paid its own price); a service lease's is a
// rate per slot. Strategies see the job, its market (with the EWMA clearing price) and how busy
// the node is.
import type { JobAccount, MarketAccount } from "@compute-market/sdk";

export interface QuoteContext {
  /**
   * The job: its requirements (with `maxDurationSlots`, the duration the market prices by), the
   * most it pays per provider, the price that awards at once (0: none) and how many providers
   * run it.
   */
  job: Pick<JobAccount, "maxPrice" | "instantPrice" | "requirements"> & Partial<Pick<JobAccount, "replication" | "kind">>;
  /**
   * `ewmaPrice`: the moving average of awarded prices per unit of work (a GPU-slot, or a slot
   * for jobs without GPUs) in millionths of a base unit (`PRICE_SCALE`); 0 until the first award.
   */
  market: Pick<MarketAccount, "ewmaPrice">;
  /** The node's utilisation in [0, 1] before this job, its open bids included. */
  utilisation: number;
  /** Bids the node has open (placed, not yet awarded or closed), when the caller tracks them. */
  openBids?: number;
}

export interface BiddingStrategy {
  readonly name: string;
  /** The price to bid (positive, at most the job's maximum), or null to pass. */
  quote(context: QuoteContext): bigint | null;
}

/** Whether the job is a service lease: its price is a rate per slot, its maximum the rate cap. */
export function isLease(job: QuoteContext["job"]): boolean {
  return job.kind !== undefined && "service" in job.kind;
}

/** Units of work one price buys: GPUs (at least one) × slots, as the program's
 * `record_clearing_price`, for a job; GPUs × one slot for a lease, priced per slot. */
export function workUnits(requirements: QuoteContext["job"]["requirements"], lease = false): bigint {
  return BigInt(Math.max(requirements.gpuCount, 1)) * (lease ? 1n : requirements.maxDurationSlots);
}
