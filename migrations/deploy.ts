// `npm run migrate -- --url <rpc> --markets <file>`: initializes the protocol config and the
// markets listed in a JSON file on any cluster where the program is deployed. Idempotent: what
// exists is checked against the file and left alone (markets are immutable once created).
// With `--deploy` it first deploys or upgrades the program itself (migrations/program-deploy.ts).
import { readFileSync } from "node:fs";
import { AnchorProvider, Wallet } from "@coral-xyz/anchor";
import { TOKEN_2022_PROGRAM_ID, TOKEN_PROGRAM_ID } from "@solana/spl-token";
import { Connection, PublicKey } from "@solana/web3.js";
import { Command } from "commander";
import { loadKeypair } from "@compute-market/common";
import {
  ComputeMarketClient,
  DEFAULT_PROGRAM_ID,
  labelText,
  type MarketAccount,
  type MarketParamsInput,
  type ResourceClassInput,
} from "@compute-market/sdk";
import {
  defaultBufferKeypairPath,
  deployProgram,
  checkUpgradeAuthority,
  planDeploy,
  readDeployedProgram,
  readProgramFile,
  type ProgramDeployOptions,
  type ProgramDeployResult,
} from "./program-deploy";

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
  step: "wallet" | "program" | "config" | "market";
  action: string;
  [detail: string]: unknown;
}

interface Options {
  url: string;
  keypair: string;
  markets: string;
  programId?: string;
  dryRun?: boolean;
  /** Deploy or upgrade the program first. */
  deploy?: boolean;
  /** The .so to deploy. */
  program?: string;
  /** The program's keypair: its address, needed for a first deploy. */
  programKeypair?: string;
  /** The buffer's keypair file (made if missing). */
  buffer?: string;
  /** Hand the program's upgrade authority to this address after deploying. */
  upgradeAuthority?: string;
}

/** How the program deploy waits and reports, for callers other than the command line (tests). */
export type DeployHooks = Pick<ProgramDeployOptions, "untilSlotAfter" | "progress" | "transactionOptions">;

const DEFAULT_PROGRAM_FILE = "target/deploy/compute_market.so";
/** An SPL mint's size (Token-2022 mints with extensions are longer). */
const MINT_BYTES = 82;

const BIGINT_PARAMS = ["minStake", "jobStakeLock", "crankFee", "bidWindowSlots", "revealWindowSlots", "startWindowSlots", "challengeWindowSlots", "unbondingSlots", "servicePauseSlots"] as const;


