// The in-process cluster: one LiteSVM with the SPL programs and ours, a clock moved by slots, and a
// record of every transaction it executed.
import { randomBytes } from "node:crypto";
import {
  address,
  getBase58Decoder,
  getTransactionDecoder,
  isFullySignedTransaction,
  lamports,
  type Address,
  type EncodedAccount,
  type Transaction as KitTransaction,
} from "@solana/kit";
import { FailedTransactionMetadata, LiteSVM, type TransactionMetadata } from "litesvm";
import { PublicKey, SystemProgram, VersionedTransaction, type AccountInfo, type Transaction } from "@solana/web3.js";
import { describeFailure, namedError, type TransactionErrorInfo } from "./errors";

export interface ProgramToLoad {
  programId: PublicKey;
  /** Path of the program's compiled `.so`. */
  path: string;
}

export interface LedgerOptions {
  programs?: ProgramToLoad[];
}

/** What became of a transaction handed to the ledger. */
export interface ProcessedTransaction {
  signature: string;
  slot: bigint;
  logs: string[];
  computeUnits: bigint;
  error: TransactionErrorInfo | null;
  /**
   * Whether it was executed (fee charged, effects committed if it succeeded) and recorded. A
   * transaction refused before execution (bad signature, unknown blockhash, replay, fee payer
   * unable to pay) is not, as on a real cluster, where it never lands in a block.
   */
  landed: boolean;
  /** The transaction as processed; null for an airdrop, which credits the account without one. */
  transaction: VersionedTransaction | null;
}

/** The outcome of running a transaction without committing it. */
export interface Simulation {
  logs: string[];
  computeUnits: bigint;
  error: TransactionErrorInfo | null;
}

export interface SimulateOptions {
  /** Check signatures, as sending does; off lets an unsigned transaction be simulated. */
  sigVerify?: boolean;
}

/** A program-owned account with its address, as web3.js's getProgramAccounts returns it. */
export interface KeyedAccount {
  pubkey: PublicKey;
  account: AccountInfo<Buffer>;
}

/** The slot and time the ledger started at; later timestamps follow from the slot. */
interface ClockOrigin {
  slot: bigint;
  unixTimestamp: bigint;
}

/** A transaction in the three forms the ledger needs: LiteSVM's, web3.js's, and its signature. */
interface Prepared {
  kit: KitTransaction;
  versioned: VersionedTransaction;
  signatureBytes: Uint8Array;
  signature: string;
}

const MS_PER_SLOT = 400n;
/** How many of the latest blockhashes a transaction may reference; a real cluster allows 150 blocks. */
const RECENT_BLOCKHASHES = 150;

export class Ledger {
  private readonly records = new Map<string, ProcessedTransaction>();
  private readonly recentBlockhashes: string[];

  private constructor(
    private readonly svm: LiteSVM,
    private readonly origin: ClockOrigin,
  ) {
    this.recentBlockhashes = [svm.latestBlockhash()];
  }

  /** A fresh cluster with sysvars, builtins, the SPL programs and `programs` loaded. */
  static create(options: LedgerOptions = {}): Ledger {
    // LiteSVM accepts only its single latest blockhash; the ledger checks a window of recent ones
    // itself, so that a transaction signed before another one landed still goes through.
    const svm = new LiteSVM().withBlockhashCheck(false);
    for (const { programId, path } of options.programs ?? []) svm.addProgramFromFile(toAddress(programId), path);
    // LiteSVM's clock reads unix time 0; a cluster that starts now is more plausible.
    const clock = svm.getClock();
    clock.unixTimestamp = BigInt(Math.floor(Date.now() / 1000));
    svm.setClock(clock);
    return new Ledger(svm, { slot: clock.slot, unixTimestamp: clock.unixTimestamp });
  }

  /**
   * Executes a signed transaction and commits its effects if it succeeds. Never throws for a
   * failed transaction: the failure is in the result, and an executed one is recorded either way.
   */
  process(tx: Transaction | VersionedTransaction): ProcessedTransaction {
    const prepared = prepare(tx);
    const refusal = this.precheck(prepared, true);
    const outcome = refusal ? refused(refusal) : executed(this.svm.sendTransaction(prepared.kit), prepared.signatureBytes);
    const processed: ProcessedTransaction = {
      ...outcome,
      signature: prepared.signature,
      slot: this.slot,
      transaction: prepared.versioned,
    };
    if (processed.landed) {
      this.records.set(processed.signature, processed);
      // Each landed transaction closes its "block": the next one gets a fresh blockhash, so the
      // same instructions from the same payer sign differently and are not taken for a replay.
      this.nextBlockhash();
    }
    return processed;
  }

  /** Runs a transaction against the current state without committing anything or recording it. */
  simulate(tx: Transaction | VersionedTransaction, { sigVerify = true }: SimulateOptions = {}): Simulation {
    const prepared = prepare(tx);
    const refusal = this.precheck(prepared, sigVerify);
    if (refusal) return { logs: [], computeUnits: 0n, error: refusal };
    this.svm.withSigverify(sigVerify);
    try {
      const result = this.svm.simulateTransaction(prepared.kit);
      const meta = result.meta();
      return {
        logs: meta.logs(),
        computeUnits: meta.computeUnitsConsumed(),
        error: result instanceof FailedTransactionMetadata ? describeFailure(result) : null,
      };
    } finally {
      this.svm.withSigverify(true);
    }
  }

  /** A transaction the ledger executed (or an airdrop), by signature. */
  getTransaction(signature: string): ProcessedTransaction | null {
    return this.records.get(signature) ?? null;
  }

  getAccount(pubkey: PublicKey): AccountInfo<Buffer> | null {
    const account = this.svm.getAccount(toAddress(pubkey));
    return account.exists ? toAccountInfo(account) : null;
  }

