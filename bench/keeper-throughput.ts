// `npm run bench` (second table): awards per second a keeper achieves against the local cluster
// over JSON-RPC, versus the same award transactions built and sent raw with `sendRawTransaction`
// in the same run, on the same cluster. The ratio is the keeper's own overhead (indexing,
// planning, the transaction layer, confirmation) less what packing awards saves it.
import path from "node:path";
import { AnchorProvider, Wallet } from "@coral-xyz/anchor";
import { Connection, Keypair, PublicKey, Transaction } from "@solana/web3.js";
import { awardInstruction, ComputeMarketClient, DEFAULT_PROGRAM_ID, findBidPda } from "@compute-market/sdk";
import { createMint, createTokenAccount, startLocalCluster } from "@compute-market/localnet";
import { createLogger } from "@compute-market/common";
import { KeeperConfigSchema, startKeeper } from "@compute-market/keeper";

const PROGRAM_PATH = path.resolve(__dirname, "../target/deploy/compute_market.so");
const JOBS = Number(process.env.BENCH_JOBS ?? 200);
const SOL = 1_000_000_000n;

async function main(): Promise<void> {
  const cluster = await startLocalCluster({ port: 0, slotMs: 0, programs: [{ programId: DEFAULT_PROGRAM_ID, path: PROGRAM_PATH }] });
  const { ledger } = cluster;
  const connection = new Connection(cluster.url, "confirmed");
  const bank = Keypair.generate();
  ledger.airdrop(bank.publicKey, 10_000n * SOL);
  const payment = createMint(ledger, bank, 6);
  const stake = createMint(ledger, bank, 9);
  const wallet = () => {
    const keypair = Keypair.generate();
    ledger.airdrop(keypair.publicKey, 100n * SOL);
    const client = new ComputeMarketClient(new AnchorProvider(connection, new Wallet(keypair), { commitment: "confirmed" }));
    return { keypair, client, payment: createTokenAccount(ledger, bank, payment, keypair.publicKey, 10n ** 15n), stake: createTokenAccount(ledger, bank, stake, keypair.publicKey, 10n ** 15n) };
  };

  const authority = wallet();
  await authority.client.initializeConfig({ protocolFeeBps: 250, treasury: authority.keypair.publicKey });
  const { market } = await authority.client.createMarket({
    class: { minGpuCount: 0, minVramMb: 0, minCpuCores: 1, minMemoryMb: 1 },
    params: {
      minStake: 1n, jobStakeLock: 1n, crankFee: 1n, bidWindowSlots: 10n, revealWindowSlots: 10n, startWindowSlots: 10n,
      challengeWindowSlots: 10n, unbondingSlots: 10n, slashNoShowBps: 0, slashTimeoutBps: 0, slashConsumerShareBps: 0, defaultReplication: 1,
    },
    paymentMint: payment,
    stakeMint: stake,
  });
  const owner = wallet();
  const { provider } = await owner.client.registerProvider({ market, spec: { cpuCores: 1, memoryMb: 1, diskGb: 1, gpuCount: 0, vramMb: 0 }, endpoint: "x" });
  await owner.client.stake({ provider, amount: 10n ** 12n, ownerToken: owner.stake });
  const consumer = wallet();

  const postWithBid = async (): Promise<PublicKey> => {
    const { job } = await consumer.client.postJob({
      market, specHash: new Uint8Array(32), requirements: { cpuCores: 1, memoryMb: 1, maxDurationSlots: 10n },
      mode: "replicated", replication: 1, onFailure: "refund", maxPrice: 100n, instantPrice: 0n, bidWindowSlots: 0n, consumerToken: consumer.payment,
    });
    await owner.client.placeBid({ job, price: 50n });
    return job;
  };
  // Set-up in small waves: the local cluster moves to a new blockhash with each transaction and
  // keeps the last 150, as a real cluster keeps 150 slots' worth.
  const batch = async () => {
    const jobs: PublicKey[] = [];
    while (jobs.length < JOBS) jobs.push(...(await Promise.all(Array.from({ length: Math.min(20, JOBS - jobs.length) }, () => postWithBid()))));
    return jobs;
  };
  const rawJobs = await batch();
  ledger.advanceSlots(11n);

  // Raw: the award transactions, built and signed before the clock starts, sent in waves of 100
  // (a blockhash of the local cluster stays valid for 150 transactions).
  const sender = wallet();
  const build = async (job: PublicKey, blockhash: string) => {
    const ix = await awardInstruction(sender.client.program, { cranker: sender.keypair.publicKey, market, job }, [findBidPda({ job, provider, programId: DEFAULT_PROGRAM_ID })[0]]);
    const tx = new Transaction({ feePayer: sender.keypair.publicKey, recentBlockhash: blockhash }).add(ix);
    tx.sign(sender.keypair);
    return tx.serialize();
  };
  const waves: PublicKey[][] = [];
  for (let i = 0; i < rawJobs.length; i += 100) waves.push(rawJobs.slice(i, i + 100));
  let rawMs = 0;
  for (const wave of waves) {
    const blockhash = (await connection.getLatestBlockhash()).blockhash;
    const raw = await Promise.all(wave.map((job) => build(job, blockhash)));
    const waveStart = performance.now();
    const signatures = await Promise.all(raw.map((bytes) => connection.sendRawTransaction(bytes)));
    await Promise.all(signatures.map((signature) => connection.confirmTransaction(signature)));
    rawMs += performance.now() - waveStart;
  }
  const rawSeconds = rawMs / 1000;

  // Keeper: running and indexed before the auctions end; it finds the due awards itself.
  const keeperJobs = await batch();
  const config = KeeperConfigSchema.parse({ url: cluster.url, port: 0, tickMs: 50, bots: ["auction-closer"], concurrency: 64 });
  const keeper = await startKeeper(config, wallet().keypair, createLogger("keeper", "warn"));
  while (!keeper.runner.health().healthy) await new Promise((resolve) => setTimeout(resolve, 20));
  const started = performance.now();
  ledger.advanceSlots(11n);
  for (;;) {
    const states = await consumer.client.program.account.job.fetchMultiple(keeperJobs);
    if (states.every((s) => s !== null && "awarded" in (s.state as object))) break;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const keeperSeconds = (performance.now() - started) / 1000;
  await keeper.stop();
  await cluster.close();

  const rawRate = JOBS / rawSeconds;
  const keeperRate = JOBS / keeperSeconds;
  console.log(`\nAwards per second against the local cluster (JSON-RPC over HTTP, ${JOBS} jobs each)\n`);
  console.log("| sender                                             | awards | seconds | awards/s |");
  console.log("|----------------------------------------------------|-------:|--------:|---------:|");
  console.log(`| raw sendRawTransaction (pre-signed, 100 in flight)  | ${JOBS} | ${rawSeconds.toFixed(2)} | ${rawRate.toFixed(0)} |`);
  console.log(`| keeper (index + plan + layer, ${config.packSize} awards a transaction, ${config.concurrency} in flight) | ${JOBS} | ${keeperSeconds.toFixed(2)} | ${keeperRate.toFixed(0)} |`);
  console.log(`\nkeeper / raw: ${(keeperRate / rawRate).toFixed(2)}`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
