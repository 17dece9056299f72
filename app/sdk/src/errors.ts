// The program's errors as one typed TypeScript error, recognised from a failed transaction.
import idl from "./generated/compute_market.json";
import type { ComputeMarket } from "./generated/compute_market";

/** Every error name the program can fail with, e.g. "ZeroAmount". */
export type ProgramErrorName = Capitalize<ComputeMarket["errors"][number]["name"]>;

interface ErrorEntry {
  code: number;
  name: ProgramErrorName;
  msg: string;
}

const ERRORS: readonly ErrorEntry[] = idl.errors as ErrorEntry[];
const BY_CODE = new Map<number, ErrorEntry>(ERRORS.map((e) => [e.code, e]));
const BY_NAME = new Map<string, ErrorEntry>(ERRORS.map((e) => [e.name, e]));

/** A transaction failed because the compute-market program refused it. */
export class ComputeMarketError extends Error {
  constructor(
    readonly code: number,
    readonly errorName: ProgramErrorName,
    message: string,
    readonly logs: string[] = [],
  ) {
    super(`${errorName} (${code}): ${message}`);
    this.name = "ComputeMarketError";
  }
}

/** The error with this code, if the program defines one. */
export function errorFromCode(code: number, logs: string[] = []): ComputeMarketError | null {
  const entry = BY_CODE.get(code);
  return entry ? new ComputeMarketError(entry.code, entry.name, entry.msg, logs) : null;
}

/** The numeric code of a named error. */
export function errorCode(name: ProgramErrorName): number {
  const entry = BY_NAME.get(name);
  if (!entry) throw new Error(`unknown program error ${name}`);
  return entry.code;
}

const ANCHOR_ERROR_LOG = /^Program log: AnchorError occurred\. Error Code: (\w+)\. Error Number: (\d+)\./;

/**
 * The program's own error in a transaction's logs. The program logs every error it raises in
 * Anchor's format; a bare "custom program error" of a program it called (e.g. the token
 * program) is not this program's error and is not reported as one.
 */
export function errorFromLogs(logs: readonly string[]): ComputeMarketError | null {
  for (const line of logs) {
    const match = ANCHOR_ERROR_LOG.exec(line);
    if (match) return errorFromCode(Number(match[2]), [...logs]);
  }
  return null;
}

function logsOf(error: unknown): string[] | undefined {
  if (typeof error !== "object" || error === null) return undefined;
  const candidate = (error as { logs?: unknown; transactionLogs?: unknown }).logs ??
    (error as { transactionLogs?: unknown }).transactionLogs;
  return Array.isArray(candidate) ? (candidate as string[]) : undefined;
}

/** Turns a failed send into a `ComputeMarketError` when the program refused it; otherwise returns the error unchanged. */
export function translateError(error: unknown): unknown {
  if (error instanceof ComputeMarketError) return error;
  const logs = logsOf(error);
  return (logs && errorFromLogs(logs)) ?? error;
}

/** What a call needed that is not on the cluster: a job, a bid, a provider… */
export type MissingAccountKind = "config" | "market" | "provider" | "job" | "bid" | "dispute" | "service";

/**
 * An address given for one kind of account holds something else: another of the program's
 * accounts, a wallet, a token account, another program's account. Found before anything was sent.
 */
export class WrongAccountError extends Error {
  constructor(
    readonly kind: string,
    readonly address: string,
    /** What is there instead, in words. */
    readonly found: string,
  ) {
    super(`${address} is not a ${kind}: it is ${found}`);
    this.name = "WrongAccountError";
  }
}

/**
 * An account a call needs does not exist (closed, never created, or on another cluster), found
 * before anything was sent. Keepers take a missing job or bid for a race lost to another keeper.
 */
export class MissingAccountError extends Error {
  constructor(
    readonly kind: MissingAccountKind,
    readonly address: string,
    hint = "",
  ) {
    super(`no ${kind} at ${address}${hint ? ` ${hint}` : ""}`);
    this.name = "MissingAccountError";
  }
}
