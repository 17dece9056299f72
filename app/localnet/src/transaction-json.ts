// Transactions in and out of the RPC's JSON: wire transactions decoded from base 58 or base 64, and
// processed ones rendered as getTransaction, getSignatureStatuses and simulateTransaction answer.
import { VersionedMessage, VersionedTransaction, type TransactionVersion } from "@solana/web3.js";
import { getBase58Decoder, getBase58Encoder } from "@solana/kit";
import { ErrorCode, RpcError, invalidParams } from "./jsonrpc";
import type { RpcTransactionError } from "./errors";
import type { ProcessedTransaction, Simulation } from "./ledger";

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

/** The binary encoding of a sent or simulated transaction; a node assumes base 58 without one. */
export function binaryEncodingParam(value: unknown): BinaryEncoding {
  if (value === undefined || value === null) return "base58";
  if (value === "base58" || value === "base64") return value;
  throw invalidParams(`unsupported encoding ${JSON.stringify(value)}: use base58 or base64`);
}

export function decodeBytes(encoded: unknown, encoding: BinaryEncoding): Uint8Array {
  if (typeof encoded !== "string") throw invalidParams(`expected a ${encoding} string`);
  try {
    return encoding === "base64" ? Buffer.from(encoded, "base64") : Uint8Array.from(getBase58Encoder().encode(encoded));
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

export function signatureStatus(processed: ProcessedTransaction): UiSignatureStatus {
  const err = processed.error?.rpc ?? null;
  // Everything the ledger processed is final at once; a rooted transaction has no confirmation count.
  return { slot: Number(processed.slot), confirmations: null, err, status: statusOf(err), confirmationStatus: "finalized" };
}

/** getTransaction's answer for a transaction the ledger executed. */
export function transactionWithMeta(processed: ProcessedTransaction & { transaction: VersionedTransaction }, query: TransactionQuery): object {
  const { transaction } = processed;
  checkVersion(transaction.version, query.maxSupportedTransactionVersion);
  return {
    slot: Number(processed.slot),
    blockTime: Number(processed.blockTime),
    meta: transactionMeta(processed),
    transaction: query.encoding === "json" ? uiTransaction(transaction) : encodeTransaction(transaction, query.encoding),
    ...(query.maxSupportedTransactionVersion === null ? {} : { version: transaction.version }),
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

function transactionMeta(processed: ProcessedTransaction): object {
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
    rewards: [],
    // Not recorded by the ledger; null is how a node says the data is unavailable.
    innerInstructions: null,
    preTokenBalances: null,
    postTokenBalances: null,
  };
}

function uiTransaction(transaction: VersionedTransaction): object {
  const { message } = transaction;
  return {
    signatures: transaction.signatures.map((signature) => getBase58Decoder().decode(signature)),
    message: {
      accountKeys: message.staticAccountKeys.map((key) => key.toBase58()),
      header: message.header,
      recentBlockhash: message.recentBlockhash,
      instructions: message.compiledInstructions.map(({ programIdIndex, accountKeyIndexes, data }) => ({
        programIdIndex,
        accounts: accountKeyIndexes,
        data: getBase58Decoder().decode(data),
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
  return [encoding === "base64" ? Buffer.from(bytes).toString("base64") : getBase58Decoder().decode(bytes), encoding];
}

function statusOf(err: RpcTransactionError | null): { Ok: null } | { Err: RpcTransactionError } {
  return err === null ? { Ok: null } : { Err: err };
}
