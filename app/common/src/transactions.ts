// The daemons' side of the SDK's transaction layer: its options as configuration fields (the same
// in the keeper and the provider) and its reports as Prometheus metrics, by instruction.
import { z } from "zod";
import { DEFAULT_MAX_PRIORITY_FEE, parsePriorityFeeStrategy, type SendReport, type TransactionOptions } from "@compute-market/sdk";
import { Counter, Histogram, type Registry } from "./metrics";

/** Configuration fields of the transaction layer, merged into each daemon's schema. */
export const transactionConfigFields = {
  /** How the compute-unit price is chosen: none, fixed:<µlamports>, p<percentile> or p<percentile>:<floor>. */
  priorityFee: z
    .string()
    .default("p75")
    .transform((text, ctx) => {
      try {
        return parsePriorityFeeStrategy(text);
      } catch (error) {
        ctx.addIssue({ code: "custom", message: error instanceof Error ? error.message : String(error) });
        return z.NEVER;
      }
    }),
  /** The highest compute-unit price ever paid, in micro-lamports per compute unit. */
  maxPriorityFee: z.coerce.number().int().min(0).default(DEFAULT_MAX_PRIORITY_FEE),
};

export const transactionEnv = (prefix: string) => ({ priorityFee: `${prefix}_PRIORITY_FEE`, maxPriorityFee: `${prefix}_MAX_PRIORITY_FEE` }) as const;

/** Counters and histograms of every transaction a daemon sends, by instruction and outcome. */
export function transactionMetrics(registry: Registry, prefix: string): (report: SendReport) => void {
  const sent = new Counter({ name: `${prefix}_transactions_total`, help: "Transactions sent, by instruction and outcome (landed, or the error's name)", labelNames: ["instruction", "outcome"], registers: [registry] });
  const latency = new Histogram({ name: `${prefix}_transaction_landing_seconds`, help: "From building to confirmation, landed transactions", labelNames: ["instruction"], buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60], registers: [registry] });
  const fees = new Counter({ name: `${prefix}_transaction_fees_lamports_total`, help: "Fees of landed transactions (base and priority, at most)", labelNames: ["instruction"], registers: [registry] });
  const rebroadcasts = new Counter({ name: `${prefix}_transaction_rebroadcasts_total`, help: "Times a signed transaction was sent again", labelNames: ["instruction"], registers: [registry] });
  const expiries = new Counter({ name: `${prefix}_transaction_expiries_total`, help: "Blockhashes that expired before the transaction landed", labelNames: ["instruction"], registers: [registry] });
  return (report) => {
    const instruction = report.label;
    sent.inc({ instruction, outcome: report.landed ? "landed" : (report.error ?? "failed") });
    if (report.landed) {
      latency.observe({ instruction }, report.latencyMs / 1000);
      fees.inc({ instruction }, Number(report.feeLamports));
    }
    if (report.rebroadcasts > 0) rebroadcasts.inc({ instruction }, report.rebroadcasts);
    if (report.expiries > 0) expiries.inc({ instruction }, report.expiries);
  };
}

/** The SDK's transaction options from a daemon's configuration and its metrics. */
export function transactionOptions(config: { priorityFee: TransactionOptions["priorityFee"]; maxPriorityFee: number }, onReport?: (report: SendReport) => void): TransactionOptions {
  return { priorityFee: config.priorityFee, maxPriorityFee: config.maxPriorityFee, onReport };
}
