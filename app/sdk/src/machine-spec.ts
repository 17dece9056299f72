// The spec of a verifiable (or refereed) job: which code image runs on which input, by content.
// The job account already commits to the program by Merkle roots (code, input) and to its step
// limit; the spec document, whose sha256 is the job's spec hash, says where the bytes are found:
// blob ids (sha256) in the providers' public stores. Whoever holds the bytes can check them
// against both commitments, so a provider or keeper never runs a program the job does not name.
import { sha256 } from "@noble/hashes/sha256";
import { bytesToHex } from "@noble/hashes/utils";
import type { JobAccount } from "./accounts";
import { canonicalJson, InvalidSpecError } from "./spec";
import type { MachineRoots } from "./verifiable";

/** A content-addressed blob: lower-case hex sha256 and size in bytes. */
export interface BlobRef {
  sha256: string;
  size: number;
}

export interface MachineJobSpec {
  version: 1;
  /** The machine the code is built for. */
  machine: "rv32im";
  /** The flat code image, loaded at address 0. */
  code: BlobRef;
  /** The input, loaded (length-prefixed) in the input quarter. */
  input: BlobRef;
}

/** The largest code image and input: one 4 MiB quarter each (the input's holds its length too). */
export const MAX_CODE_BYTES = 4 * 1024 * 1024;
export const MAX_INPUT_BYTES = 4 * 1024 * 1024 - 4;
/** A step limit for jobs that name none: 2^32 steps, under a minute of replay in WebAssembly. */
export const DEFAULT_MAX_STEPS = 1n << 32n;

const HEX64 = /^[0-9a-f]{64}$/;

function blobRef(bytes: Uint8Array): BlobRef {
  return { sha256: bytesToHex(sha256(bytes)), size: bytes.length };
}

/** The spec of `code` run on `input`. */
export function machineSpec(code: Uint8Array, input: Uint8Array): MachineJobSpec {
  if (code.length === 0 || code.length > MAX_CODE_BYTES) throw new InvalidSpecError("code", `must be 1..${MAX_CODE_BYTES} bytes, got ${code.length}`);
  if (input.length > MAX_INPUT_BYTES) throw new InvalidSpecError("input", `must be at most ${MAX_INPUT_BYTES} bytes, got ${input.length}`);
  return { version: 1, machine: "rv32im", code: blobRef(code), input: blobRef(input) };
}

function checkRef(field: string, ref: BlobRef | undefined, max: number, min: number): void {
  if (!ref || typeof ref !== "object") throw new InvalidSpecError(field, "is missing");
  if (typeof ref.sha256 !== "string" || !HEX64.test(ref.sha256)) throw new InvalidSpecError(`${field}.sha256`, "must be 64 lower-case hex digits");
  if (!Number.isSafeInteger(ref.size) || ref.size < min || ref.size > max) throw new InvalidSpecError(`${field}.size`, `must be an integer in ${min}..${max}`);
}

/** Checks every field; throws InvalidSpecError naming the first bad one. */
export function validateMachineSpec(spec: MachineJobSpec): MachineJobSpec {
  if (spec === null || typeof spec !== "object") throw new InvalidSpecError("spec", "must be an object");
  if (spec.version !== 1) throw new InvalidSpecError("version", "must be 1");
  if (spec.machine !== "rv32im") throw new InvalidSpecError("machine", 'must be "rv32im"');
  checkRef("code", spec.code, MAX_CODE_BYTES, 1);
  checkRef("input", spec.input, MAX_INPUT_BYTES, 0);
  return spec;
}

/** Whether a parsed document is a machine spec rather than a container spec. */
export function isMachineSpec(value: unknown): value is MachineJobSpec {
  return value !== null && typeof value === "object" && "machine" in value;
}

/** The bytes a machine spec is stored and hashed as (canonical JSON). */
export function encodeMachineSpec(spec: MachineJobSpec): Uint8Array {
  return new TextEncoder().encode(canonicalJson(validateMachineSpec(spec)));
}

export function machineSpecHash(spec: MachineJobSpec): Uint8Array {
  return sha256(encodeMachineSpec(spec));
}

/** Parses stored spec bytes and checks that they hash to what the job committed. */
export function decodeMachineSpec(bytes: Uint8Array, expectedHash: Uint8Array): MachineJobSpec {
  if (bytesToHex(sha256(bytes)) !== bytesToHex(expectedHash)) throw new InvalidSpecError("specHash", "the document does not hash to the job's spec hash");
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    throw new InvalidSpecError("spec", "is not JSON");
  }
  if (!isMachineSpec(parsed)) throw new InvalidSpecError("machine", "the document is not a machine job spec");
  return validateMachineSpec(parsed);
}

/** A verifiable job's program cannot be obtained, or is not the one the job names. */
export class ProgramUnavailableError extends Error {
  constructor(readonly job: string, reason: string) {
    super(`program of job ${job} unavailable: ${reason}`);
    this.name = "ProgramUnavailableError";
  }
}

/** Where blobs come from: bytes already checked against their sha256, or null when not found. */
export type BlobSource = (sha256: string, maxBytes: number) => Promise<Uint8Array | null>;

/** A verifiable job's program, checked against everything the job commits to. */
export interface MachineProgram {
  spec: MachineJobSpec;
  code: Uint8Array;
  input: Uint8Array;
}

/**
 * Obtains a verifiable job's spec, code and input from `blobs`, and checks them: the spec hashes
 * to the job's spec hash, each blob to its id and size, and the code and input quarters to the
 * job's on-chain roots (computed by `machine`). Throws ProgramUnavailableError saying what failed.
 */
export async function resolveMachineProgram(
  blobs: BlobSource,
  job: { address: string; account: Pick<JobAccount, "specHash" | "codeRoot" | "inputRoot"> },
  machine: MachineRoots,
): Promise<MachineProgram> {
  const specId = bytesToHex(Uint8Array.from(job.account.specHash));
  const document = await blobs(specId, 64 * 1024);
  if (!document) throw new ProgramUnavailableError(job.address, `spec ${specId} not found`);
  let spec: MachineJobSpec;
  try {
    spec = decodeMachineSpec(document, Uint8Array.from(job.account.specHash));
  } catch (error) {
    throw new ProgramUnavailableError(job.address, error instanceof Error ? error.message : String(error));
  }
  const fetchRef = async (name: string, ref: BlobRef): Promise<Uint8Array> => {
    const bytes = await blobs(ref.sha256, ref.size);
    if (!bytes) throw new ProgramUnavailableError(job.address, `${name} ${ref.sha256} not found`);
    if (bytes.length !== ref.size) throw new ProgramUnavailableError(job.address, `${name} is ${bytes.length} bytes, the spec says ${ref.size}`);
    return bytes;
  };
  const code = await fetchRef("code", spec.code);
  const input = await fetchRef("input", spec.input);
  const roots = machine.programRoots(code, input);
  if (bytesToHex(roots.codeRoot) !== bytesToHex(Uint8Array.from(job.account.codeRoot))) throw new ProgramUnavailableError(job.address, "the code's root is not the job's code root");
  if (bytesToHex(roots.inputRoot) !== bytesToHex(Uint8Array.from(job.account.inputRoot))) throw new ProgramUnavailableError(job.address, "the input's root is not the job's input root");
  return { spec, code, input };
}
