// A sandbox market on a local cluster in one call: payment and stake mints, the program's config,
// a CPU and a GPU market with parameters sized for trying things out, and wallets funded with SOL
// and both tokens. The sandbox's authority stays in this process as the faucet's mint authority
// (`localnet_requestTokens`), so anyone can get test tokens later without a key of their own.
// The two mints sit at fixed addresses, so a markets file (migrations/markets.example.json) and a
// config written once work on every sandbox.
import { createHash } from "node:crypto";
import { createAssociatedTokenAccountIdempotentInstruction, createMintToInstruction, getAssociatedTokenAddressSync } from "@solana/spl-token";
import { Keypair, LAMPORTS_PER_SOL, PublicKey, Transaction } from "@solana/web3.js";
import { ComputeMarketClient, type MarketParamsInput, type ResourceClassInput } from "@compute-market/sdk";
import { registerFaucet, type FaucetGrant, type TokenFaucet } from "./faucet-registry";
import type { Ledger } from "./ledger";
import { localProvider } from "./provider";
import { createMint } from "./tokens";

/** A sandbox mint's keypair, the same on every sandbox (its key signs only the mint's creation). */
function sandboxMintKeypair(role: "payment" | "stake"): Keypair {
  return Keypair.fromSeed(createHash("sha256").update(`compute-market sandbox ${role} mint`).digest());
}

/** Where every sandbox's payment and stake mints are. */
export const SANDBOX_MINTS = { payment: sandboxMintKeypair("payment").publicKey, stake: sandboxMintKeypair("stake").publicKey };

/** Both sandbox tokens have 6 decimals, like USDC. */
export const SANDBOX_DECIMALS = 6;
const UNIT = 10n ** BigInt(SANDBOX_DECIMALS);
/** What a wallet gets by default: 100 SOL and 10,000 of each token. */
export const DEFAULT_WALLET_SOL = 100n * BigInt(LAMPORTS_PER_SOL);
export const DEFAULT_WALLET_TOKENS = 10_000n * UNIT;
/** The most one faucet request hands out, so a typo does not mint a fortune. */
export const FAUCET_MAX_TOKENS = 100_000n * UNIT;

/** Parameters for trying the market out: stakes of a few hundred tokens, windows of seconds. */
export const SANDBOX_MARKET_PARAMS: MarketParamsInput = {
  minStake: 100n * UNIT,
  jobStakeLock: 20n * UNIT,
  crankFee: UNIT / 100n,
  bidWindowSlots: 50n,
  revealWindowSlots: 30n,
  startWindowSlots: 75n,
  challengeWindowSlots: 150n,
  unbondingSlots: 300n,
  slashNoShowBps: 1_000,
  slashTimeoutBps: 5_000,
  slashConsumerShareBps: 5_000,
  defaultReplication: 1,
  servicePauseSlots: 1_500n,
};

export const SANDBOX_MARKETS: { name: string; class: ResourceClassInput }[] = [
  { name: "cpu", class: { minGpuCount: 0, minVramMb: 0, minCpuCores: 1, minMemoryMb: 256 } },
  { name: "gpu", class: { minGpuCount: 1, minVramMb: 8_192, minCpuCores: 2, minMemoryMb: 4_096 } },
];

export interface SandboxOptions {
  /** Wallets to fund with SOL and both tokens. */
  wallets?: PublicKey[];
  solPerWallet?: bigint;
  tokensPerWallet?: bigint;
  /** The protocol's fee on payments, in bps (default 250). */
  protocolFeeBps?: number;
}

export type FundedWallet = FaucetGrant;

/** Every address of the sandbox, as printed by `localnet --bootstrap`. */
export interface SandboxSummary {
  programId: string;
  authority: string;
  paymentMint: string;
  stakeMint: string;
  decimals: number;
  config: string;
  markets: { name: string; address: string; id: string; class: ResourceClassInput }[];
  wallets: FundedWallet[];
}

export interface Sandbox {
  summary: SandboxSummary;
  faucet: Faucet;
  /** The sandbox's authority: the config's and the markets', and the faucet's mint authority. */
  authority: Keypair;
}

/** Mints test tokens to anyone's associated accounts, with the sandbox's mint authority. */
export class Faucet implements TokenFaucet {
  constructor(
    private readonly ledger: Ledger,
    private readonly authority: Keypair,
    readonly paymentMint: PublicKey,
    readonly stakeMint: PublicKey,
  ) {}

