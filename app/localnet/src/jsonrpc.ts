// JSON-RPC 2.0 envelopes, Solana's error codes and the parameter readers shared by the HTTP
// methods and the PubSub ones.
import { PublicKey } from "@solana/web3.js";

export type JsonRpcId = string | number | null;

export interface JsonRpcRequest {
  jsonrpc: "2.0";
  id: JsonRpcId;
  method: string;
  params: unknown[];
}

export interface JsonRpcErrorObject {
  code: number;
  message: string;
  data?: unknown;
}

export type JsonRpcResponse =
  | { jsonrpc: "2.0"; id: JsonRpcId; result: unknown }
  | { jsonrpc: "2.0"; id: JsonRpcId; error: JsonRpcErrorObject };

/** One request served, for the server's optional request log. */
export interface RequestLogEntry {
  transport: "http" | "ws";
  method: string;
  id: JsonRpcId;
  ms: number;
  error: JsonRpcErrorObject | null;
}

export type RequestLogger = (entry: RequestLogEntry) => void;

/** The codes a Solana node answers with (agave's `rpc_custom_error` and the JSON-RPC standard ones). */
export const ErrorCode = {
  parseError: -32700,
  invalidRequest: -32600,
  methodNotFound: -32601,
  invalidParams: -32602,
  internalError: -32603,
  blockCleanedUp: -32001,
  sendTransactionPreflightFailure: -32002,
  transactionSignatureVerificationFailure: -32003,
  blockNotAvailable: -32004,
  slotSkipped: -32007,
  unsupportedTransactionVersion: -32015,
} as const;

/** Thrown by a method to answer with a JSON-RPC error instead of a result. */
export class RpcError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly data?: unknown,
  ) {
    super(message);
  }

  toJson(): JsonRpcErrorObject {
    return this.data === undefined ? { code: this.code, message: this.message } : { code: this.code, message: this.message, data: this.data };
  }
}

/** An invalid-params error worded as a node words them: "Invalid param: …". */
export function invalidParams(detail: string): RpcError {
  return new RpcError(ErrorCode.invalidParams, `Invalid param: ${detail}`);
}

export function success(id: JsonRpcId, result: unknown): JsonRpcResponse {
  return { jsonrpc: "2.0", id, result };
}

export function failure(id: JsonRpcId, error: JsonRpcErrorObject): JsonRpcResponse {
  return { jsonrpc: "2.0", id, error };
}

/** The request, validated; an RpcError (invalid request) for anything that is not one. */
export function parseRequest(value: unknown): JsonRpcRequest {
  if (!isObject(value) || value.jsonrpc !== "2.0" || typeof value.method !== "string") {
    throw new RpcError(ErrorCode.invalidRequest, "Invalid Request");
  }
  const params = value.params ?? [];
  if (!Array.isArray(params)) throw invalidParams("expected an array of positional parameters");
  return { jsonrpc: "2.0", id: requestId(value.id), method: value.method, params };
}

/** The id to answer a request under, read leniently so that even a malformed request gets one. */
export function requestId(value: unknown): JsonRpcId {
  return typeof value === "string" || typeof value === "number" ? value : null;
}

/** Runs a method and turns what it returns or throws into the response. */
export function respond(id: JsonRpcId, run: () => unknown): JsonRpcResponse {
  try {
    return success(id, run());
  } catch (error) {
    return failure(id, toRpcError(error).toJson());
  }
}

function toRpcError(error: unknown): RpcError {
  if (error instanceof RpcError) return error;
  return new RpcError(ErrorCode.internalError, `Internal error: ${error instanceof Error ? error.message : String(error)}`);
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function pubkeyParam(value: unknown, name: string): PublicKey {
  if (typeof value !== "string") throw invalidParams(`${name} must be a base-58 string`);
  try {
    return new PublicKey(value);
  } catch {
    throw invalidParams(`${name} is not a valid public key: ${value}`);
  }
}

export function stringParam(value: unknown, name: string): string {
  if (typeof value !== "string") throw invalidParams(`${name} must be a string`);
  return value;
}

export function integerParam(value: unknown, name: string): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) throw invalidParams(`${name} must be a non-negative integer`);
  return value;
}

/** The optional configuration object at the end of the parameters; absent or null reads as empty. */
export function configParam(value: unknown): Record<string, unknown> {
  if (value === undefined || value === null) return {};
  if (!isObject(value)) throw invalidParams("the configuration must be an object");
  return value;
}
