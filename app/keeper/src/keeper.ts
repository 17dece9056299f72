// Assembles a keeper from its configuration: connection, wallet, index, bots, runner, status
// server. `startKeeper` is what the CLI runs and what tests start in-process.
import { AnchorProvider, Wallet } from "@coral-xyz/anchor";
import { Connection, PublicKey, type Keypair } from "@solana/web3.js";
import { ComputeMarketClient, DEFAULT_PROGRAM_ID } from "@compute-market/sdk";
import { createLogger, createRegistry, startStatusServer, type Logger, type StatusServer } from "@compute-market/common";
import { AuctionCloser } from "./bots/auction-closer";
import { DeadlineCranker } from "./bots/deadline-cranker";
import { Finalizer } from "./bots/finalizer";
import type { Bot } from "./bots/types";
import type { KeeperConfig } from "./config";
import { MarketIndex } from "@compute-market/common";
import { Runner } from "./runner";

export interface Keeper {
  index: MarketIndex;
  runner: Runner;
  status: StatusServer;
  stop(): Promise<void>;
}

function botsFor(names: KeeperConfig["bots"], client: ComputeMarketClient): Bot[] {
  const all: Record<KeeperConfig["bots"][number], () => Bot> = {
    "auction-closer": () => new AuctionCloser(client),
    "deadline-cranker": () => new DeadlineCranker(client),
    finalizer: () => new Finalizer(client),
  };
  return names.map((name) => all[name]());
}

export async function startKeeper(config: KeeperConfig, wallet: Keypair, logger: Logger = createLogger("keeper", config.logLevel)): Promise<Keeper> {
  const connection = new Connection(config.url, { commitment: "confirmed", wsEndpoint: config.wsUrl });
  const programId = config.programId ? new PublicKey(config.programId) : DEFAULT_PROGRAM_ID;
  const client = new ComputeMarketClient(new AnchorProvider(connection, new Wallet(wallet), { commitment: "confirmed" }), { programId });
  const registry = createRegistry("keeper");
  const index = new MarketIndex(client.program, connection, logger.child({ component: "index" }));
  await index.load();
  index.subscribe();
  const runner = new Runner(connection, index, botsFor(config.bots, client), config, logger.child({ component: "runner" }), registry);
  const status = await startStatusServer({ port: config.port, host: config.host, registry, health: () => runner.health() });
  runner.start();
  logger.info({ keeper: wallet.publicKey.toBase58(), programId: programId.toBase58(), statusPort: status.port, bots: config.bots }, "keeper started");
  return {
    index,
    runner,
    status,
    stop: async () => {
      await runner.stop();
      await index.stop();
      await status.close();
    },
  };
}
