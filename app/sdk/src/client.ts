// The high-level client: one call per action, PDAs derived, inputs checked, errors typed.
// The provider's wallet acts (authority, provider owner or consumer) and pays fees.
import { AnchorProvider, Program } from "@coral-xyz/anchor";
import { createAssociatedTokenAccountIdempotentInstruction, getAssociatedTokenAddressSync } from "@solana/spl-token";
import { PublicKey, type Signer, type TransactionInstruction, type VersionedTransaction } from "@solana/web3.js";
import {
  AccountBatch,
  type BatchedRead,
  fetchBid,
  fetchConfig,
  fetchDispute,
  type DisputeAccount,
  fetchJob,
  fetchService,
  fetchAllOf,
  fetchMarket,
  fetchProvider,
  type BidAccount,
  type ConfigAccount,
  type JobAccount,
  type MarketAccount,
  type ProviderAccount,
  type ServiceAccount,
} from "./accounts";
import type { ComputeMarket } from "./generated/compute_market";
import idl from "./generated/compute_market.json";
import {
  awardInstruction,
  bidCommitment,
  cancelJobInstruction,
  commitResultInstruction,
  expireJobInstruction,
  failNoShowInstruction,
  failTimeoutInstruction,
  finalizeInstruction,
  placeBidInstruction,
  revealBidInstruction,
  startJobInstruction,
  withdrawBidInstruction,
  type CommitResultArgs,
  type CommitVerifiableArgs,
  type FailWinnerAccounts,
  chooseSegmentInstruction,
  commitSealedResultInstruction,
  commitVerifiableInstruction,
  resultCommitment,
  revealResultInstruction,
  dissectInstruction,
  openDisputeInstruction,
  proveStepInstruction,
  closeWitnessInstruction,
  refereeInstruction,
  settleDisputeInstruction,
  settleRefereeInstruction,
  timeoutDisputeInstruction,
  witnessChunks,
  writeWitnessInstruction,
  createMarketInstruction,
  initializeConfigInstruction,
  postJobInstruction,
  registerProviderInstruction,
  updateProviderInstruction,
  requestUnstakeInstruction,
  stakeInstruction,
  updateConfigInstruction,
  withdrawUnstakedInstruction,
  type CreateMarketArgs,
  type PostJobArgs,
  type PostServiceArgs,
  postServiceInstruction,
  fundServiceInstruction,
  claimServiceInstruction,
  endReplicaInstruction,
  closeReplicaInstruction,
  closeServiceInstruction,
  pauseServiceInstruction,
  bidSeatInstruction,
  awardSeatInstruction,
  startSeatInstruction,
  type UpdateConfigArgs,
} from "./instructions";
import { variantOf } from "./native";
import {
  findBidPda,
  findBondVaultPda,
  findConfigPda,
  findDisputePda,
  findEscrowPda,
  findJobPda,
  findMarketPda,
  findProviderPda,
  findStakeVaultPda,
  findWitnessBufferPda,
  findServicePda,
} from "./pda";
import { MissingAccountError, type MissingAccountKind } from "./errors";
import { accountFieldOffset } from "./layout";
import { transactionSender } from "./rpc/send";
import type { PreparedTransaction, TransactionOptions, TransactionSender } from "./rpc/transactions";
import type { MachineRoots } from "./verifiable";
import { acknowledgementVerifyInstruction, type Acknowledgement } from "./services";
import { DEFAULT_MAX_STEPS, machineSpec, machineSpecHash, type MachineJobSpec } from "./machine-spec";
import type { HardwareSpecInput, JobRequirementsInput } from "./types";

/** The program's address in the bundled IDL (localnet). */
export const DEFAULT_PROGRAM_ID = new PublicKey(idl.address);

export interface ClientOptions {
  /** Where the program is deployed; defaults to the IDL's address. */
  programId?: PublicKey;
  /** How transactions are priced, sent and confirmed (priority fee, cap, rebroadcast, reports). */
  transactions?: TransactionOptions;
}

/** What `postService` needs; the nonce defaults to a random u64, the bidding window to the market's, the grace to one period. */
export type PostServiceInput = Omit<PostServiceArgs, "nonce" | "bidWindowSlots" | "graceSlots"> & {
  market: PublicKey;
  nonce?: bigint;
  bidWindowSlots?: bigint;
  graceSlots?: bigint;
  consumerToken?: PublicKey;
};

/** Stands for the signature of a transaction collected by `instructionsOf` rather than sent. */
export const UNSENT_SIGNATURE = "unsent";

/** What `postJob` needs; the nonce defaults to a random u64. */
export type PostJobInput = Omit<PostJobArgs, "nonce"> & {
  market: PublicKey;
  nonce?: bigint;
  /** The consumer's payment-mint token account; defaults to its associated token account. */
  consumerToken?: PublicKey;
};

function randomBytes(length: number): Uint8Array {
  const bytes = new Uint8Array(length);
  globalThis.crypto.getRandomValues(bytes);
  return bytes;
}

function randomNonce(): bigint {
  return new DataView(randomBytes(8).buffer).getBigUint64(0, true);
}

/** The market's average price scale: millionths of a base unit per GPU-slot (see Market.ewmaPrice). */
export const PRICE_SCALE = 1_000_000n;

/**
 * A maximum price for a job from the market's moving average of awarded prices: the average
 * per unit of work × the job's units (GPUs, at least one, × slots) × (1 + margin). Null while
 * the market has seen no award.
 */
