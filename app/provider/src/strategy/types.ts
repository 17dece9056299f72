// A bidding strategy prices a job the node can run, or passes. Prices are integers in the payment
// token's base units; strategies see the job, its market (with the EWMA clearing price) and how
// busy the node is.
import type { JobAccount, MarketAccount } from "@compute-market/sdk";

export interface QuoteContext {
  job: Pick<JobAccount, "maxPrice" | "instantPrice" | "requirements">;
  market: Pick<MarketAccount, "ewmaPrice">;
  /** The node's utilisation in [0, 1] before this job. */
  utilisation: number;
}

export interface BiddingStrategy {
  readonly name: string;
  /** The price to bid, or null to pass. */
  quote(context: QuoteContext): bigint | null;
}

/** Units of work a job buys: GPUs (at least one) × slots, as the market's EWMA is kept per unit. */
export function workUnits(requirements: QuoteContext["job"]["requirements"]): bigint {
  return BigInt(Math.max(requirements.gpuCount, 1)) * requirements.maxDurationSlots;
}
