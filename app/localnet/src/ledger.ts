// The in-process cluster: one LiteSVM with the SPL programs and ours, a clock moved by slots, and a
// record of every transaction it executed.
import { randomBytes } from "node:crypto";
import {
  getTransactionDecoder,
  isFullySignedTransaction,
  lamports,
  type Address,
  type EncodedAccount,
  type Transaction as KitTransaction,
} from "@solana/kit";
import bs58 from "bs58";
import { FailedTransactionMetadata, LiteSVM, Rent, type TransactionMetadata } from "litesvm";
import {
  AddressLookupTableAccount,
  EpochSchedule,
  PublicKey,
  SystemProgram,
  VersionedTransaction,
  type AccountInfo,
  type LoadedAddresses,
  type Transaction,
  type VersionedMessage,
} from "@solana/web3.js";
import { describeFailure, namedError, type TransactionErrorInfo } from "./errors";
import { computeUnitPrice } from "./fees";
import { PrioritizationFees, type RecentPrioritizationFee } from "./prioritization-fees";

export interface ProgramToLoad {
  programId: PublicKey;
  /** Path of the program's compiled `.so`. */
  path: string;
}

export interface LedgerOptions {
  programs?: ProgramToLoad[];
  /** Blocks kept for getBlock, the latest ones; 10,000 by default (over an hour of 400 ms slots). */
  blocksKept?: number;
  /** Signatures kept per address for getSignaturesForAddress, the latest ones; 1,000 by default, a full page. */
  signaturesPerAddress?: number;
  /** Blocks a blockhash stays valid for; 150 by default, as on a real cluster. A cluster whose
   * slots are much shorter than 400 ms keeps more, so a blockhash lives as long in wall time. */
  blockhashValidity?: number;
}

/** How much history the ledger keeps, so that a long-running cluster's memory stays bounded. */
interface HistoryLimits {
  blocks: number;
  signaturesPerAddress: number;
  /** Blocks a blockhash stays valid for. */
  blockhashes: number;
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
  /** Unix time of the clock when it was processed. */
  blockTime: bigint;
  /**
   * Lamports it cost: what its accounts held before less what they hold after, which is exactly
   * the fee since a transaction moves lamports only among its own accounts. 0 unless it landed.
   */
  fee: bigint;
  /**
   * Lamports of each account it loads, before and after, in the RPC's order: the message's keys,
   * then the writable and the read-only addresses loaded from lookup tables. Empty unless a
   * transaction landed.
   */
  preBalances: bigint[];
  postBalances: bigint[];
  /** The SPL token accounts among them, before and after (as an RPC node's meta lists them). */
  preTokenBalances: TokenBalance[];
  postTokenBalances: TokenBalance[];
  /** Addresses a v0 transaction loaded from lookup tables; null for a legacy one or an airdrop. */
  loadedAddresses: LoadedAddresses | null;
}

/** An account as a transaction or a direct write left it; null where it no longer exists. */
export interface ChangedAccount {
  pubkey: PublicKey;
  account: AccountInfo<Buffer> | null;
}

/**
 * Follows what happens on the ledger, for subscriptions. Called synchronously after the change is
 * committed; an observer must not throw.
 */
export interface LedgerObserver {
  /**
   * A transaction landed, successfully or not, or an airdrop was credited (then
   * `processed.transaction` is null). `changed` lists the accounts whose lamports, owner, data or
   * executable flag it changed.
   */
  onTransaction?(processed: ProcessedTransaction, changed: ChangedAccount[]): void;
  /** An account was written directly with setAccount, outside any transaction. */
  onAccountWritten?(changed: ChangedAccount): void;
  /** The clock moved forward from `parent` to `slot`. */
  onSlot?(slot: bigint, parent: bigint): void;
}

/**
 * A block the ledger remembers: a slot the clock stopped at and the transactions that landed in it.
 * Its blockhash is the one the SlotHashes sysvar holds for the slot, so the chain of blocks agrees
 * with what programs see.
 */
