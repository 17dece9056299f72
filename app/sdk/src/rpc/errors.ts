// Why a transaction did not land, as types: the program's own refusals stay `ComputeMarketError`
// (by name); everything the cluster or the RPC node says is one of the errors below. The SDK
// recognises them once, here, so that no caller matches on message text.
import { errorFromCode, errorFromLogs, type ComputeMarketError } from "../errors";

export type SendErrorKind =
  | "BlockhashExpired"
  | "AccountNotFound"
  | "InsufficientFundsForFee"
  | "RateLimited"
  | "RpcUnavailable"
  | "Simulation"
  | "TransactionFailed"
  | "TransactionTooLarge";

/** A transaction that did not land, or a request the RPC node did not answer. */
export class SendError extends Error {
  constructor(
    readonly kind: SendErrorKind,
    message: string,
    /** The program logs, when the cluster ran the transaction (simulation or landing). */
    readonly logs: string[] = [],
    /** The cluster's own error value (a `TransactionError`), when it gave one. */
    readonly detail: unknown = null,
  ) {
    super(message);
    this.name = `${kind}Error`;
  }

  /** Worth sending again later: the node was busy or unreachable, or the blockhash ran out. */
  get transient(): boolean {
    return this.kind === "RateLimited" || this.kind === "RpcUnavailable" || this.kind === "BlockhashExpired";
  }
}

export class BlockhashExpiredError extends SendError {
  constructor(readonly signature: string, lastValidBlockHeight: number) {
    super("BlockhashExpired", `transaction ${signature} did not land before block height ${lastValidBlockHeight}, when its blockhash expired; it can no longer land`);
  }
}

export class AccountNotFoundError extends SendError {
  constructor(readonly account: string, why: string) {
    super("AccountNotFound", `${account}: ${why}`);
  }
}

export class InsufficientFundsForFeeError extends SendError {
  constructor(readonly payer: string) {
    super("InsufficientFundsForFee", `the fee payer ${payer} cannot pay the transaction fee: fund it with SOL (a transfer, or an airdrop on a test cluster)`);
  }
}

export class RateLimitedError extends SendError {
  constructor(message: string) {
    super("RateLimited", `the RPC node rate-limits this client (${message}): slow down, or use another node`);
  }
}

export class RpcUnavailableError extends SendError {
  constructor(message: string) {
    super("RpcUnavailable", `the RPC node did not answer (${message})`);
  }
}

export class SimulationError extends SendError {
  constructor(detail: unknown, logs: string[]) {
    super("Simulation", `the transaction fails in simulation: ${JSON.stringify(detail)}${logs.length > 0 ? `\n${logs.slice(-8).join("\n")}` : ""}`, logs, detail);
  }
}

export class TransactionFailedError extends SendError {
  constructor(readonly signature: string, detail: unknown, logs: string[] = []) {
    super("TransactionFailed", `transaction ${signature} landed and failed: ${JSON.stringify(detail)}`, logs, detail);
  }
}

const RATE_LIMITED = /^429\b|too many requests/i;
const UNAVAILABLE = /^50[0-9]\b|fetch failed|ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|EAI_AGAIN|socket hang up|network error|timed out|node is (behind|unhealthy)/i;
/** JSON-RPC codes of a node that cannot answer now (unhealthy, behind, slot skipped or not yet available). */
const UNAVAILABLE_CODES = new Set([-32004, -32005, -32007, -32009, -32014, -32016]);

/** The transport failure of one RPC request as a typed error; null when it is not one. */
export function transportError(error: unknown): RateLimitedError | RpcUnavailableError | null {
  if (error instanceof SendError) return error.kind === "RateLimited" || error.kind === "RpcUnavailable" ? (error as RateLimitedError | RpcUnavailableError) : null;
  if (!(error instanceof Error)) return null;
  const code = (error as { code?: unknown }).code;
  if (typeof code === "number" && UNAVAILABLE_CODES.has(code)) return new RpcUnavailableError(error.message);
  const text = [error.message, causeMessage(error)].join(" ");
  if (RATE_LIMITED.test(text)) return new RateLimitedError(error.message);
  if (UNAVAILABLE.test(text)) return new RpcUnavailableError(error.message);
  return null;
}

function causeMessage(error: Error): string {
  const cause = (error as { cause?: unknown }).cause;
  if (cause instanceof Error) return `${cause.message} ${(cause as { code?: string }).code ?? ""}`;
  return "";
}

/** The instruction index and custom code of an `InstructionError`, if `detail` is one. */
function customError(detail: unknown): { index: number; code: number } | null {
  if (typeof detail !== "object" || detail === null || !("InstructionError" in detail)) return null;
  const [index, inner] = (detail as { InstructionError: [number, unknown] }).InstructionError;
  if (typeof inner === "object" && inner !== null && "Custom" in inner) return { index, code: Number((inner as { Custom: number }).Custom) };
  return null;
}

/**
 * The typed error of a transaction the cluster ran and refused: the program's own error when it
 * raised one (from its logs, or from the failing instruction's custom code when that instruction
 * is the program's), else the cluster's named refusal.
 */
export function refusalError(args: {
  detail: unknown;
  logs: string[];
  payer: string;
  /** The program each instruction of the transaction calls, in order. */
  programs: string[];
  programId: string;
  signature?: string;
}): ComputeMarketError | SendError {
  const { detail, logs, payer, programs, programId, signature } = args;
  const fromLogs = errorFromLogs(logs);
  if (fromLogs) return fromLogs;
  const custom = customError(detail);
  if (custom && programs[custom.index] === programId) {
    const known = errorFromCode(custom.code, logs);
    if (known) return known;
  }
  if (detail === "AccountNotFound") return new AccountNotFoundError(payer, "the fee payer has no account on this cluster (no SOL): fund it with a transfer, or an airdrop on a test cluster");
  if (detail === "InsufficientFundsForFee") return new InsufficientFundsForFeeError(payer);
  return signature ? new TransactionFailedError(signature, detail, logs) : new SimulationError(detail, logs);
}
