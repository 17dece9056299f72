// What each `provider` command does (./main is their shape): init, register, stake, unstake,
// status and run.
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { Keypair, PublicKey } from "@solana/web3.js";
import { ComputeMarketError, endpointText, labelText } from "@compute-market/sdk";
import { createLogger, expandHome, handleShutdown, loadConfig, loadKeypair, redact } from "@compute-market/common";
import { PROVIDER_ENV, ProviderConfigSchema, type ProviderConfig } from "./config";
import { detectHardware, toHardwareSpec } from "./hardware";
import Docker from "dockerode";
import { DeclineLog } from "./lifecycle/declines";
import { JobJournal } from "./lifecycle/journal";
import { biddingBlockers } from "./readiness";
import { isDaemonReachable } from "./runtime";
import { clientFor, requireMarketAccount, startProvider, type ProviderNodeHandle } from "./provider";

export type Flags = Record<string, string | boolean | undefined>;

/** A failed command's message, once: a program error is already "Name (code): sentence". */
export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Seconds of `slots` at 400 ms, in words. */
function inAbout(slots: bigint): string {
  const seconds = Number(slots) * 0.4;
  return seconds < 120 ? `in about ${Math.ceil(seconds)} seconds` : `in about ${Math.ceil(seconds / 60)} minutes`;
}

function configOf(flags: Flags): ProviderConfig {
  const { config: file, json: _json, ...rest } = flags;
  return loadConfig(ProviderConfigSchema, { file: file as string | undefined, env: PROVIDER_ENV, flags: rest });
}

/** Prints a result as JSON or as aligned `key: value` lines. */
function output(flags: Flags, value: Record<string, unknown>): void {
  if (flags.json) {
    console.log(JSON.stringify(value, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v instanceof PublicKey ? v.toBase58() : v), 2));
    return;
  }
  const width = Math.max(...Object.keys(value).map((k) => k.length));
  for (const [key, v] of Object.entries(value)) console.log(`${key.padEnd(width)}  ${typeof v === "object" && v !== null ? JSON.stringify(v, (_k, x: unknown) => (typeof x === "bigint" ? x.toString() : x)) : String(v)}`);
}

/** One line per step of a longer command, on stderr so --json output stays clean. */
function step(flags: Flags, index: number, total: number, text: string): void {
  if (!flags.json) process.stderr.write(`[${index}/${total}] ${text}\n`);
}

function parseAmount(value: string | boolean | undefined, name: string): bigint {
  if (typeof value !== "string" || !/^\d+$/.test(value) || BigInt(value) === 0n) throw new Error(`--${name} must be a positive integer amount in base units`);
  return BigInt(value);
}

export async function init(flags: Flags): Promise<void> {
  const config = configOf(flags);
  const keypairPath = expandHome(config.keypair);
  step(flags, 1, 3, `wallet ${keypairPath}`);
  let created = false;
  if (!existsSync(keypairPath)) {
    // A --keypair in a directory that is not there is most likely a typo: no wallet is made in it.
    if (flags.keypair !== undefined && !existsSync(path.dirname(keypairPath))) {
      throw new Error(`the directory ${path.dirname(keypairPath)} does not exist: create it first, or give --keypair a path in an existing directory`);
    }
    mkdirSync(path.dirname(keypairPath), { recursive: true });
    writeFileSync(keypairPath, JSON.stringify(Array.from(Keypair.generate().secretKey)), { mode: 0o600 });
    created = true;
  }
  const wallet = loadKeypair(config.keypair);
  const workDir = expandHome(config.workDir);
  step(flags, 2, 3, `work directory ${workDir}`);
  mkdirSync(workDir, { recursive: true });
  step(flags, 3, 3, "detecting hardware (nvidia-smi for GPUs)");
  const detected = await detectHardware(workDir);
  output(flags, {
    wallet: wallet.publicKey.toBase58(),
    walletCreated: created,
    workDir,
    hardware: detected,
    registers: toHardwareSpec(detected, { cpuCores: config.reserveCpuCores, memoryMb: config.reserveMemoryMb, diskGb: config.reserveDiskGb }, config.region),
  });
}