export interface LedgerBlock {
  slot: bigint;
  parentSlot: bigint;
  blockhash: string;
  previousBlockhash: string;
  blockHeight: bigint;
  blockTime: bigint;
  /** The transactions that landed in it, in order; airdrops have none and are not listed. */
  signatures: string[];
}

/** Which page of an address's signatures to read, as getSignaturesForAddress asks for one. */
export interface SignaturePage {
  limit: number;
  /** Start with the signatures older than this one; an unknown one yields nothing, as on a node. */
  before: string | null;
  /** Stop at this one, excluding it; an unknown one does not stop the page. */
  until: string | null;
}

/** The Rent sysvar's three fields. */
export interface RentParameters {
  lamportsPerByteYear: bigint;
  exemptionThreshold: number;
  burnPercent: number;
}

/** The outcome of running a transaction without committing it. */
export interface Simulation {
  logs: string[];
  computeUnits: bigint;
  error: TransactionErrorInfo | null;
  /** The accounts the transaction loaded, as it would leave them; empty unless it succeeded. */
  postAccounts: KeyedAccount[];
  /** What the last program to set return data returned; null where none did or it failed. */
  returnData: ReturnData | null;
}

export interface ReturnData {
  programId: PublicKey;
  data: Buffer;
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

/**
 * An account a transaction loads, as it was before: in full where the transaction may write it,
 * to tell what it changed; only its lamports where it is read-only, since the runtime refuses any
 * change to a read-only account (and copying a program's whole executable would be wasted).
 */
type Snapshot =
  | { pubkey: PublicKey; writable: true; before: AccountInfo<Buffer> | null }
  | { pubkey: PublicKey; writable: false; lamports: bigint; token: TokenBalance | null };

/** An SPL token account's balance in a transaction's meta: its index among the keys, mint, owner, amount. */
export interface TokenBalance {
  accountIndex: number;
  mint: string;
  owner: string;
  programId: string;
  amount: bigint;
  decimals: number;
}

const TOKEN_PROGRAMS = new Set(["TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA", "TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb"]);
/** An SPL token account's size; a Token-2022 account with extensions is longer. */
const TOKEN_ACCOUNT_BYTES = 165;

/** A transaction in the three forms the ledger needs: LiteSVM's, web3.js's, and its signature. */
interface Prepared {
  kit: KitTransaction;
  versioned: VersionedTransaction;
  signatureBytes: Uint8Array;
  signature: string;
}

const MS_PER_SLOT = 400n;
/** How many blocks old a blockhash a transaction references may be, by default: 150, as on a real cluster. */
export const BLOCKHASH_VALIDITY = 150;
/** The most blockhashes remembered, however young: one per landed transaction while the clock stands. */
const MAX_BLOCKHASHES_KEPT = 100_000;
/** How many slots the SlotHashes sysvar remembers, as on a real cluster. */
const SLOT_HASHES = 512;
const DEFAULT_BLOCKS_KEPT = 10_000;
const DEFAULT_SIGNATURES_PER_ADDRESS = 1_000;
/** The previous blockhash a node reports for the first block, which has no parent: the zero hash. */
const NO_BLOCKHASH = "11111111111111111111111111111111";

export class Ledger {
  /** The first blockhash, which stands for the genesis hash that identifies a cluster. */
  readonly genesisHash: string;
  private readonly records = new Map<string, ProcessedTransaction>();
  /** Blockhashes still valid, each with the block height it was issued at, oldest first. */
  private readonly recentBlockhashes = new Map<string, bigint>();
  private readonly observers = new Set<LedgerObserver>();
  private height: bigint;
  private readonly fees: PrioritizationFees;
  /** Remembered blocks by slot, oldest first (a Map keeps insertion order). */
  private readonly blocks = new Map<bigint, LedgerBlock>();
  private currentBlock: LedgerBlock;
  /** Each landed transaction's place in landing order, to page signatures by `before` and `until`. */
  private readonly landingOrder = new Map<string, number>();
  /** Per address (base 58), the latest signatures of landed transactions that loaded it, oldest first. */
  private readonly addressSignatures = new Map<string, string[]>();
  /** Every address a transaction, an airdrop or a direct write changed: what a saved state holds. */
  private readonly written = new Set<string>();

