// `npm run bench`: compute units per instruction, as the runtime reports them ("Program … consumed
// N of M compute units" for the program's own top-level instruction, CPIs included; associated
// token accounts a crank creates in the same transaction are not counted). Instructions
// that derive a PDA vary with the bump search, so each runs several times with fresh addresses
// and the table shows min / median / max; the happy path's total is summed per run.
import path from "node:path";
import { Keypair, PublicKey } from "@solana/web3.js";
import { ComputeMarketClient, DEFAULT_PROGRAM_ID, signAcknowledgement, type PostJobInput } from "@compute-market/sdk";
import { createMint, createTokenAccount, Ledger, localProvider } from "@compute-market/localnet";

const PROGRAM_PATH = path.resolve(__dirname, "../target/deploy/compute_market.so");
const RUNS = 16;
const SOL = 1_000_000_000n;
const HAPPY_PATH = ["post_job", "place_bid", "award", "start_job", "commit_result", "finalize"];

type Samples = Map<string, bigint[]>;

/** The compute units the program's top-level instruction consumed, from the transaction's logs. */
function programUnits(logs: string[], programId: PublicKey): bigint {
  const pattern = new RegExp(`^Program ${programId.toBase58()} consumed (\\d+) of \\d+ compute units$`);
  const line = logs.find((l) => pattern.test(l));
  if (!line) throw new Error(`no compute-unit line for the program in:\n${logs.join("\n")}`);
  return BigInt(pattern.exec(line)![1]);
}

class Recorder {
  readonly samples: Samples = new Map();
  constructor(private readonly ledger: Ledger) {}

  record(name: string, signature: string): bigint {
    const processed = this.ledger.getTransaction(signature);
    if (!processed) throw new Error(`no metadata for ${name}`);
    const units = programUnits(processed.logs, DEFAULT_PROGRAM_ID);
    this.samples.set(name, [...(this.samples.get(name) ?? []), units]);
    return units;
  }
}

