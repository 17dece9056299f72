// `npm run migrate -- --url <rpc> --markets <file>`: initializes the protocol config and the
// markets listed in a JSON file on any cluster where the program is deployed. Idempotent: what
// exists is checked against the file and left alone (markets are immutable once created).
import { readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { AnchorProvider, Wallet } from "@coral-xyz/anchor";
import { Connection, Keypair, PublicKey } from "@solana/web3.js";
import { Command } from "commander";
import {
  ComputeMarketClient,
  DEFAULT_PROGRAM_ID,
  labelText,
  type MarketAccount,
  type MarketParamsInput,
  type ResourceClassInput,
} from "@compute-market/sdk";

interface MarketSpec {
  name: string;
  paymentMint: string;
  stakeMint: string;
  class: ResourceClassInput;
  params: Record<keyof MarketParamsInput, string | number>;
}

interface MigrationFile {
  protocolFeeBps: number;
  treasury?: string;
  markets: MarketSpec[];
}

export interface MigrationStep {
  step: "config" | "market";
  action: string;
  [detail: string]: unknown;
}

interface Options {
  url: string;
  keypair: string;
  markets: string;
  programId?: string;
  dryRun?: boolean;
}

const BIGINT_PARAMS = ["minStake", "jobStakeLock", "crankFee", "bidWindowSlots", "revealWindowSlots", "startWindowSlots", "challengeWindowSlots", "unbondingSlots"] as const;

function expandHome(file: string): string {
  return file.startsWith("~/") ? path.join(os.homedir(), file.slice(2)) : file;
}

function loadKeypair(file: string): Keypair {
  const bytes = JSON.parse(readFileSync(expandHome(file), "utf8")) as number[];
  return Keypair.fromSecretKey(Uint8Array.from(bytes));
}

function parseParams(raw: MarketSpec["params"]): MarketParamsInput {
  const params = { ...raw } as Record<string, unknown>;
  for (const key of BIGINT_PARAMS) params[key] = BigInt(raw[key]);
  return params as unknown as MarketParamsInput;
}

/** The differences between a market on-chain and its entry in the file, as readable lines. */
export function marketDifferences(onChain: MarketAccount, spec: MarketSpec): string[] {
  const differences: string[] = [];
  if (!onChain.paymentMint.equals(new PublicKey(spec.paymentMint))) differences.push(`paymentMint ${onChain.paymentMint.toBase58()} ≠ ${spec.paymentMint}`);
  if (!onChain.stakeMint.equals(new PublicKey(spec.stakeMint))) differences.push(`stakeMint ${onChain.stakeMint.toBase58()} ≠ ${spec.stakeMint}`);
  const params = parseParams(spec.params);
  for (const [key, value] of Object.entries(params)) {
    const actual = (onChain.params as Record<string, unknown>)[key];
    if (String(actual) !== String(value)) differences.push(`params.${key} ${String(actual)} ≠ ${String(value)}`);
  }
  if (labelText(onChain.class.gpuModel) !== (spec.class.gpuModel ?? "")) differences.push(`class.gpuModel differs`);
  return differences;
}

const printStep = (entry: MigrationStep): void => console.log(JSON.stringify(entry));

/** Brings the cluster in line with the file; returns (and reports, one line each) what it did. */
async function migrate(options: Options, report: (entry: MigrationStep) => void = printStep): Promise<MigrationStep[]> {
  const connection = new Connection(options.url, "confirmed");
  const wallet = loadKeypair(options.keypair);
  const programId = options.programId ? new PublicKey(options.programId) : DEFAULT_PROGRAM_ID;
  const file = JSON.parse(readFileSync(options.markets, "utf8")) as MigrationFile;
  const program = await connection.getAccountInfo(programId);
  if (!program?.executable) {
    throw new Error(`no program is deployed at ${programId.toBase58()} on ${options.url}; deploy target/deploy/compute_market.so first`);
  }
  const client = new ComputeMarketClient(new AnchorProvider(connection, new Wallet(wallet), { commitment: "confirmed" }), { programId });
  const steps: MigrationStep[] = [];
  const log = (step: MigrationStep["step"], detail: { action: string } & Record<string, unknown>) => {
    const entry: MigrationStep = { step, ...detail };
    steps.push(entry);
    report(entry);
  };

  const treasury = new PublicKey(file.treasury ?? wallet.publicKey.toBase58());
  let config = await client.fetchConfig();
  if (!config) {
    if (!options.dryRun) await client.initializeConfig({ protocolFeeBps: file.protocolFeeBps, treasury });
    log("config", { action: options.dryRun ? "would initialize" : "initialized", address: client.configAddress.toBase58() });
    config = await client.fetchConfig();
  } else if (!config.authority.equals(wallet.publicKey)) {
    log("config", { action: "left alone", reason: `authority is ${config.authority.toBase58()}, not this wallet` });
  } else if (config.protocolFeeBps !== file.protocolFeeBps || !config.treasury.equals(treasury)) {
    if (!options.dryRun) {
      await client.updateConfig({ protocolFeeBps: file.protocolFeeBps, treasury, authority: config.authority, paused: config.paused });
    }
    log("config", { action: options.dryRun ? "would update" : "updated", protocolFeeBps: file.protocolFeeBps, treasury: treasury.toBase58() });
  } else {
    log("config", { action: "unchanged" });
  }

  for (const [index, spec] of file.markets.entries()) {
    const id = BigInt(index);
    const address = client.marketAddress(id);
    const onChain = await client.fetchMarket(address);
    if (onChain) {
      const differences = marketDifferences(onChain, spec);
      log("market", { name: spec.name, id: index, address: address.toBase58(), action: differences.length ? "differs (markets are immutable)" : "unchanged", differences });
      continue;
    }
    if (options.dryRun) {
      log("market", { name: spec.name, id: index, address: address.toBase58(), action: "would create" });
      continue;
    }
    const created = await client.createMarket({
      class: spec.class,
      params: parseParams(spec.params),
      paymentMint: new PublicKey(spec.paymentMint),
      stakeMint: new PublicKey(spec.stakeMint),
    });
    if (created.id !== id) throw new Error(`market ${spec.name} was created as id ${created.id}, expected ${id}: markets must be listed in creation order`);
    log("market", { name: spec.name, id: index, address: created.market.toBase58(), action: "created" });
  }
  return steps;
}

const program = new Command()
  .name("migrate")
  .description("Initialize the compute-market config and markets on a cluster, idempotently.")
  .requiredOption("-u, --url <url>", "JSON-RPC URL of the cluster")
  .option("-k, --keypair <path>", "authority keypair file", "~/.config/solana/id.json")
  .option("-m, --markets <file>", "markets JSON file", "migrations/markets.example.json")
  .option("--program-id <address>", "where the program is deployed (default: the IDL's address)")
  .option("--dry-run", "report what would change without sending transactions");

if (require.main === module) {
  program.parse();
  migrate(program.opts<Options>()).catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}

export { migrate };