  private constructor(
    private readonly svm: LiteSVM,
    private readonly origin: ClockOrigin,
    private readonly limits: HistoryLimits,
  ) {
    this.genesisHash = svm.latestBlockhash();
    this.height = origin.slot;
    this.recentBlockhashes.set(this.genesisHash, this.height);
    this.fees = new PrioritizationFees(origin.slot);
    this.recordSlotHash(origin.slot);
    // The first block is its own parent, as slot 0 is on a node.
    this.currentBlock = this.openBlock(origin.slot, origin.slot, NO_BLOCKHASH, origin.unixTimestamp);
    this.observe({
      onTransaction: (_, changed) => changed.forEach(({ pubkey }) => this.written.add(pubkey.toBase58())),
      onAccountWritten: ({ pubkey }) => this.written.add(pubkey.toBase58()),
    });
  }

  /**
   * The accounts that exist now of every address changed since the ledger was created: with the
   * programs loaded from files and the slot, the whole state a restart needs (sysvars and
   * builtins come with any new ledger).
   */
  writtenAccounts(): KeyedAccount[] {
    return [...this.written].flatMap((address) => {
      const pubkey = new PublicKey(address);
      const account = this.getAccount(pubkey);
      return account ? [{ pubkey, account }] : [];
    });
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
    const limits = {
      blocks: positiveLimit(options.blocksKept ?? DEFAULT_BLOCKS_KEPT, "blocksKept"),
      signaturesPerAddress: positiveLimit(options.signaturesPerAddress ?? DEFAULT_SIGNATURES_PER_ADDRESS, "signaturesPerAddress"),
      blockhashes: positiveLimit(options.blockhashValidity ?? BLOCKHASH_VALIDITY, "blockhashValidity"),
    };
    return new Ledger(svm, { slot: clock.slot, unixTimestamp: clock.unixTimestamp }, limits);
  }

  /**
   * Executes a signed transaction and commits its effects if it succeeds. Never throws for a
   * failed transaction: the failure is in the result, and an executed one is recorded either way.
   */
  process(tx: Transaction | VersionedTransaction): ProcessedTransaction {
    const prepared = prepare(tx);
    const loadedAddresses = this.loadedAddresses(prepared.versioned.message);
    const snapshots = this.snapshot(prepared.versioned.message, loadedAddresses);
    const refusal = this.precheck(prepared, true);
    const outcome = refusal ? refused(refusal) : executed(this.svm.sendTransaction(prepared.kit), prepared.signatureBytes);
    const processed: ProcessedTransaction = {
      ...outcome,
      signature: prepared.signature,
      slot: this.slot,
      transaction: prepared.versioned,
      blockTime: this.svm.getClock().unixTimestamp,
      fee: 0n,
      preBalances: [],
      postBalances: [],
      preTokenBalances: [],
      postTokenBalances: [],
      loadedAddresses,
    };
    if (!processed.landed) return processed;
    const changed = this.settle(processed, snapshots);
    this.records.set(processed.signature, processed);
    this.index(processed.signature, snapshots.map(({ pubkey }) => pubkey));
    this.fees.record(computeUnitPrice(prepared.versioned.message), writableAccounts(prepared.versioned.message, loadedAddresses));
    // Each landed transaction closes its "block": the next one gets a fresh blockhash, so the
    // same instructions from the same payer sign differently and are not taken for a replay.
    this.nextBlockhash();
    this.notify((observer) => observer.onTransaction?.(processed, changed));
    return processed;
  }

  /** Runs a transaction against the current state without committing anything or recording it. */
  simulate(tx: Transaction | VersionedTransaction, { sigVerify = true }: SimulateOptions = {}): Simulation {
    const prepared = prepare(tx);
    const refusal = this.precheck(prepared, sigVerify);
    if (refusal) return { logs: [], computeUnits: 0n, error: refusal, postAccounts: [], returnData: null };
    this.svm.withSigverify(sigVerify);
    try {
      const result = this.svm.simulateTransaction(prepared.kit);
      const meta = result.meta();
      const failed = result instanceof FailedTransactionMetadata;
      return {
        logs: meta.logs(),
        computeUnits: meta.computeUnitsConsumed(),
        error: failed ? describeFailure(result) : null,
        postAccounts: failed ? [] : result.postAccounts().map(toKeyedAccount),
        returnData: failed ? null : returnDataOf(meta),
      };
    } finally {
      this.svm.withSigverify(true);
    }
  }

