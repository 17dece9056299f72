// Accounts in the RPC's JSON form (`UiAccount`), and the encoding, data slice and filter options
// that getAccountInfo, getProgramAccounts and the account and program subscriptions take.
import { SystemProgram, type AccountInfo, type GetProgramAccountsFilter, type PublicKey } from "@solana/web3.js";
import bs58 from "bs58";
import { ErrorCode, RpcError, integerParam, invalidParams, isObject } from "./jsonrpc";
import { parsedTokenData, type AccountLookup, type ParsedTokenData } from "./token-json";

/** The encodings served; `base64+zstd` is not. `jsonParsed` parses SPL token accounts and mints only. */
export type AccountEncoding = "base64" | "base58" | "binary" | "jsonParsed";

export interface DataSlice {
  offset: number;
  length: number;
}

export interface AccountEncodingConfig {
  encoding: AccountEncoding;
  dataSlice: DataSlice | null;
}

export interface UiAccount {
  data: [string, "base64" | "base58"] | string | ParsedTokenData;
  executable: boolean;
  lamports: number;
  owner: string;
  rentEpoch: number;
  space: number;
}

export interface UiKeyedAccount {
  pubkey: string;
  account: UiAccount;
}

/** The most bytes a node encodes in base 58 for a request, since base 58 is slow for long data. */
const MAX_BASE58_BYTES = 128;

/** The encoding options of a request; without one a node encodes "binary" (a bare base-58 string). */
export function accountEncodingConfig(config: Record<string, unknown>): AccountEncodingConfig {
  const encoding = encodingParam(config.encoding);
  const dataSlice = dataSliceParam(config.dataSlice);
  // A node refuses the combination rather than slicing parsed JSON.
  if (encoding === "jsonParsed" && dataSlice !== null) {
    throw new RpcError(ErrorCode.invalidRequest, "Sliced account data can only be encoded using binary (base 58) or base64 encoding.");
  }
  return { encoding, dataSlice };
}

/**
 * An account as a request answers it. A node refuses to encode more than 128 bytes in base 58 for a
 * request (subscriptions have no such limit: see uiAccount). `lookup` finds a token account's mint
 * for `jsonParsed`.
 */
export function requestedAccount(info: AccountInfo<Buffer>, config: AccountEncodingConfig, lookup: AccountLookup): UiAccount {
  const base58 = config.encoding === "base58" || config.encoding === "binary";
  if (base58 && sliced(info.data, config.dataSlice).length > MAX_BASE58_BYTES) {
    throw new RpcError(ErrorCode.invalidRequest, "Encoded binary (base 58) data should be less than 128 bytes, please use Base64 encoding.");
  }
  return uiAccount(info, config, lookup);
}

export function requestedKeyedAccount(pubkey: PublicKey, info: AccountInfo<Buffer>, config: AccountEncodingConfig, lookup: AccountLookup): UiKeyedAccount {
  return { pubkey: pubkey.toBase58(), account: requestedAccount(info, config, lookup) };
}

export function uiAccount(info: AccountInfo<Buffer>, { encoding, dataSlice }: AccountEncodingConfig, lookup: AccountLookup): UiAccount {
  const data = sliced(info.data, dataSlice);
  return {
    data: encoding === "jsonParsed" ? (parsedTokenData(info, lookup) ?? encodeData(data, "base64")) : encodeData(data, encoding),
    executable: info.executable,
    lamports: info.lamports,
    owner: info.owner.toBase58(),
    rentEpoch: info.rentEpoch ?? 0,
    space: info.data.length,
  };
}

export function uiKeyedAccount(pubkey: PublicKey, info: AccountInfo<Buffer>, config: AccountEncodingConfig, lookup: AccountLookup): UiKeyedAccount {
  return { pubkey: pubkey.toBase58(), account: uiAccount(info, config, lookup) };
}

function sliced(data: Buffer, dataSlice: DataSlice | null): Buffer {
  return dataSlice ? data.subarray(dataSlice.offset, dataSlice.offset + dataSlice.length) : data;
}

/**
 * What a node reports for an account that no longer exists, in a notification that must carry an
 * account: no lamports, no data, owned by the system program.
 */
export function closedAccount(): AccountInfo<Buffer> {
  return { data: Buffer.alloc(0), executable: false, lamports: 0, owner: SystemProgram.programId, rentEpoch: 0 };
}

/** getProgramAccounts and programSubscribe filters, checked and typed for `matchesFilters`. */
export function filtersParam(value: unknown): GetProgramAccountsFilter[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw invalidParams("filters must be an array");
  return value.map(filterParam);
}

function filterParam(value: unknown): GetProgramAccountsFilter {
  if (isObject(value) && "dataSize" in value) return { dataSize: integerParam(value.dataSize, "dataSize") };
  if (isObject(value) && isObject(value.memcmp)) {
    const { offset, bytes, encoding } = value.memcmp;
    if (typeof bytes !== "string") throw invalidParams("memcmp.bytes must be a string");
    if (encoding !== undefined && encoding !== "base58" && encoding !== "base64") throw invalidParams(`unsupported memcmp encoding ${String(encoding)}`);
    return { memcmp: { offset: integerParam(offset, "memcmp.offset"), bytes, encoding: encoding ?? "base58" } };
  }
  throw invalidParams(`unsupported filter ${JSON.stringify(value)}`);
}

function encodingParam(value: unknown): AccountEncoding {
  if (value === undefined || value === null) return "binary";
  if (value === "base64" || value === "base58" || value === "binary" || value === "jsonParsed") return value;
  throw invalidParams(`unsupported encoding ${JSON.stringify(value)}: localnet serves base64, base58, binary and jsonParsed`);
}

function dataSliceParam(value: unknown): DataSlice | null {
  if (value === undefined || value === null) return null;
  if (!isObject(value)) throw invalidParams("dataSlice must be an object");
  return { offset: integerParam(value.offset, "dataSlice.offset"), length: integerParam(value.length, "dataSlice.length") };
}

/** Base 64 is also what `jsonParsed` falls back to for an account it cannot parse, as on a node. */
function encodeData(data: Buffer, encoding: Exclude<AccountEncoding, "jsonParsed">): UiAccount["data"] {
  if (encoding === "base64") return [data.toString("base64"), "base64"];
  const base58 = bs58.encode(data);
  return encoding === "base58" ? [base58, "base58"] : base58;
}
