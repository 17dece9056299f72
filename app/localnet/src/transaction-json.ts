// Transactions in and out of the RPC's JSON: wire transactions decoded from base 58 or base 64, and
// processed ones rendered as getTransaction, getBlock, getSignatureStatuses,
// getSignaturesForAddress and simulateTransaction answer.
import { VersionedMessage, VersionedTransaction, type LoadedAddresses, type TransactionVersion } from "@solana/web3.js";
import bs58 from "bs58";
import { ErrorCode, RpcError, invalidParams } from "./jsonrpc";
import type { RpcTransactionError } from "./errors";
import type { LedgerBlock, ProcessedTransaction, Simulation, TokenBalance } from "./ledger";

export type BinaryEncoding = "base58" | "base64";

export interface UiSignatureStatus {
  slot: number;
  confirmations: null;
  err: RpcTransactionError | null;
  status: { Ok: null } | { Err: RpcTransactionError };
  confirmationStatus: "finalized";
}

/** Options of getTransaction that change its answer. */
export interface TransactionQuery {
  encoding: "json" | BinaryEncoding;
  maxSupportedTransactionVersion: number | null;
}

/** How much of each transaction getBlock lists: all of it, its accounts, its signature, or nothing. */
export type TransactionDetails = "full" | "accounts" | "signatures" | "none";

/** Options of getBlock that change its answer. */
export interface BlockQuery extends TransactionQuery {
  transactionDetails: TransactionDetails;
  rewards: boolean;
}

/** A transaction that was executed, so it has one (an airdrop has none). */
export type LandedTransaction = ProcessedTransaction & { transaction: VersionedTransaction };

/** One entry of getSignaturesForAddress. */
export interface UiSignatureInfo {
  signature: string;
  slot: number;
  err: RpcTransactionError | null;
  /** Memo program instructions are not read, so there is never a memo to report. */
  memo: null;
  blockTime: number;
  confirmationStatus: "finalized";
}

interface UiTransactionMeta {
  err: RpcTransactionError | null;
  status: { Ok: null } | { Err: RpcTransactionError };
  fee: number;
  preBalances: number[];
  postBalances: number[];
  logMessages: string[];
  computeUnitsConsumed: number;
  loadedAddresses: { writable: string[]; readonly: string[] };
  /** No rewards are paid here; the field is there unless the client asked for no rewards. */
  rewards?: [];
  innerInstructions: null;
  preTokenBalances: UiTokenBalance[];
  postTokenBalances: UiTokenBalance[];
}

/** A token account's balance as the RPC's meta gives it. */
interface UiTokenBalance {
  accountIndex: number;
  mint: string;
  owner: string;
  programId: string;
  uiTokenAmount: { amount: string; decimals: number; uiAmount: number | null; uiAmountString: string };
}

function uiTokenBalance(balance: TokenBalance): UiTokenBalance {
  const { accountIndex, mint, owner, programId, amount, decimals } = balance;
  const scale = 10n ** BigInt(decimals);
  const fraction = (amount % scale).toString().padStart(decimals, "0").replace(/0+$/, "");
  const uiAmountString = `${amount / scale}${fraction ? `.${fraction}` : ""}`;
  return { accountIndex, mint, owner, programId, uiTokenAmount: { amount: amount.toString(), decimals, uiAmount: Number(uiAmountString), uiAmountString } };
}

/** A key of a transaction as getBlock lists it with transactionDetails "accounts". */
interface UiAccountKey {
  pubkey: string;
  writable: boolean;
  signer: boolean;
  source: "transaction" | "lookupTable";
}

const TRANSACTION_DETAILS: readonly TransactionDetails[] = ["full", "accounts", "signatures", "none"];

/** The binary encoding of a sent or simulated transaction; a node assumes base 58 without one. */
export function binaryEncodingParam(value: unknown): BinaryEncoding {
  if (value === undefined || value === null) return "base58";
  if (value === "base58" || value === "base64") return value;
  throw invalidParams(`unsupported encoding ${JSON.stringify(value)}: use base58 or base64`);
}

export function decodeBytes(encoded: unknown, encoding: BinaryEncoding): Uint8Array {
  if (typeof encoded !== "string") throw invalidParams(`expected a ${encoding} string`);
  try {
    return encoding === "base64" ? Buffer.from(encoded, "base64") : bs58.decode(encoded);
  } catch {
    throw invalidParams(`invalid ${encoding} encoding`);
  }
}

export function decodeTransaction(encoded: unknown, encoding: BinaryEncoding): VersionedTransaction {
  const bytes = decodeBytes(encoded, encoding);
  let transaction: VersionedTransaction;
  try {
    transaction = VersionedTransaction.deserialize(bytes);
  } catch (error) {
    throw invalidParams(`failed to deserialize the transaction: ${error instanceof Error ? error.message : String(error)}`);
  }
  // The ledger names a transaction by its first signature, so one without any cannot be processed;
  // a node refuses it at sanitization too.
  const required = transaction.message.header.numRequiredSignatures;
  if (required === 0 || transaction.signatures.length !== required) {
    throw invalidParams("invalid transaction: its signatures do not match the message header");
  }
  return transaction;
}