  /** A transaction the ledger executed (or an airdrop), by signature. */
  getTransaction(signature: string): ProcessedTransaction | null {
    return this.records.get(signature) ?? null;
  }

  /**
   * Landed transactions that loaded `address` (as a signer, writable, read-only or program
   * account), newest first. Only the latest `signaturesPerAddress` of each address are kept.
   */
  signaturesForAddress(address: PublicKey, page: SignaturePage): ProcessedTransaction[] {
    const signatures = this.addressSignatures.get(address.toBase58()) ?? [];
    const before = page.before === null ? Infinity : this.landingOrder.get(page.before);
    if (before === undefined) return [];
    const until = (page.until === null ? undefined : this.landingOrder.get(page.until)) ?? -1;
    const found: ProcessedTransaction[] = [];
    for (let i = signatures.length - 1; i >= 0 && found.length < page.limit; i--) {
      const position = this.landingOrder.get(signatures[i]) ?? -1;
      if (position <= until) break;
      if (position < before) found.push(this.records.get(signatures[i]) as ProcessedTransaction);
    }
    return found;
  }

  /** The block of `slot`, the current one included (it grows as transactions land); null if none is kept. */
  getBlock(slot: bigint): LedgerBlock | null {
    return this.blocks.get(slot) ?? null;
  }

  /** The oldest slot whose block is still kept. */
  firstAvailableBlock(): bigint {
    return this.blocks.keys().next().value ?? this.currentBlock.slot;
  }

  getAccount(pubkey: PublicKey): AccountInfo<Buffer> | null {
    const account = this.svm.getAccount(toAddress(pubkey));
    return account.exists ? toAccountInfo(account) : null;
  }

  /** Every account owned by `programId`. */
  getProgramAccounts(programId: PublicKey): KeyedAccount[] {
    return this.svm.getProgramAccounts(toAddress(programId)).map(toKeyedAccount);
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
    const changed = { pubkey, account: this.getAccount(pubkey) };
    this.notify((observer) => observer.onAccountWritten?.(changed));
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
    const signature = bs58.encode(randomBytes(64));
    const record: ProcessedTransaction = {
      signature,
      slot: this.slot,
      logs: [],
      computeUnits: 0n,
      error: null,
      landed: true,
      transaction: null,
      blockTime: this.svm.getClock().unixTimestamp,
      fee: 0n,
      preBalances: [],
      postBalances: [],
      preTokenBalances: [],
      postTokenBalances: [],
      loadedAddresses: null,
    };
    this.records.set(signature, record);
    const changed = [{ pubkey, account: this.getAccount(pubkey) }];
    this.notify((observer) => observer.onTransaction?.(record, changed));
    return signature;
  }

  get slot(): bigint {
    return this.svm.getClock().slot;
  }

  /**
   * Blocks produced: one each time the clock moves, however far. Slots a warp jumps over are
   * skipped slots, which produce no block on a real cluster either, so a warp does not age the
   * `lastValidBlockHeight` clients were given by more than one block.
   */
  get blockHeight(): bigint {
    return this.height;
  }

  /** Moves the Clock sysvar to `slot`, its timestamp 400 ms a slot after the start. Never backwards. */
  warpToSlot(slot: bigint): void {
    const clock = this.svm.getClock();
    if (slot < clock.slot) throw new Error(`the clock only moves forward: slot ${slot} is before ${clock.slot}`);
    const parent = clock.slot;
    clock.slot = slot;
    clock.unixTimestamp = timestampAt(this.origin, slot);
    this.svm.setClock(clock);
    if (slot === parent) return;
    this.height += 1n;
    // A new block has a new blockhash, as on a real cluster: one signed before it ages by a block.
    this.nextBlockhash();
    this.recordSlotHash(slot);
    this.currentBlock = this.openBlock(slot, parent, this.currentBlock.blockhash, clock.unixTimestamp);
    this.fees.openBlock(slot);
    this.notify((observer) => observer.onSlot?.(slot, parent));
  }