function parseParams(raw: MarketSpec["params"]): MarketParamsInput {
  const params = { ...raw } as Record<string, unknown>;
  // servicePauseSlots may be left out (the SDK's default applies).
  for (const key of BIGINT_PARAMS) if (raw[key] !== undefined) params[key] = BigInt(raw[key]);
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

/** How to get SOL on `url`: the sandbox's flag for a local cluster, an airdrop elsewhere. */
function fundingHint(wallet: PublicKey, url: string): string {
  const local = /^https?:\/\/(127\.0\.0\.1|localhost)(:|\/|$)/.test(url);
  return local
    ? `fund it: restart the local cluster with \`npm run localnet -- --bootstrap --wallet ${wallet.toBase58()}\`, or \`solana airdrop 10 ${wallet.toBase58()} --url ${url}\``
    : `fund it: \`solana airdrop 2 ${wallet.toBase58()} --url ${url}\` on devnet or a test validator, or a transfer from a funded wallet`;
}

/** A wallet with no SOL cannot pay a fee: say so, and how to fix it, before anything is sent. */
async function requireFunded(connection: Connection, wallet: PublicKey, url: string): Promise<void> {
  const lamports = await connection.getBalance(wallet);
  if (lamports === 0) throw new Error(`the wallet ${wallet.toBase58()} has no SOL on ${url} to pay fees and rent; ${fundingHint(wallet, url)}`);
}

/** The mints a market names must be token mints on this cluster (a file written for another cluster names others). */
async function checkMints(connection: Connection, url: string, specs: MarketSpec[]): Promise<void> {
  const problems: string[] = [];
  for (const spec of specs) {
    for (const role of ["paymentMint", "stakeMint"] as const) {
      let mint: PublicKey;
      try {
        mint = new PublicKey(spec[role]);
      } catch {
        problems.push(`market "${spec.name}": ${role} ${spec[role]} is not an address`);
        continue;
      }
      const account = await connection.getAccountInfo(mint);
      const isMint = account !== null && (account.owner.equals(TOKEN_PROGRAM_ID) || account.owner.equals(TOKEN_2022_PROGRAM_ID)) && account.data.length >= MINT_BYTES;
      if (!account) problems.push(`market "${spec.name}": ${role} ${mint.toBase58()} does not exist on ${url}`);
      else if (!isMint) problems.push(`market "${spec.name}": ${role} ${mint.toBase58()} is not a token mint (owned by ${account.owner.toBase58()})`);
    }
  }
  if (problems.length > 0) {
    throw new Error(`${problems.join("; ")}. Name mints of this cluster in the markets file (migrations/markets.example.json names the sandbox's, which \`npm run localnet -- --bootstrap\` creates)`);
  }
}

/** The program step's report line: what was done, at what cost. */
function programStep(result: ProgramDeployResult): { action: string } & Record<string, unknown> {
  return {
    action: result.action,
    programId: result.programId.toBase58(),
    programData: result.programData.toBase58(),
    upgradeAuthority: result.upgradeAuthority?.toBase58() ?? null,
    bytes: result.programBytes,
    transactions: result.transactions,
    chunkBytes: result.chunks.bytes,
    chunksWritten: result.chunks.written,
    chunksAlreadyInBuffer: result.chunks.alreadyInBuffer,
    ...(result.extension ? { extendedBy: result.extension.bytes, extendedWith: result.extension.instruction } : {}),
    seconds: Number((result.ms / 1000).toFixed(1)),
  };
}

/** Brings the cluster in line with the file; returns (and reports, one line each) what it did. */
async function migrate(options: Options, report: (entry: MigrationStep) => void = printStep, hooks: DeployHooks = {}): Promise<MigrationStep[]> {
  const connection = new Connection(options.url, "confirmed");
  const wallet = loadKeypair(options.keypair);
  const programKeypair = options.programKeypair ? loadKeypair(options.programKeypair) : undefined;
  const programId = programKeypair?.publicKey ?? (options.programId ? new PublicKey(options.programId) : DEFAULT_PROGRAM_ID);
  const file = JSON.parse(readFileSync(options.markets, "utf8")) as MigrationFile;
  const steps: MigrationStep[] = [];
  const log = (step: MigrationStep["step"], detail: { action: string } & Record<string, unknown>) => {
    const entry: MigrationStep = { step, ...detail };
    steps.push(entry);
    report(entry);
  };

  // A deploy computes what it needs itself, and says so.
  if (!options.dryRun && !options.deploy) await requireFunded(connection, wallet.publicKey, options.url);
  else if (options.dryRun && (await connection.getBalance(wallet.publicKey)) === 0) {
    log("wallet", { action: "unfunded", address: wallet.publicKey.toBase58(), hint: fundingHint(wallet.publicKey, options.url) });
  }

  let programToBeDeployed = false;
  if (options.deploy) {
    const programFile = options.program ?? DEFAULT_PROGRAM_FILE;
    if (options.dryRun) {
      const plan = planDeploy(readProgramFile(programFile), await readDeployedProgram(connection, programId), programId, programKeypair !== undefined);
      programToBeDeployed = plan.action === "deploy";
      if (plan.action === "upgrade") checkUpgradeAuthority(plan.deployed, programId, wallet.publicKey);
      log("program", { action: plan.action === "unchanged" ? "unchanged" : `would ${plan.action}`, programId: programId.toBase58() });
    } else {
      const result = await deployProgram({
        connection,
        wallet,
        programFile,
        programId: options.programId ? new PublicKey(options.programId) : programId,
        programKeypair,
        bufferKeypairFile: options.buffer ?? defaultBufferKeypairPath(programFile),
        upgradeAuthority: options.upgradeAuthority ? new PublicKey(options.upgradeAuthority) : undefined,
        ...hooks,
      });
      log("program", programStep(result));
      if (result.authorityChanged) log("program", { action: "upgrade authority handed over", upgradeAuthority: result.upgradeAuthority?.toBase58() ?? null });
    }
  }
  const program = await connection.getAccountInfo(programId);
  if (!program?.executable && !programToBeDeployed) {
    throw new Error(`no program is deployed at ${programId.toBase58()} on ${options.url}; deploy target/deploy/compute_market.so first (--deploy)`);
  }
  const client = new ComputeMarketClient(new AnchorProvider(connection, new Wallet(wallet), { commitment: "confirmed" }), { programId });

  // Each market of the file as it is on-chain (null: to create), read once; every market still
  // to create names mints of this cluster, or nothing is sent.
  const onChainMarkets: (MarketAccount | null)[] = [];
  for (const index of file.markets.keys()) onChainMarkets.push(await client.fetchMarket(client.marketAddress(BigInt(index))));
  await checkMints(connection, options.url, file.markets.filter((_, index) => !onChainMarkets[index]));

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
    const onChain = onChainMarkets[index];
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
  .description("Initialize the compute-market config and markets on a cluster, idempotently; with --deploy, deploy or upgrade the program first.")
  .requiredOption("-u, --url <url>", "JSON-RPC URL of the cluster")
  .option("-k, --keypair <path>", "authority keypair file", "~/.config/solana/id.json")
  .option("-m, --markets <file>", "markets JSON file", "migrations/markets.example.json")
  .option("--program-id <address>", "where the program is deployed (default: the program keypair's address, else the IDL's)")
  .option("--dry-run", "report what would change without sending transactions")
  .option("--deploy", "first deploy the program, or upgrade it where it differs, through the upgradeable loader")
  .option("--program <file>", "the program to deploy", DEFAULT_PROGRAM_FILE)
  .option("--program-keypair <file>", "the program's keypair, whose address it is deployed at (needed for a first deploy)")
  .option("--buffer <keypair-file>", "the buffer's keypair, made if missing, so that an interrupted deploy resumes (default: next to the .so)")
  .option("--upgrade-authority <address>", "hand the program's upgrade authority to this address (e.g. a multisig) after deploying");

if (require.main === module) {
  program.parse();
  migrate(program.opts<Options>()).catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}

export { migrate };