  /** Every account owned by `programId`. */
  getProgramAccounts(programId: PublicKey): KeyedAccount[] {
    return this.svm.getProgramAccounts(toAddress(programId)).map((account) => ({
      pubkey: new PublicKey(account.address),
      account: toAccountInfo(account),
    }));
  }

  /** Writes an account as given, bypassing the runtime: for states no transaction would produce. */
  setAccount(pubkey: PublicKey, info: AccountInfo<Uint8Array>): void {
    this.svm.setAccount({
      address: toAddress(pubkey),
      data: Uint8Array.from(info.data),
      executable: info.executable,
      lamports: lamports(BigInt(info.lamports)),
      programAddress: toAddress(info.owner),
      space: BigInt(info.data.length),
    });
  }

  /**
   * Credits `amount` lamports at once, creating a system account if there is none. It is a direct
   * write, not a transfer, so any amount works, even one below the rent-exempt minimum. Returns a
   * signature under which the credit is recorded, for callers that confirm airdrops.
   */
  airdrop(pubkey: PublicKey, amount: bigint): string {
    const existing = this.svm.getAccount(toAddress(pubkey));
    const account: EncodedAccount = existing.exists ? existing : emptySystemAccount(existing.address);
    this.svm.setAccount({ ...account, lamports: lamports(account.lamports + amount) });
    const signature = getBase58Decoder().decode(randomBytes(64));
    const record = { signature, slot: this.slot, logs: [], computeUnits: 0n, error: null, landed: true, transaction: null };
    this.records.set(signature, record);
    return signature;
  }

  get slot(): bigint {
    return this.svm.getClock().slot;
  }

  /** Moves the Clock sysvar to `slot`, its timestamp 400 ms a slot after the start. Never backwards. */
  warpToSlot(slot: bigint): void {
    const clock = this.svm.getClock();
    if (slot < clock.slot) throw new Error(`the clock only moves forward: slot ${slot} is before ${clock.slot}`);
    clock.slot = slot;
    clock.unixTimestamp = timestampAt(this.origin, slot);
    this.svm.setClock(clock);
  }

  advanceSlots(slots: bigint): void {
    this.warpToSlot(this.slot + slots);
  }

  /** The blockhash a new transaction should reference. */
  latestBlockhash(): string {
    return this.svm.latestBlockhash();
  }

  minimumBalanceForRentExemption(bytes: number): bigint {
    return this.svm.minimumBalanceForRentExemption(BigInt(bytes));
  }

  /** Why the cluster would refuse the transaction before executing it, if it would. */
  private precheck(prepared: Prepared, sigVerify: boolean): TransactionErrorInfo | null {
    // LiteSVM throws on a missing signature rather than failing the transaction; a real cluster
    // fails it signature verification.
    if (sigVerify && !isFullySignedTransaction(prepared.kit)) return namedError("SignatureFailure");
    if (!this.recentBlockhashes.includes(prepared.versioned.message.recentBlockhash)) return namedError("BlockhashNotFound");
    return null;
  }

  private nextBlockhash(): void {
    this.svm.expireBlockhash();
    this.recentBlockhashes.push(this.svm.latestBlockhash());
    if (this.recentBlockhashes.length > RECENT_BLOCKHASHES) this.recentBlockhashes.shift();
  }
}

type Outcome = Pick<ProcessedTransaction, "logs" | "computeUnits" | "error" | "landed">;

function refused(error: TransactionErrorInfo): Outcome {
  return { logs: [], computeUnits: 0n, error, landed: false };
}

function executed(result: TransactionMetadata | FailedTransactionMetadata, signatureBytes: Uint8Array): Outcome {
  if (!(result instanceof FailedTransactionMetadata)) {
    return { logs: result.logs(), computeUnits: result.computeUnitsConsumed(), error: null, landed: true };
  }
  const meta = result.meta();
  // LiteSVM reports a zero signature for a transaction it refused before execution (replay,
  // unfunded fee payer, bad signature); an executed one carries its own.
  const landed = Buffer.from(meta.signature()).equals(signatureBytes);
  return { logs: meta.logs(), computeUnits: meta.computeUnitsConsumed(), error: describeFailure(result), landed };
}

function prepare(tx: Transaction | VersionedTransaction): Prepared {
  // A legacy transaction with a missing signature serializes with zeros in its place, so that it
  // fails signature verification here instead of throwing in web3.js.
  const wire = "version" in tx ? tx.serialize() : tx.serialize({ requireAllSignatures: false, verifySignatures: false });
  const versioned = VersionedTransaction.deserialize(wire);
  const signatureBytes = versioned.signatures[0];
  return {
    kit: getTransactionDecoder().decode(wire),
    versioned,
    signatureBytes,
    signature: getBase58Decoder().decode(signatureBytes),
  };
}

function timestampAt(origin: ClockOrigin, slot: bigint): bigint {
  return origin.unixTimestamp + ((slot - origin.slot) * MS_PER_SLOT) / 1000n;
}

function toAddress(pubkey: PublicKey): Address {
  return address(pubkey.toBase58());
}

function emptySystemAccount(at: Address): EncodedAccount {
  return {
    address: at,
    data: new Uint8Array(),
    executable: false,
    lamports: lamports(0n),
    programAddress: toAddress(SystemProgram.programId),
    space: 0n,
  };
}

function toAccountInfo(account: EncodedAccount): AccountInfo<Buffer> {
  return {
    data: Buffer.from(account.data.buffer, account.data.byteOffset, account.data.byteLength),
    executable: account.executable,
    lamports: Number(account.lamports),
    owner: new PublicKey(account.programAddress),
    rentEpoch: 0,
  };
}
