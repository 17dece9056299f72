// A fresh in-process cluster per test with the program loaded, two mints and funded actors.
import { AnchorProvider } from "@coral-xyz/anchor";
import {
  ACCOUNT_SIZE,
  createInitializeAccount3Instruction,
  createInitializeMint2Instruction,
  createMintToInstruction,
  MINT_SIZE,
  TOKEN_PROGRAM_ID,
} from "@solana/spl-token";
import { Keypair, PublicKey, SystemProgram, Transaction, type TransactionInstruction } from "@solana/web3.js";
import { ComputeMarketClient, DEFAULT_PROGRAM_ID } from "@compute-market/sdk";
import { Ledger, localProvider } from "@compute-market/localnet";
import path from "node:path";

export const PROGRAM_PATH = path.resolve(__dirname, "../../target/deploy/compute_market.so");
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

  /** A cluster with the program at its localnet address and a payment and a stake mint. */
  static async create(): Promise<TestEnv> {
    const programId = DEFAULT_PROGRAM_ID;
    const ledger = Ledger.create({ programs: [{ programId, path: PROGRAM_PATH }] });
    const mintAuthority = Keypair.generate();
    ledger.airdrop(mintAuthority.publicKey, 100n * SOL);
    const env = new TestEnv(ledger, mintAuthority, PublicKey.default, PublicKey.default, programId);
    const paymentMint = await env.createMint(6);
    const stakeMint = await env.createMint(9);
    return new TestEnv(ledger, mintAuthority, paymentMint, stakeMint, programId);
  }

  /** A funded wallet with a token account of each mint holding `tokens` of each. */
  async actor(tokens = 1_000_000_000n): Promise<Actor> {
    const keypair = Keypair.generate();
    this.ledger.airdrop(keypair.publicKey, 100n * SOL);
    const provider = localProvider(this.ledger, keypair);
    const client = new ComputeMarketClient(provider, { programId: this.programId });
    const paymentToken = await this.createTokenAccount(keypair.publicKey, this.paymentMint, tokens);
    const stakeToken = await this.createTokenAccount(keypair.publicKey, this.stakeMint, tokens);
    return { keypair, publicKey: keypair.publicKey, client, provider, paymentToken, stakeToken };
  }

  async createMint(decimals: number): Promise<PublicKey> {
    const mint = Keypair.generate();
    await this.sendAsMintAuthority(
      [
        SystemProgram.createAccount({
          fromPubkey: this.mintAuthority.publicKey,
          newAccountPubkey: mint.publicKey,
          lamports: Number(this.ledger.minimumBalanceForRentExemption(MINT_SIZE)),
          space: MINT_SIZE,
          programId: TOKEN_PROGRAM_ID,
        }),
        createInitializeMint2Instruction(mint.publicKey, decimals, this.mintAuthority.publicKey, null),
      ],
      [mint],
    );
    return mint.publicKey;
  }

  /** A new token account of `mint` owned by `owner`, holding `amount` freshly minted tokens. */
  async createTokenAccount(owner: PublicKey, mint: PublicKey, amount = 0n): Promise<PublicKey> {
    const account = Keypair.generate();
    const instructions = [
      SystemProgram.createAccount({
        fromPubkey: this.mintAuthority.publicKey,
        newAccountPubkey: account.publicKey,
        lamports: Number(this.ledger.minimumBalanceForRentExemption(ACCOUNT_SIZE)),
        space: ACCOUNT_SIZE,
        programId: TOKEN_PROGRAM_ID,
      }),
      createInitializeAccount3Instruction(account.publicKey, mint, owner),
    ];
    if (amount > 0n) instructions.push(createMintToInstruction(mint, account.publicKey, this.mintAuthority.publicKey, amount));
    await this.sendAsMintAuthority(instructions, [account]);
    return account.publicKey;
  }

  async mintTo(mint: PublicKey, account: PublicKey, amount: bigint): Promise<void> {
    await this.sendAsMintAuthority([createMintToInstruction(mint, account, this.mintAuthority.publicKey, amount)], []);
  }

  /** The token balance of an account, 0 for an account that does not exist (closed). */
  tokenBalance(account: PublicKey): bigint {
    const info = this.ledger.getAccount(account);
    if (!info || info.data.length < 72) return 0n;
    return info.data.readBigUInt64LE(64);
  }

  lamports(account: PublicKey): bigint {
    return BigInt(this.ledger.getAccount(account)?.lamports ?? 0);
  }

  exists(account: PublicKey): boolean {
    return this.ledger.getAccount(account) !== null;
  }

  private async sendAsMintAuthority(instructions: TransactionInstruction[], signers: Keypair[]): Promise<void> {
    const tx = new Transaction().add(...instructions);
    tx.feePayer = this.mintAuthority.publicKey;
    tx.recentBlockhash = this.ledger.latestBlockhash();
    tx.sign(this.mintAuthority, ...signers);
    const result = this.ledger.process(tx);
    if (result.error) throw new Error(`setup transaction failed: ${result.error.message}\n${result.logs.join("\n")}`);
  }
}
