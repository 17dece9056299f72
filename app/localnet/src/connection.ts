// The part of web3.js's Connection that Anchor, spl-token and our SDK use, answered from a Ledger
// in process, with web3.js's return shapes.
import {
  AddressLookupTableAccount,
  SendTransactionError,
  VersionedTransaction,
  type AccountInfo,
  type BlockhashWithExpiryBlockHeight,
  type Commitment,
  type ConfirmedTransactionMeta,
  type Connection,
  type GetProgramAccountsFilter,
  type GetRecentPrioritizationFeesConfig,
  type GetProgramAccountsResponse,
  type PublicKey,
  type RecentPrioritizationFees,
  type RpcResponseAndContext,
  type SendOptions,
  type SignatureResult,
  type SignatureStatus,
  type Signer,
  type SimulatedTransactionResponse,
  type TokenAmount,
  type Transaction,
  type TransactionConfirmationStrategy,
  type TransactionVersion,
  VersionedMessage,
} from "@solana/web3.js";
import bs58 from "bs58";
import { matchesFilters } from "./filters";
import type { Ledger, ProcessedTransaction } from "./ledger";
import { tokenAccountBalance } from "./tokens";

/** The subset of web3.js's `TransactionResponse` the ledger knows (no fee or balance snapshots). */
export interface LocalTransactionResponse {
  slot: number;
  transaction: { message: VersionedMessage; signatures: string[] };
  meta: Pick<ConfirmedTransactionMeta, "err" | "logMessages" | "computeUnitsConsumed">;
  version: TransactionVersion;
}

/** getProgramAccounts options honoured here; others (dataSlice, withContext) are not offered. */
export interface ProgramAccountsConfig {
  commitment?: Commitment;
  filters?: GetProgramAccountsFilter[];
}

export interface SimulateConfig {
  /** Check signatures; off by default, as on the RPC. */
  sigVerify?: boolean;
  /** Simulate over the latest blockhash instead of the transaction's own. */
  replaceRecentBlockhash?: boolean;
}


// The methods whose signatures and results match web3.js's exactly, checked by the compiler.
type MatchedMethods =
  | "getAccountInfo"
  | "getAccountInfoAndContext"
  | "getMultipleAccountsInfo"
  | "getMultipleAccountsInfoAndContext"
  | "getBalance"
  | "getSlot"
  | "getBlockHeight"
  | "getRecentPrioritizationFees"
  | "getLatestBlockhash"
  | "getMinimumBalanceForRentExemption"
  | "getTokenAccountBalance"
  | "getSignatureStatuses"
  | "confirmTransaction"
  | "sendRawTransaction"
  | "requestAirdrop";

/**
 * A web3.js `Connection` stand-in over a Ledger; cast it to `Connection` where one is expected.
 * Commitment arguments are accepted and ignored: whatever the ledger processed is final at once.
 * Methods it does not implement are absent, so a caller that needs one fails loudly.
 */
export class LiteSvmConnection implements Pick<Connection, MatchedMethods> {
  readonly commitment: Commitment = "confirmed";
  readonly rpcEndpoint = "litesvm://in-process";

  constructor(readonly ledger: Ledger) {}

  async getAccountInfo(publicKey: PublicKey): Promise<AccountInfo<Buffer> | null> {
    return this.ledger.getAccount(publicKey);
  }

  async getAccountInfoAndContext(publicKey: PublicKey): Promise<RpcResponseAndContext<AccountInfo<Buffer> | null>> {
    return this.withContext(this.ledger.getAccount(publicKey));
  }

  async getAddressLookupTable(publicKey: PublicKey): Promise<RpcResponseAndContext<AddressLookupTableAccount | null>> {
    const account = this.ledger.getAccount(publicKey);
    return this.withContext(account ? new AddressLookupTableAccount({ key: publicKey, state: AddressLookupTableAccount.deserialize(account.data) }) : null);
  }

  async getMultipleAccountsInfo(publicKeys: PublicKey[]): Promise<(AccountInfo<Buffer> | null)[]> {
    return publicKeys.map((key) => this.ledger.getAccount(key));
  }

  async getMultipleAccountsInfoAndContext(publicKeys: PublicKey[]): Promise<RpcResponseAndContext<(AccountInfo<Buffer> | null)[]>> {
    return this.withContext(publicKeys.map((key) => this.ledger.getAccount(key)));
  }

  /** Accounts owned by `programId` that pass every memcmp and dataSize filter. */
  async getProgramAccounts(programId: PublicKey, config?: ProgramAccountsConfig | Commitment): Promise<GetProgramAccountsResponse> {
    // A caller typed against Connection may still pass these; answering without them would be wrong.
    if (typeof config === "object" && ("dataSlice" in config || "withContext" in config)) {
      throw new Error("getProgramAccounts: dataSlice and withContext are not supported by the in-process ledger");
    }
    const filters = typeof config === "object" ? (config.filters ?? []) : [];
    return this.ledger.getProgramAccounts(programId).filter(({ account }) => matchesFilters(account.data, filters));
  }

  async getBalance(publicKey: PublicKey): Promise<number> {
    return this.ledger.getAccount(publicKey)?.lamports ?? 0;
  }

  async getSlot(): Promise<number> {
    return Number(this.ledger.slot);
  }

  async getBlockHeight(): Promise<number> {
    return Number(this.ledger.blockHeight);
  }

  async getLatestBlockhash(): Promise<BlockhashWithExpiryBlockHeight> {
    return { blockhash: this.ledger.latestBlockhash(), lastValidBlockHeight: this.ledger.lastValidBlockHeight() };
  }