export function suggestMaxPrice(market: MarketAccount, requirements: JobRequirementsInput, marginBps = 2_000): bigint | null {
  if (market.ewmaPrice === 0n) return null;
  const units = BigInt(Math.max(requirements.gpuCount ?? 0, 1)) * requirements.maxDurationSlots;
  const fair = (market.ewmaPrice * units) / PRICE_SCALE;
  return (fair * (10_000n + BigInt(marginBps))) / 10_000n;
}

export class ComputeMarketClient {
  readonly program: Program<ComputeMarket>;
  /** The transaction layer every call sends through. */
  readonly transactions: TransactionSender;
  /** Where `send` puts instructions instead of sending them (set by `instructionsOf`). */
  private collected: TransactionInstruction[][] | null = null;

  constructor(
    readonly provider: AnchorProvider,
    options: ClientOptions = {},
  ) {
    const programId = options.programId ?? DEFAULT_PROGRAM_ID;
    this.program = new Program<ComputeMarket>({ ...(idl as ComputeMarket), address: programId.toBase58() }, provider);
    this.transactions = transactionSender(provider, options.transactions, programId);
  }

  /** Sends `instructions` in one transaction through the transaction layer; returns the signature. */
  async send(instructions: TransactionInstruction[], signers: Signer[] = []): Promise<string> {
    if (this.collected) {
      if (signers.length > 0) throw new Error("this call needs extra signers: send it through the client instead");
      this.collected.push(instructions);
      return UNSENT_SIGNATURE;
    }
    return this.transactions.send(instructions, signers);
  }

  /**
   * The transactions a call would send, as instruction lists in order, without sending any (for
   * wallets and multisigs): e.g. `instructionsOf((c) => c.stake({ provider, amount }))`. The
   * call's own result carries `UNSENT_SIGNATURE` where a signature would be. A call of several
   * transactions expects each to land before the next is prepared.
   */
  async instructionsOf<T>(call: (client: ComputeMarketClient) => Promise<T>): Promise<{ value: T; transactions: TransactionInstruction[][] }> {
    const collector: ComputeMarketClient = Object.create(this);
    collector.collected = [];
    const value = await call(collector);
    return { value, transactions: collector.collected };
  }

  /** One transaction for `instructions`, simulated and priced, unsigned (v0, the wallet as fee payer). */
  async prepareTransaction(instructions: TransactionInstruction[]): Promise<PreparedTransaction> {
    return this.transactions.prepare(instructions);
  }

  /** Sends a transaction signed elsewhere and waits until it lands or its blockhash expires. */
  async sendSigned(transaction: VersionedTransaction, lastValidBlockHeight: number): Promise<string> {
    return this.transactions.sendSigned(transaction, lastValidBlockHeight);
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
    return { config, signature: await this.send([ix]) };
  }

