// The keeper's configuration: defaults < JSON file (--config) < KEEPER_* environment < flags.
import { z } from "zod";

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
  bots: z
    .union([z.string(), z.array(z.string())])
    .transform((v) => (Array.isArray(v) ? v : v.split(",").map((s) => s.trim()).filter(Boolean)))
    .pipe(z.array(z.enum(["auction-closer", "deadline-cranker", "finalizer"])))
    .default(["auction-closer", "deadline-cranker", "finalizer"]),
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
  bots: "KEEPER_BOTS",
  dryRun: "KEEPER_DRY_RUN",
  logLevel: "LOG_LEVEL",
} as const;
