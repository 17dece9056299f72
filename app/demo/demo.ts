// `npm run demo`: the whole market on a local cluster, narrated. The cluster, a keeper and two
// provider nodes run as separate processes; this process is the market's authority and a
// consumer that publishes container jobs, follows them live from the program's events,
// downloads each result and checks it against the on-chain output root; then posts verifiable
// jobs, one of them won by a dishonest provider whom the keeper catches (verifiable.ts); leases
// a service whose replica dies and is replaced (services.ts); and prints balances.
// The npm script has already built the program and set up Docker (scripts/setup).
import { mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { AnchorProvider, Wallet } from "@coral-xyz/anchor";
import { createMint, getAssociatedTokenAddressSync, getOrCreateAssociatedTokenAccount, mintTo } from "@solana/spl-token";
import { Connection, Keypair, LAMPORTS_PER_SOL, PublicKey } from "@solana/web3.js";
import { bytesToHex } from "@noble/hashes/utils";
import Docker from "dockerode";
import {
  ComputeMarketClient,
  fetchResults,
  keypairSigner,
  parseEvents,
  providerEndpoint,
  publishSpec,
  type ComputeMarketEvent,
} from "@compute-market/sdk";
import { freePort, spawnTs, type Spawned } from "@compute-market/common";
import { cleanupLeftovers } from "../provider/src/runtime/docker-runner";
import { demoJobs } from "./jobs";
import { buildConsole, serveConsole, type ConsoleServer } from "../console/server/serve";
import { servicesDemo, type ServiceNode } from "./services";
import { verifiableDemo } from "./verifiable";

const ROOT = path.resolve(__dirname, "../..");
const TEST_IMAGE = "compute-market/busybox:test";
const SLOT_MS = 100;
const USDC = 1_000_000n;
const MARKET_PARAMS = {
  minStake: 100_000_000n,
  jobStakeLock: 20_000_000n,
  crankFee: 10_000n,
  bidWindowSlots: 20n,
  revealWindowSlots: 15n,
  startWindowSlots: 30n,
  // Also each side's clock in a dissection game: 5 s a move.
  challengeWindowSlots: 50n,
  unbondingSlots: 100n,
  slashNoShowBps: 1_000,
  slashTimeoutBps: 5_000,
  slashConsumerShareBps: 5_000,
  defaultReplication: 1,
};
const started = Date.now();

function say(text: string): void {
  console.log(`\n▸ ${text}`);
}

function progress(text: string): void {
  console.log(`  [${((Date.now() - started) / 1000).toFixed(1).padStart(5)} s] ${text}`);
}

function usdc(value: bigint): string {
  const fraction = (value % USDC).toString().padStart(6, "0").replace(/0+$/, "");
  return `${value / USDC}${fraction ? "." + fraction : ""}`;
}

/** Awaits `work`, saying every 5 s that it is still going and for how long. */
async function whileWaiting<T>(what: string, work: Promise<T>): Promise<T> {
  const started = Date.now();
  progress(`waiting while ${what}`);
  const timer = setInterval(() => progress(`still waiting while ${what} (${Math.round((Date.now() - started) / 1000)} s)`), 5_000);
  try {
    return await work;
  } finally {
    clearInterval(timer);
    progress(`done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
}

function walletFile(dir: string, name: string, keypair: Keypair): string {
  const file = path.join(dir, `${name}.json`);
  writeFileSync(file, JSON.stringify(Array.from(keypair.secretKey)), { mode: 0o600 });
  return file;
}

async function main(): Promise<void> {
  const processes: Spawned[] = [];
  const nodeIds: string[] = [];
  let consoleServer: ConsoleServer | null = null;
  const dir = mkdtempSync(path.join(os.tmpdir(), "compute-market-demo-"));
  const stopAll = async () => {
    for (const spawned of [...processes].reverse()) await spawned.stop();
  };
  process.once("SIGINT", () => void stopAll().then(() => process.exit(130)));
  try {
    const image = (await new Docker().getImage(TEST_IMAGE).inspect().catch(() => {
      throw new Error(`the local image ${TEST_IMAGE} is missing: run \`bash scripts/docker-up\``);
    })).Id;

    say("starting a local cluster (a process) with the compute-market program");
    const cluster = spawnTs(ROOT, "app/localnet/src/cli.ts", ["--port", "0", "--slot-ms", String(SLOT_MS)]);
    processes.push(cluster);
    const { url } = (await cluster.waitForLine((_l, json) => json?.event === "ready", 60_000)) as { url: string };
    progress(`JSON-RPC at ${url}, ${SLOT_MS} ms slots`);
    const connection = new Connection(url, "confirmed");
    // The web console, served for as long as the demo runs: open it to watch the same market.
    buildConsole();
    consoleServer = await serveConsole({ port: Number(process.env.DEMO_CONSOLE_PORT ?? 0) });
    const consoleUrl = `${consoleServer.url}/?rpc=${encodeURIComponent(url)}`;
    progress(`the web console, live while the demo runs: ${consoleUrl}`);
    const wallet = async (name: string) => {
      const keypair = Keypair.generate();
      await connection.confirmTransaction(await connection.requestAirdrop(keypair.publicKey, 10 * LAMPORTS_PER_SOL));
      return { name, keypair, file: walletFile(dir, name, keypair), client: new ComputeMarketClient(new AnchorProvider(connection, new Wallet(keypair), { commitment: "confirmed" })) };
    };

    say("the authority initializes the protocol (2.5 % fee) and opens a CPU market paid in USDC, staked in STK");
    const authority = await wallet("authority");
    const payment = await createMint(connection, authority.keypair, authority.keypair.publicKey, null, 6);
    const stakeMint = await createMint(connection, authority.keypair, authority.keypair.publicKey, null, 6);
    const fund = async (owner: PublicKey, mint: PublicKey, amount: bigint) => {
      const account = await getOrCreateAssociatedTokenAccount(connection, authority.keypair, mint, owner);
      if (amount > 0n) await mintTo(connection, authority.keypair, mint, account.address, authority.keypair, amount);
      return account.address;
    };
    await authority.client.initializeConfig({ protocolFeeBps: 250, treasury: authority.keypair.publicKey });
    const { market } = await authority.client.createMarket({ class: { minGpuCount: 0, minVramMb: 0, minCpuCores: 1, minMemoryMb: 256 }, params: MARKET_PARAMS, paymentMint: payment, stakeMint });
    await fund(authority.keypair.publicKey, payment, 0n);
    progress(`market ${market.toBase58()}`);

    say("two providers register their machines, stake 150 STK each and start their nodes (processes)");
    const strategies = [
      { name: "fixed-floor", price: "600000", serviceRate: "1200" },
      { name: "utilisation-markup", costPerUnitSlot: "1500000000", baseMarkupBps: 1000, utilisationMarkupBps: 8000, ceiling: 0.95 },
    ];
    const providers: { name: string; keypair: Keypair; address: PublicKey }[] = [];
    const serviceNodes: ServiceNode[] = [];
    /** Registers, stakes and starts provider node `n` (a process), set to serve service leases too. */
    const startNode = async (n: number, strategy: Record<string, unknown>) => {
      const operator = await wallet(`provider-${n}`);
      await fund(operator.keypair.publicKey, stakeMint, 150n * USDC);
      await fund(operator.keypair.publicKey, payment, 0n);
      const port = await freePort();
      const endpoint = `http://127.0.0.1:${port}`;
      const config = ["--url", url, "--keypair", operator.file, "--market", market.toBase58(), "--work-dir", path.join(dir, `work-${n}`), "--endpoint", endpoint];
      const { provider } = await operator.client.registerProvider({ market, spec: { cpuCores: 1, memoryMb: 256, diskGb: 1, gpuCount: 0, vramMb: 0 }, endpoint });
      await operator.client.stake({ provider, amount: 150n * USDC });
      // Claims every acknowledged period, so a node that dies loses at most one period of pay.
      const node = spawnTs(ROOT, "app/provider/src/main.ts", ["run", ...config, "--port", String(port), "--status-port", "0", "--strategy", JSON.stringify(strategy), "--max-concurrent-jobs", "2", "--tick-ms", "200", "--serve-services"], { LOG_LEVEL: "info", PROVIDER_RESERVE_MEMORY_MB: "0", PROVIDER_RESERVE_DISK_GB: "0", PROVIDER_CLAIM_EVERY_PERIODS: "1" });
      processes.push(node);
      providers.push({ name: operator.name, keypair: operator.keypair, address: provider });
      serviceNodes.push({ name: operator.name, provider, endpoint, process: node });
      nodeIds.push(provider.toBase58());
      progress(`${operator.name}: ${endpoint}, strategy ${String(strategy.name)}`);
      return node;
    };
    for (const [i, strategy] of strategies.entries()) await startNode(i + 1, strategy);
    // A node announces itself once its results server listens and its registration is current.
    await whileWaiting("the two nodes start (each compiles its TypeScript first)", Promise.all(processes.slice(-2).map((node) => node.waitForLine((line) => line.includes('"provider started"'), 60_000))));
    const endpoints = (await authority.client.providersOf(market)).map((p) => providerEndpoint(p.account));

    say("a keeper starts (a process): it awards auctions, cranks deadlines, finalizes, and replays every verifiable result, with 100 STK for challenge bonds");
    const keeper = await wallet("keeper");
    await fund(keeper.keypair.publicKey, payment, 0n);
    await fund(keeper.keypair.publicKey, stakeMint, 100n * USDC);
    const keeperProcess = spawnTs(ROOT, "app/keeper/src/main.ts", ["run", "--url", url, "--keypair", keeper.file, "--port", "0", "--tick-ms", "200", "--blob-sources", endpoints.join(",")], { LOG_LEVEL: "warn" });
    processes.push(keeperProcess);
    await new Promise((resolve) => setTimeout(resolve, 1_000));

    say("the consumer publishes four container jobs to the providers and posts them, each escrowing at most 1 USDC");
    const consumer = await wallet("consumer");
    await fund(consumer.keypair.publicKey, payment, 10n * USDC);
    const nameOf = new Map(providers.map((p) => [p.address.toBase58(), p.name]));
    const jobs = new Map<string, { n: number; title: string; sealed: boolean }>();
    const roots = new Map<string, { root: Uint8Array; provider: PublicKey }>();
    const finished = new Set<string>();
    const subscription = connection.onLogs(consumer.client.programId, (logs) => {
      if (logs.err) return;
      for (const event of parseEvents(consumer.client.program, logs.logs)) report(event);
    });
    const report = (event: ComputeMarketEvent) => {
      const data = event.data as { job?: PublicKey; provider?: PublicKey; price?: bigint; outputRoot?: number[] };
      const job = data.job ? jobs.get(data.job.toBase58()) : undefined;
      if (!job || !data.job) return;
      const who = data.provider ? nameOf.get(data.provider.toBase58()) ?? data.provider.toBase58().slice(0, 6) : "";
      const label = `job ${job.n}`;
      switch (event.name) {
        case "bidPlaced":
          progress(`${label}: ${who} bids ${(event.data as { sealed: boolean }).sealed ? "a sealed price" : `${usdc(data.price ?? 0n)} USDC`}`);
          break;
        case "bidRevealed":
          progress(`${label}: ${who} reveals ${usdc(data.price ?? 0n)} USDC`);
          break;
        case "winnerSelected":
          progress(`${label}: awarded to ${who} at ${usdc(data.price ?? 0n)} USDC`);
          // A sealed auction pays the first losing price: bidding one's true cost is the best strategy.
          if (job.sealed) progress(`${label}: sealed bids are second-price (Vickrey): the winner is paid the lowest losing bid (the consumer's maximum when no bid lost), not its own`);
          break;
        case "jobStarted":
          progress(`${label}: ${who} started the container`);
          break;
        case "resultCommitted":
          roots.set(data.job.toBase58(), { root: Uint8Array.from(data.outputRoot ?? []), provider: data.provider! });
          progress(`${label}: ${who} committed output root ${bytesToHex(Uint8Array.from(data.outputRoot ?? [])).slice(0, 16)}…`);
          break;
        case "winnerPaid":
          progress(`${label}: finalized, ${who} paid ${usdc(data.price ?? 0n)} USDC`);
          finished.add(data.job.toBase58());
          break;
        case "jobExpired":
        case "jobRefunded":
          progress(`${label}: ${event.name === "jobExpired" ? "expired" : "refunded"}`);
          finished.add(data.job.toBase58());
          break;
        default:
          break;
      }
    };

    for (const [i, demo] of demoJobs(image).entries()) {
      const published = await publishSpec(endpoints, demo.spec, demo.inputs);
      if (published.failed.length > 0) throw new Error(`publishing failed: ${JSON.stringify(published.failed)}`);
      const { job } = await consumer.client.postJob({
        market,
        specHash: published.specHash,
        requirements: { cpuCores: 1, memoryMb: 128, maxDurationSlots: 300n },
        mode: "replicated",
        replication: 1,
        onFailure: "refund",
        maxPrice: USDC,
        // Open jobs are awarded at once to a bid at or under 0.6 USDC; bidding stays open 6 s.
        instantPrice: demo.sealed ? 0n : 600_000n,
        bidWindowSlots: 60n,
        sealed: demo.sealed,
      });
      jobs.set(job.toBase58(), { n: i + 1, title: demo.title, sealed: demo.sealed });
      progress(`job ${i + 1} posted: ${demo.title} (${job.toBase58().slice(0, 8)}…)`);
    }

    // Results are fetched as soon as each job is committed, from the winner's endpoint.
    say("the consumer downloads each result and verifies it against the committed output root");
    const verified = new Set<string>();
    const deadline = Date.now() + 180_000;
    const expected = () => [...jobs.keys()].filter((job) => roots.has(job) || !finished.has(job)).length;
    while ((verified.size < expected() || finished.size < jobs.size) && Date.now() < deadline) {
      for (const [address, job] of jobs) {
        if (verified.has(address) || !roots.has(address)) continue;
        const commitment = roots.get(address)!;
        const provider = await consumer.client.fetchProvider(commitment.provider);
        if (!provider) continue;
        const results = await fetchResults({ endpoint: providerEndpoint(provider), job: address, publicKey: consumer.keypair.publicKey, signMessage: keypairSigner(consumer.keypair), expectedRoot: commitment.root });
        verified.add(address);
        const run = JSON.parse(new TextDecoder().decode(results.files.get("run.json"))) as { status: string; reason: string | null; exitCode: number | null; durationMs: number };
        const outputs = [...results.files].filter(([file]) => file.startsWith("outputs/")).map(([file, bytes]) => `${file.slice(8)} = ${new TextDecoder().decode(bytes).trim()}`);
        progress(`job ${job.n} verified (${results.manifest.files.length} files match the root): ${run.status}${run.reason ? ` (${run.reason}, exit ${run.exitCode})` : ""}, ${run.durationMs} ms; ${outputs.join("; ") || "no outputs"}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    await connection.removeOnLogsListener(subscription);
    if (verified.size < expected() || finished.size < jobs.size) throw new Error(`only ${verified.size} of ${expected()} results were verified and ${finished.size} of ${jobs.size} jobs ended in time`);

    const mallory = await wallet("mallory");
    await fund(mallory.keypair.publicKey, stakeMint, 150n * USDC);
    await fund(mallory.keypair.publicKey, payment, 0n);
    const { provider: malloryProvider } = await mallory.client.registerProvider({ market, spec: { cpuCores: 1, memoryMb: 256, diskGb: 1, gpuCount: 0, vramMb: 0 }, endpoint: "http://127.0.0.1:1" });
    await mallory.client.stake({ provider: malloryProvider, amount: 150n * USDC });
    nameOf.set(malloryProvider.toBase58(), "mallory");
    await verifiableDemo({
      root: ROOT,
      connection,
      market,
      consumer,
      mallory: { ...mallory, address: malloryProvider },
      endpoints,
      nameOf: (provider) => nameOf.get(provider.toBase58()) ?? provider.toBase58().slice(0, 6),
      say,
      progress,
      usdc,
    });

    say("a third provider starts a node, set to serve leases at 0.0015 USDC a slot");
    const third = await startNode(3, { name: "fixed-floor", price: "900000", serviceRate: "1500" });
    await whileWaiting("the third node starts", third.waitForLine((line) => line.includes('"provider started"'), 60_000));
    for (const node of serviceNodes) nameOf.set(node.provider.toBase58(), node.name);
    const replacement = await servicesDemo({ connection, market, consumer, image, nodes: serviceNodes, bidWindowSlots: MARKET_PARAMS.bidWindowSlots, keeper: keeperProcess, say, progress, usdc });
    const deathToServing = replacement.servingSlot - replacement.deathSlot;
    progress(`from the death to the replacement serving: ${deathToServing} slots (${(Number(deathToServing) * SLOT_MS) / 1000} s at ${SLOT_MS} ms slots)`);
    // `npm run bench` reads the act's measurements from here.
    if (process.env.DEMO_REPORT) writeFileSync(process.env.DEMO_REPORT, JSON.stringify(replacement, (_key, value: unknown) => (typeof value === "bigint" ? value.toString() : value)));

    say("final balances (USDC)");
    const balance = async (owner: PublicKey) => BigInt((await connection.getTokenAccountBalance(getAssociatedTokenAddressSync(payment, owner)).catch(() => ({ value: { amount: "0" } }))).value.amount);
    const rows: [string, PublicKey][] = [["consumer", consumer.keypair.publicKey], ...providers.map((p): [string, PublicKey] => [p.name, p.keypair.publicKey]), ["keeper (crank fees)", keeper.keypair.publicKey], ["treasury (protocol fees)", authority.keypair.publicKey]];
    let total = 0n;
    for (const [name, owner] of rows) {
      const value = await balance(owner);
      total += value;
      console.log(`    ${name.padEnd(26)} ${usdc(value).padStart(10)}`);
    }
    console.log(`    ${"total".padEnd(26)} ${usdc(total).padStart(10)}   (the consumer started with 10; nothing is lost)`);
    say("stake (STK): mallory's per-job lock went to the treasury, the challenger reward locked on top of it to the keeper");
    const stake = async (owner: PublicKey) => BigInt((await connection.getTokenAccountBalance(getAssociatedTokenAddressSync(stakeMint, owner)).catch(() => ({ value: { amount: "0" } }))).value.amount);
    const staked = async (address: PublicKey) => (await authority.client.fetchProvider(address))?.staked ?? 0n;
    console.log(`    ${"keeper (wallet)".padEnd(26)} ${usdc(await stake(keeper.keypair.publicKey)).padStart(10)}   (started with 100)`);
    console.log(`    ${"mallory (staked)".padEnd(26)} ${usdc(await staked(malloryProvider)).padStart(10)}   (staked 150)`);
    console.log(`    ${"treasury (wallet)".padEnd(26)} ${usdc(await stake(authority.keypair.publicKey)).padStart(10)}`);

    say("next steps");
    for (const line of [
      "a sandbox of your own, that stays up:  npm run localnet -- --bootstrap --wallet <your pubkey>",
      "more test tokens from it:              npm run localnet -- faucet <your pubkey> --tokens 1000 --sol 10",
      "run a provider node on it:             npm run provider -- init, register, stake, run (README: Quick start; docs/provider.md)",
      "run a keeper on it:                    npm run keeper -- run --url http://127.0.0.1:8899 --keypair <file>",
      "post jobs from code:                   @compute-market/sdk (README: The SDK); npm run packages -- --pack to install it elsewhere",
      "the web console on your sandbox:       npm run console -- --rpc http://127.0.0.1:8899 (and a Wallet Standard wallet)",
    ]) {
      console.log(`    ${line}`);
    }
  } catch (error) {
    // What the daemons said last is usually why.
    for (const spawned of processes) if (spawned.child.exitCode !== null) console.error(`a process exited with ${spawned.child.exitCode}:\n${spawned.output.slice(-10).join("\n")}`);
    throw error;
  } finally {
    await consoleServer?.close();
    await stopAll();
    // A replica's container outlives its node's process by design (a restarted node takes it
    // back); the demo's nodes are gone for good, so their containers go too.
    const docker = new Docker();
    for (const node of nodeIds) await cleanupLeftovers(docker, undefined, undefined, node).catch(() => undefined);
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(`\ndemo failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
