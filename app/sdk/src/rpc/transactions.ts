// The transaction layer every SDK call, the keeper and the provider send through: a v0 message
// (with the caller's address lookup tables), a compute-unit limit from simulation plus a margin,
// a priority fee by strategy under a cap, then send and rebroadcast until the transaction is
// confirmed or its blockhash has expired (then signed again over a fresh blockhash, when allowed,
// since the old one can no longer land). Confirmation comes from `signatureSubscribe`, with
// polling as the fallback. Every outcome is reported (for metrics) and every failure is typed.
import {
  ComputeBudgetProgram,
  PublicKey,
  TransactionMessage,
  VersionedTransaction,
  type AddressLookupTableAccount,
  type Commitment,
  type Connection,
  type Signer,
  type SignatureStatus,
  type TransactionInstruction,
} from "@solana/web3.js";
import bs58 from "bs58";
import { ComputeMarketError, translateError } from "../errors";
import { BlockhashExpiredError, refusalError, RpcUnavailableError, SendError, transportError } from "./errors";
import { fitsInPacket, LookupTableStore } from "./lookup-tables";
import { DEFAULT_MAX_PRIORITY_FEE, DEFAULT_PRIORITY_FEE, needsRecentFees, priorityFee, transactionFee, type PriorityFeeStrategy, type RecentFee } from "./fees";

/** Signs transactions for the fee payer: a keypair wallet, a browser wallet, a multisig's proposer. */
export interface TransactionSigner {
  publicKey: PublicKey;
  signTransaction<T extends VersionedTransaction>(transaction: T): Promise<T>;
}

export interface TransactionOptions {
  priorityFee?: PriorityFeeStrategy;
  /** The highest compute-unit price ever paid, in micro-lamports per unit. */
  maxPriorityFee?: number;
  /** Compute-unit limit = simulated units × (1 + margin) + pad. */
  computeUnitMargin?: number;
  computeUnitPad?: number;
  /** How often an unconfirmed transaction is sent again. */
  rebroadcastMs?: number;
  /** How often its status is polled while no notification came. */
  pollMs?: number;
  /** Sign again over a fresh blockhash once the old one has expired (never before: it could still land). */
  resign?: boolean;
  /** Blockhashes tried before giving up with `BlockhashExpiredError`. */
  maxAttempts?: number;
  /** How long a fetched blockhash is reused for new transactions. */
  blockhashTtlMs?: number;
  /** How long recent priority fees for one set of written accounts are reused. */
  feeTtlMs?: number;
  /** Tables that shorten the messages of instructions with many accounts. */
  lookupTables?: AddressLookupTableAccount[];
  /**
   * When a transaction does not fit one packet even with `lookupTables`, put some of its accounts
   * in a lookup table of the signer's own, created and extended here (the signer pays the rent:
   * about 0.0002 SOL an address). Off: such a transaction fails with `TransactionTooLarge`.
   */
  createLookupTables?: boolean;
  /**
   * Reuse the units simulated for a transaction of the same shape (programs, instructions, account
   * counts) instead of simulating again; the node's preflight then catches refusals. A transaction
   * that runs out of units is simulated afresh and sent again. For senders of many like
   * transactions (a keeper's cranks).
   */
  reuseComputeUnits?: boolean;
  /** How long confirmation goes on while the RPC node answers nothing at all. */
  unreachableMs?: number;
  /** Called once for every transaction sent, landed or not. */
  onReport?: (report: SendReport) => void;
}

/** What sending one transaction took. */
export interface SendReport {
  /** The program instruction(s) it carried, e.g. "award". */
  label: string;
  signature: string | null;
  landed: boolean;
  /** Why it did not land, when it did not (the error's kind or program error name). */
  error: string | null;
  latencyMs: number;
  computeUnitLimit: number;
  computeUnitPrice: number;
  /** The fee the payer was charged at most (base fee plus priority fee on the limit). */
  feeLamports: bigint;
  /** Times the same signed transaction was sent again. */
  rebroadcasts: number;
  /** Blockhashes that expired before it landed. */
  expiries: number;
}

