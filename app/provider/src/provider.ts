// Assembles a provider node from its configuration: chain connection and wallet, blob store,
// journal, Docker, capacity and strategy, results server, market index and the lifecycle loop,
// service acknowledgements and their claims, plus /health and /metrics. `startProvider` is what
// `provider run` runs and what tests start.
import { mkdirSync } from "node:fs";
import { AnchorProvider, Wallet } from "@coral-xyz/anchor";
import { Connection, PublicKey, type Keypair } from "@solana/web3.js";
import Docker from "dockerode";
import { ComputeMarketClient, DEFAULT_PROGRAM_ID, endpointText, labelText, type MarketAccount, type ProviderAccount, type ResultManifest, type SendReport } from "@compute-market/sdk";
import { Gauge, MarketIndex, Ticker, createRegistry, errorText, expandHome, lazyMachineRuntime, startStatusServer, transactionMetrics, transactionOptions, waitForCluster, checkRpcUrl, type Logger, type StatusServer } from "@compute-market/common";
import type { ProviderConfig } from "./config";
import { CapacityLedger } from "./capacity";
import { detectHardware, specChanges, toHardwareSpec } from "./hardware";
import { JobJournal } from "./lifecycle/journal";
import { lockWorkDir } from "./work-dir-lock";
import { biddingBlockers } from "./readiness";
import { DeclineLog } from "./lifecycle/declines";
import { GamePlayer } from "./lifecycle/games";
import { ProviderNode, type ReplicaHealth } from "./lifecycle/node";
import { createPorts } from "./ports";
import { JobLogHub } from "./results/catalog";
import { startResultsServer, type ResultsServer } from "./results/server";
import { BlobStore } from "./results/store";
import { cleanupLeftovers, isDaemonReachable } from "./runtime";
import { SERVICE_LABEL, type ReplicaShell } from "./runtime/service-container";
import { createStrategy } from "./strategy";
import { AcknowledgementBook, fetchLeaseTerms } from "./services/acknowledgements";
import { ServiceClaimer } from "./services/claimer";

export interface ProviderNodeHandle {
  node: ProviderNode;
  /** The node's side of dissection games over its verifiable results. */
  games: GamePlayer;
  /** The node's view of the market (a cache of the chain). */
  index: MarketIndex;
  provider: PublicKey;
  results: ResultsServer;
  status: StatusServer;
  stop(): Promise<void>;
}

/** The client of a configured wallet, on the configured cluster and program. */
export function clientFor(config: Pick<ProviderConfig, "url" | "wsUrl" | "programId" | "priorityFee" | "maxPriorityFee">, wallet: Keypair, onReport?: (report: SendReport) => void): ComputeMarketClient {
  checkRpcUrl(config.url);
  const connection = new Connection(config.url, { commitment: "confirmed", wsEndpoint: config.wsUrl });
  const programId = config.programId ? new PublicKey(config.programId) : DEFAULT_PROGRAM_ID;
  return new ComputeMarketClient(new AnchorProvider(connection, new Wallet(wallet), { commitment: "confirmed" }), { programId, transactions: transactionOptions(config, onReport) });
}

export function requireMarket(config: Pick<ProviderConfig, "market">): PublicKey {
  if (!config.market) throw new Error("no market configured: pass --market <address> (or PROVIDER_MARKET)");
  try {
    return new PublicKey(config.market);
  } catch {
    throw new Error(`--market ${config.market} is not an address`);
  }
}

/** The configured market as it is on-chain; an address that holds something else says what (WrongAccountError). */
export async function requireMarketAccount(client: ComputeMarketClient, config: Pick<ProviderConfig, "market" | "url">): Promise<{ market: PublicKey; account: MarketAccount }> {
  const market = requireMarket(config);
  const account = await client.fetchMarket(market);
  if (!account) throw new Error(`no market at ${market.toBase58()} on ${config.url}: check --market (\`npm run migrate\` prints the markets it made)`);
  return { market, account };
}

/** Re-registers when the machine or the endpoint changed since registration. */
async function reconcileRegistration(client: ComputeMarketClient, config: ProviderConfig, provider: PublicKey, account: ProviderAccount, logger: Logger): Promise<ProviderAccount> {
  const workDir = expandHome(config.workDir);
  const wanted = toHardwareSpec(await detectHardware(workDir), { cpuCores: config.reserveCpuCores, memoryMb: config.reserveMemoryMb, diskGb: config.reserveDiskGb }, config.region);
  const changes = specChanges(account.spec, wanted);
  const endpoint = config.endpoint ?? endpointText(account.endpoint);
  if (endpoint !== endpointText(account.endpoint)) changes.push("endpoint");
  if (changes.length === 0) return account;
  await client.updateProvider({ provider, spec: wanted, endpoint });
  logger.info({ changes, spec: wanted, endpoint }, "registration updated");
  return (await client.fetchProvider(provider)) ?? account;
}