export function decodeMessage(encoded: unknown): VersionedMessage {
  const bytes = decodeBytes(encoded, "base64");
  try {
    return VersionedMessage.deserialize(bytes);
  } catch (error) {
    throw invalidParams(`failed to deserialize the message: ${error instanceof Error ? error.message : String(error)}`);
  }
}

export function transactionQuery(config: Record<string, unknown>): TransactionQuery {
  const { encoding, maxSupportedTransactionVersion: max } = config;
  if (encoding !== undefined && encoding !== "json" && encoding !== "base58" && encoding !== "base64") {
    throw invalidParams(`unsupported encoding ${JSON.stringify(encoding)}: localnet serves json, base58 and base64`);
  }
  if (max !== undefined && max !== null && max !== 0) throw invalidParams("maxSupportedTransactionVersion must be 0");
  return { encoding: encoding ?? "json", maxSupportedTransactionVersion: max ?? null };
}

/** getBlock's options; a node lists full transactions with rewards unless asked otherwise. */
export function blockQuery(config: Record<string, unknown>): BlockQuery {
  const { transactionDetails = "full", rewards = true } = config;
  if (!TRANSACTION_DETAILS.includes(transactionDetails as TransactionDetails)) {
    throw invalidParams(`unsupported transactionDetails ${JSON.stringify(transactionDetails)}: use ${TRANSACTION_DETAILS.join(", ")}`);
  }
  if (typeof rewards !== "boolean") throw invalidParams("rewards must be a boolean");
  return { ...transactionQuery(config), transactionDetails: transactionDetails as TransactionDetails, rewards };
}

export function signatureStatus(processed: ProcessedTransaction): UiSignatureStatus {
  const err = processed.error?.rpc ?? null;
  // Everything the ledger processed is final at once; a rooted transaction has no confirmation count.
  return { slot: Number(processed.slot), confirmations: null, err, status: statusOf(err), confirmationStatus: "finalized" };
}

/** getTransaction's answer for a transaction the ledger executed. */
export function transactionWithMeta(processed: LandedTransaction, query: TransactionQuery): object {
  return { slot: Number(processed.slot), blockTime: Number(processed.blockTime), ...encodedTransaction(processed, query, true) };
}

/** A transaction with its meta, as getTransaction answers it and a "full" getBlock lists it. */
function encodedTransaction(processed: LandedTransaction, query: TransactionQuery, rewards: boolean): object {
  const { transaction } = processed;
  checkVersion(transaction.version, query.maxSupportedTransactionVersion);
  return {
    meta: transactionMeta(processed, rewards),
    transaction: query.encoding === "json" ? uiTransaction(transaction) : encodeTransaction(transaction, query.encoding),
    ...versionField(transaction, query),
  };
}

/** A transaction as an "accounts" getBlock lists it: its signatures and keys, and the balance part of its meta. */
function accountsTransaction(processed: LandedTransaction, query: TransactionQuery, rewards: boolean): object {
  const { transaction } = processed;
  checkVersion(transaction.version, query.maxSupportedTransactionVersion);
  const { err, status, fee, preBalances, postBalances, preTokenBalances, postTokenBalances } = transactionMeta(processed, false);
  return {
    meta: { err, status, fee, preBalances, postBalances, preTokenBalances, postTokenBalances, ...(rewards ? { rewards: [] } : {}) },
    transaction: {
      signatures: transaction.signatures.map((signature) => bs58.encode(signature)),
      accountKeys: uiAccountKeys(transaction.message, processed.loadedAddresses),
    },
    ...versionField(transaction, query),
  };
}

/**
 * getBlock's answer for a block the ledger keeps. A v0 transaction in it fails the whole request
 * without maxSupportedTransactionVersion, as on a node, unless only signatures (or nothing) are listed.
 */
export function uiBlock(block: LedgerBlock, transactions: LandedTransaction[], query: BlockQuery): object {
  return {
    blockHeight: Number(block.blockHeight),
    blockTime: Number(block.blockTime),
    blockhash: block.blockhash,
    parentSlot: Number(block.parentSlot),
    previousBlockhash: block.previousBlockhash,
    ...blockTransactions(transactions, query),
    ...(query.rewards ? { rewards: [] } : {}),
  };
}

function blockTransactions(transactions: LandedTransaction[], query: BlockQuery): object {
  switch (query.transactionDetails) {
    case "full":
      return { transactions: transactions.map((processed) => encodedTransaction(processed, query, query.rewards)) };
    case "accounts":
      return { transactions: transactions.map((processed) => accountsTransaction(processed, query, query.rewards)) };
    case "signatures":
      return { signatures: transactions.map(({ signature }) => signature) };
    case "none":
      return {};
  }
}

