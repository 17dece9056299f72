// Priority fees: what to bid per compute unit for a transaction to land, from what recently
// landed while writing the same accounts, and never above the caller's cap.

/** How the compute-unit price is chosen. Prices are in micro-lamports per compute unit. */
export type PriorityFeeStrategy =
  /** No priority fee (a quiet cluster, or a test). */
  | { kind: "none" }
  /** Always this price. */
  | { kind: "fixed"; microLamports: number }
  /**
   * The given percentile (0..100) of the per-slot minimum fees that landed in recent slots
   * while writing the transaction's accounts (`getRecentPrioritizationFees`), at least `floor`.
   */
  | { kind: "percentile"; percentile: number; floor?: number };

export const DEFAULT_PRIORITY_FEE: PriorityFeeStrategy = { kind: "percentile", percentile: 75 };
/** The default cap: 0.2 lamport per compute unit, so 40,000 lamports for a 200,000-unit transaction. */
export const DEFAULT_MAX_PRIORITY_FEE = 200_000;

export interface RecentFee {
  slot: number;
  prioritizationFee: number;
}

/** The value at `percentile` (0..100) of `values`, by the nearest-rank method; 0 when empty. */
export function percentileOf(values: readonly number[], percentile: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((Math.min(Math.max(percentile, 0), 100) / 100) * sorted.length);
  return sorted[Math.max(rank - 1, 0)];
}

/** The compute-unit price `strategy` picks from `recent`, capped at `max`. Whole micro-lamports. */
export function priorityFee(strategy: PriorityFeeStrategy, recent: readonly RecentFee[], max: number): number {
  const wanted =
    strategy.kind === "none" ? 0
    : strategy.kind === "fixed" ? strategy.microLamports
    : Math.max(percentileOf(recent.map((fee) => fee.prioritizationFee), strategy.percentile), strategy.floor ?? 0);
  return Math.floor(Math.max(0, Math.min(wanted, max)));
}

/** Whether `strategy` needs the recent fees (a request to the node) at all. */
export function needsRecentFees(strategy: PriorityFeeStrategy): boolean {
  return strategy.kind === "percentile";
}

/** The whole fee of a transaction, in lamports: 5,000 per signature plus the priority fee. */
export function transactionFee(signatures: number, computeUnitLimit: number, microLamportsPerUnit: number): bigint {
  return 5_000n * BigInt(signatures) + (BigInt(computeUnitLimit) * BigInt(microLamportsPerUnit) + 999_999n) / 1_000_000n;
}

/** Parses a strategy as given on a command line: "none", "fixed:5000", "p75" or "p75:1000" (with a floor). */
export function parsePriorityFeeStrategy(text: string): PriorityFeeStrategy {
  if (text === "none") return { kind: "none" };
  const fixed = /^fixed:(\d+)$/.exec(text);
  if (fixed) return { kind: "fixed", microLamports: Number(fixed[1]) };
  const percentile = /^p(\d{1,3})(?::(\d+))?$/.exec(text);
  if (percentile && Number(percentile[1]) <= 100) return { kind: "percentile", percentile: Number(percentile[1]), ...(percentile[2] ? { floor: Number(percentile[2]) } : {}) };
  throw new Error(`unknown priority-fee strategy "${text}": use none, fixed:<micro-lamports>, p<percentile> or p<percentile>:<floor>`);
}
