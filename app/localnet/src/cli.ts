// `localnet`: a local Solana cluster process (JSON-RPC and PubSub over one LiteSVM ledger) for the
// daemons and tools that need a real RPC URL; prints one JSON line on stdout once it serves.
import { existsSync } from "node:fs";
import path from "node:path";
import { Command, InvalidArgumentError } from "commander";
import { PublicKey } from "@solana/web3.js";
import { DEFAULT_PROGRAM_ID } from "@compute-market/sdk";
import type { ProgramToLoad } from "./ledger";
import type { RequestLogEntry } from "./jsonrpc";
import { requestTokens } from "./faucet-client";
import { LedgerStore, readSavedLedger, restoreLedger, type SavedLedger } from "./persistence";
import { bootstrapSandbox, reopenSandbox, SANDBOX_DECIMALS, type Sandbox } from "./sandbox";
import { startLocalCluster, type LocalCluster } from "./server";

/** The compute-market program, loaded by default: beside this module in a built package, else
 * where the repository builds it. */
const PACKAGED_PROGRAM_PATH = path.join(__dirname, "compute_market.so");
const DEFAULT_PROGRAM_PATH = existsSync(PACKAGED_PROGRAM_PATH) ? PACKAGED_PROGRAM_PATH : path.resolve(__dirname, "../../../target/deploy/compute_market.so");

interface Funding {
  pubkey: PublicKey;
  lamports: bigint;
}

interface Flags {
  port: number;
  host: string;
  slotMs: number;
  program: ProgramToLoad[];
  fund: Funding[];
  bootstrap?: boolean;
  wallet: PublicKey[];
  ledger?: string;
  verbose?: boolean;
}

const command = new Command()
  .name("localnet")
  .description("a local Solana cluster on LiteSVM: JSON-RPC on --port, PubSub on it and on the next port")
  .option("--port <port>", "JSON-RPC port (0: any free pair of ports)", integer, 8899)
  .option("--host <host>", "address to listen on", "127.0.0.1")
  .option("--slot-ms <ms>", "milliseconds per slot (0: the clock moves only on localnet_advanceSlots / localnet_warpToSlot)", integer, 400)
  .option("--program <id=path>", "load a program's .so at an address (repeatable)", collect(programToLoad), [])
  .option("--fund <pubkey=sol>", "credit SOL to an account at start (repeatable)", collect(funding), [])
  .option("--bootstrap", "create a sandbox: payment and stake mints, the config, a CPU and a GPU market, and a faucet (localnet_requestTokens)")
  .option("--wallet <pubkey>", "with --bootstrap: fund this wallet with 100 SOL and 10,000 of each token (repeatable)", collect(publicKey), [])
  .option("--ledger <dir>", "keep the cluster's accounts, slot and sandbox in <dir> (made if missing) and start from them again (default: in memory, a restart starts empty)")
  .option("--verbose", "log every request as a JSON line on stderr")
  .action(async (flags: Flags) => {
    const programs = withDefaultProgram(flags.program);
    if (flags.wallet.length > 0 && !flags.bootstrap) throw new InvalidArgumentError("--wallet funds a sandbox's wallets: add --bootstrap");
    const ledgerDir = flags.ledger ? path.resolve(flags.ledger) : null;
    const saved = ledgerDir ? readSavedLedger(ledgerDir) : null;
    const cluster = await startLocalCluster({
      port: flags.port,
      host: flags.host,
      slotMs: flags.slotMs,
      programs,
      onRequest: flags.verbose ? logRequest : undefined,
    });
    if (saved) restoreLedger(cluster.ledger, saved);
    for (const { pubkey, lamports } of flags.fund) cluster.ledger.airdrop(pubkey, lamports);
    const sandbox = await sandboxOf(saved, flags, programs, cluster);
    const store = ledgerDir ? new LedgerStore(ledgerDir, cluster.ledger, sandbox ? { authority: sandbox.authority, summary: sandbox.summary } : null) : null;
    store?.flush();
    stopOnSignals(cluster, store);
    const ready = {
      event: "ready",
      url: cluster.url,
      wsUrl: cluster.wsUrl,
      programs: programs.map(({ programId, path: file }) => ({ programId: programId.toBase58(), path: file })),
      funded: flags.fund.map(({ pubkey, lamports }) => ({ pubkey: pubkey.toBase58(), lamports: lamports.toString() })),
      // Without --ledger, state lives in this process only: a restart starts an empty cluster.
      persistent: store !== null,
      ...(ledgerDir ? { ledger: ledgerDir, restored: saved ? { slot: saved.slot.toString(), accounts: saved.accounts.length } : null } : {}),
      ...(sandbox ? { sandbox: sandbox.summary } : {}),
    };
    process.stdout.write(`${JSON.stringify(ready)}\n`);
  });