/** getSignaturesForAddress's entry for a transaction the ledger executed. */
export function signatureInfo(processed: ProcessedTransaction): UiSignatureInfo {
  return {
    signature: processed.signature,
    slot: Number(processed.slot),
    err: processed.error?.rpc ?? null,
    memo: null,
    blockTime: Number(processed.blockTime),
    confirmationStatus: "finalized",
  };
}

/** simulateTransaction's value, and the data of a failed preflight. */
export function simulationValue(simulation: Simulation, accounts: unknown[] | null): object {
  const { returnData } = simulation;
  return {
    err: simulation.error?.rpc ?? null,
    logs: simulation.logs,
    accounts,
    unitsConsumed: Number(simulation.computeUnits),
    returnData: returnData && { programId: returnData.programId.toBase58(), data: [returnData.data.toString("base64"), "base64"] },
    // Inner instructions are not recorded by the ledger.
    innerInstructions: null,
  };
}

function checkVersion(version: TransactionVersion, max: number | null): void {
  if (version === "legacy" || (max !== null && version <= max)) return;
  throw new RpcError(
    ErrorCode.unsupportedTransactionVersion,
    `Transaction version (${version}) is not supported by the requesting client. ` +
      'Please try the request again with the following configuration parameter: "maxSupportedTransactionVersion": 0',
  );
}

/** The version is reported only to a client that said which versions it supports. */
function versionField(transaction: VersionedTransaction, query: TransactionQuery): { version?: TransactionVersion } {
  return query.maxSupportedTransactionVersion === null ? {} : { version: transaction.version };
}

/** Every key a message loads, in the RPC's order, with its flags and where it came from. */
function uiAccountKeys(message: VersionedMessage, loaded: LoadedAddresses | null): UiAccountKey[] {
  const own = message.staticAccountKeys.map((key, i): UiAccountKey => ({
    pubkey: key.toBase58(),
    writable: message.isAccountWritable(i),
    signer: message.isAccountSigner(i),
    source: "transaction",
  }));
  const lookedUp = (keys: LoadedAddresses["writable"], writable: boolean): UiAccountKey[] =>
    keys.map((key) => ({ pubkey: key.toBase58(), writable, signer: false, source: "lookupTable" }));
  return [...own, ...lookedUp(loaded?.writable ?? [], true), ...lookedUp(loaded?.readonly ?? [], false)];
}

/** The meta of a landed transaction; `rewards` is left out where the client asked for no rewards. */
function transactionMeta(processed: ProcessedTransaction, rewards: boolean): UiTransactionMeta {
  const err = processed.error?.rpc ?? null;
  const loaded = processed.loadedAddresses;
  return {
    err,
    status: statusOf(err),
    fee: Number(processed.fee),
    preBalances: processed.preBalances.map(Number),
    postBalances: processed.postBalances.map(Number),
    logMessages: processed.logs,
    computeUnitsConsumed: Number(processed.computeUnits),
    loadedAddresses: {
      writable: loaded?.writable.map((key) => key.toBase58()) ?? [],
      readonly: loaded?.readonly.map((key) => key.toBase58()) ?? [],
    },
    ...(rewards ? { rewards: [] } : {}),
    // Not recorded by the ledger; null is how a node says the data is unavailable.
    innerInstructions: null,
    preTokenBalances: processed.preTokenBalances.map(uiTokenBalance),
    postTokenBalances: processed.postTokenBalances.map(uiTokenBalance),
  };
}

function uiTransaction(transaction: VersionedTransaction): object {
  const { message } = transaction;
  return {
    signatures: transaction.signatures.map((signature) => bs58.encode(signature)),
    message: {
      accountKeys: message.staticAccountKeys.map((key) => key.toBase58()),
      header: message.header,
      recentBlockhash: message.recentBlockhash,
      instructions: message.compiledInstructions.map(({ programIdIndex, accountKeyIndexes, data }) => ({
        programIdIndex,
        accounts: accountKeyIndexes,
        data: bs58.encode(data),
        stackHeight: null,
      })),
      ...(message.version === "legacy" ? {} : { addressTableLookups: message.addressTableLookups.map(uiLookup) }),
    },
  };
}

function uiLookup({ accountKey, writableIndexes, readonlyIndexes }: VersionedMessage["addressTableLookups"][number]): object {
  return { accountKey: accountKey.toBase58(), writableIndexes, readonlyIndexes };
}

function encodeTransaction(transaction: VersionedTransaction, encoding: BinaryEncoding): [string, BinaryEncoding] {
  const bytes = transaction.serialize();
  return [encoding === "base64" ? Buffer.from(bytes).toString("base64") : bs58.encode(bytes), encoding];
}

function statusOf(err: RpcTransactionError | null): { Ok: null } | { Err: RpcTransactionError } {
  return err === null ? { Ok: null } : { Err: err };
}
