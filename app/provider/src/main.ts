// `provider`: the provider node's command line, with solana-CLI conventions (--url, --keypair,
// default ~/.config/solana/id.json) and --json output for scripts.
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { Command } from "commander";
import { Keypair, PublicKey } from "@solana/web3.js";
import { ComputeMarketError, endpointText, labelText } from "@compute-market/sdk";
import { createLogger, expandHome, handleShutdown, loadConfig, loadKeypair, redact } from "@compute-market/common";
import { PROVIDER_ENV, ProviderConfigSchema, type ProviderConfig } from "./config";
import { detectHardware, toHardwareSpec } from "./hardware";
import { JobJournal } from "./lifecycle/journal";
import { clientFor, requireMarket, startProvider, type ProviderNodeHandle } from "./provider";

type Flags = Record<string, string | boolean | undefined>;

const program = new Command().name("provider").description("compute-market provider node: registers hardware, stakes, bids, runs jobs in containers, commits results");

/** Options every command shares. */
function common(command: Command): Command {
  return command
    .option("-u, --url <url>", "JSON-RPC URL")
    .option("-k, --keypair <path>", "provider wallet (default ~/.config/solana/id.json)")
    .option("-c, --config <file>", "JSON configuration file")
    .option("--program-id <address>", "program address (default: the IDL's)")
    .option("--market <address>", "market to provide in")
    .option("--work-dir <dir>", "where jobs, results and the journal live")
    .option("--priority-fee <strategy>", "compute-unit price: none, fixed:<µlamports>, p<percentile> of recent fees for the written accounts, or p<percentile>:<floor> (default p75)")
    .option("--max-priority-fee <µlamports>", "the highest compute-unit price ever paid, in micro-lamports per unit (default 200000)")
    .option("--json", "print JSON instead of text");
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

common(program.command("init"))
  .description("create the wallet (if missing) and work directory, detect the hardware")
  .action(async (flags: Flags) => {
    const config = configOf(flags);
    const keypairPath = expandHome(config.keypair);
    step(flags, 1, 3, `wallet ${keypairPath}`);
    let created = false;
    if (!existsSync(keypairPath)) {
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
  });

common(program.command("register"))
  .description("register this machine in a market (or update its registration)")
  .option("--endpoint <url>", "public URL of this node's results server")
  .action(async (flags: Flags) => {
    const config = configOf(flags);
    const market = requireMarket(config);
    if (!config.endpoint) throw new Error("--endpoint is required: the public URL consumers reach this node at");
    const client = clientFor(config, loadKeypair(config.keypair));
    step(flags, 1, 2, "detecting hardware");
    const spec = toHardwareSpec(await detectHardware(expandHome(config.workDir)), { cpuCores: config.reserveCpuCores, memoryMb: config.reserveMemoryMb, diskGb: config.reserveDiskGb }, config.region);
    const provider = client.providerAddress(market);
    const existing = await client.fetchProvider(provider);
    step(flags, 2, 2, existing ? "updating the registration" : "registering");
    const signature = existing
      ? await client.updateProvider({ provider, spec, endpoint: config.endpoint })
      : (await client.registerProvider({ market, spec, endpoint: config.endpoint })).signature;
    output(flags, { provider: provider.toBase58(), action: existing ? "updated" : "registered", spec, endpoint: config.endpoint, signature });
  });

common(program.command("stake"))
  .description("add stake (base units of the market's stake mint)")
  .requiredOption("--amount <n>", "amount in base units")
  .action(async (flags: Flags) => {
    const config = configOf(flags);
    const client = clientFor(config, loadKeypair(config.keypair));
    const provider = client.providerAddress(requireMarket(config));
    const signature = await client.stake({ provider, amount: parseAmount(flags.amount, "amount") });
    const account = await client.fetchProvider(provider);
    output(flags, { provider: provider.toBase58(), staked: account?.staked, signature });
  });

common(program.command("unstake"))
  .description("start unbonding part of the free stake, or --withdraw what has unbonded")
  .option("--amount <n>", "amount to unbond, in base units")
  .option("--withdraw", "withdraw stake whose unbonding delay has passed")
  .action(async (flags: Flags) => {
    const config = configOf(flags);
    const client = clientFor(config, loadKeypair(config.keypair));
    const provider = client.providerAddress(requireMarket(config));
    const signature = flags.withdraw ? await client.withdrawUnstaked({ provider }) : await client.requestUnstake({ provider, amount: parseAmount(flags.amount, "amount") });
    const account = await client.fetchProvider(provider);
    output(flags, { provider: provider.toBase58(), staked: account?.staked, unbonding: account?.unbonding, unlockSlot: account?.unlockSlot, signature });
  });

common(program.command("status"))
  .description("the registration, stake and reputation on-chain, and the jobs this node remembers")
  .action(async (flags: Flags) => {
    const config = configOf(flags);
    const client = clientFor(config, loadKeypair(config.keypair));
    const provider = client.providerAddress(requireMarket(config));
    const account = await client.fetchProvider(provider);
    if (!account) throw new Error(`not registered in market ${config.market}: run \`provider register\``);
    const journal = existsSync(expandHome(config.workDir)) ? new JobJournal(expandHome(config.workDir)) : null;
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
      jobs: phases,
    });
  });

common(program.command("run"))
  .description("run the node until stopped: bid, run, commit, serve results")
  .option("--endpoint <url>", "public URL of this node's results server")
  .option("--host <host>", "address the results and status servers listen on")
  .option("--port <port>", "results server port (0: any free port)")
  .option("--status-port <port>", "port of /health and /metrics (0: any free port)")
  .option("--strategy <json>", "pricing strategy, e.g. '{\"name\":\"fixed-floor\",\"price\":\"1000\"}'")
  .option("--max-concurrent-jobs <n>", "jobs held at once")
  .option("--serve-services", "bid on service leases and run their replicas (ports published on --host)")
  .option("--blob-sources <urls>", "comma-separated endpoints to fetch specs and inputs from")
  .option("--docker-socket <path>", "Docker engine socket")
  .option("--tick-ms <ms>", "interval between ticks")
  .action(async (flags: Flags) => {
    const config = configOf(flags);
    const logger = createLogger("provider", config.logLevel);
    logger.info({ config: redact(config as unknown as Record<string, unknown>) }, "configuration");
    let handle: ProviderNodeHandle | null = null;
    handleShutdown(logger, () => (handle ? [{ name: "provider", stop: handle.stop }] : []));
    handle = await startProvider(config, loadKeypair(config.keypair), logger);
  });

program.parseAsync().catch((error: unknown) => {
  const message = error instanceof ComputeMarketError ? `${error.errorName}: ${error.message}` : error instanceof Error ? error.message : String(error);
  console.error(`error: ${message}`);
  process.exit(1);
});


