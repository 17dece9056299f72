// Assembles a keeper from its configuration: connection, wallet, index, bots, runner, status
// server. `startKeeper` is what the CLI runs and what tests start in-process.
import { AnchorProvider, Wallet } from "@coral-xyz/anchor";
import { getAssociatedTokenAddressSync } from "@solana/spl-token";
import { Connection, PublicKey, type Keypair } from "@solana/web3.js";
import { ComputeMarketClient, DEFAULT_PROGRAM_ID, fetchAllOf, providerEndpoint, type BidAccount } from "@compute-market/sdk";
import { createLogger, createRegistry, endpointBlobSource, lazyMachineRuntime, MarketIndex, startStatusServer, transactionMetrics, waitForCluster, checkRpcUrl, transactionOptions, type Logger, type ReplayCache, type StatusServer } from "@compute-market/common";
import { AuctionCloser } from "./bots/auction-closer";
import { Challenger } from "./bots/challenger";
import { DeadlineCranker } from "./bots/deadline-cranker";
import { DisputeCranker } from "./bots/dispute-cranker";
import { Finalizer } from "./bots/finalizer";
import { ServiceCranker } from "./bots/service-cranker";
import type { Bot } from "./bots/types";
import type { KeeperConfig } from "./config";
import { Runner } from "./runner";
import { Verifier } from "./verification";

export interface Keeper {
  /** The wallet that signs (and is paid for) this keeper's cranks. */
  wallet: PublicKey;
  index: MarketIndex;
  runner: Runner;
  status: StatusServer;
  /** Replays of verifiable results (the challenger's). */
  verifier: Verifier;
  stop(): Promise<void>;
}

function botsFor(names: KeeperConfig["bots"], client: ComputeMarketClient, verifier: Verifier, config: KeeperConfig, replays: () => Promise<ReplayCache>): Bot[] {
  const all: Record<KeeperConfig["bots"][number], () => Bot> = {
    "auction-closer": () => new AuctionCloser(client),
    "deadline-cranker": () => new DeadlineCranker(client),
    finalizer: () => new Finalizer(client),
    "dispute-cranker": () => new DisputeCranker(client),
    challenger: () => new Challenger({ client, verifier, replays, sample: config.challengeSample }),
    "service-cranker": () => new ServiceCranker(client),
  };
  return names.map((name) => all[name]());
}

export async function startKeeper(config: KeeperConfig, wallet: Keypair, logger: Logger = createLogger("keeper", config.logLevel)): Promise<Keeper> {
  checkRpcUrl(config.url);
  const connection = new Connection(config.url, { commitment: "confirmed", wsEndpoint: config.wsUrl });
  const programId = config.programId ? new PublicKey(config.programId) : DEFAULT_PROGRAM_ID;
  const registry = createRegistry("keeper");
  // A keeper sends many cranks of few shapes: their simulated units are reused (the node's preflight checks them).
  const transactions = { ...transactionOptions(config, transactionMetrics(registry, "keeper")), reuseComputeUnits: true };
  const client = new ComputeMarketClient(new AnchorProvider(connection, new Wallet(wallet), { commitment: "confirmed" }), { programId, transactions });
  const index = new MarketIndex(client.program, connection, logger.child({ component: "index" }));
  await startIndex(index, connection, config.url, logger);
  if (config.bots.includes("challenger")) await warnWithoutBondTokens(client, logger);
  const machine = lazyMachineRuntime(config.replayCacheSize);
  const sources = (bid: BidAccount) => {
    const winner = index.providers.get(bid.provider.toBase58());
    return [...(winner ? [providerEndpoint(winner)] : []), ...config.blobSources];
  };
  const verifier = new Verifier({
    vm: machine.vm,
    replays: machine.replays,
    sources: (_job, bid) => endpointBlobSource(() => sources(bid), (endpoint, sha256, error) => logger.debug({ endpoint, sha256, err: error }, "blob not at source")),
    maxReplaySteps: config.maxReplaySteps,
    logger: logger.child({ component: "verifier" }),
  });
  const runner = new Runner(connection, index, botsFor(config.bots, client, verifier, config, machine.replays), { ...config, send: (instructions) => client.send(instructions) }, logger.child({ component: "runner" }), registry);
  const status = await startStatusServer({ port: config.port, host: config.host, registry, health: () => runner.health() });
  runner.start();
  logger.info({ keeper: wallet.publicKey.toBase58(), programId: programId.toBase58(), statusPort: status.port, bots: config.bots }, "keeper started");
  return {
    wallet: wallet.publicKey,
    index,
    runner,
    status,
    verifier,
    stop: async () => {
      await runner.stop();
      await index.stop();
      await status.close();
      await machine.close();
    },
  };
}

/**
 * The challenger posts its bond in a market's stake token: a wallet that holds none cannot dispute
 * a wrong result there. Said once at start, per stake mint, with the account to fund.
 */
async function warnWithoutBondTokens(client: ComputeMarketClient, logger: Logger): Promise<void> {
  try {
    const markets = await fetchAllOf(client.program, "market", []);
    const mints = new Map<string, string[]>();
    for (const { address, account } of markets) mints.set(account.stakeMint.toBase58(), [...(mints.get(account.stakeMint.toBase58()) ?? []), address.toBase58()]);
    for (const [mint, inMarkets] of mints) {
      const token = getAssociatedTokenAddressSync(new PublicKey(mint), client.wallet, true);
      const balance = await client.provider.connection.getTokenAccountBalance(token).then((b) => BigInt(b.value.amount)).catch(() => 0n);
      if (balance === 0n) {
        logger.warn({ stakeMint: mint, markets: inMarkets, fund: token.toBase58() }, `the keeper's wallet holds no ${mint} tokens: the challenger cannot post a bond to dispute a wrong result in ${inMarkets.length === 1 ? "market" : "markets"} ${inMarkets.join(", ")}; fund ${token.toBase58()}`);
      }
    }
  } catch (error) {
    logger.warn({ err: error instanceof Error ? error.message : String(error) }, "could not check the wallet's stake tokens for challenge bonds");
  }
}

/**
 * Starts the index; a cluster that does not answer (its reads fail after their retries) is waited
 * for, with backoff and a log line per miss, and the index started again. A cluster that answers
 * sees the same requests as before any waiting existed.
 */
async function startIndex(index: MarketIndex, connection: Connection, url: string, logger: Logger): Promise<void> {
  for (;;) {
    try {
      await index.start();
      return;
    } catch (error) {
      await index.stop();
      const reachable = await connection.getVersion().then(() => true, () => false);
      if (reachable) throw error;
      await waitForCluster(connection, url, logger);
    }
  }
}
