// The high-level client: one call per action, PDAs derived, inputs checked, errors typed.
// The provider's wallet acts (authority, provider owner or consumer) and pays fees.
import { AnchorProvider, Program } from "@coral-xyz/anchor";
import { sha256 } from "@noble/hashes/sha256";
import { getAssociatedTokenAddressSync } from "@solana/spl-token";
import { PublicKey } from "@solana/web3.js";
import {
  fetchConfig,
  fetchJob,
  fetchMarket,
  fetchProvider,
  type ConfigAccount,
  type JobAccount,
  type MarketAccount,
  type ProviderAccount,
} from "./accounts";
import type { ComputeMarket } from "./generated/compute_market";
import idl from "./generated/compute_market.json";
import {
  cancelJobInstruction,
  createMarketInstruction,
  initializeConfigInstruction,
  postJobInstruction,
  registerProviderInstruction,
  requestUnstakeInstruction,
  stakeInstruction,
  updateConfigInstruction,
  withdrawUnstakedInstruction,
  type CreateMarketArgs,
  type PostJobArgs,
  type UpdateConfigArgs,
} from "./instructions";
import { findConfigPda, findEscrowPda, findJobPda, findMarketPda, findProviderPda, findStakeVaultPda } from "./pda";
import { sendInstructions } from "./rpc/send";
import type { HardwareSpecInput } from "./types";

/** The program's address in the bundled IDL (localnet). */
export const DEFAULT_PROGRAM_ID = new PublicKey(idl.address);

export interface ClientOptions {
  /** Where the program is deployed; defaults to the IDL's address. */
  programId?: PublicKey;
}

/** What `postJob` needs; the nonce defaults to a random u64. */
export type PostJobInput = Omit<PostJobArgs, "nonce"> & {
  market: PublicKey;
  nonce?: bigint;
  /** The consumer's payment-mint token account; defaults to its associated token account. */
  consumerToken?: PublicKey;
};

function randomNonce(): bigint {
  const bytes = new Uint8Array(8);
  globalThis.crypto.getRandomValues(bytes);
  return new DataView(bytes.buffer).getBigUint64(0, true);
}

export class ComputeMarketClient {
  readonly program: Program<ComputeMarket>;

  constructor(
    readonly provider: AnchorProvider,
    options: ClientOptions = {},
  ) {
    const address = (options.programId ?? DEFAULT_PROGRAM_ID).toBase58();
    this.program = new Program<ComputeMarket>({ ...(idl as ComputeMarket), address }, provider);
  }

  get programId(): PublicKey {
    return this.program.programId;
  }

  /** The acting wallet. */
  get wallet(): PublicKey {
    return this.provider.wallet.publicKey;
  }

  get configAddress(): PublicKey {
    return findConfigPda({ programId: this.programId })[0];
  }

  marketAddress(id: bigint): PublicKey {
    return findMarketPda({ id, programId: this.programId })[0];
  }

  providerAddress(market: PublicKey, owner: PublicKey = this.wallet): PublicKey {
    return findProviderPda({ market, owner, programId: this.programId })[0];
  }

  jobAddress(nonce: bigint, consumer: PublicKey = this.wallet): PublicKey {
    return findJobPda({ consumer, nonce, programId: this.programId })[0];
  }

  // --- protocol authority -------------------------------------------------------------

  async initializeConfig(args: { protocolFeeBps: number; treasury: PublicKey }): Promise<{ config: PublicKey; signature: string }> {
    const config = this.configAddress;
    const ix = await initializeConfigInstruction(this.program, args, { authority: this.wallet, config });
    return { config, signature: await sendInstructions(this.provider, [ix]) };
  }

  async updateConfig(args: UpdateConfigArgs): Promise<string> {
    const ix = await updateConfigInstruction(this.program, args, { authority: this.wallet, config: this.configAddress });
    return sendInstructions(this.provider, [ix]);
  }

  /** Opens a market; its id is the config's current market count. */
  async createMarket(
    args: CreateMarketArgs & { paymentMint: PublicKey; stakeMint: PublicKey },
  ): Promise<{ market: PublicKey; id: bigint; signature: string }> {
    const config = await this.requireConfig();
    const id = config.marketCount;
    const market = this.marketAddress(id);
    const ix = await createMarketInstruction(this.program, args, {
      authority: this.wallet,
      config: this.configAddress,
      market,
      paymentMint: args.paymentMint,
      stakeMint: args.stakeMint,
    });
    return { market, id, signature: await sendInstructions(this.provider, [ix]) };
  }

  // --- providers ---------------------------------------------------------------------