/** A transaction built and priced, not yet signed. */
export interface PreparedTransaction {
  transaction: VersionedTransaction;
  blockhash: string;
  lastValidBlockHeight: number;
  computeUnitLimit: number;
  computeUnitPrice: number;
  /** Whether this very transaction was simulated (else its limit came from one of the same shape). */
  simulated: boolean;
}

const MAX_COMPUTE_UNITS = 1_400_000;
const COMPUTE_BUDGET = ComputeBudgetProgram.programId.toBase58();
const MAX_FEE_ACCOUNTS = 128;
/** Polls for a new blockhash before an identical transaction is refused rather than sent as a duplicate. */
const MAX_DUPLICATE_WAITS = 100;

const DEFAULTS = {
  priorityFee: DEFAULT_PRIORITY_FEE,
  maxPriorityFee: DEFAULT_MAX_PRIORITY_FEE,
  computeUnitMargin: 0.1,
  computeUnitPad: 1_000,
  rebroadcastMs: 2_000,
  pollMs: 400,
  resign: true,
  maxAttempts: 3,
  blockhashTtlMs: 1_000,
  feeTtlMs: 2_000,
  unreachableMs: 60_000,
  reuseComputeUnits: false,
  createLookupTables: true,
} satisfies Omit<Required<TransactionOptions>, "lookupTables" | "onReport">;

export class TransactionSender {
  private readonly options: Omit<Required<TransactionOptions>, "onReport"> & Pick<TransactionOptions, "onReport">;
  private blockhash: { value: { blockhash: string; lastValidBlockHeight: number }; at: number } | null = null;
  private readonly fees = new Map<string, { value: RecentFee[]; at: number }>();
  /** Signatures sent over the cached blockhash: an identical transaction must not be mistaken for a new one. */
  private readonly sentOverBlockhash = new Set<string>();
  /** Units simulated, by transaction shape (for `reuseComputeUnits`). */
  private readonly unitsByShape = new Map<string, number>();
  /** The signer's own lookup tables, shared with every sender derived by `with`. */
  readonly lookupTableStore: LookupTableStore;

  constructor(
    readonly connection: Connection,
    readonly signer: TransactionSigner,
    /** The program whose errors are decoded by name. */
    readonly programId: PublicKey,
    /** Names of the program's instructions by discriminator (hex), for reports. */
    private readonly instructionNames: Map<string, string>,
    options: TransactionOptions = {},
    private readonly commitment: Commitment = "confirmed",
    store?: LookupTableStore,
  ) {
    this.options = { ...DEFAULTS, lookupTables: [], ...options };
    this.lookupTableStore = store ?? new LookupTableStore({ connection, authority: signer.publicKey, commitment, send: (instructions) => this.send(instructions) });
  }

  /** The same sender with some options changed (e.g. other lookup tables, or no re-signing). */
  with(options: TransactionOptions): TransactionSender {
    return new TransactionSender(this.connection, this.signer, this.programId, this.instructionNames, { ...this.options, ...options }, this.commitment, this.lookupTableStore);
  }

  /**
   * Builds the v0 transaction for `instructions`, paid by the signer: simulated for its compute
   * units (a refusal is thrown, typed, before anything is signed) and priced by the strategy.
   * Unsigned: `send` signs it, or a wallet or multisig does.
   */
  async prepare(instructions: TransactionInstruction[], fresh = false, reuseUnits = false): Promise<PreparedTransaction> {
    const price = await this.computeUnitPrice(instructions);
    const tables = await this.tablesFor(instructions, price);
    let { blockhash, lastValidBlockHeight } = await this.latestBlockhash(fresh);
    const shape = shapeOf(instructions);
    const known = reuseUnits ? this.unitsByShape.get(shape) : undefined;
    let units = known ?? (await this.simulate(this.compile(instructions, blockhash, MAX_COMPUTE_UNITS, price, tables)));
    if (units === null) {
      ({ blockhash, lastValidBlockHeight } = await this.latestBlockhash(true));
      units = (await this.simulate(this.compile(instructions, blockhash, MAX_COMPUTE_UNITS, price, tables))) ?? MAX_COMPUTE_UNITS;
    }
    if (known === undefined) this.rememberUnits(shape, units);
    const limit = Math.min(MAX_COMPUTE_UNITS, Math.ceil(units * (1 + this.options.computeUnitMargin)) + this.options.computeUnitPad);
    return { transaction: this.compile(instructions, blockhash, limit, price, tables), blockhash, lastValidBlockHeight, computeUnitLimit: limit, computeUnitPrice: price, simulated: known === undefined };
  }