  advanceSlots(slots: bigint): void {
    this.warpToSlot(this.slot + slots);
  }

  /** `getRecentPrioritizationFees` for transactions writing `accounts` (base58), oldest block first. */
  recentPrioritizationFees(accounts: string[]): RecentPrioritizationFee[] {
    return this.fees.recent(accounts);
  }

  /** The blockhash a new transaction should reference. */
  latestBlockhash(): string {
    return this.svm.latestBlockhash();
  }

  /** The last block height at which a transaction referencing the latest blockhash still lands. */
  lastValidBlockHeight(): number {
    return Number(this.height) + this.limits.blockhashes;
  }

  /** Whether a transaction referencing `blockhash` would be accepted. */
  isBlockhashValid(blockhash: string): boolean {
    return this.recentBlockhashes.has(blockhash);
  }

  minimumBalanceForRentExemption(bytes: number): bigint {
    return this.svm.minimumBalanceForRentExemption(BigInt(bytes));
  }

  /** The Rent sysvar's parameters. */
  rent(): RentParameters {
    const rent = this.svm.getRent();
    return { lamportsPerByteYear: rent.lamportsPerByteYear, exemptionThreshold: rent.exemptionThreshold, burnPercent: rent.burnPercent };
  }

  /** Replaces the Rent sysvar, e.g. with the older parameters (3,480 lamports per byte-year,
   * threshold 2.0) that some clusters still carry. */
  setRent(parameters: RentParameters): void {
    this.svm.setRent(new Rent(parameters.lamportsPerByteYear, parameters.exemptionThreshold, parameters.burnPercent));
  }

  /** The EpochSchedule sysvar, with web3.js's epoch arithmetic. */
  epochSchedule(): EpochSchedule {
    const schedule = this.svm.getEpochSchedule();
    return new EpochSchedule(
      Number(schedule.slotsPerEpoch),
      Number(schedule.leaderScheduleSlotOffset),
      schedule.warmup,
      Number(schedule.firstNormalEpoch),
      Number(schedule.firstNormalSlot),
    );
  }

  /** Registers an observer of transactions, direct writes and slots; returns its removal. */
  observe(observer: LedgerObserver): () => void {
    this.observers.add(observer);
    return () => this.observers.delete(observer);
  }

  private notify(call: (observer: LedgerObserver) => void): void {
    for (const observer of this.observers) call(observer);
  }

  /**
   * The lookup-table addresses a v0 message loads. Null for a legacy message, and for one whose
   * tables are missing or too short: the runtime refuses that transaction before executing it.
   */
  private loadedAddresses(message: VersionedMessage): LoadedAddresses | null {
    if (message.version === "legacy") return null;
    const tables: AddressLookupTableAccount[] = [];
    for (const { accountKey } of message.addressTableLookups) {
      const info = this.getAccount(accountKey);
      if (info === null) return null;
      tables.push(new AddressLookupTableAccount({ key: accountKey, state: AddressLookupTableAccount.deserialize(info.data) }));
    }
    try {
      return message.resolveAddressTableLookups(tables);
    } catch {
      return null;
    }
  }

  private snapshot(message: VersionedMessage, loaded: LoadedAddresses | null): Snapshot[] {
    return accountKeys(message, loaded).map((pubkey, i): Snapshot => {
      if (message.isAccountWritable(i)) return { pubkey, writable: true, before: this.getAccount(pubkey) };
      return { pubkey, writable: false, lamports: this.svm.getBalance(toAddress(pubkey)) ?? 0n, token: this.tokenBalance(i, this.getAccount(pubkey)) };
    });
  }