  /** Registers the wallet as a provider in `market`; `endpoint` is the URL results are served at. */
  async registerProvider(args: {
    market: PublicKey;
    spec: HardwareSpecInput;
    endpoint: string;
  }): Promise<{ provider: PublicKey; vault: PublicKey; signature: string }> {
    const market = await this.requireMarket(args.market);
    const provider = this.providerAddress(args.market);
    const vault = findStakeVaultPda({ provider, programId: this.programId })[0];
    const ix = await registerProviderInstruction(
      this.program,
      { spec: args.spec, endpointHash: sha256(new TextEncoder().encode(args.endpoint)) },
      { owner: this.wallet, market: args.market, provider, vault, stakeMint: market.stakeMint },
    );
    return { provider, vault, signature: await sendInstructions(this.provider, [ix]) };
  }

  async stake(args: { provider: PublicKey; amount: bigint; ownerToken?: PublicKey }): Promise<string> {
    const provider = await this.requireProvider(args.provider);
    const ix = await stakeInstruction(
      this.program,
      { amount: args.amount },
      {
        owner: this.wallet,
        provider: args.provider,
        vault: provider.vault,
        ownerToken: args.ownerToken ?? getAssociatedTokenAddressSync(provider.stakeMint, this.wallet),
      },
    );
    return sendInstructions(this.provider, [ix]);
  }

  async requestUnstake(args: { provider: PublicKey; amount: bigint }): Promise<string> {
    const provider = await this.requireProvider(args.provider);
    const ix = await requestUnstakeInstruction(
      this.program,
      { amount: args.amount },
      { owner: this.wallet, provider: args.provider, market: provider.market },
    );
    return sendInstructions(this.provider, [ix]);
  }

  async withdrawUnstaked(args: { provider: PublicKey; ownerToken?: PublicKey }): Promise<string> {
    const provider = await this.requireProvider(args.provider);
    const ix = await withdrawUnstakedInstruction(this.program, {
      owner: this.wallet,
      provider: args.provider,
      vault: provider.vault,
      ownerToken: args.ownerToken ?? getAssociatedTokenAddressSync(provider.stakeMint, this.wallet),
    });
    return sendInstructions(this.provider, [ix]);
  }

  // --- consumers ---------------------------------------------------------------------

  /** Posts a job and escrows its budget from the wallet's payment-mint account. */
  async postJob(input: PostJobInput): Promise<{ job: PublicKey; escrow: PublicKey; nonce: bigint; signature: string }> {
    const market = await this.requireMarket(input.market);
    const nonce = input.nonce ?? randomNonce();
    const job = this.jobAddress(nonce);
    const escrow = findEscrowPda({ job, programId: this.programId })[0];
    const ix = await postJobInstruction(
      this.program,
      { ...input, nonce },
      {
        consumer: this.wallet,
        config: this.configAddress,
        market: input.market,
        job,
        escrow,
        consumerToken: input.consumerToken ?? getAssociatedTokenAddressSync(market.paymentMint, this.wallet),
        paymentMint: market.paymentMint,
      },
    );
    return { job, escrow, nonce, signature: await sendInstructions(this.provider, [ix]) };
  }

  /** Cancels an open job: the whole escrow comes back and the rent of both accounts too. */
  async cancelJob(args: { job: PublicKey; consumerToken?: PublicKey }): Promise<string> {
    const job = await this.requireJob(args.job);
    const ix = await cancelJobInstruction(this.program, {
      consumer: this.wallet,
      job: args.job,
      escrow: job.escrow,
      consumerToken: args.consumerToken ?? getAssociatedTokenAddressSync(job.paymentMint, this.wallet),
    });
    return sendInstructions(this.provider, [ix]);
  }

  // --- reads -------------------------------------------------------------------------

  fetchConfig(): Promise<ConfigAccount | null> {
    return fetchConfig(this.program, this.configAddress);
  }

  fetchMarket(address: PublicKey): Promise<MarketAccount | null> {
    return fetchMarket(this.program, address);
  }

  fetchProvider(address: PublicKey): Promise<ProviderAccount | null> {
    return fetchProvider(this.program, address);
  }

  fetchJob(address: PublicKey): Promise<JobAccount | null> {
    return fetchJob(this.program, address);
  }

  private async requireConfig(): Promise<ConfigAccount> {
    return orThrow(await this.fetchConfig(), `no config at ${this.configAddress.toBase58()}: run initializeConfig first`);
  }

  private async requireMarket(address: PublicKey): Promise<MarketAccount> {
    return orThrow(await this.fetchMarket(address), `no market at ${address.toBase58()}`);
  }

  private async requireProvider(address: PublicKey): Promise<ProviderAccount> {
    return orThrow(await this.fetchProvider(address), `no provider at ${address.toBase58()}`);
  }

  private async requireJob(address: PublicKey): Promise<JobAccount> {
    return orThrow(await this.fetchJob(address), `no job at ${address.toBase58()} (cancelled or never posted?)`);
  }
}

function orThrow<T>(value: T | null, message: string): T {
  if (value === null) throw new Error(message);
  return value;
}