  /**
   * The lookup tables to compile `instructions` with: the caller's, and when the transaction is
   * larger than a packet with those, tables of the signer's own that make it fit.
   */
  private async tablesFor(instructions: TransactionInstruction[], price: number): Promise<AddressLookupTableAccount[]> {
    // The blockhash's value does not change the size: any 32 bytes stand in for it.
    const fits = (tables: AddressLookupTableAccount[]) => fitsInPacket(this.compile(instructions, PublicKey.default.toBase58(), MAX_COMPUTE_UNITS, price, tables));
    const given = this.options.lookupTables;
    if (fits(given)) return given;
    if (!this.options.createLookupTables) throw new SendError("TransactionTooLarge", `the transaction is larger than a packet (${instructions.length} instructions, ${new Set(instructions.flatMap((ix) => ix.keys.map((key) => key.pubkey.toBase58()))).size} accounts) and creating lookup tables is off`);
    return this.lookupTableStore.cover(instructions, given, fits);
  }

  private rememberUnits(shape: string, units: number): void {
    if (this.unitsByShape.size > 1_000) this.unitsByShape.clear();
    this.unitsByShape.set(shape, Math.max(units, this.unitsByShape.get(shape) ?? 0));
  }

  /** Prepares, signs (payer and `signers`), sends and confirms; returns the signature. */
  async send(instructions: TransactionInstruction[], signers: Signer[] = []): Promise<string> {
    const started = Date.now();
    const label = this.label(instructions);
    const report = { label, signature: null as string | null, computeUnitLimit: 0, computeUnitPrice: 0, feeLamports: 0n, rebroadcasts: 0, expiries: 0 };
    const finish = (error: unknown): void => {
      const name = error === null ? null : error instanceof ComputeMarketError ? error.errorName : error instanceof SendError ? error.kind : "Error";
      this.options.onReport?.({ ...report, landed: error === null, error: name, latencyMs: Date.now() - started });
    };
    try {
      let fresh = false;
      let duplicateWaits = 0;
      let reuseUnits = this.options.reuseComputeUnits;
      for (let attempt = 1; ; attempt += 1) {
        const prepared = await this.prepare(instructions, fresh, reuseUnits);
        // The same message over the same blockhash would be the same transaction, taken by the
        // cluster for a duplicate of the first: wait for the next blockhash instead.
        const message = bs58.encode(prepared.transaction.message.serialize());
        if (this.sentOverBlockhash.has(message)) {
          if ((duplicateWaits += 1) > MAX_DUPLICATE_WAITS) throw new SendError("BlockhashExpired", `an identical transaction was sent over blockhash ${prepared.blockhash} and the cluster has produced no new blockhash since`);
          // A fresh blockhash first; if the cluster has none newer yet, wait for its next block.
          if (fresh) await sleep(this.options.pollMs);
          fresh = true;
          attempt -= 1;
          continue;
        }
        this.sentOverBlockhash.add(message);
        const signed = await this.sign(prepared.transaction, signers);
        const signature = signatureOf(signed);
        Object.assign(report, { signature, computeUnitLimit: prepared.computeUnitLimit, computeUnitPrice: prepared.computeUnitPrice, feeLamports: transactionFee(signed.signatures.length, prepared.computeUnitLimit, prepared.computeUnitPrice) });
        let outcome: "landed" | "expired";
        try {
          outcome = await this.sendUntilFinal(signed, signature, prepared.lastValidBlockHeight, report, !prepared.simulated);
        } catch (error) {
          // A reused limit too low for this one: simulate it and send it again (the fee is spent
          // if it landed; a preflight refusal cost nothing).
          if (prepared.simulated || !outOfUnits(error)) throw error;
          this.unitsByShape.delete(shapeOf(instructions));
          reuseUnits = false;
          fresh = true;
          continue;
        }
        if (outcome === "landed") {
          finish(null);
          return signature;
        }
        report.expiries += 1;
        if (!this.options.resign || attempt >= this.options.maxAttempts) throw new BlockhashExpiredError(signature, prepared.lastValidBlockHeight);
        fresh = true;
      }
    } catch (error) {
      const typed = translateError(error);
      finish(typed);
      throw typed;
    }
  }

