// `npm run bench` (fourth table): how long a job waits between its award being sent and its
// container running on the winning provider node, against a bare `docker run` of the same image
// (create + start through the same daemon) in the same run. The difference is the node's own
// work: noticing the award, start_job, fetching the spec and inputs, preparing the run.
import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import Docker from "dockerode";
import { AnchorProvider, Wallet } from "@coral-xyz/anchor";
import { getOrCreateAssociatedTokenAccount, mintTo } from "@solana/spl-token";
import { Connection, Keypair, LAMPORTS_PER_SOL, type PublicKey } from "@solana/web3.js";
import { ComputeMarketClient, DEFAULT_PROGRAM_ID, publishSpec, type ContainerJobSpec } from "@compute-market/sdk";
import { createMint, startLocalCluster } from "@compute-market/localnet";
import { createLogger, freePort } from "@compute-market/common";
import { ProviderConfigSchema, startProvider } from "@compute-market/provider";

const PROGRAM_PATH = path.resolve(__dirname, "../target/deploy/compute_market.so");
const RUNS = Number(process.env.BENCH_LATENCY_RUNS ?? 10);
const IMAGE = "compute-market/busybox:test";

/** Milliseconds at which Docker reports the first container labelled for `job` (or any, when null) started. */
function startedAt(docker: Docker, label: string): Promise<number> {
  return new Promise((resolve, reject) => {
    docker.getEvents({ filters: { type: ["container"], event: ["start"], label: [label] } }, (error, stream) => {
      if (error || !stream) return reject(error ?? new Error("no event stream"));
      stream.once("data", (chunk: Buffer) => {
        const event = JSON.parse(chunk.toString().split("\n")[0]) as { timeNano: number };
        (stream as unknown as { destroy(): void }).destroy();
        resolve(event.timeNano / 1e6);
      });
    });
  });
}

function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

async function main(): Promise<void> {
  const docker = new Docker();
  const image = (await docker.getImage(IMAGE).inspect()).Id;
  const cluster = await startLocalCluster({ port: 0, slotMs: 20, programs: [{ programId: DEFAULT_PROGRAM_ID, path: PROGRAM_PATH }] });
  const connection = new Connection(cluster.url, "confirmed");
  const bank = Keypair.generate();
  cluster.ledger.airdrop(bank.publicKey, 1_000n * BigInt(LAMPORTS_PER_SOL));
  const payment = createMint(cluster.ledger, bank, 6);
  const stake = createMint(cluster.ledger, bank, 6);
  const wallet = async () => {
    const keypair = Keypair.generate();
    cluster.ledger.airdrop(keypair.publicKey, 100n * BigInt(LAMPORTS_PER_SOL));
    for (const mint of [payment, stake]) {
      const account = await getOrCreateAssociatedTokenAccount(connection, bank, mint, keypair.publicKey);
      await mintTo(connection, bank, mint, account.address, bank, 10n ** 12n);
    }
    return { keypair, client: new ComputeMarketClient(new AnchorProvider(connection, new Wallet(keypair), { commitment: "confirmed" })) };
  };
  const authority = await wallet();
  await authority.client.initializeConfig({ protocolFeeBps: 250, treasury: authority.keypair.publicKey });
  const { market } = await authority.client.createMarket({
    class: { minGpuCount: 0, minVramMb: 0, minCpuCores: 1, minMemoryMb: 1 },
    params: {
      minStake: 1n, jobStakeLock: 1n, crankFee: 1n, bidWindowSlots: 10_000n, revealWindowSlots: 10n, startWindowSlots: 500n,
      challengeWindowSlots: 10n, unbondingSlots: 10n, slashNoShowBps: 0, slashTimeoutBps: 0, slashConsumerShareBps: 0, defaultReplication: 1,
    },
    paymentMint: payment,
    stakeMint: stake,
  });
  const operator = await wallet();
  const { provider } = await operator.client.registerProvider({ market, spec: { cpuCores: 1, memoryMb: 64, diskGb: 1, gpuCount: 0, vramMb: 0 }, endpoint: "http://127.0.0.1:1" });
  await operator.client.stake({ provider, amount: 10n ** 9n });
  const port = await freePort();
  const node = await startProvider(
    ProviderConfigSchema.parse({
      url: cluster.url, market: market.toBase58(), endpoint: `http://127.0.0.1:${port}`, port, statusPort: 0,
      workDir: mkdtempSync(path.join(os.tmpdir(), "bench-provider-")), strategy: { name: "fixed-floor", price: "50" },
      tickMs: 50, logLevel: "silent", reserveMemoryMb: 0, reserveDiskGb: 0, maxConcurrentJobs: 1,
    }),
    operator.keypair,
    createLogger("bench", "silent"),
  );
  const consumer = await wallet();
  const spec: ContainerJobSpec = { version: 1, image, command: ["true"], env: {}, inputs: [], network: false, gpus: 0, cpus: 1, memoryMb: 32, timeoutSeconds: 10, maxOutputBytes: 1_000 };

  const viaMarket: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    // A distinct spec per run (its env), so every job is new to the node.
    const runSpec = { ...spec, env: { RUN: String(i) } };
    const { specHash } = await publishSpec([`http://127.0.0.1:${port}`], runSpec, new Map());
    const { job } = await consumer.client.postJob({
      market, specHash, requirements: { cpuCores: 1, memoryMb: 32, maxDurationSlots: 1_000n }, mode: "replicated", replication: 1,
      onFailure: "refund", maxPrice: 100n, instantPrice: 0n, bidWindowSlots: 0n,
    });
    await waitFor(async () => (await consumer.client.fetchBid(consumer.client.bidAddress(job, provider))) !== null);
    cluster.ledger.advanceSlots(10_001n);
    const running = startedAt(docker, `compute-market.job=${job.toBase58()}`);
    const awardedAt = await awardAndTime(authority.client, job);
    viaMarket.push((await running) - awardedAt);
    await waitFor(async () => (await consumer.client.fetchBid(consumer.client.bidAddress(job, provider)))?.committedSlot !== 0n);
  }

  const bare: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const label = `bench.bare=${i}-${Date.now()}`;
    const running = startedAt(docker, label);
    const begin = Date.now();
    const container = await docker.createContainer({ Image: image, Cmd: ["true"], Labels: { [label.split("=")[0]]: label.split("=")[1] }, HostConfig: { NetworkMode: "none" } });
    await container.start();
    bare.push((await running) - begin);
    await container.wait();
    await container.remove({ force: true });
  }

  await node.stop();
  await cluster.close();
  const median = (v: number[]) => quantile(v, 0.5);
  console.log(`\nAward to container running (${RUNS} jobs each, same daemon, same image)\n`);
  console.log("| path                                  | median ms | p90 ms |");
  console.log("|---------------------------------------|-----------|--------|");
  console.log(`| award sent → container started        | ${median(viaMarket).toFixed(0).padStart(9)} | ${quantile(viaMarket, 0.9).toFixed(0).padStart(6)} |`);
  console.log(`| bare docker create + start            | ${median(bare).toFixed(0).padStart(9)} | ${quantile(bare, 0.9).toFixed(0).padStart(6)} |`);
  console.log(`\nratio (median): ${(median(viaMarket) / median(bare)).toFixed(1)}×`);
}

/** The moment the award is sent: its confirmation is part of what the node waits for. */
async function awardAndTime(client: ComputeMarketClient, job: PublicKey): Promise<number> {
  const sentAt = Date.now();
  await client.award({ job });
  return sentAt;
}

async function waitFor(condition: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