export async function register(flags: Flags): Promise<void> {
  const config = configOf(flags);
  if (!config.endpoint) throw new Error("--endpoint is required: the public URL consumers reach this node at");
  const client = clientFor(config, loadKeypair(config.keypair));
  const { market } = await requireMarketAccount(client, config);
  step(flags, 1, 2, "detecting hardware");
  const spec = toHardwareSpec(await detectHardware(expandHome(config.workDir)), { cpuCores: config.reserveCpuCores, memoryMb: config.reserveMemoryMb, diskGb: config.reserveDiskGb }, config.region);
  const provider = client.providerAddress(market);
  const existing = await client.fetchProvider(provider);
  step(flags, 2, 2, existing ? "updating the registration" : "registering");
  const signature = existing
    ? await client.updateProvider({ provider, spec, endpoint: config.endpoint })
    : (await client.registerProvider({ market, spec, endpoint: config.endpoint })).signature;
  output(flags, { provider: provider.toBase58(), action: existing ? "updated" : "registered", spec, endpoint: config.endpoint, signature });
}

export async function stake(flags: Flags): Promise<void> {
  const config = configOf(flags);
  const client = clientFor(config, loadKeypair(config.keypair));
  const provider = client.providerAddress((await requireMarketAccount(client, config)).market);
  const signature = await client.stake({ provider, amount: parseAmount(flags.amount, "amount") });
  const account = await client.fetchProvider(provider);
  output(flags, { provider: provider.toBase58(), staked: account?.staked, signature });
}

export async function unstake(flags: Flags): Promise<void> {
  const config = configOf(flags);
  const client = clientFor(config, loadKeypair(config.keypair));
  const provider = client.providerAddress((await requireMarketAccount(client, config)).market);
  const signature = flags.withdraw
    ? await client.withdrawUnstaked({ provider }).catch(async (error: unknown) => {
        // When it unlocks, which the program's sentence does not say.
        if (!(error instanceof ComputeMarketError) || error.errorName !== "UnbondingNotElapsed") throw error;
        const [account, slot] = await Promise.all([client.fetchProvider(provider), client.provider.connection.getSlot("confirmed")]);
        if (!account) throw error;
        throw new Error(`${error.message} ${account.unbonding} unlock at slot ${account.unlockSlot}, ${inAbout(account.unlockSlot - BigInt(slot))}`);
      })
    : await client.requestUnstake({ provider, amount: parseAmount(flags.amount, "amount") });
  const account = await client.fetchProvider(provider);
  output(flags, { provider: provider.toBase58(), staked: account?.staked, unbonding: account?.unbonding, unlockSlot: account?.unlockSlot, signature });
}

export async function status(flags: Flags): Promise<void> {
  const config = configOf(flags);
  const client = clientFor(config, loadKeypair(config.keypair));
  const { market, account: marketAccount } = await requireMarketAccount(client, config);
  const provider = client.providerAddress(market);
  const account = await client.fetchProvider(provider);
  if (!account) throw new Error(`not registered in market ${config.market}: run \`provider register\``);
  const workDir = expandHome(config.workDir);
  const journal = existsSync(workDir) ? new JobJournal(workDir) : null;
  const dockerUp = await isDaemonReachable(new Docker({ socketPath: config.dockerSocket }), 2_000);
  const cannotBid = biddingBlockers({ provider: account, market: marketAccount, dockerUp, dockerSocket: config.dockerSocket });
  const phases: Record<string, number> = {};
  for (const record of journal?.all().values() ?? []) phases[record.phase] = (phases[record.phase] ?? 0) + 1;
  output(flags, {
    provider: provider.toBase58(),
    owner: account.owner.toBase58(),
    endpoint: endpointText(account.endpoint),
    gpu: account.spec.gpuCount > 0 ? `${account.spec.gpuCount} × ${labelText(account.spec.gpuModel)} (${account.spec.vramMb} MiB)` : "none",
    cpuCores: account.spec.cpuCores,
    memoryMb: account.spec.memoryMb,
    staked: account.staked,
    locked: account.locked,
    unbonding: account.unbonding,
    reputation: account.reputation,
    canBid: cannotBid.length === 0,
    cannotBid,
    jobs: phases,
    // The latest jobs this node chose not to bid on, newest first, and why.
    declined: DeclineLog.read(workDir).slice(0, 5).map(({ job, why, at }) => ({ job, why, at })),
  });
}

export async function run(flags: Flags): Promise<void> {
  const config = configOf(flags);
  const logger = createLogger("provider", config.logLevel);
  logger.info({ config: redact(config as unknown as Record<string, unknown>) }, "configuration");
  let handle: ProviderNodeHandle | null = null;
  handleShutdown(logger, () => (handle ? [{ name: "provider", stop: handle.stop }] : []));
  handle = await startProvider(config, loadKeypair(config.keypair), logger);
}
