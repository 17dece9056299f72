// The container job spec: what a consumer asks a provider to run. The job account holds only its
// hash (`specHash`), so the document itself travels off-chain (a content-addressed store) and
// anyone holding it can check it against the chain.
import { sha256 } from "@noble/hashes/sha256";

/** A content-addressed input file, mounted read-only at `/inputs/<path>`. */
export interface JobInput {
  /** Relative POSIX path: no leading `/`, no `.` or `..` segments. */
  path: string;
  /** Lower-case hex sha256 of the file's bytes. */
  sha256: string;
  size: number;
}

/** How a provider checks a service replica is up: an HTTP request answered with `expectedStatus`, or a TCP connection accepted. */
export type HealthCheck = { kind: "http"; port: number; path: string; expectedStatus: number } | { kind: "tcp"; port: number };

/** What only a service's container has: the ports published on the provider's host (one public URL each) and its health check. */
export interface ServiceSpec {
  /** Container ports, published on the provider's host. */
  ports: number[];
  healthCheck: HealthCheck;
}

export interface ContainerJobSpec {
  version: 1;
  /** An image pinned by content: `name@sha256:<64 hex>` (registry digest) or `sha256:<64 hex>` (local image ID). */
  image: string;
  /** argv; empty runs the image's default command. */
  command: string[];
  env: Record<string, string>;
  inputs: JobInput[];
  /** Whether the container gets a network; without it, only loopback. */
  network: boolean;
  gpus: number;
  /** CPU limit in cores (fractions allowed). */
  cpus: number;
  memoryMb: number;
  /** Wall-clock limit of the run. */
  timeoutSeconds: number;
  /** The largest total size of `/outputs` the provider will hash and serve. */
  maxOutputBytes: number;
  /** Present for a service lease's container, which runs until its replica ends. */
  service?: ServiceSpec;
}

const HEX64 = /^[0-9a-f]{64}$/;
const IMAGE_BY_DIGEST = /^([a-z0-9][a-z0-9._\-/:]*@)?sha256:[0-9a-f]{64}$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Upper bounds that keep a spec small enough to fetch and check before bidding. */
export const SPEC_LIMITS = {
  maxInputs: 256,
  maxCommandArgs: 256,
  maxEnv: 128,
  maxTimeoutSeconds: 7 * 24 * 3600,
  maxGpus: 16,
  maxServicePorts: 8,
  maxHealthPathLength: 256,
} as const;

export class InvalidSpecError extends Error {
  constructor(readonly field: string, reason: string) {
    super(`invalid job spec: ${field}: ${reason}`);
    this.name = "InvalidSpecError";
  }
}

/** A relative path without empty, `.` or `..` segments, so it cannot leave its directory. */
export function isSafeRelativePath(path: string): boolean {
  if (path.length === 0 || path.length > 1024 || path.startsWith("/") || path.includes("\0")) return false;
  return path.split("/").every((segment) => segment !== "" && segment !== "." && segment !== "..");
}

