// `npm run demo`: the market's core on an in-process cluster, narrated. Builds nothing itself:
// the npm script has already built target/deploy/compute_market.so from source.
import path from "node:path";
import { Keypair, PublicKey } from "@solana/web3.js";
import { ComputeMarketClient, DEFAULT_PROGRAM_ID, parseEvents } from "@compute-market/sdk";
import { createMint, createTokenAccount, Ledger, localProvider, tokenBalance } from "@compute-market/localnet";

const PROGRAM_PATH = path.resolve(__dirname, "../../target/deploy/compute_market.so");
const SOL = 1_000_000_000n;
const USDC = 1_000_000n; // the payment mint has 6 decimals
const STAKE = 1_000_000_000n; // the stake mint has 9 decimals

function step(text: string): void {
  console.log(`\n▸ ${text}`);
}

function amount(value: bigint, unit: bigint, symbol: string): string {
  const whole = value / unit;
  const fraction = (value % unit).toString().padStart(unit.toString().length - 1, "0").replace(/0+$/, "");
  return `${whole}${fraction ? "." + fraction : ""} ${symbol}`;
}

async function main(): Promise<void> {
  step(`starting an in-process cluster with the program at ${DEFAULT_PROGRAM_ID.toBase58()}`);
  const ledger = Ledger.create({ programs: [{ programId: DEFAULT_PROGRAM_ID, path: PROGRAM_PATH }] });
  const mintAuthority = Keypair.generate();
  ledger.airdrop(mintAuthority.publicKey, 10n * SOL);
  const usdc = createMint(ledger, mintAuthority, 6);
  const stakeToken = createMint(ledger, mintAuthority, 9);

  const wallet = (name: string) => {
    const keypair = Keypair.generate();
    ledger.airdrop(keypair.publicKey, 10n * SOL);
    const client = new ComputeMarketClient(localProvider(ledger, keypair));
    return { name, keypair, client };
  };
  const authority = wallet("authority");
  const provider = wallet("provider");
  const consumer = wallet("consumer");
  const providerStake = createTokenAccount(ledger, mintAuthority, stakeToken, provider.keypair.publicKey, 50n * STAKE);
  const consumerUsdc = createTokenAccount(ledger, mintAuthority, usdc, consumer.keypair.publicKey, 100n * USDC);
  const treasuryUsdc = createTokenAccount(ledger, mintAuthority, usdc, authority.keypair.publicKey);

  const balances = (title: string, extra: [string, PublicKey, bigint, string][] = []) => {
    console.log(`  ${title}`);
    const rows: [string, PublicKey, bigint, string][] = [
      ["consumer USDC", consumerUsdc, USDC, "USDC"],
      ["provider stake tokens", providerStake, STAKE, "STK"],
      ["treasury USDC", treasuryUsdc, USDC, "USDC"],
      ...extra,
    ];
    for (const [label, account, unit, symbol] of rows) {
      console.log(`    ${label.padEnd(24)} ${amount(tokenBalance(ledger, account), unit, symbol)}`);
    }
  };
  balances("balances at start:");

  step("the authority initializes the protocol (2.5 % fee) and opens an H100 market");
  await authority.client.initializeConfig({ protocolFeeBps: 250, treasury: authority.keypair.publicKey });
  const { market } = await authority.client.createMarket({
    class: { gpuModel: "H100", minGpuCount: 1, minVramMb: 81_920, minCpuCores: 16, minMemoryMb: 65_536 },
    params: {
      minStake: 10n * STAKE,
      jobStakeLock: 5n * STAKE,
      crankFee: 10_000n,
      bidWindowSlots: 150n,
      revealWindowSlots: 100n,
      startWindowSlots: 50n,
      challengeWindowSlots: 300n,
      unbondingSlots: 1_000n,
      slashNoShowBps: 1_000,
      slashTimeoutBps: 5_000,
      slashConsumerShareBps: 5_000,
      defaultReplication: 1,
    },
    paymentMint: usdc,
    stakeMint: stakeToken,
  });
  console.log(`  market ${market.toBase58()}`);

  step("a provider registers 8×H100 and stakes 20 STK");
  const registered = await provider.client.registerProvider({
    market,
    spec: { gpuModel: "H100", gpuCount: 8, vramMb: 81_920, cpuCores: 96, memoryMb: 1_048_576, diskGb: 8_000, region: 150 },
    endpoint: "https://h100-node-1.example/api",
  });
  await provider.client.stake({ provider: registered.provider, amount: 20n * STAKE, ownerToken: providerStake });
  const state = await provider.client.fetchProvider(registered.provider);
  console.log(`  provider ${registered.provider.toBase58()} staked ${amount(state!.staked, STAKE, "STK")}`);
  balances("balances:", [["provider stake vault", registered.vault, STAKE, "STK"]]);

  step("the consumer posts a job paying at most 12 USDC, escrowing its budget");
  const posted = await consumer.client.postJob({
    market,
    specHash: new Uint8Array(32).fill(42),
    requirements: { gpuModel: "H100", gpuCount: 1, vramMb: 81_920, cpuCores: 16, memoryMb: 65_536, diskGb: 100, maxDurationSlots: 9_000n },
    mode: "replicated",
    replication: 1,
    onFailure: "refund",
    maxPrice: 12n * USDC,
    instantPrice: 0n,
    bidWindowSlots: 0n,
    consumerToken: consumerUsdc,
  });
  const job = await consumer.client.fetchJob(posted.job);
  console.log(`  job ${posted.job.toBase58()} open until slot ${job!.bidDeadlineSlot}`);
  balances("balances:", [["job escrow", posted.escrow, USDC, "USDC"]]);

  step("the consumer changes its mind and cancels: full refund, accounts closed");
  const signature = await consumer.client.cancelJob({ job: posted.job, consumerToken: consumerUsdc });
  const events = parseEvents(consumer.client.program, ledger.getTransaction(signature)?.logs ?? []);
  for (const event of events) console.log(`  event ${event.name}: ${JSON.stringify(event.data, (_, v) => (typeof v === "bigint" ? v.toString() : v))}`);
  console.log(`  job account closed: ${ledger.getAccount(posted.job) === null}, escrow closed: ${ledger.getAccount(posted.escrow) === null}`);

  step("the provider starts unbonding 5 STK and withdraws after the delay");
  await provider.client.requestUnstake({ provider: registered.provider, amount: 5n * STAKE });
  ledger.advanceSlots(1_000n);
  await provider.client.withdrawUnstaked({ provider: registered.provider, ownerToken: providerStake });
  balances("final balances:", [["provider stake vault", registered.vault, STAKE, "STK"]]);
  console.log("\ndone.");
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