export async function startProvider(config: ProviderConfig, wallet: Keypair, logger: Logger): Promise<ProviderNodeHandle> {
  const registry = createRegistry("provider");
  const client = clientFor(config, wallet, transactionMetrics(registry, "provider"));
  const connection = client.provider.connection;
  // Before anything else: a second node on this journal must not even look at the chain.
  const workDir = expandHome(config.workDir);
  mkdirSync(workDir, { recursive: true });
  const lock = lockWorkDir(workDir);
  await waitForCluster(connection, config.url, logger);
  const { market, account: marketAtStart } = await requireMarketAccount(client, config);
  const provider = client.providerAddress(market);
  const registered = await client.fetchProvider(provider);
  if (!registered) throw new Error(`wallet ${wallet.publicKey.toBase58()} is not registered in market ${market.toBase58()}: run \`provider register\` first`);
  const account = await reconcileRegistration(client, config, provider, registered, logger);

  const store = await BlobStore.open(`${workDir}/store`);
  const journal = new JobJournal(workDir);
  const hub = new JobLogHub();
  await restoreManifests(journal, store, hub, logger);

  const docker = new Docker({ socketPath: config.dockerSocket });
  const dockerAtStart = await isDaemonReachable(docker);
  if (dockerAtStart) {
    // Only this node's (another node may share the daemon), and not the replicas it was serving:
    // they are taken back, on the same ports.
    const serving = (container: { Labels: Record<string, string> }) => journal.get(container.Labels[SERVICE_LABEL] ?? "")?.phase === "serving";
    const removed = await cleanupLeftovers(docker, undefined, undefined, provider.toBase58(), serving);
    if (removed > 0) logger.warn({ removed }, "removed containers left by an earlier run; their jobs run again");
  }
  const blockersAtStart = biddingBlockers({ provider: account, market: marketAtStart, dockerUp: dockerAtStart, dockerSocket: config.dockerSocket });
  if (blockersAtStart.length > 0) logger.warn({ reasons: blockersAtStart }, `this node cannot bid yet: ${blockersAtStart.join("; ")}`);

  const capacity = new CapacityLedger({ ...account.spec, gpuModel: labelText(account.spec.gpuModel) }, config.maxConcurrentJobs);
  const strategy = createStrategy(config.strategy);
  let marketAccount: MarketAccount | null = marketAtStart;
  const endpoint = config.endpoint ?? endpointText(account.endpoint);
  // Built here, started below: the results server's acknowledgement route reads its bids.
  const index = new MarketIndex(client.program, connection, logger.child({ component: "index" }));
  const acknowledgements = new AcknowledgementBook({ workDir, provider, logger: logger.child({ component: "acknowledgements" }) });

  let shells: ((job: string) => Promise<ReplicaShell | null>) | null = null;
  // The node is made below; a report asked for before then has no health check yet.
  let replicaHealthOf: ((job: string) => ReplicaHealth | undefined) | null = null;
  const results = await startResultsServer({
    host: config.host,
    port: config.port,
    store,
    jobs: hub,
    maxBlobBytes: config.maxBlobBytes,
    maxStoreBytes: config.maxStoreBytes,
    logger: logger.child({ component: "results" }),
    outputOf: async (job) => journal.get(job)?.outputBlob ?? null,
    consumerOf: async (job) => journal.get(job)?.consumer ?? (await client.fetchJob(new PublicKey(job)).catch(() => null))?.consumer.toBase58() ?? null,
    // The ports are made below; a shell asked for before then finds no replica.
    shellOf: async (job) => (shells ? shells(job) : null),
    replicaReportOf: async (job) => {
      const record = journal.get(job);
      if (record?.phase !== "serving" || !record.serviceUrls) return null;
      const health = replicaHealthOf?.(job);
      return {
        urls: record.serviceUrls,
        health: health ? { healthy: health.healthy, checkedAt: health.checkedAt.toISOString() } : null,
        acknowledgedUpToSlot: acknowledgements.latest(job)?.upToSlot.toString() ?? null,
      };
    },
    acknowledgements: {
      book: acknowledgements,
      // Only jobs this node bid on cost a read of the chain: the route is public.
      leaseOf: async (job) => (index.bids.has(client.bidAddress(job, provider).toBase58()) ? fetchLeaseTerms(client, job) : null),
    },
  });

  await index.start();
  const machine = lazyMachineRuntime(config.replayCacheSize);
  const ports = createPorts({
    docker,
    store,
    hub,
    workDir,
    blobSources: config.blobSources,
    capacity: { fits: (r) => capacity.fits(r), reserve: (job, r) => capacity.reserve(job, r), release: (job) => capacity.release(job), utilisation: () => capacity.utilisation() },
    pricing: { quote: (job, m, utilisation) => strategy.quote({ job, market: m, utilisation }) },
    market: () => marketAccount,
    endpoint,
    nodeId: provider.toBase58(),
    logger,
    maxBlobBytes: config.maxBlobBytes,
    machine,
    serviceHostIp: config.host,
  });
  shells = (job) => ports.shell(job);
  const declines = new DeclineLog(workDir);
  const node = new ProviderNode({ client, connection, index, journal, ports, market, provider, logger: logger.child({ component: "node" }), maxConcurrentRuns: config.maxConcurrentJobs, servesServices: config.serveServices, declines });
  replicaHealthOf = (job) => node.replicaHealthOf(job);
  const games = new GamePlayer({ client, index, replays: machine.replays, program: ports.machineProgram, logger: logger.child({ component: "games" }) });
  const claimer = new ServiceClaimer({ client, book: acknowledgements, policy: { claimEveryPeriods: config.claimEveryPeriods, maxUnclaimedTokens: config.maxUnclaimedTokens }, logger: logger.child({ component: "claimer" }) });

  const gauges = {
    actions: new Gauge({ name: "provider_actions_total", help: "Lifecycle actions done since start", labelNames: ["kind"], registers: [registry] }),
    utilisation: new Gauge({ name: "provider_utilisation", help: "Fullest resource dimension held by jobs, 0..1", registers: [registry] }),
    slot: new Gauge({ name: "provider_slot", help: "Latest slot seen", registers: [registry] }),
  };
  let dockerUp = dockerAtStart;
  let registration = account;
  const ticker = new Ticker({
    tickMs: config.tickMs,
    logger,
    tick: async () => {
      dockerUp = await isDaemonReachable(docker, 2_000);
      await node.tick();
      await games.tick();
      await claimer.tick();
      for (const [kind, value] of Object.entries(node.stats)) gauges.actions.set({ kind }, value);
      for (const [kind, value] of Object.entries(games.stats)) gauges.actions.set({ kind: `game_${kind}` }, value);
      for (const [kind, value] of Object.entries(claimer.stats)) gauges.actions.set({ kind: `service_${kind}` }, value);
      gauges.utilisation.set(capacity.utilisation());
      gauges.slot.set(Number(node.lastSlot));
    },
    resyncMs: config.resyncMs,
    resync: async () => {
      // Each part on its own: a failed re-registration must not keep the index stale.
      const parts = await Promise.allSettled([
        index.load(),
        client.fetchMarket(market).then((m) => (marketAccount = m ?? marketAccount)),
        // Hardware can change under a running node (a GPU falls off the bus): register what is there.
        reconcileRegistration(client, config, provider, registration, logger).then((current) => {
          if (current === registration) return;
          registration = current;
          capacity.resize({ ...current.spec, gpuModel: labelText(current.spec.gpuModel) });
        }),
      ]);
      const failures = parts.flatMap((part, i) => (part.status === "rejected" ? [`${["index", "market", "registration"][i]}: ${errorText(part.reason)}`] : []));
      if (failures.length > 0) throw new Error(failures.join("; "));
    },
  });
  const status = await startStatusServer({
    port: config.statusPort,
    host: config.host,
    registry,
    health: () => {
      const { healthy, ...ticks } = ticker.health();
      // Running but unable to bid (too little stake, say) is degraded, with the reasons.
      const cannotBid = marketAccount ? biddingBlockers({ provider: index.providers.get(provider.toBase58()) ?? registration, market: marketAccount, dockerUp, dockerSocket: config.dockerSocket }) : [];
      return { healthy: healthy && dockerUp, details: { ...ticks, degraded: cannotBid.length > 0, cannotBid, docker: dockerUp, slot: node.lastSlot.toString(), jobs: capacity.jobs(), stats: node.stats, games: games.stats } };
    },
  });
  ticker.start();
  logger.info({ provider: provider.toBase58(), market: market.toBase58(), results: results.url, endpoint, statusPort: status.port, spec: account.spec, strategy: strategy.name }, "provider started");

  return {
    node,
    games,
    index,
    provider,
    results,
    status,
    stop: async () => {
      await ticker.stop();
      await node.stop(true);
      await games.stop();
      await machine.close();
      await index.stop();
      await results.close();
      await status.close();
      lock.release();
    },
  };
}

/** Manifests of results already produced, so they are served again after a restart. */
async function restoreManifests(journal: JobJournal, store: BlobStore, hub: JobLogHub, logger: Logger): Promise<void> {
  for (const record of journal.all().values()) {
    if (!record.manifestBlob) continue;
    const stream = await store.get(record.manifestBlob);
    if (!stream) {
      logger.warn({ job: record.job }, "result manifest missing from the store");
      continue;
    }
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    hub.setManifest(record.job, JSON.parse(Buffer.concat(chunks).toString("utf8")) as ResultManifest);
  }
}