  /** No transaction here pays to be scheduled first: every recent slot's fee is 0. */
  async getRecentPrioritizationFees(config?: GetRecentPrioritizationFeesConfig): Promise<RecentPrioritizationFees[]> {
    return this.ledger.recentPrioritizationFees((config?.lockedWritableAccounts ?? []).map((key) => key.toBase58()));
  }

  async getMinimumBalanceForRentExemption(dataLength: number): Promise<number> {
    return Number(this.ledger.minimumBalanceForRentExemption(dataLength));
  }

  /** The balance of an SPL token account with its mint's decimals; throws for any other account. */
  async getTokenAccountBalance(tokenAddress: PublicKey): Promise<RpcResponseAndContext<TokenAmount>> {
    return this.withContext(tokenAccountBalance(this.ledger, tokenAddress));
  }

  async getSignatureStatuses(signatures: string[]): Promise<RpcResponseAndContext<(SignatureStatus | null)[]>> {
    return this.withContext(signatures.map((signature) => signatureStatus(this.ledger.getTransaction(signature))));
  }

  /** Resolves at once: the ledger has processed the transaction by the time it was sent, or never will. */
  async confirmTransaction(strategy: TransactionConfirmationStrategy | string): Promise<RpcResponseAndContext<SignatureResult>> {
    const signature = typeof strategy === "string" ? strategy : strategy.signature;
    const processed = this.ledger.getTransaction(signature);
    if (!processed) throw new Error(`Transaction ${signature} was not processed by the ledger`);
    return this.withContext({ err: processed.error?.rpc ?? null });
  }

  /** A processed transaction with its logs and error; null for one never processed, or an airdrop. */
  async getTransaction(signature: string): Promise<LocalTransactionResponse | null> {
    const processed = this.ledger.getTransaction(signature);
    if (!processed?.transaction) return null;
    const { message, signatures } = processed.transaction;
    return {
      slot: Number(processed.slot),
      transaction: { message, signatures: signatures.map((bytes) => bs58.encode(bytes)) },
      meta: { err: processed.error?.rpc ?? null, logMessages: processed.logs, computeUnitsConsumed: Number(processed.computeUnits) },
      version: processed.transaction.version,
    };
  }

  /**
   * Processes the transaction. A failure throws `SendTransactionError` with the program logs, as a
   * failed preflight does, unless `skipPreflight` is set; then the failure is only reported by
   * confirmTransaction and getTransaction. Unlike a real preflight, the failed transaction has run
   * once, for real: its fee is charged and it is recorded. A transaction the cluster refuses before
   * executing it (bad signature, unknown blockhash, replay) always throws, since it never lands.
   */
  async sendRawTransaction(rawTransaction: Buffer | Uint8Array | number[], options?: SendOptions): Promise<string> {
    const processed = this.ledger.process(VersionedTransaction.deserialize(Uint8Array.from(rawTransaction)));
    if (processed.error && (!processed.landed || !options?.skipPreflight)) {
      throw new SendTransactionError({
        action: "send",
        signature: processed.signature,
        transactionMessage: processed.error.message,
        logs: processed.logs,
      });
    }
    return processed.signature;
  }

  /** Signs a legacy transaction with `signers` over the latest blockhash, or sends a signed versioned one. */
  sendTransaction(transaction: Transaction, signers: Signer[], options?: SendOptions): Promise<string>;
  sendTransaction(transaction: VersionedTransaction, options?: SendOptions): Promise<string>;
  async sendTransaction(
    transaction: Transaction | VersionedTransaction,
    signersOrOptions?: Signer[] | SendOptions,
    options?: SendOptions,
  ): Promise<string> {
    if ("version" in transaction) return this.sendRawTransaction(transaction.serialize(), signersOrOptions as SendOptions | undefined);
    const { blockhash, lastValidBlockHeight } = await this.getLatestBlockhash();
    transaction.recentBlockhash = blockhash;
    transaction.lastValidBlockHeight = lastValidBlockHeight;
    transaction.sign(...((signersOrOptions as Signer[] | undefined) ?? []));
    return this.sendRawTransaction(transaction.serialize(), options);
  }

  async simulateTransaction(
    transaction: VersionedTransaction,
    config?: SimulateConfig,
  ): Promise<RpcResponseAndContext<SimulatedTransactionResponse>> {
    // As a node does: the simulation runs over the latest blockhash, the caller's copy untouched.
    if (config?.replaceRecentBlockhash) {
      transaction = new VersionedTransaction(VersionedMessage.deserialize(transaction.message.serialize()), transaction.signatures);
      transaction.message.recentBlockhash = this.ledger.latestBlockhash();
    }
    const simulation = this.ledger.simulate(transaction, { sigVerify: config?.sigVerify ?? false });
    return this.withContext({
      err: simulation.error?.rpc ?? null,
      logs: simulation.logs,
      unitsConsumed: Number(simulation.computeUnits),
    });
  }

  /** Credits the lamports at once and returns the signature the credit is recorded under. */
  async requestAirdrop(to: PublicKey, lamports: number): Promise<string> {
    return this.ledger.airdrop(to, BigInt(lamports));
  }

  private withContext<T>(value: T): RpcResponseAndContext<T> {
    return { context: { slot: Number(this.ledger.slot) }, value };
  }
}

function signatureStatus(processed: ProcessedTransaction | null): SignatureStatus | null {
  if (!processed) return null;
  // A rooted transaction has no confirmation count on a real node either.
  return { slot: Number(processed.slot), confirmations: null, err: processed.error?.rpc ?? null, confirmationStatus: "finalized" };
}