command
  .command("faucet")
  .description("ask a running sandbox's faucet for test tokens of both mints (and SOL) for a wallet")
  .argument("<owner>", "the wallet to fund", publicKey)
  .option("-u, --url <url>", "the sandbox's JSON-RPC URL", "http://127.0.0.1:8899")
  .option("--tokens <amount>", `whole tokens of each mint (${SANDBOX_DECIMALS} decimals; at most 100,000)`, "1000")
  .option("--sol <amount>", "SOL as well", "0")
  .action(async (owner: PublicKey, flags: { url: string; tokens: string; sol: string }) => {
    const grant = await requestTokens(flags.url, owner, decimalToUnits(flags.tokens, SANDBOX_DECIMALS, "tokens"), decimalToUnits(flags.sol, 9, "SOL"));
    process.stdout.write(`${JSON.stringify(grant)}\n`);
  });

command.parseAsync().catch((error: unknown) => {
  log("error", "localnet failed to start", { error: error instanceof Error ? error.message : String(error) });
  process.exit(1);
});

/**
 * The cluster's sandbox: a saved one opened again (its faucet serves whether or not --bootstrap
 * is given; --bootstrap's wallets are funded), else a new one with --bootstrap, else none.
 */
async function sandboxOf(saved: SavedLedger | null, flags: Flags, programs: ProgramToLoad[], cluster: LocalCluster): Promise<Sandbox | undefined> {
  if (saved?.sandbox) return reopenSandbox(cluster.ledger, saved.sandbox.authority, saved.sandbox.summary, { wallets: flags.wallet });
  if (!flags.bootstrap) return undefined;
  const programId = DEFAULT_PROGRAM_ID;
  if (!programs.some((program) => program.programId.equals(programId))) {
    throw new Error(`--bootstrap needs the compute-market program, built at ${DEFAULT_PROGRAM_PATH}: run \`npm run build:program\``);
  }
  return bootstrapSandbox(cluster.ledger, programId, { wallets: flags.wallet });
}

/** The programs asked for, plus compute-market at its IDL's address if it is built and not already given. */
function withDefaultProgram(programs: ProgramToLoad[]): ProgramToLoad[] {
  const programId = DEFAULT_PROGRAM_ID;
  if (!existsSync(DEFAULT_PROGRAM_PATH)) return programs;
  if (programs.some((program) => program.programId.equals(programId))) return programs;
  return [...programs, { programId, path: DEFAULT_PROGRAM_PATH }];
}

function stopOnSignals(cluster: LocalCluster, store: LedgerStore | null): void {
  const stop = (signal: string) => {
    log("info", "stopping", { signal });
    try {
      store?.close();
    } catch (error) {
      log("error", "failed to save the cluster's state", { error: String(error) });
    }
    cluster.close().then(
      () => process.exit(0),
      (error: unknown) => {
        log("error", "failed to stop cleanly", { error: String(error) });
        process.exit(1);
      },
    );
  };
  process.once("SIGINT", () => stop("SIGINT"));
  process.once("SIGTERM", () => stop("SIGTERM"));
}

function logRequest(entry: RequestLogEntry): void {
  log("debug", "request", { ...entry, ms: Math.round(entry.ms * 1000) / 1000 });
}

/** A JSON log line on stderr, so that stdout carries only the ready line. */
function log(level: string, msg: string, fields: object): void {
  process.stderr.write(`${JSON.stringify({ level, time: new Date().toISOString(), msg, ...fields })}\n`);
}

function integer(value: string): number {
  const parsed = Number(value);
  if (!Number.isSafeInteger(parsed) || parsed < 0) throw new InvalidArgumentError("expected a non-negative integer");
  return parsed;
}

function collect<T>(parse: (value: string) => T): (value: string, previous: T[]) => T[] {
  return (value, previous) => [...previous, parse(value)];
}

function programToLoad(value: string): ProgramToLoad {
  const [id, file] = splitPair(value, "<programId>=<path.so>");
  if (!existsSync(file)) throw new InvalidArgumentError(`no such file: ${file}`);
  return { programId: publicKey(id), path: path.resolve(file) };
}

function funding(value: string): Funding {
  const [pubkey, sol] = splitPair(value, "<pubkey>=<sol>");
  return { pubkey: publicKey(pubkey), lamports: solToLamports(sol) };
}

function splitPair(value: string, shape: string): [string, string] {
  const at = value.indexOf("=");
  if (at <= 0 || at === value.length - 1) throw new InvalidArgumentError(`expected ${shape}`);
  return [value.slice(0, at), value.slice(at + 1)];
}

function publicKey(value: string): PublicKey {
  try {
    return new PublicKey(value);
  } catch {
    throw new InvalidArgumentError(`not a public key: ${value}`);
  }
}

/** Decimal SOL to lamports without floating point: "1.5" is 1500000000. */
function solToLamports(value: string): bigint {
  return decimalToUnits(value, 9, "SOL");
}

/** A decimal amount in base units of a `decimals`-decimal unit, without floating point. */
function decimalToUnits(value: string, decimals: number, unit: string): bigint {
  const match = new RegExp(`^(\\d+)(?:\\.(\\d{1,${decimals}}))?$`).exec(value);
  if (!match) throw new InvalidArgumentError(`expected an amount of ${unit} with at most ${decimals} decimals: ${value}`);
  return BigInt(match[1]) * 10n ** BigInt(decimals) + BigInt((match[2] ?? "").padEnd(decimals, "0"));
}
