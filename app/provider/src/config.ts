// The provider node's configuration: defaults < JSON file (--config) < PROVIDER_* environment <
// flags, as the keeper's. Prices are decimal strings (JSON has no bigint) read as bigint.
import { PublicKey } from "@solana/web3.js";
import { z } from "zod";
import { listOf, transactionConfigFields, transactionEnv } from "@compute-market/common";
import type { Reserve } from "./hardware";

const U64_MAX = 2n ** 64n - 1n;

/** A price in base units: a decimal string (or a safe integer, or a bigint), positive, within u64. */
const price = z
  .union([z.string().regex(/^\d+$/, "must be a decimal integer string"), z.number().int().nonnegative(), z.bigint()])
  .transform((v) => BigInt(v))
  .refine((v) => v > 0n, "must be positive")
  .refine((v) => v <= U64_MAX, "must fit in a u64");

function isAddress(text: string): boolean {
  try {
    new PublicKey(text);
    return true;
  } catch {
    return false;
  }
}

/** An account address, base58: a typo fails at start, not at the first RPC call. */
const address = z.string().refine(isAddress, "must be a base58 account address");

const StrategySchema = z.discriminatedUnion("name", [
  z.object({ name: z.literal("fixed-floor"), price, serviceRate: price.optional() }),
  z.object({
    name: z.literal("utilisation-markup"),
    costPerUnitSlot: price,
    baseMarkupBps: z.coerce.number().int().min(0).max(100_000).default(1_000),
    utilisationMarkupBps: z.coerce.number().int().min(0).max(100_000).default(5_000),
    ceiling: z.coerce.number().gt(0).max(1).default(0.9),
    undercutBps: z.coerce.number().int().min(0).max(10_000).default(100),
  }),
]);

/** A strategy given as JSON text (env, flags) or as an object (config file). */
const strategyInput = z.unknown().transform((value, ctx) => {
  if (typeof value !== "string") return value;
  try {
    return JSON.parse(value) as unknown;
  } catch {
    ctx.addIssue({ code: "custom", message: 'strategy must be JSON, e.g. {"name":"fixed-floor","price":"1000"}' });
    return z.NEVER;
  }
});

export const ProviderConfigSchema = z.object({
  url: z.string().url().default("http://127.0.0.1:8899"),
  wsUrl: z.string().url().optional(),
  keypair: z.string().default("~/.config/solana/id.json"),
  programId: address.optional(),
  /** The market to provide in; optional here because only chain commands need it. */
  market: address.optional(),
  /** The public URL of this node's results server, registered on-chain. */
  endpoint: z.string().url().optional(),
  host: z.string().default("127.0.0.1"),
  port: z.coerce.number().int().min(0).max(65_535).default(9470),
  statusPort: z.coerce.number().int().min(0).max(65_535).default(9471),
  workDir: z.string().default("~/.compute-market/provider"),
  dockerSocket: z.string().default("/var/run/docker.sock"),
  strategy: strategyInput.pipe(StrategySchema).default({ name: "fixed-floor", price: 1_000_000n }),
  region: z.coerce.number().int().min(0).max(65_535).default(0),
  reserveCpuCores: z.coerce.number().int().min(0).default(0),
  reserveMemoryMb: z.coerce.number().int().min(0).default(512),
  reserveDiskGb: z.coerce.number().int().min(0).default(5),
  maxConcurrentJobs: z.coerce.number().int().positive().default(2),
  /** Bid on service leases and run their replicas, ports published on `host`, until they end. */
  serveServices: z.union([z.boolean(), z.enum(["true", "false"]).transform((v) => v === "true")]).default(false),
  /** Verifiable jobs' replays kept in memory for their games (each holds a 16 MiB machine). */
  replayCacheSize: z.coerce.number().int().positive().default(4),
  /** Other endpoints to fetch specs and inputs from (comma-separated in env and flags). */
  blobSources: listOf(z.string().url())
    .default([]),
  maxBlobBytes: z.coerce.number().int().positive().default(256 * 1024 * 1024),
  /** Bytes the blob store may hold before public uploads are refused. */
  maxStoreBytes: z.coerce.number().int().positive().default(20 * 1024 ** 3),
  tickMs: z.coerce.number().int().positive().default(1_000),
  /** Service leases: claim once this many acknowledgement periods are unclaimed... */
  claimEveryPeriods: z.coerce.number().int().positive().default(3).transform((v) => BigInt(v)),
  /** ...or once the acknowledged, unclaimed pay of a replica reaches this (base units): the most the node risks. */
  maxUnclaimedTokens: price.default(10_000_000n),
  resyncMs: z.coerce.number().int().positive().default(30_000),
  ...transactionConfigFields,
  logLevel: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
});

export type ProviderConfig = z.output<typeof ProviderConfigSchema>;

/** What the operator keeps for the host, as `toHardwareSpec` takes it. */
export function reserveOf(config: Pick<ProviderConfig, "reserveCpuCores" | "reserveMemoryMb" | "reserveDiskGb">): Reserve {
  return { cpuCores: config.reserveCpuCores, memoryMb: config.reserveMemoryMb, diskGb: config.reserveDiskGb };
}

export const PROVIDER_ENV = {
  url: "PROVIDER_URL",
  wsUrl: "PROVIDER_WS_URL",
  keypair: "PROVIDER_KEYPAIR",
  programId: "PROVIDER_PROGRAM_ID",
  market: "PROVIDER_MARKET",
  endpoint: "PROVIDER_ENDPOINT",
  host: "PROVIDER_HOST",
  port: "PROVIDER_PORT",
  statusPort: "PROVIDER_STATUS_PORT",
  workDir: "PROVIDER_WORK_DIR",
  dockerSocket: "PROVIDER_DOCKER_SOCKET",
  strategy: "PROVIDER_STRATEGY",
  region: "PROVIDER_REGION",
  reserveCpuCores: "PROVIDER_RESERVE_CPU_CORES",
  reserveMemoryMb: "PROVIDER_RESERVE_MEMORY_MB",
  reserveDiskGb: "PROVIDER_RESERVE_DISK_GB",
  maxConcurrentJobs: "PROVIDER_MAX_CONCURRENT_JOBS",
  serveServices: "PROVIDER_SERVE_SERVICES",
  replayCacheSize: "PROVIDER_REPLAY_CACHE_SIZE",
  blobSources: "PROVIDER_BLOB_SOURCES",
  maxBlobBytes: "PROVIDER_MAX_BLOB_BYTES",
  maxStoreBytes: "PROVIDER_MAX_STORE_BYTES",
  tickMs: "PROVIDER_TICK_MS",
  claimEveryPeriods: "PROVIDER_CLAIM_EVERY_PERIODS",
  maxUnclaimedTokens: "PROVIDER_MAX_UNCLAIMED_TOKENS",
  resyncMs: "PROVIDER_RESYNC_MS",
  ...transactionEnv("PROVIDER"),
  logLevel: "LOG_LEVEL",
} as const;