  /** Sends `amount` of each token to `owner`'s associated accounts (made if missing) and `lamports` of SOL. */
  fund(owner: PublicKey, amount: bigint, lamports = 0n): FundedWallet {
    if (amount <= 0n || amount > FAUCET_MAX_TOKENS) throw new RangeError(`the faucet hands out 1 to ${FAUCET_MAX_TOKENS} base units at a time, not ${amount}`);
    if (lamports > 0n) this.ledger.airdrop(owner, lamports);
    const [paymentToken, stakeToken] = [this.paymentMint, this.stakeMint].map((mint) => getAssociatedTokenAddressSync(mint, owner, true));
    const tx = new Transaction();
    for (const [mint, account] of [[this.paymentMint, paymentToken], [this.stakeMint, stakeToken]] as const) {
      tx.add(createAssociatedTokenAccountIdempotentInstruction(this.authority.publicKey, account, owner, mint));
      tx.add(createMintToInstruction(mint, account, this.authority.publicKey, amount));
    }
    tx.feePayer = this.authority.publicKey;
    tx.recentBlockhash = this.ledger.latestBlockhash();
    tx.sign(this.authority);
    const processed = this.ledger.process(tx);
    if (processed.error) throw new Error(`the faucet's transaction failed: ${processed.error.message}`);
    return { wallet: owner.toBase58(), lamports: lamports.toString(), paymentToken: paymentToken.toBase58(), stakeToken: stakeToken.toBase58(), tokens: amount.toString() };
  }
}

/** Creates the sandbox on `ledger`, where the compute-market program must be loaded at `programId`. */
export async function bootstrapSandbox(ledger: Ledger, programId: PublicKey, options: SandboxOptions = {}): Promise<Sandbox> {
  if (!ledger.getAccount(programId)?.executable) throw new Error(`the compute-market program is not loaded at ${programId.toBase58()}: build it first (npm run build:program)`);
  const authority = Keypair.generate();
  // Enough for the config, the markets, the mints and the faucet's account rents for a long while.
  ledger.airdrop(authority.publicKey, 1_000n * BigInt(LAMPORTS_PER_SOL));
  if (ledger.getAccount(SANDBOX_MINTS.payment)) throw new Error("this cluster already has a sandbox");
  const paymentMint = createMint(ledger, authority, SANDBOX_DECIMALS, sandboxMintKeypair("payment"));
  const stakeMint = createMint(ledger, authority, SANDBOX_DECIMALS, sandboxMintKeypair("stake"));
  const client = new ComputeMarketClient(localProvider(ledger, authority), { programId });
  await client.initializeConfig({ protocolFeeBps: options.protocolFeeBps ?? 250, treasury: authority.publicKey });
  const markets: SandboxSummary["markets"] = [];
  for (const { name, class: cls } of SANDBOX_MARKETS) {
    const { market, id } = await client.createMarket({ class: cls, params: SANDBOX_MARKET_PARAMS, paymentMint, stakeMint });
    markets.push({ name, address: market.toBase58(), id: id.toString(), class: cls });
  }
  const faucet = new Faucet(ledger, authority, paymentMint, stakeMint);
  registerFaucet(ledger, faucet);
  const wallets = fundWallets(faucet, options);
  const summary: SandboxSummary = {
    programId: programId.toBase58(),
    authority: authority.publicKey.toBase58(),
    paymentMint: paymentMint.toBase58(),
    stakeMint: stakeMint.toBase58(),
    decimals: SANDBOX_DECIMALS,
    config: client.configAddress.toBase58(),
    markets,
    wallets,
  };
  return { summary, faucet, authority };
}

/**
 * The sandbox of a cluster restored from a saved state: its faucet again, with the authority the
 * state kept; `wallets` are funded as a new sandbox's are, and added to its summary.
 */
export function reopenSandbox(ledger: Ledger, authority: Keypair, summary: SandboxSummary, options: Pick<SandboxOptions, "wallets" | "solPerWallet" | "tokensPerWallet"> = {}): Sandbox {
  const faucet = new Faucet(ledger, authority, new PublicKey(summary.paymentMint), new PublicKey(summary.stakeMint));
  registerFaucet(ledger, faucet);
  return { summary: { ...summary, wallets: [...summary.wallets, ...fundWallets(faucet, options)] }, faucet, authority };
}

/** Funds each of `options.wallets` with a new sandbox's SOL and tokens (or those given). */
function fundWallets(faucet: Faucet, options: Pick<SandboxOptions, "wallets" | "solPerWallet" | "tokensPerWallet">): FundedWallet[] {
  return (options.wallets ?? []).map((wallet) => faucet.fund(wallet, options.tokensPerWallet ?? DEFAULT_WALLET_TOKENS, options.solPerWallet ?? DEFAULT_WALLET_SOL));
}