  /** The token balance of `account` (key `index` of a transaction), if it is an SPL token account. */
  private tokenBalance(index: number, account: AccountInfo<Buffer> | null): TokenBalance | null {
    if (!account || !TOKEN_PROGRAMS.has(account.owner.toBase58()) || account.data.length < TOKEN_ACCOUNT_BYTES) return null;
    const data = account.data;
    const mint = new PublicKey(data.subarray(0, 32));
    // A mint's decimals are its byte 44; an account whose mint is gone reports none.
    const mintData = this.getAccount(mint)?.data;
    return { accountIndex: index, mint: mint.toBase58(), owner: new PublicKey(data.subarray(32, 64)).toBase58(), programId: account.owner.toBase58(), amount: data.readBigUInt64LE(64), decimals: mintData && mintData.length > 44 ? mintData[44] : 0 };
  }

  /** Fills in a landed transaction's fee and balances; returns the accounts it changed. */
  private settle(processed: ProcessedTransaction, snapshots: Snapshot[]): ChangedAccount[] {
    const changed: ChangedAccount[] = [];
    for (const [i, snapshot] of snapshots.entries()) {
      if (!snapshot.writable) {
        processed.preBalances.push(snapshot.lamports);
        processed.postBalances.push(snapshot.lamports);
        if (snapshot.token) processed.preTokenBalances.push(snapshot.token);
        if (snapshot.token) processed.postTokenBalances.push(snapshot.token);
        continue;
      }
      const { pubkey, before } = snapshot;
      const account = this.getAccount(pubkey);
      processed.preBalances.push(BigInt(before?.lamports ?? 0));
      processed.postBalances.push(BigInt(account?.lamports ?? 0));
      const [pre, post] = [this.tokenBalance(i, before), this.tokenBalance(i, account)];
      if (pre) processed.preTokenBalances.push(pre);
      if (post) processed.postTokenBalances.push(post);
      if (!sameAccount(before, account)) changed.push({ pubkey, account });
    }
    processed.fee = sum(processed.preBalances) - sum(processed.postBalances);
    return changed;
  }

  /** Why the cluster would refuse the transaction before executing it, if it would. */
  private precheck(prepared: Prepared, sigVerify: boolean): TransactionErrorInfo | null {
    // LiteSVM throws on a missing signature rather than failing the transaction; a real cluster
    // fails it signature verification.
    if (sigVerify && !isFullySignedTransaction(prepared.kit)) return namedError("SignatureFailure");
    if (!this.recentBlockhashes.has(prepared.versioned.message.recentBlockhash)) return namedError("BlockhashNotFound");
    return null;
  }

  /**
   * Puts `slot` at the head of the SlotHashes sysvar (LiteSVM leaves it at one entry of its own), so
   * that an address lookup table can be created for any slot a client was told of. The current slot
   * is included: here a transaction runs in the slot a client just read, where a real cluster would
   * run it in a later one, whose SlotHashes holds the slot read.
   */
  private recordSlotHash(slot: bigint): void {
    const older = this.svm.getSlotHashes().filter((entry) => entry.slot < slot);
    // The binding has no constructor for an entry: a copy of one read back is filled in instead.
    const [head] = this.svm.getSlotHashes();
    head.slot = slot;
    head.hash = this.svm.latestBlockhash();
    this.svm.setSlotHashes([head, ...older].slice(0, SLOT_HASHES));
  }

  /** Starts the block of `slot`, forgetting the oldest one kept if there are too many. */
  private openBlock(slot: bigint, parentSlot: bigint, previousBlockhash: string, blockTime: bigint): LedgerBlock {
    const block: LedgerBlock = {
      slot,
      parentSlot,
      blockhash: this.svm.latestBlockhash(),
      previousBlockhash,
      blockHeight: this.height,
      blockTime,
      signatures: [],
    };
    this.blocks.set(slot, block);
    if (this.blocks.size > this.limits.blocks) this.blocks.delete(this.blocks.keys().next().value as bigint);
    return block;
  }