/** Checks every field; throws InvalidSpecError naming the first bad one. */
export function validateSpec(spec: ContainerJobSpec): ContainerJobSpec {
  const fail = (field: string, reason: string): never => {
    throw new InvalidSpecError(field, reason);
  };
  if (spec.version !== 1) fail("version", "must be 1");
  if (typeof spec.image !== "string" || !IMAGE_BY_DIGEST.test(spec.image)) fail("image", "must be pinned by digest: name@sha256:<hex> or sha256:<hex>");
  if (!Array.isArray(spec.command) || spec.command.length > SPEC_LIMITS.maxCommandArgs || spec.command.some((a) => typeof a !== "string")) fail("command", "must be an array of strings");
  const env = Object.entries(spec.env ?? {});
  if (env.length > SPEC_LIMITS.maxEnv || env.some(([k, v]) => !ENV_NAME.test(k) || typeof v !== "string")) fail("env", "names must be identifiers and values strings");
  if (!Array.isArray(spec.inputs) || spec.inputs.length > SPEC_LIMITS.maxInputs) fail("inputs", `at most ${SPEC_LIMITS.maxInputs}`);
  const seen = new Set<string>();
  for (const input of spec.inputs) {
    if (!isSafeRelativePath(input.path)) fail("inputs.path", `unsafe path ${JSON.stringify(input.path)}`);
    if (seen.has(input.path)) fail("inputs.path", `duplicate ${input.path}`);
    seen.add(input.path);
    if (!HEX64.test(input.sha256)) fail("inputs.sha256", "must be 64 lower-case hex digits");
    if (!Number.isSafeInteger(input.size) || input.size < 0) fail("inputs.size", "must be a non-negative integer");
  }
  if (typeof spec.network !== "boolean") fail("network", "must be a boolean");
  if (!Number.isInteger(spec.gpus) || spec.gpus < 0 || spec.gpus > SPEC_LIMITS.maxGpus) fail("gpus", `must be an integer in 0..${SPEC_LIMITS.maxGpus}`);
  if (!(spec.cpus > 0 && spec.cpus <= 1024)) fail("cpus", "must be in (0, 1024]");
  if (!Number.isInteger(spec.memoryMb) || spec.memoryMb < 6) fail("memoryMb", "must be an integer of at least 6 (Docker's minimum)");
  if (!Number.isInteger(spec.timeoutSeconds) || spec.timeoutSeconds < 1 || spec.timeoutSeconds > SPEC_LIMITS.maxTimeoutSeconds) fail("timeoutSeconds", "out of range");
  if (!Number.isSafeInteger(spec.maxOutputBytes) || spec.maxOutputBytes < 0) fail("maxOutputBytes", "must be a non-negative integer");
  if (spec.service !== undefined) validateService(spec.service, spec.network, fail);
  return spec;
}

const isPort = (port: unknown): port is number => Number.isInteger(port) && (port as number) >= 1 && (port as number) <= 65_535;
/** An absolute request path without whitespace, query strings allowed. */
const HEALTH_PATH = /^\/[^\s]*$/;

function validateService(service: ServiceSpec, network: boolean, fail: (field: string, reason: string) => never): void {
  const { ports, healthCheck } = service;
  if (!Array.isArray(ports) || ports.length < 1 || ports.length > SPEC_LIMITS.maxServicePorts) fail("service.ports", `must list 1 to ${SPEC_LIMITS.maxServicePorts} ports`);
  if (!ports.every(isPort)) fail("service.ports", "must be integers in 1..65535");
  if (new Set(ports).size !== ports.length) fail("service.ports", "must not repeat a port");
  // Published ports need the container on a network.
  if (!network) fail("network", "must be true for a service, whose ports are published");
  if (healthCheck === null || typeof healthCheck !== "object") return fail("service.healthCheck", "is required");
  if (!ports.includes(healthCheck.port)) fail("service.healthCheck.port", "must be one of service.ports");
  if (healthCheck.kind === "tcp") return;
  if (healthCheck.kind !== "http") fail("service.healthCheck.kind", 'must be "http" or "tcp"');
  if (typeof healthCheck.path !== "string" || healthCheck.path.length > SPEC_LIMITS.maxHealthPathLength || !HEALTH_PATH.test(healthCheck.path)) fail("service.healthCheck.path", "must be an absolute path without spaces");
  if (!Number.isInteger(healthCheck.expectedStatus) || healthCheck.expectedStatus < 100 || healthCheck.expectedStatus > 599) fail("service.healthCheck.expectedStatus", "must be an HTTP status in 100..599");
}

/** JSON with object keys sorted at every level and no whitespace: one byte string per spec. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

/** The bytes a spec is stored and hashed as. */
export function encodeSpec(spec: ContainerJobSpec): Uint8Array {
  return new TextEncoder().encode(canonicalJson(validateSpec(spec)));
}

/** The 32-byte hash the job account commits to. */
export function specHash(spec: ContainerJobSpec): Uint8Array {
  return sha256(encodeSpec(spec));
}

/** Parses stored spec bytes and checks that they hash to what the job committed. */
export function decodeSpec(bytes: Uint8Array, expectedHash: Uint8Array): ContainerJobSpec {
  const actual = sha256(bytes);
  if (!equalBytes(actual, expectedHash)) throw new InvalidSpecError("specHash", "the document does not hash to the job's spec hash");
  return validateSpec(JSON.parse(new TextDecoder().decode(bytes)) as ContainerJobSpec);
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}