async function run(): Promise<Samples> {
  const ledger = Ledger.create({ programs: [{ programId: DEFAULT_PROGRAM_ID, path: PROGRAM_PATH }] });
  const recorder = new Recorder(ledger);
  const bank = Keypair.generate();
  ledger.airdrop(bank.publicKey, 1_000n * SOL);
  const payment = createMint(ledger, bank, 6);
  const stake = createMint(ledger, bank, 9);
  const actor = () => {
    const keypair = Keypair.generate();
    ledger.airdrop(keypair.publicKey, 10n * SOL);
    return {
      keypair,
      client: new ComputeMarketClient(localProvider(ledger, keypair)),
      payment: createTokenAccount(ledger, bank, payment, keypair.publicKey, 10n ** 12n),
      stake: createTokenAccount(ledger, bank, stake, keypair.publicKey, 10n ** 12n),
    };
  };

  const authority = actor();
  const keeper = actor();
  recorder.record("initialize_config", (await authority.client.initializeConfig({ protocolFeeBps: 250, treasury: authority.keypair.publicKey })).signature);
  recorder.record("update_config", await authority.client.updateConfig({ protocolFeeBps: 250, treasury: authority.keypair.publicKey, authority: authority.keypair.publicKey, paused: false }));
  const params = {
    minStake: 1_000n, jobStakeLock: 500n, crankFee: 10n, bidWindowSlots: 150n, revealWindowSlots: 100n, startWindowSlots: 50n,
    challengeWindowSlots: 300n, unbondingSlots: 10n, slashNoShowBps: 1_000, slashTimeoutBps: 5_000, slashConsumerShareBps: 5_000, defaultReplication: 1,
  };
  const cls = { gpuModel: "", minGpuCount: 0, minVramMb: 0, minCpuCores: 1, minMemoryMb: 1 };
  let market = PublicKey.default;
  for (let i = 0; i < 4; i++) {
    const created = await authority.client.createMarket({ class: cls, params, paymentMint: payment, stakeMint: stake });
    recorder.record("create_market", created.signature);
    market = created.market;
  }
  const job = (overrides: Partial<PostJobInput> = {}): PostJobInput => ({
    market,
    specHash: new Uint8Array(32).fill(7),
    requirements: { cpuCores: 1, memoryMb: 1, maxDurationSlots: 100n },
    mode: "replicated",
    replication: 1,
    onFailure: "refund",
    maxPrice: 1_000n,
    instantPrice: 0n,
    bidWindowSlots: 0n,
    ...overrides,
  });
  const happyTotals: bigint[] = [];

  for (let i = 0; i < RUNS; i++) {
    const provider = actor();
    const rival = actor();
    const registered = await provider.client.registerProvider({
      market,
      spec: { gpuModel: "L4", gpuCount: 1, vramMb: 24_576, cpuCores: 8, memoryMb: 32_768, diskGb: 500 },
      endpoint: `https://node-${i}.example`,
    });
    recorder.record("register_provider", registered.signature);
    recorder.record(
      "update_provider",
      await provider.client.updateProvider({
        provider: registered.provider,
        spec: { gpuModel: "L4", gpuCount: 2, vramMb: 24_576, cpuCores: 16, memoryMb: 65_536, diskGb: 500 },
        endpoint: `https://node-${i}.example:8443`,
      }),
    );
    const rivalRegistered = await rival.client.registerProvider({ market, spec: { cpuCores: 8, memoryMb: 32_768, diskGb: 500, gpuCount: 0, vramMb: 0 }, endpoint: "r" });
    recorder.record("stake", await provider.client.stake({ provider: registered.provider, amount: 50_000n, ownerToken: provider.stake }));
    await rival.client.stake({ provider: rivalRegistered.provider, amount: 50_000n, ownerToken: rival.stake });
    recorder.record("request_unstake", await provider.client.requestUnstake({ provider: registered.provider, amount: 1_000n }));
    ledger.advanceSlots(10n);
    recorder.record("withdraw_unstaked", await provider.client.withdrawUnstaked({ provider: registered.provider, ownerToken: provider.stake }));

    const consumer = actor();
    const cancelled = await consumer.client.postJob({ ...job(), consumerToken: consumer.payment });
    recorder.record("cancel_job", await consumer.client.cancelJob({ job: cancelled.job, consumerToken: consumer.payment }));

    // The happy path: post, bid (and a losing bid), award, start, commit, finalize.
    let total = 0n;
    const posted = await consumer.client.postJob({ ...job(), consumerToken: consumer.payment });
    total += recorder.record("post_job", posted.signature);
    total += recorder.record("place_bid", (await provider.client.placeBid({ job: posted.job, price: 800n })).signature);
    await rival.client.placeBid({ job: posted.job, price: 900n });
    ledger.advanceSlots(151n);
    total += recorder.record("award", await keeper.client.award({ job: posted.job }));
    recorder.record("withdraw_bid", await rival.client.withdrawBid({ job: posted.job }));
    total += recorder.record("start_job", await provider.client.startJob({ job: posted.job }));
    total += recorder.record("commit_result", await provider.client.commitResult({ job: posted.job, outputRoot: new Uint8Array(32).fill(1), resultUriHash: new Uint8Array(32) }));
    ledger.advanceSlots(300n);
    total += recorder.record("finalize", await keeper.client.finalize({ job: posted.job, keeperToken: keeper.payment, consumerToken: consumer.payment }));
    happyTotals.push(total);

    // A sealed auction, revealed.
    const sealed = await consumer.client.postJob({ ...job({ sealed: true }), consumerToken: consumer.payment });
    const { salt } = await provider.client.placeSealedBid({ job: sealed.job, price: 700n });
    ledger.advanceSlots(151n);
    recorder.record("reveal_bid", await provider.client.revealBid({ job: sealed.job, price: 700n, salt }));

    // An auction nobody bid on, expired; a winner that never starts; a winner that never commits.
    const empty = await consumer.client.postJob({ ...job(), consumerToken: consumer.payment });
    ledger.advanceSlots(151n);
    recorder.record("expire_job", await keeper.client.expireJob({ job: empty.job, consumerToken: consumer.payment }));
    for (const crank of ["fail_no_show", "fail_timeout"] as const) {
      const failing = await consumer.client.postJob({ ...job(), consumerToken: consumer.payment });
      await provider.client.placeBid({ job: failing.job, price: 800n });
      ledger.advanceSlots(151n);
      await keeper.client.award({ job: failing.job });
      if (crank === "fail_timeout") await provider.client.startJob({ job: failing.job });
      ledger.advanceSlots(crank === "fail_no_show" ? 51n : 151n);
      const signature = crank === "fail_no_show"
        ? await keeper.client.failNoShow({ job: failing.job, provider: registered.provider, keeperToken: keeper.stake })
        : await keeper.client.failTimeout({ job: failing.job, provider: registered.provider, keeperToken: keeper.stake });
      recorder.record(crank, signature);
    }

    // A service lease: posted with one period at the cap, topped up, bid, awarded, started, one
    // claim (now short of a period), paused, resumed by a top-up, ended with a replacement asked
    // for, replaced through a seat round, closed (the last replica settles the lease).
    const watchdog = Keypair.generate();
    const lease = await consumer.client.postService({
      market,
      specHash: new Uint8Array(32).fill(8),
      requirements: { cpuCores: 1, memoryMb: 1, maxDurationSlots: 10_000n },
      replicas: 1,
      maxRate: 10n,
      watchdog: watchdog.publicKey,
      ackPeriodSlots: 100n,
      // 10 a slot for 100 slots, the 2.5 % fee and the crank fee: the smallest deposit.
      deposit: 1_000n + 25n + 10n,
      consumerToken: consumer.payment,
    });
    recorder.record("post_service", lease.signature);
    recorder.record("fund_service", await consumer.client.fundService({ job: lease.job, amount: 1n, funderToken: consumer.payment }));
    await provider.client.placeBid({ job: lease.job, price: 8n });
    ledger.advanceSlots(151n);
    await keeper.client.award({ job: lease.job });
    await provider.client.startJob({ job: lease.job });
    ledger.advanceSlots(60n);
    const leaseJob = (await consumer.client.fetchJob(lease.job))!;
    const replica = (await consumer.client.fetchBid(provider.client.bidAddress(lease.job, registered.provider)))!;
    const ack = signAcknowledgement(watchdog.secretKey, { job: lease.job, jobIncarnation: leaseJob.incarnation, provider: registered.provider, upToSlot: replica.startedSlot + 50n });
    recorder.record("claim_service", await provider.client.claimService(ack, { ownerToken: provider.payment }));
    recorder.record("pause_service", await keeper.client.pauseService({ job: lease.job }));
    recorder.record("fund_service (resumes)", await consumer.client.fundService({ job: lease.job, amount: 1_000n, funderToken: consumer.payment }));
    // The replica is ended with a replacement asked for; the rival wins the seat round and starts.
    recorder.record("end_replica (replace)", await consumer.client.endReplica({ job: lease.job, provider: registered.provider, replace: true }));
    recorder.record("bid_seat", (await rival.client.bidSeat({ job: lease.job, price: 9n })).signature);
    ledger.advanceSlots(151n);
    recorder.record("award_seat", await keeper.client.awardSeat({ job: lease.job }));
    recorder.record("start_seat", await rival.client.startSeat({ job: lease.job }));
    recorder.record("close_replica", await keeper.client.closeReplica({ job: lease.job, provider: registered.provider, keeperToken: keeper.payment }));
    recorder.record("end_replica", await consumer.client.endReplica({ job: lease.job, provider: rivalRegistered.provider }));
    ledger.advanceSlots(101n);
    recorder.record("close_replica (settles the lease)", await keeper.client.closeReplica({ job: lease.job, provider: rivalRegistered.provider, keeperToken: keeper.payment }));
  }
  recorder.samples.set("happy path total", happyTotals);
  return recorder.samples;
}