  /** Records a landed transaction in its block and under every address it loaded. */
  private index(signature: string, keys: PublicKey[]): void {
    this.currentBlock.signatures.push(signature);
    this.landingOrder.set(signature, this.landingOrder.size);
    for (const key of new Set(keys.map((pubkey) => pubkey.toBase58()))) {
      const signatures = this.addressSignatures.get(key);
      if (!signatures) {
        this.addressSignatures.set(key, [signature]);
        continue;
      }
      signatures.push(signature);
      if (signatures.length > this.limits.signaturesPerAddress) signatures.shift();
    }
  }

  private nextBlockhash(): void {
    this.svm.expireBlockhash();
    this.recentBlockhashes.set(this.svm.latestBlockhash(), this.height);
    // A blockhash ages by blocks, as on a node, however many transactions land in one (each gets
    // a blockhash of its own here, where a node's block has one for all of them).
    // A clock that stands still (tests) would keep them all: past a bound, the oldest go.
    for (const [hash, issuedAt] of this.recentBlockhashes) {
      if (this.height - issuedAt < BigInt(this.limits.blockhashes) && this.recentBlockhashes.size <= MAX_BLOCKHASHES_KEPT) break;
      this.recentBlockhashes.delete(hash);
    }
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
    signature: bs58.encode(signatureBytes),
  };
}

function positiveLimit(value: number, name: string): number {
  if (!Number.isSafeInteger(value) || value < 1) throw new Error(`Ledger.create: ${name} must be a positive integer, not ${value}`);
  return value;
}

function timestampAt(origin: ClockOrigin, slot: bigint): bigint {
  return origin.unixTimestamp + ((slot - origin.slot) * MS_PER_SLOT) / 1000n;
}

/** A PublicKey is 32 bytes by construction, so its base58 text is a valid address: kit's check
 * (which decodes it again) is skipped on this hot path. */
function toAddress(pubkey: PublicKey): Address {
  return pubkey.toBase58() as Address;
}

/** Owners repeat (a handful of programs own every account): each is decoded from base58 once. */
const owners = new Map<string, PublicKey>();
function ownerKey(programAddress: Address): PublicKey {
  let key = owners.get(programAddress);
  if (!key) {
    key = new PublicKey(programAddress);
    if (owners.size < 4096) owners.set(programAddress, key);
  }
  return key;
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

/** Every account a message loads, in the RPC's order: its own keys, then the looked-up writable and read-only ones. */
function accountKeys(message: VersionedMessage, loaded: LoadedAddresses | null): PublicKey[] {
  const keys = message.getAccountKeys({ accountKeysFromLookups: loaded ?? { writable: [], readonly: [] } });
  return keys.keySegments().flat();
}

function sameAccount(a: AccountInfo<Buffer> | null, b: AccountInfo<Buffer> | null): boolean {
  if (a === null || b === null) return a === b;
  return a.lamports === b.lamports && a.executable === b.executable && a.owner.equals(b.owner) && a.data.equals(b.data);
}

function sum(values: bigint[]): bigint {
  return values.reduce((total, value) => total + value, 0n);
}

function returnDataOf(meta: TransactionMetadata): ReturnData | null {
  const returned = meta.returnData();
  const data = Buffer.from(returned.data());
  return data.length === 0 ? null : { programId: new PublicKey(returned.programId()), data };
}

function toKeyedAccount(account: EncodedAccount): KeyedAccount {
  return { pubkey: new PublicKey(account.address), account: toAccountInfo(account) };
}

function toAccountInfo(account: EncodedAccount): AccountInfo<Buffer> {
  return {
    data: Buffer.from(account.data.buffer, account.data.byteOffset, account.data.byteLength),
    executable: account.executable,
    lamports: Number(account.lamports),
    owner: ownerKey(account.programAddress),
    rentEpoch: 0,
  };
}

/** The accounts `message` write-locks, its lookup tables' included. */
function writableAccounts(message: VersionedMessage, loaded: LoadedAddresses | null): string[] {
  const own = message.staticAccountKeys.filter((_, i) => message.isAccountWritable(i)).map((key) => key.toBase58());
  return [...own, ...(loaded?.writable ?? []).map((key) => key.toBase58())];
}
