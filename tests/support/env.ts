// A fresh in-process cluster per test with the program loaded, two mints and funded actors.
import { AnchorProvider } from "@coral-xyz/anchor";
import { Keypair, PublicKey } from "@solana/web3.js";
import { ComputeMarketClient, DEFAULT_PROGRAM_ID } from "@compute-market/sdk";
import { createMint, createTokenAccount, Ledger, localProvider, mintTo, tokenBalance } from "@compute-market/localnet";
import path from "node:path";

/** The built program; `COMPUTE_MARKET_SO` runs a suite against another build (e.g. an older one, to see a regression test fail). */
export const PROGRAM_PATH = process.env.COMPUTE_MARKET_SO ?? path.resolve(__dirname, "../../target/deploy/compute_market.so");
export const SOL = 1_000_000_000n;

/** A wallet in the test: its keypair, an SDK client acting as it, and its token accounts. */
export interface Actor {
  keypair: Keypair;
  publicKey: PublicKey;
  client: ComputeMarketClient;
  provider: AnchorProvider;
  paymentToken: PublicKey;
  stakeToken: PublicKey;
}

export class TestEnv {
  private constructor(
    readonly ledger: Ledger,
    readonly mintAuthority: Keypair,
    readonly paymentMint: PublicKey,
    readonly stakeMint: PublicKey,
    readonly programId: PublicKey,
  ) {}

  /** A cluster with the program at its localnet address, a payment mint and a stake mint. */
  static async create(): Promise<TestEnv> {
    const programId = DEFAULT_PROGRAM_ID;
    const ledger = Ledger.create({ programs: [{ programId, path: PROGRAM_PATH }] });
    const mintAuthority = Keypair.generate();
    ledger.airdrop(mintAuthority.publicKey, 100n * SOL);
    const paymentMint = createMint(ledger, mintAuthority, 6);
    const stakeMint = createMint(ledger, mintAuthority, 9);
    return new TestEnv(ledger, mintAuthority, paymentMint, stakeMint, programId);
  }

  /** A funded wallet with a token account of each mint holding `tokens` of each. */
  async actor(tokens = 1_000_000_000n): Promise<Actor> {
    const keypair = Keypair.generate();
    this.ledger.airdrop(keypair.publicKey, 100n * SOL);
    const provider = localProvider(this.ledger, keypair);
    const client = new ComputeMarketClient(provider, { programId: this.programId });
    const paymentToken = createTokenAccount(this.ledger, this.mintAuthority, this.paymentMint, keypair.publicKey, tokens);
    const stakeToken = createTokenAccount(this.ledger, this.mintAuthority, this.stakeMint, keypair.publicKey, tokens);
    return { keypair, publicKey: keypair.publicKey, client, provider, paymentToken, stakeToken };
  }

  async mintTo(mint: PublicKey, account: PublicKey, amount: bigint): Promise<void> {
    mintTo(this.ledger, this.mintAuthority, mint, account, amount);
  }

  tokenBalance(account: PublicKey): bigint {
    return tokenBalance(this.ledger, account);
  }

  lamports(account: PublicKey): bigint {
    return BigInt(this.ledger.getAccount(account)?.lamports ?? 0);
  }

  exists(account: PublicKey): boolean {
    return this.ledger.getAccount(account) !== null;
  }
}