  async updateConfig(args: UpdateConfigArgs): Promise<string> {
    const ix = await updateConfigInstruction(this.program, args, { authority: this.wallet, config: this.configAddress });
    return this.send([ix]);
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
    return { market, id, signature: await this.send([ix]) };
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
      { spec: args.spec, endpoint: args.endpoint },
      { owner: this.wallet, market: args.market, provider, vault, stakeMint: market.stakeMint },
    );
    return { provider, vault, signature: await this.send([ix]) };
  }

  /** Re-registers the wallet's provider with new hardware or a new endpoint. */
  async updateProvider(args: { provider: PublicKey; spec: HardwareSpecInput; endpoint: string }): Promise<string> {
    const provider = await this.requireProvider(args.provider);
    const ix = await updateProviderInstruction(
      this.program,
      { spec: args.spec, endpoint: args.endpoint },
      { owner: this.wallet, provider: args.provider, market: provider.market },
    );
    return this.send([ix]);
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
        ownerToken: this.tokenAccount(provider.stakeMint, args.ownerToken),
      },
    );
    return this.send([ix]);
  }

  async requestUnstake(args: { provider: PublicKey; amount: bigint }): Promise<string> {
    const provider = await this.requireProvider(args.provider);
    const ix = await requestUnstakeInstruction(
      this.program,
      { amount: args.amount },
      { owner: this.wallet, provider: args.provider, market: provider.market },
    );
    return this.send([ix]);
  }

  async withdrawUnstaked(args: { provider: PublicKey; ownerToken?: PublicKey }): Promise<string> {
    const provider = await this.requireProvider(args.provider);
    const ix = await withdrawUnstakedInstruction(this.program, {
      owner: this.wallet,
      provider: args.provider,
      vault: provider.vault,
      ownerToken: this.tokenAccount(provider.stakeMint, args.ownerToken),
    });
    return this.send([ix]);
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
        consumerToken: this.tokenAccount(market.paymentMint, input.consumerToken),
        paymentMint: market.paymentMint,
      },
    );
    return { job, escrow, nonce, signature: await this.send([ix]) };
  }

  /**
   * Posts a verifiable job: `code` (an rv32im image linked for the machine's layout) run on
   * `input` for at most `maxSteps` steps (default 2^32), named by their quarter roots, which
   * `machine` computes (a `VmModule`). The spec hash defaults to that of the job's machine spec
   * (`machineSpec(code, input)`), which `publishMachineJob` publishes with the code and input.
   */
  async postVerifiableJob(
    input: Omit<PostJobInput, "mode" | "replication" | "program" | "specHash"> & {
      code: Uint8Array;
      input: Uint8Array;
      machine: MachineRoots;
      maxSteps?: bigint;
      refereed?: boolean;
      specHash?: Uint8Array;
    },
  ): Promise<{ job: PublicKey; escrow: PublicKey; nonce: bigint; signature: string; codeRoot: Uint8Array; inputRoot: Uint8Array; spec: MachineJobSpec }> {
    const { code, input: bytes, machine, maxSteps, refereed, specHash, ...rest } = input;
    const spec = machineSpec(code, bytes);
    const roots = machine.programRoots(code, bytes);
    const program = { ...roots, maxSteps: maxSteps ?? DEFAULT_MAX_STEPS };
    const posted = await this.postJob({ ...rest, specHash: specHash ?? machineSpecHash(spec), mode: refereed ? "refereed" : "verifiable", replication: refereed ? 2 : 1, program });
    return { ...posted, ...roots, spec };
  }

  /** Cancels an open job: the whole escrow comes back and the rent of both accounts too. */
  async cancelJob(args: { job: PublicKey; consumerToken?: PublicKey }): Promise<string> {
    const job = await this.requireJob(args.job);
    const ix = await cancelJobInstruction(this.program, {
      consumer: this.wallet,
      job: args.job,
      escrow: job.escrow,
      consumerToken: this.tokenAccount(job.paymentMint, args.consumerToken),
    });
    return this.send([ix]);
  }

  // --- bidding (providers) ------------------------------------------------------------

  bidAddress(job: PublicKey, provider: PublicKey): PublicKey {
    return findBidPda({ job, provider, programId: this.programId })[0];
  }

  /** Bids `price` on an open-auction job as the wallet's provider in the job's market. */
  async placeBid(args: { job: PublicKey; price: bigint }): Promise<{ bid: PublicKey; signature: string }> {
    return this.sendBid(args.job, { price: args.price });
  }

  /**
   * Bids on a sealed-auction job: only sha256(price ‖ salt ‖ provider) goes on-chain now. Keep
   * the returned salt: `revealBid` needs it after bidding closes.
   */
  async placeSealedBid(args: { job: PublicKey; price: bigint; salt?: Uint8Array }): Promise<{ bid: PublicKey; salt: Uint8Array; signature: string }> {
    const job = await this.requireJob(args.job);
    const salt = args.salt ?? randomBytes(32);
    const provider = this.providerAddress(job.market);
    const { bid, signature } = await this.sendBid(args.job, { price: 0n, commitment: bidCommitment(args.price, salt, provider) });
    return { bid, salt, signature };
  }

  async revealBid(args: { job: PublicKey; price: bigint; salt: Uint8Array }): Promise<string> {
    const job = await this.requireJob(args.job);
    const provider = this.providerAddress(job.market);
    const ix = await revealBidInstruction(this.program, { price: args.price, salt: args.salt }, {
      owner: this.wallet,
      provider,
      job: args.job,
      bid: this.bidAddress(args.job, provider),
    });
    return this.send([ix]);
  }

  /** Withdraws the wallet's bid on `job` (the job may already be closed: pass its market then). */
  async withdrawBid(args: { job: PublicKey; market?: PublicKey }): Promise<string> {
    const marketAddress = args.market ?? (await this.requireJob(args.job)).market;
    const provider = this.providerAddress(marketAddress);
    const reads = this.batch();
    const [providerRead, configRead] = [reads.account("provider", provider), reads.account("config", this.configAddress)];
    await reads.load(this.provider.connection);
    const [providerAccount, config] = [required(providerRead, "provider"), required(configRead, "config", CONFIG_HINT)];
    const {
      addresses: [treasuryStakeToken],
      create,
    } = await this.associatedTokens([[config.treasury, providerAccount.stakeMint]]);
    const ix = await withdrawBidInstruction(this.program, {
      owner: this.wallet,
      provider,
      vault: providerAccount.vault,
      config: this.configAddress,
      market: marketAddress,
      job: args.job,
      bid: this.bidAddress(args.job, provider),
      treasuryStakeToken,
    });
    return this.send([...create, ix]);
  }

  // --- winners -------------------------------------------------------------------------

  async startJob(args: { job: PublicKey }): Promise<string> {
    const job = await this.requireJob(args.job);
    const bid = this.bidAddress(args.job, this.providerAddress(job.market));
    return this.send([await startJobInstruction(this.program, { owner: this.wallet, job: args.job, bid })]);
  }

  async commitResult(args: CommitResultArgs & { job: PublicKey }): Promise<string> {
    const job = await this.requireJob(args.job);
    const bid = this.bidAddress(args.job, this.providerAddress(job.market));
    const ix = await commitResultInstruction(this.program, args, { owner: this.wallet, market: job.market, job: args.job, bid });
    return this.send([ix]);
  }

  /**
   * A winner of a replicated job with several winners seals its output root with a secret salt
   * (keep the salt: the root is revealed with it once every winner committed).
   */
  async commitSealedResult(args: { job: PublicKey; outputRoot: Uint8Array; salt: Uint8Array; resultUriHash: Uint8Array }): Promise<string> {
    const job = await this.requireJob(args.job);
    const provider = this.providerAddress(job.market);
    const commitment = resultCommitment(args.outputRoot, args.salt, provider);
    const ix = await commitSealedResultInstruction(
      this.program,
      { commitment, resultUriHash: args.resultUriHash },
      { owner: this.wallet, market: job.market, job: args.job, bid: this.bidAddress(args.job, provider) },
    );
    return this.send([ix]);
  }

  /** Reveals a sealed output root (after every winner committed, before the challenge deadline). */
  async revealResult(args: { job: PublicKey; outputRoot: Uint8Array; salt: Uint8Array }): Promise<string> {
    const job = await this.requireJob(args.job);
    const bid = this.bidAddress(args.job, this.providerAddress(job.market));
    return this.send([await revealResultInstruction(this.program, args, { owner: this.wallet, job: args.job, bid })]);
  }

  /** A verifiable job's winner commits the machine's final state and its output proof. */
  async commitVerifiable(args: CommitVerifiableArgs & { job: PublicKey }): Promise<string> {
    const job = await this.requireJob(args.job);
    const bid = this.bidAddress(args.job, this.providerAddress(job.market));
    const ix = await commitVerifiableInstruction(this.program, args, { owner: this.wallet, market: job.market, job: args.job, bid });
    return this.send([ix]);
  }

  // --- disputes (challengers, defenders, cranks) --------------------------------------

  /** The game `challenger` (default: the wallet) plays against `job`'s result. */
  disputeAddress(job: PublicKey, challenger: PublicKey = this.wallet): PublicKey {
    return findDisputePda({ job, challenger, programId: this.programId })[0];
  }

  /** Opens the wallet's game against the result `provider` committed for `job`, posting the bond. */
  async openDispute(args: { job: PublicKey; provider: PublicKey; challengerToken?: PublicKey }): Promise<{ dispute: PublicKey; signature: string }> {
    const job = await this.requireJob(args.job);
    const market = await this.requireMarket(job.market);
    const dispute = this.disputeAddress(args.job);
    const ix = await openDisputeInstruction(this.program, {
      challenger: this.wallet,
      market: job.market,
      job: args.job,
      bid: this.bidAddress(args.job, args.provider),
      dispute,
      bondVault: findBondVaultPda({ dispute, programId: this.programId })[0],
      challengerToken: this.tokenAccount(market.stakeMint, args.challengerToken),
      stakeMint: market.stakeMint,
    });
    return { dispute, signature: await this.send([ix]) };
  }

  /** The defender posts its state hashes at the split points of the disputed interval. */
  async dissect(args: { dispute: PublicKey; hashes: Uint8Array[] }): Promise<string> {
    return this.send([await dissectInstruction(this.program, args.hashes, { owner: this.wallet, dispute: args.dispute })]);
  }

  /** The challenger disputes segment `segment` of the latest dissection. */
  async chooseSegment(args: { dispute: PublicKey; segment: number }): Promise<string> {
    return this.send([await chooseSegmentInstruction(this.program, args.segment, { challenger: this.wallet, dispute: args.dispute })]);
  }

  /** Writes a one-step witness into the wallet's proof buffer, one transaction per chunk. */
  async writeWitness(args: { dispute: PublicKey; witness: Uint8Array }): Promise<{ buffer: PublicKey; signatures: string[] }> {
    const buffer = findWitnessBufferPda({ dispute: args.dispute, writer: this.wallet, programId: this.programId })[0];
    const signatures = [];
    for (const chunk of witnessChunks(args.witness)) {
      const ix = await writeWitnessInstruction(this.program, chunk, { writer: this.wallet, dispute: args.dispute, buffer });
      signatures.push(await this.send([ix]));
    }
    return { buffer, signatures };
  }

  /** Runs the one-step proof from `writer`'s buffer (default: the wallet's). */
  async proveStep(args: { dispute: PublicKey; writer?: PublicKey }): Promise<string> {
    const writer = args.writer ?? this.wallet;
    const buffer = findWitnessBufferPda({ dispute: args.dispute, writer, programId: this.programId })[0];
    return this.send([await proveStepInstruction(this.program, { prover: this.wallet, dispute: args.dispute, buffer, writer })]);
  }

  /** Takes back the rent of the wallet's proof buffer for a game that is decided or closed. */
  async closeWitness(args: { dispute: PublicKey }): Promise<string> {
    const buffer = findWitnessBufferPda({ dispute: args.dispute, writer: this.wallet, programId: this.programId })[0];
    return this.send([await closeWitnessInstruction(this.program, { writer: this.wallet, dispute: args.dispute, buffer })]);
  }

  /** Writes the witness and proves the step with it. */
  async submitProof(args: { dispute: PublicKey; witness: Uint8Array }): Promise<string> {
    await this.writeWitness(args);
    return this.proveStep({ dispute: args.dispute });
  }

  /** Ends a game whose party to move ran out of clock. */
  async timeoutDispute(args: { dispute: PublicKey }): Promise<string> {
    return this.send([await timeoutDisputeInstruction(this.program, { cranker: this.wallet, dispute: args.dispute })]);
  }

  /**
   * Opens the game between a refereed job's two winners, whose final states differ: the
   * first-ranked winner defends, the second-ranked winner's owner challenges. Returns the game.
   */
  async referee(args: { job: PublicKey }): Promise<{ dispute: PublicKey; signature: string }> {
    const job = await this.requireJob(args.job);
    const [first, second] = job.auction.ranking.slice(0, 2).map((entry) => this.bidAddress(args.job, entry.provider));
    const challengerBid = orThrow(await this.fetchBid(second), "bid", second);
    const dispute = this.disputeAddress(args.job, challengerBid.owner);
    const ix = await refereeInstruction(this.program, { cranker: this.wallet, market: job.market, job: args.job, defenderBid: first, challengerBid: second, dispute });
    return { dispute, signature: await this.send([ix]) };
  }

  /** Pays out a decided referee game: the loser is slashed and its bid refuted. */
  async settleReferee(args: { dispute: PublicKey }): Promise<string> {
    const dispute = orThrow(await this.fetchDispute(args.dispute), "dispute", args.dispute);
    const reads = this.batch();
    const first = { job: reads.account("job", dispute.job), config: reads.account("config", this.configAddress), bid: reads.account("bid", dispute.bid), provider: reads.account("provider", dispute.provider) };
    await reads.load(this.provider.connection);
    const [job, config, defenderBid, defender] = [required(first.job, "job", JOB_HINT), required(first.config, "config", CONFIG_HINT), required(first.bid, "bid"), required(first.provider, "provider")];
    const challengerProvider = job.auction.ranking[1].provider;
    const challengerBidAddress = this.bidAddress(dispute.job, challengerProvider);
    const second = { bid: reads.account("bid", challengerBidAddress), provider: reads.account("provider", challengerProvider) };
    await reads.load(this.provider.connection);
    const [challengerBid, challenger] = [required(second.bid, "bid"), required(second.provider, "provider")];
    const {
      addresses: [defenderOwnerToken, challengerOwnerToken, treasuryStakeToken],
      create,
    } = await this.associatedTokens([
      [defenderBid.owner, defender.stakeMint],
      [challengerBid.owner, challenger.stakeMint],
      [config.treasury, defender.stakeMint],
    ]);
    const ix = await settleRefereeInstruction(this.program, {
      cranker: this.wallet,
      config: this.configAddress,
      job: dispute.job,
      dispute: args.dispute,
      payer: dispute.payer,
      defenderBid: dispute.bid,
      defenderProvider: dispute.provider,
      defenderVault: defender.vault,
      defenderOwnerToken,
      challengerBid: challengerBidAddress,
      challengerProvider,
      challengerVault: challenger.vault,
      challengerOwnerToken,
      treasuryStakeToken,
    });
    return this.send([...create, ix]);
  }

  /** Pays out a decided game and closes it (and a refuted job with its last game). A referee
   * game is settled by `settleReferee`. */
  async settleDispute(args: { dispute: PublicKey }): Promise<string> {
    const dispute = orThrow(await this.fetchDispute(args.dispute), "dispute", args.dispute);
    if (dispute.refereed) return this.settleReferee(args);
    const reads = this.batch();
    const read = { job: reads.account("job", dispute.job), provider: reads.account("provider", dispute.provider), config: reads.account("config", this.configAddress) };
    await reads.load(this.provider.connection);
    const [job, provider, config] = [required(read.job, "job", JOB_HINT), required(read.provider, "provider"), required(read.config, "config", CONFIG_HINT)];
    const {
      addresses: [consumerToken, ownerStakeToken, challengerStakeToken, treasuryStakeToken],
      create,
    } = await this.associatedTokens([
      [job.consumer, job.paymentMint],
      [dispute.owner, provider.stakeMint],
      [dispute.challenger, provider.stakeMint],
      [config.treasury, provider.stakeMint],
    ]);
    const ix = await settleDisputeInstruction(this.program, {
      cranker: this.wallet,
      config: this.configAddress,
      market: job.market,
      job: dispute.job,
      escrow: job.escrow,
      consumer: job.consumer,
      consumerToken,
      bid: dispute.bid,
      provider: dispute.provider,
      vault: provider.vault,
      owner: dispute.owner,
      ownerStakeToken,
      challenger: dispute.challenger,
      challengerStakeToken,
      treasuryStakeToken,
      dispute: args.dispute,
      bondVault: findBondVaultPda({ dispute: args.dispute, programId: this.programId })[0],
    });
    return this.send([...create, ix]);
  }

  // --- services ------------------------------------------------------------------------

  serviceAddress(job: PublicKey): PublicKey {
    return findServicePda({ job, programId: this.programId })[0];
  }

  fetchService(address: PublicKey): Promise<ServiceAccount | null> {
    return fetchService(this.program, address);
  }

  /** Leases a service: a job paid per acknowledged slot, funded with `deposit`, its terms beside it. */
  async postService(input: PostServiceInput): Promise<{ job: PublicKey; escrow: PublicKey; service: PublicKey; nonce: bigint; signature: string }> {
    const market = await this.requireMarket(input.market);
    const nonce = input.nonce ?? randomNonce();
    const job = this.jobAddress(nonce);
    const escrow = findEscrowPda({ job, programId: this.programId })[0];
    const service = this.serviceAddress(job);
    const args = { ...input, nonce, bidWindowSlots: input.bidWindowSlots ?? 0n, graceSlots: input.graceSlots ?? input.ackPeriodSlots };
    const ix = await postServiceInstruction(this.program, args, {
      consumer: this.wallet,
      config: this.configAddress,
      market: input.market,
      job,
      escrow,
      service,
      consumerToken: this.tokenAccount(market.paymentMint, input.consumerToken),
      paymentMint: market.paymentMint,
    });
    return { job, escrow, service, nonce, signature: await this.send([ix]) };
  }

  /** Tops up a service's deposit from this wallet (anyone may). */
  async fundService(args: { job: PublicKey; amount: bigint; funderToken?: PublicKey }): Promise<string> {
    const job = await this.requireJob(args.job);
    const ix = await fundServiceInstruction(this.program, args.amount, {
      funder: this.wallet,
      funderToken: this.tokenAccount(job.paymentMint, args.funderToken),
      job: args.job,
      escrow: job.escrow,
      service: this.serviceAddress(args.job),
    });
    return this.send([ix]);
  }

  /** Pauses a running lease whose deposit cannot pay one more period (anyone may). */
  async pauseService(args: { job: PublicKey }): Promise<string> {
    const job = await this.requireJob(args.job);
    const ix = await pauseServiceInstruction(this.program, { cranker: this.wallet, market: job.market, job: args.job, escrow: job.escrow, service: this.serviceAddress(args.job) });
    return this.send([ix]);
  }

  /** Claims the time `ack` acknowledges for this wallet's replica: the Ed25519 verification, then the claim. */
  async claimService(ack: Acknowledgement, args: { ownerToken?: PublicKey } = {}): Promise<string> {
    const job = await this.requireJob(ack.job);
    const config = await this.requireConfig();
    const {
      addresses: [ownerToken, treasuryToken],
      create,
    } = await this.associatedTokens([
      [this.wallet, job.paymentMint, args.ownerToken],
      [config.treasury, job.paymentMint],
    ]);
    const claim = await claimServiceInstruction(this.program, ack.upToSlot, {
      owner: this.wallet,
      ownerToken,
      config: this.configAddress,
      job: ack.job,
      escrow: job.escrow,
      service: this.serviceAddress(ack.job),
      bid: this.bidAddress(ack.job, ack.provider),
      treasuryToken,
    });
    // The program reads the verification from the instruction right before the claim.
    return this.send([...create, acknowledgementVerifyInstruction(ack), claim]);
  }

  /**
   * Ends a replica: at once as the consumer or its watchdog, with a period's notice as its owner.
   * `replace` (consumer or watchdog) puts its seat up for a replacement: a seat round opens.
   */
  async endReplica(args: { job: PublicKey; provider: PublicKey; replace?: boolean }): Promise<string> {
    const job = await this.requireJob(args.job);
    const accounts = { signer: this.wallet, market: job.market, job: args.job, service: this.serviceAddress(args.job), bid: this.bidAddress(args.job, args.provider) };
    return this.send([await endReplicaInstruction(this.program, accounts, args.replace ?? false)]);
  }

  /** Every bid on `job` that still exists: a lease's replicas (started, ended, or seats won) and its seat bids. */
  async bidsOf(job: PublicKey): Promise<{ address: PublicKey; account: BidAccount }[]> {
    return fetchAllOf(this.program, "bid", [{ offset: BID_JOB_OFFSET, address: job }]);
  }

  /** Bids `price` per slot for a seat of a running lease, while its seat round is open. */
  async bidSeat(args: { job: PublicKey; price: bigint }): Promise<{ bid: PublicKey; signature: string }> {
    const job = await this.requireJob(args.job);
    const provider = this.providerAddress(job.market);
    const bid = this.bidAddress(args.job, provider);
    const ix = await bidSeatInstruction(this.program, args.price, { owner: this.wallet, provider, market: job.market, job: args.job, service: this.serviceAddress(args.job), bid });
    return { bid, signature: await this.send([ix]) };
  }

  /** Closes a lease's seat round after its deadline (anyone may): its best ranked bids win the seats. */
  async awardSeat(args: { job: PublicKey }): Promise<string> {
    const job = await this.requireJob(args.job);
    const service = this.serviceAddress(args.job);
    const terms = orThrow(await this.fetchService(service), "service", service);
    const seats = terms.pausedSlot > 0n ? 0 : Math.min(terms.openSeats, job.auction.rankedCount);
    const winners = job.auction.ranking.slice(0, seats).map((entry) => this.bidAddress(args.job, entry.provider));
    return this.send([await awardSeatInstruction(this.program, { cranker: this.wallet, market: job.market, job: args.job, service }, winners)]);
  }

  /** The wallet's provider starts the seat it won. */
  async startSeat(args: { job: PublicKey }): Promise<string> {
    const job = await this.requireJob(args.job);
    const bid = this.bidAddress(args.job, this.providerAddress(job.market));
    return this.send([await startSeatInstruction(this.program, { owner: this.wallet, job: args.job, service: this.serviceAddress(args.job), bid })]);
  }

  /** Closes an ended replica once its owner could claim (anyone may); the last one settles the lease. */
  async closeReplica(args: { job: PublicKey; provider: PublicKey; keeperToken?: PublicKey }): Promise<string> {
    const job = await this.requireJob(args.job);
    const bidAddress = this.bidAddress(args.job, args.provider);
    const bid = orThrow(await this.fetchBid(bidAddress), "bid", bidAddress);
    const {
      addresses: [keeperToken, consumerToken],
      create,
    } = await this.associatedTokens([
      [this.wallet, job.paymentMint, args.keeperToken],
      [job.consumer, job.paymentMint],
    ]);
    const ix = await closeReplicaInstruction(this.program, {
      keeper: this.wallet,
      keeperToken,
      job: args.job,
      escrow: job.escrow,
      service: this.serviceAddress(args.job),
      bid: bidAddress,
      provider: args.provider,
      owner: bid.owner,
      consumer: job.consumer,
      consumerToken,
    });
    return this.send([...create, ix]);
  }

  /** Returns the rent of a dead job's service terms to its consumer (anyone may). */
  async closeService(args: { job: PublicKey }): Promise<string> {
    const service = this.serviceAddress(args.job);
    const terms = orThrow(await this.fetchService(service), "service", service);
    return this.send([await closeServiceInstruction(this.program, { service, job: args.job, consumer: terms.consumer })]);
  }

  fetchDispute(address: PublicKey): Promise<DisputeAccount | null> {
    return fetchDispute(this.program, address);
  }

  /** Every open or undecided game against `job`. */
  async disputesOf(job: PublicKey): Promise<{ address: PublicKey; account: DisputeAccount }[]> {
    return fetchAllOf(this.program, "dispute", [{ offset: DISPUTE_JOB_OFFSET, address: job }]);
  }

  // --- cranks (anyone; keepers) --------------------------------------------------------

  /** The bids that win `job` now: its best ranked bids, best first. */
  async winningBids(job: PublicKey): Promise<PublicKey[]> {
    const state = await this.requireJob(job);
    return state.auction.ranking.slice(0, state.replication).map((entry) => this.bidAddress(job, entry.provider));
  }

  async award(args: { job: PublicKey }): Promise<string> {
    const job = await this.requireJob(args.job);
    const winners = job.auction.ranking.slice(0, Math.min(job.replication, job.auction.rankedCount)).map((entry) => this.bidAddress(args.job, entry.provider));
    const ix = await awardInstruction(this.program, { cranker: this.wallet, market: job.market, job: args.job }, winners);
    return this.send([ix]);
  }

  /** Refunds a job whose auction ended without enough bids. */
  async expireJob(args: { job: PublicKey; consumerToken?: PublicKey }): Promise<string> {
    const job = await this.requireJob(args.job);
    const {
      addresses: [consumerToken],
      create,
    } = args.consumerToken ? { addresses: [args.consumerToken], create: [] } : await this.associatedTokens([[job.consumer, job.paymentMint]]);
    const ix = await expireJobInstruction(this.program, {
      cranker: this.wallet,
      job: args.job,
      escrow: job.escrow,
      consumer: job.consumer,
      consumerToken,
    });
    return this.send([...create, ix]);
  }

  /**
   * Settles a committed job after its challenge window. Token accounts default to associated
   * accounts, created in the same transaction when missing (the wallet pays their rent).
   */
  async finalize(args: { job: PublicKey; keeperToken?: PublicKey; consumerToken?: PublicKey }): Promise<string> {
    const job = await this.requireJob(args.job);
    const entries = job.auction.ranking.slice(0, job.replication);
    // Sealed results may slash (minority, unrevealed): the market and the stake-mint accounts.
    const sealed = job.replication >= 2 && variantOf(job.mode) === "replicated";
    const reads = this.batch();
    const configRead = reads.account("config", this.configAddress);
    const marketRead = sealed ? reads.account("market", job.market) : null;
    const winnerReads = entries.map((entry) => ({ bid: reads.account("bid", this.bidAddress(args.job, entry.provider)), provider: reads.account("provider", entry.provider) }));
    await reads.load(this.provider.connection);
    const config = required(configRead, "config", CONFIG_HINT);
    const winnerAccounts = winnerReads.map((read) => ({ bid: required(read.bid, "bid", "(the winning bid)"), provider: required(read.provider, "provider") }));
    const stakeMint = marketRead ? required(marketRead, "market").stakeMint : null;
    const tokens = await this.associatedTokens([
      [this.wallet, job.paymentMint, args.keeperToken],
      [job.consumer, job.paymentMint, args.consumerToken],
      [config.treasury, job.paymentMint],
      ...winnerAccounts.map(({ bid }): [PublicKey, PublicKey] => [bid.owner, job.paymentMint]),
      ...(stakeMint ? ([[job.consumer, stakeMint], [config.treasury, stakeMint]] as [PublicKey, PublicKey][]) : []),
    ]);
    const [keeperToken, consumerToken, treasuryToken, ...rest] = tokens.addresses;
    const winners = winnerAccounts.map(({ bid, provider }, i) => ({ bid: winnerReads[i].bid.address, provider: entries[i].provider, ownerToken: rest[i], owner: bid.owner, vault: provider.vault }));
    const slashes = stakeMint ? { market: job.market, consumerStakeToken: rest[winners.length], treasuryStakeToken: rest[winners.length + 1] } : undefined;
    const ix = await finalizeInstruction(
      this.program,
      {
        keeper: this.wallet,
        keeperToken,
        config: this.configAddress,
        job: args.job,
        escrow: job.escrow,
        consumer: job.consumer,
        consumerToken,
        treasuryToken,
      },
      winners,
      slashes,
    );
    // Missing token accounts are created first, in their own transaction: with several winners
    // the settlement alone nearly fills one.
    if (tokens.create.length > 0) await this.send(tokens.create);
    return this.send([ix]);
  }

  /** Fails a winner that did not start in time (slash, then reopen or refund). The keeper's
   * crank share of the slash goes to `keeperToken` (stake mint; default: the associated account). */
  async failNoShow(args: { job: PublicKey; provider: PublicKey; keeperToken?: PublicKey }): Promise<string> {
    const { accounts, create } = await this.failAccounts(args.job, args.provider, args.keeperToken);
    // A running lease's winner that did not start is a seat: the lease's terms give it up.
    const job = await this.requireJob(args.job);
    const seat = variantOf(job.kind) === "service" && variantOf(job.state) === "running";
    return this.send([...create, await failNoShowInstruction(this.program, accounts, seat ? this.serviceAddress(args.job) : undefined)]);
  }

  /** Fails a winner that did not commit in time (slash, then reopen or refund); as `failNoShow`. */
  async failTimeout(args: { job: PublicKey; provider: PublicKey; keeperToken?: PublicKey }): Promise<string> {
    const { accounts, create } = await this.failAccounts(args.job, args.provider, args.keeperToken);
    return this.send([...create, await failTimeoutInstruction(this.program, accounts)]);
  }

  private async failAccounts(
    jobAddress: PublicKey,
    providerAddress: PublicKey,
    keeperToken?: PublicKey,
  ): Promise<{ accounts: FailWinnerAccounts; create: TransactionInstruction[] }> {
    const job = await this.requireJob(jobAddress);
    const bid = this.bidAddress(jobAddress, providerAddress);
    const reads = this.batch();
    const read = { provider: reads.account("provider", providerAddress), config: reads.account("config", this.configAddress), bid: reads.account("bid", bid) };
    await reads.load(this.provider.connection);
    const [provider, config, bidAccount] = [required(read.provider, "provider"), required(read.config, "config", CONFIG_HINT), required(read.bid, "bid")];
    const {
      addresses: [keeperStakeToken, consumerToken, consumerStakeToken, treasuryStakeToken],
      create,
    } = await this.associatedTokens([
      // The keeper is paid its crank share of the slash, in the stake mint.
      [this.wallet, provider.stakeMint, keeperToken],
      [job.consumer, job.paymentMint],
      [job.consumer, provider.stakeMint],
      [config.treasury, provider.stakeMint],
    ]);
    return {
      accounts: {
        keeper: this.wallet,
        keeperToken: keeperStakeToken,
        config: this.configAddress,
        market: job.market,
        job: jobAddress,
        escrow: job.escrow,
        consumer: job.consumer,
        consumerToken,
        consumerStakeToken,
        treasuryStakeToken,
        bid,
        provider: providerAddress,
        vault: provider.vault,
        owner: bidAccount.owner,
      },
      create,
    };
  }

  /** The token account of `owner` (this wallet unless named) for `mint`: the one given, else the associated one. */
  private tokenAccount(mint: PublicKey, given?: PublicKey, owner: PublicKey = this.wallet): PublicKey {
    return given ?? getAssociatedTokenAddressSync(mint, owner, true);
  }

  /**
   * The associated token accounts of (owner, mint) pairs, in order, read in one request, and the
   * creation of each that does not exist yet (once, where two pairs name the same account). A
   * pair's third element is a token account given by the caller instead.
   */
  private async associatedTokens(pairs: [owner: PublicKey, mint: PublicKey, given?: PublicKey][]): Promise<{ addresses: PublicKey[]; create: TransactionInstruction[] }> {
    // A token account the caller gave is used as it is: neither read nor created.
    const addresses = pairs.map(([owner, mint, given]) => this.tokenAccount(mint, given, owner));
    const reads = this.batch();
    const exists = addresses.map((address, i) => (pairs[i][2] ? null : reads.raw(address)));
    await reads.load(this.provider.connection);
    const create: TransactionInstruction[] = [];
    const planned = new Set<string>();
    pairs.forEach(([owner, mint], i) => {
      const key = addresses[i].toBase58();
      const read = exists[i];
      if (read === null || read.value !== null || planned.has(key)) return;
      planned.add(key);
      create.push(createAssociatedTokenAccountIdempotentInstruction(this.wallet, addresses[i], owner, mint));
    });
    return { addresses, create };
  }

  /** Reads to make together, in one request. */
  private batch(): AccountBatch {
    return new AccountBatch(this.program);
  }

  private async sendBid(jobAddress: PublicKey, args: { price: bigint; commitment?: Uint8Array }): Promise<{ bid: PublicKey; signature: string }> {
    const job = await this.requireJob(jobAddress);
    const provider = this.providerAddress(job.market);
    const bid = this.bidAddress(jobAddress, provider);
    const ix = await placeBidInstruction(this.program, args, { owner: this.wallet, provider, market: job.market, job: jobAddress, bid });
    return { bid, signature: await this.send([ix]) };
  }

  // --- reads -------------------------------------------------------------------------

  fetchConfig(): Promise<ConfigAccount | null> {
    return fetchConfig(this.program, this.configAddress);
  }

  fetchMarket(address: PublicKey): Promise<MarketAccount | null> {
    return fetchMarket(this.program, address);
  }

  /** Every provider registered in `market`. */
  async providersOf(market: PublicKey): Promise<{ address: PublicKey; account: ProviderAccount }[]> {
    return fetchAllOf(this.program, "provider", [{ offset: PROVIDER_MARKET_OFFSET, address: market }]);
  }

  fetchProvider(address: PublicKey): Promise<ProviderAccount | null> {
    return fetchProvider(this.program, address);
  }

  fetchJob(address: PublicKey): Promise<JobAccount | null> {
    return fetchJob(this.program, address);
  }

  fetchBid(address: PublicKey): Promise<BidAccount | null> {
    return fetchBid(this.program, address);
  }

  private async requireConfig(): Promise<ConfigAccount> {
    return orThrow(await this.fetchConfig(), "config", this.configAddress, CONFIG_HINT);
  }

  private async requireMarket(address: PublicKey): Promise<MarketAccount> {
    return orThrow(await this.fetchMarket(address), "market", address);
  }

  private async requireProvider(address: PublicKey): Promise<ProviderAccount> {
    return orThrow(await this.fetchProvider(address), "provider", address);
  }

  /** The job at `address`, or a MissingAccountError naming it. */
  async requireJob(address: PublicKey): Promise<JobAccount> {
    return orThrow(await this.fetchJob(address), "job", address, JOB_HINT);
  }
}

const DISPUTE_JOB_OFFSET = accountFieldOffset("Dispute", "job");
const BID_JOB_OFFSET = accountFieldOffset("Bid", "job");
const PROVIDER_MARKET_OFFSET = accountFieldOffset("Provider", "market");
const CONFIG_HINT = "(run initializeConfig first)";
const JOB_HINT = "(cancelled, settled or never posted?)";

function orThrow<T>(value: T | null, kind: MissingAccountKind, address: PublicKey, hint?: string): T {
  if (value === null) throw new MissingAccountError(kind, address.toBase58(), hint);
  return value;
}

/** The value of a batched read, or a `MissingAccountError` naming it. */
function required<T>(read: BatchedRead<T>, kind: MissingAccountKind, hint?: string): T {
  return orThrow(read.value, kind, read.address, hint);
}