  /**
   * Sends a transaction signed elsewhere (a wallet, a multisig) until it is confirmed; throws
   * `BlockhashExpiredError` once it can no longer land (it cannot be signed again here).
   */
  async sendSigned(signed: VersionedTransaction, lastValidBlockHeight: number): Promise<string> {
    const signature = signatureOf(signed);
    try {
      const outcome = await this.sendUntilFinal(signed, signature, lastValidBlockHeight, { rebroadcasts: 0 }, true);
      if (outcome === "expired") throw new BlockhashExpiredError(signature, lastValidBlockHeight);
      return signature;
    } catch (error) {
      throw translateError(error);
    }
  }

  /** Sends `signed` until it is confirmed ("landed") or can no longer land ("expired"). */
  private async sendUntilFinal(signed: VersionedTransaction, signature: string, lastValidBlockHeight: number, report: { rebroadcasts: number }, preflight: boolean): Promise<"landed" | "expired"> {
    const raw = signed.serialize();
    const first = await this.broadcast(raw, preflight);
    if (first === "refused") return "expired";
    let notified: Promise<void> | null = null;
    let unsubscribe = (): void => undefined;
    let lastSent = Date.now();
    let lastAnswer = Date.now();
    try {
      for (;;) {
        if (Date.now() - lastAnswer > this.options.unreachableMs) throw new RpcUnavailableError(`no answer for ${this.options.unreachableMs} ms while confirming ${signature}`);
        const status = await this.status(signature);
        if (status && isConfirmed(status, this.commitment)) {
          if (status.err) throw await this.landedError(signature, status.err, signed);
          return "landed";
        }
        const height = await this.connection.getBlockHeight(this.commitment).catch((error: unknown) => {
          if (transportError(error)) return null;
          throw error;
        });
        if (height !== null) lastAnswer = Date.now();
        if (height !== null && height > lastValidBlockHeight) {
          // One last look: it may have landed in the block that ended the blockhash's life.
          const last = await this.status(signature);
          if (last && isConfirmed(last, this.commitment)) {
            if (last.err) throw await this.landedError(signature, last.err, signed);
            return "landed";
          }
          return "expired";
        }
        if (!notified) ({ notified, unsubscribe } = this.subscribe(signature));
        await Promise.race([notified, sleep(this.options.pollMs)]);
        if (Date.now() - lastSent >= this.options.rebroadcastMs) {
          lastSent = Date.now();
          report.rebroadcasts += 1;
          if ((await this.broadcast(raw)) === "refused") return "expired";
        }
      }
    } finally {
      unsubscribe();
    }
  }

  /** Sends raw bytes once; a node that refuses the blockhash means it can never land. */
  /** Sends raw bytes once (with the node's preflight when asked); a node that refuses the blockhash means it can never land. */
  private async broadcast(raw: Uint8Array, preflight = false): Promise<"sent" | "refused" | "lost"> {
    try {
      await this.connection.sendRawTransaction(raw, { skipPreflight: !preflight, preflightCommitment: this.commitment, maxRetries: 0 });
      return "sent";
    } catch (error) {
      if (transportError(error)) return "lost";
      if (refusedBlockhash(error)) return "refused";
      // Already processed: the status says how it ended.
      if (/already (been )?processed/i.test(String((error as Error)?.message))) return "sent";
      if (preflight) throw this.preflightError(error, raw);
      throw error;
    }
  }

