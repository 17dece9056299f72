// The keeper's configuration: defaults < JSON file (--config) < KEEPER_* environment < flags.
import { z } from "zod";
import { listOf, transactionConfigFields, transactionEnv } from "@compute-market/common";

export const KeeperConfigSchema = z.object({
  url: z.string().url().default("http://127.0.0.1:8899"),
  wsUrl: z.string().url().optional(),
  keypair: z.string().default("~/.config/solana/id.json"),
  programId: z.string().optional(),
  port: z.coerce.number().int().min(0).max(65_535).default(9464),
  host: z.string().default("127.0.0.1"),
  tickMs: z.coerce.number().int().positive().default(1_000),
  resyncMs: z.coerce.number().int().positive().default(30_000),
  concurrency: z.coerce.number().int().positive().default(8),
  /** Cranks of one kind (awards) packed into one transaction at most. */
  packSize: z.coerce.number().int().min(1).max(16).default(8),
  bots: listOf(z.enum(["auction-closer", "deadline-cranker", "finalizer", "dispute-cranker", "challenger", "service-cranker"]))
    .default(["auction-closer", "deadline-cranker", "finalizer", "dispute-cranker", "challenger", "service-cranker"]),
  /** Share of verifiable results the challenger replays, 0..1 (a fixed sample by job). */
  challengeSample: z.coerce.number().min(0).max(1).default(1),
  /** Results claiming more steps than this are not replayed. */
  maxReplaySteps: z
    .union([z.string(), z.number(), z.bigint()])
    .transform((v, ctx) => {
      try {
        const steps = BigInt(v);
        if (steps > 0n) return steps;
      } catch {
        // reported below
      }
      ctx.addIssue({ code: "custom", message: "must be a positive integer" });
      return z.NEVER;
    })
    .default(1n << 32n),
  /** Endpoints (providers' public blob stores, mirrors) to fetch verifiable programs from, after the winner's own. */
  blobSources: listOf(z.string().url())
    .default([]),
  /** Job replays kept in memory at once (each holds a 16 MiB machine). */
  replayCacheSize: z.coerce.number().int().positive().default(4),
  ...transactionConfigFields,
  dryRun: z.union([z.boolean(), z.enum(["true", "false"]).transform((v) => v === "true")]).default(false),
  logLevel: z.enum(["fatal", "error", "warn", "info", "debug", "trace"]).default("info"),
});

export type KeeperConfig = z.output<typeof KeeperConfigSchema>;

export const KEEPER_ENV = {
  url: "KEEPER_URL",
  wsUrl: "KEEPER_WS_URL",
  keypair: "KEEPER_KEYPAIR",
  programId: "KEEPER_PROGRAM_ID",
  port: "KEEPER_PORT",
  host: "KEEPER_HOST",
  tickMs: "KEEPER_TICK_MS",
  resyncMs: "KEEPER_RESYNC_MS",
  concurrency: "KEEPER_CONCURRENCY",
  packSize: "KEEPER_PACK_SIZE",
  bots: "KEEPER_BOTS",
  dryRun: "KEEPER_DRY_RUN",
  challengeSample: "KEEPER_CHALLENGE_SAMPLE",
  maxReplaySteps: "KEEPER_MAX_REPLAY_STEPS",
  blobSources: "KEEPER_BLOB_SOURCES",
  replayCacheSize: "KEEPER_REPLAY_CACHE_SIZE",
  ...transactionEnv("KEEPER"),
  logLevel: "LOG_LEVEL",
} as const;