function table(samples: Samples): string {
  const rows = [...samples].map(([name, values]) => {
    const sorted = [...values].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const median = sorted[Math.floor(sorted.length / 2)];
    return [name, String(sorted.length), String(sorted[0]), String(median), String(sorted[sorted.length - 1])];
  });
  const header = ["instruction", "runs", "min CU", "median CU", "max CU"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => "| " + cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(" | ") + " |";
  return [line(header), "|" + widths.map((w, i) => (i === 0 ? "-".repeat(w + 2) : "-".repeat(w + 1) + ":")).join("|") + "|", ...rows.map(line)].join("\n");
}

/** Slots in an hour at the 400 ms slot time Solana targets. */
const SLOTS_PER_HOUR = 9_000n;
/** The base fee of one signature, in lamports (a claim carries one: the owner's). */
const SIGNATURE_FEE = 5_000n;

/**
 * What a replica-hour costs on-chain when its owner claims every 10 minutes (6 claims), against
 * settling every slot as a per-block accrual would: transactions and base fees, and the compute
 * units the program used for them (the median claim measured above).
 */
function replicaHour(samples: Samples): string {
  const claims = [...(samples.get("claim_service") ?? [])].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const claimUnits = claims[Math.floor(claims.length / 2)] ?? 0n;
  const rows = [
    ["claim every 10 minutes", 6n],
    ["settle every slot (per-block accrual)", SLOTS_PER_HOUR],
  ].map(([name, count]) => [String(name), String(count), String((count as bigint) * SIGNATURE_FEE), String((count as bigint) * claimUnits)]);
  const header = ["one replica-hour", "transactions", "base fees (lamports)", "program CU"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => "| " + cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(" | ") + " |";
  return [line(header), "|" + widths.map((w, i) => (i === 0 ? "-".repeat(w + 2) : "-".repeat(w + 1) + ":")).join("|") + "|", ...rows.map(line)].join("\n");
}

async function main(): Promise<void> {
  const samples = await run();
  console.log(`Compute units per instruction (runtime logs, LiteSVM; ${HAPPY_PATH.join(" + ")} summed as the happy path)\n`);
  console.log(table(samples));
  console.log(`\nA service replica-hour on-chain (${SLOTS_PER_HOUR} slots; ${SIGNATURE_FEE} lamports per signature, priority fees apart)\n`);
  console.log(replicaHour(samples));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