  /** A refusal in the node's preflight, typed as one in our own simulation would be. */
  private preflightError(error: unknown, raw: Uint8Array): unknown {
    const logs = (error as { logs?: unknown }).logs;
    if (!Array.isArray(logs)) return error;
    const detail = (error as { transactionError?: { message?: string } }).transactionError?.message ?? (error as Error).message;
    return refusalError({ detail, logs: logs as string[], payer: this.signer.publicKey.toBase58(), programs: programsOf(VersionedTransaction.deserialize(raw)), programId: this.programId.toBase58() });
  }

  private async status(signature: string): Promise<SignatureStatus | null> {
    try {
      return (await this.connection.getSignatureStatuses([signature])).value[0];
    } catch (error) {
      if (transportError(error)) return null;
      throw error;
    }
  }

  /** A notification when the signature is confirmed; none where the connection has no subscriptions. */
  private subscribe(signature: string): { notified: Promise<void>; unsubscribe: () => void } {
    if (typeof this.connection.onSignature !== "function") return { notified: new Promise(() => undefined), unsubscribe: () => undefined };
    let fired = false;
    let id: number | null = null;
    const notified = new Promise<void>((resolve) => {
      try {
        id = this.connection.onSignature(signature, () => {
          fired = true;
          resolve();
        }, this.commitment);
      } catch {
        // No WebSocket: polling alone.
      }
    });
    return {
      notified,
      unsubscribe: () => {
        if (!fired && id !== null) void this.connection.removeSignatureListener(id).catch(() => undefined);
      },
    };
  }

  private async landedError(signature: string, detail: unknown, signed: VersionedTransaction): Promise<unknown> {
    const logs = await this.connection
      .getTransaction(signature, { commitment: "confirmed", maxSupportedTransactionVersion: 0 })
      .then((response) => response?.meta?.logMessages ?? [])
      .catch(() => []);
    return refusalError({ detail, logs, payer: this.signer.publicKey.toBase58(), programs: programsOf(signed), programId: this.programId.toBase58(), signature });
  }

  private compile(instructions: TransactionInstruction[], blockhash: string, limit: number, price: number, tables: AddressLookupTableAccount[]): VersionedTransaction {
    const budget = [ComputeBudgetProgram.setComputeUnitLimit({ units: limit })];
    if (price > 0) budget.push(ComputeBudgetProgram.setComputeUnitPrice({ microLamports: price }));
    const callers = instructions.filter((ix) => ix.programId.toBase58() !== COMPUTE_BUDGET);
    const message = new TransactionMessage({ payerKey: this.signer.publicKey, recentBlockhash: blockhash, instructions: [...budget, ...callers] }).compileToV0Message(tables);
    return new VersionedTransaction(message);
  }

  /** The units the transaction consumes; a refusal is thrown typed. */
  private async simulate(transaction: VersionedTransaction): Promise<number | null> {
    let result;
    try {
      result = await this.connection.simulateTransaction(transaction, { sigVerify: false, replaceRecentBlockhash: true, commitment: this.commitment });
    } catch (error) {
      throw transportError(error) ?? error;
    }
    const { err, logs, unitsConsumed } = result.value;
    // Only from a node that ignores replaceRecentBlockhash: the caller simulates over a fresh one.
    if (err === "BlockhashNotFound") return null;
    if (err) throw refusalError({ detail: err, logs: logs ?? [], payer: this.signer.publicKey.toBase58(), programs: programsOf(transaction), programId: this.programId.toBase58() });
    return unitsConsumed ?? MAX_COMPUTE_UNITS;
  }

