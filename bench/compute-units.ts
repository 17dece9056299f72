// `npm run bench`: compute units per instruction, read from the runtime's transaction metadata.
// Instructions that derive a PDA vary with the bump search, so each runs several times with
// fresh addresses and the table shows min / median / max.
import path from "node:path";
import { Keypair, PublicKey } from "@solana/web3.js";
import { ComputeMarketClient, DEFAULT_PROGRAM_ID } from "@compute-market/sdk";
import { createMint, createTokenAccount, Ledger, localProvider } from "@compute-market/localnet";

const PROGRAM_PATH = path.resolve(__dirname, "../target/deploy/compute_market.so");
const RUNS = 16;
const SOL = 1_000_000_000n;

type Samples = Map<string, bigint[]>;

function record(samples: Samples, ledger: Ledger, name: string, signature: string): void {
  const processed = ledger.getTransaction(signature);
  if (!processed) throw new Error(`no metadata for ${name}`);
  samples.set(name, [...(samples.get(name) ?? []), processed.computeUnits]);
}

async function run(samples: Samples): Promise<void> {
  const ledger = Ledger.create({ programs: [{ programId: DEFAULT_PROGRAM_ID, path: PROGRAM_PATH }] });
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
  record(samples, ledger, "initialize_config", (await authority.client.initializeConfig({ protocolFeeBps: 250, treasury: bank.publicKey })).signature);
  record(samples, ledger, "update_config", await authority.client.updateConfig({
    protocolFeeBps: 250,
    treasury: bank.publicKey,
    authority: authority.keypair.publicKey,
    paused: false,
  }));
  const params = {
    minStake: 1_000n, jobStakeLock: 500n, crankFee: 10n, bidWindowSlots: 150n, revealWindowSlots: 100n, startWindowSlots: 50n,
    challengeWindowSlots: 300n, unbondingSlots: 10n, slashNoShowBps: 1_000, slashTimeoutBps: 5_000,
    slashConsumerShareBps: 5_000, defaultReplication: 1,
  };
  const cls = { gpuModel: "", minGpuCount: 0, minVramMb: 0, minCpuCores: 1, minMemoryMb: 1 };
  let market = PublicKey.default;
  for (let i = 0; i < 4; i++) {
    const created = await authority.client.createMarket({ class: cls, params, paymentMint: payment, stakeMint: stake });
    record(samples, ledger, "create_market", created.signature);
    market = created.market;
  }

  for (let i = 0; i < RUNS; i++) {
    const provider = actor();
    const registered = await provider.client.registerProvider({
      market,
      spec: { gpuModel: "L4", gpuCount: 1, vramMb: 24_576, cpuCores: 8, memoryMb: 32_768, diskGb: 500 },
      endpoint: `https://node-${i}.example`,
    });
    record(samples, ledger, "register_provider", registered.signature);
    record(samples, ledger, "stake", await provider.client.stake({ provider: registered.provider, amount: 5_000n, ownerToken: provider.stake }));
    record(samples, ledger, "request_unstake", await provider.client.requestUnstake({ provider: registered.provider, amount: 1_000n }));
    ledger.advanceSlots(10n);
    record(samples, ledger, "withdraw_unstaked", await provider.client.withdrawUnstaked({ provider: registered.provider, ownerToken: provider.stake }));

    const consumer = actor();
    const posted = await consumer.client.postJob({
      market,
      specHash: new Uint8Array(32).fill(i),
      requirements: { cpuCores: 1, memoryMb: 1, maxDurationSlots: 100n },
      mode: "replicated",
      replication: 1,
      onFailure: "refund",
      maxPrice: 1_000n,
      instantPrice: 0n,
      bidWindowSlots: 0n,
      consumerToken: consumer.payment,
    });
    record(samples, ledger, "post_job", posted.signature);
    record(samples, ledger, "cancel_job", await consumer.client.cancelJob({ job: posted.job, consumerToken: consumer.payment }));
  }
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

async function main(): Promise<void> {
  const samples: Samples = new Map();
  await run(samples);
  console.log("Compute units per instruction (runtime metadata, LiteSVM, whole transaction)\n");
  console.log(table(samples));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