  private async computeUnitPrice(instructions: TransactionInstruction[]): Promise<number> {
    const { priorityFee: strategy, maxPriorityFee } = this.options;
    if (!needsRecentFees(strategy)) return priorityFee(strategy, [], maxPriorityFee);
    const writable = [...new Set(instructions.flatMap((ix) => ix.keys.filter((key) => key.isWritable).map((key) => key.pubkey.toBase58())))].sort().slice(0, MAX_FEE_ACCOUNTS);
    const key = writable.join(",");
    const cached = this.fees.get(key);
    let recent: RecentFee[];
    if (cached && Date.now() - cached.at < this.options.feeTtlMs) recent = cached.value;
    else {
      recent = await this.connection.getRecentPrioritizationFees({ lockedWritableAccounts: writable.map((address) => new PublicKey(address)) }).catch((error: unknown) => {
        // Without recent fees the floor (or nothing) is bid: a busy node must not stop every send.
        if (transportError(error)) return [];
        throw error;
      });
      if (this.fees.size > 1_000) this.fees.clear();
      this.fees.set(key, { value: recent, at: Date.now() });
    }
    return priorityFee(strategy, recent, maxPriorityFee);
  }

  private async latestBlockhash(fresh: boolean): Promise<{ blockhash: string; lastValidBlockHeight: number }> {
    const cached = this.blockhash;
    if (!fresh && cached && Date.now() - cached.at < this.options.blockhashTtlMs) return cached.value;
    let value;
    try {
      value = await this.connection.getLatestBlockhash(this.commitment);
    } catch (error) {
      throw transportError(error) ?? error;
    }
    if (!cached || cached.value.blockhash !== value.blockhash) this.sentOverBlockhash.clear();
    this.blockhash = { value, at: Date.now() };
    return value;
  }

  private async sign(transaction: VersionedTransaction, signers: Signer[]): Promise<VersionedTransaction> {
    if (signers.length > 0) transaction.sign(signers);
    return this.signer.signTransaction(transaction);
  }

  /** The program instructions' names, e.g. "award" or "createAta+failNoShow". */
  label(instructions: TransactionInstruction[]): string {
    const names = instructions.map((ix) => {
      if (ix.programId.equals(this.programId)) return this.instructionNames.get(hex(ix.data.subarray(0, 8))) ?? "unknown";
      return null;
    });
    const ours = names.filter((name): name is string => name !== null);
    return ours.length > 0 ? [...new Set(ours)].join("+") : "other";
  }
}

/** Programs, instruction discriminators and account counts: transactions alike in their cost. */
function shapeOf(instructions: TransactionInstruction[]): string {
  return instructions.map((ix) => `${ix.programId.toBase58()}:${hex(ix.data.subarray(0, 8))}:${ix.keys.length}`).join("|");
}

/** A transaction that ran out of compute units, in its preflight simulation or landed: the
 * cluster's ComputationalBudgetExceeded, or a program stopped at the meter inside a CPI (which
 * the caller then reports as ProgramFailedToComplete). */
function outOfUnits(error: unknown): boolean {
  if (!(error instanceof SendError)) return false;
  return JSON.stringify(error.detail).includes("ComputationalBudgetExceeded") || error.logs.some((line) => line.includes("exceeded CUs meter"));
}

function isConfirmed(status: SignatureStatus, commitment: Commitment): boolean {
  const level = status.confirmationStatus;
  if (commitment === "finalized") return level === "finalized";
  if (commitment === "processed") return level !== undefined;
  return level === "confirmed" || level === "finalized";
}

function refusedBlockhash(error: unknown): boolean {
  return /blockhash not found|BlockhashNotFound/i.test(String((error as Error)?.message ?? error));
}

function signatureOf(transaction: VersionedTransaction): string {
  return bs58.encode(transaction.signatures[0]);
}

/** The program each instruction calls, in order (programs are never loaded from lookup tables). */
function programsOf(transaction: VersionedTransaction): string[] {
  const keys = transaction.message.staticAccountKeys;
  return transaction.message.compiledInstructions.map((ix) => keys[ix.programIdIndex]?.toBase58() ?? "");
}

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
