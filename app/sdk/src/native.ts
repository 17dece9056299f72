// Decoded program data with u64 fields as `bigint` (Anchor decodes them as BN), and encoders
// that check an input's range before it is sent.
import BN from "bn.js";
import { PublicKey } from "@solana/web3.js";

/** `T` with every BN replaced by bigint, recursively. */
export type Native<T> = T extends BN
  ? bigint
  : T extends PublicKey
    ? PublicKey
    : T extends (infer U)[]
      ? Native<U>[]
      : T extends object
        ? { [K in keyof T]: Native<T[K]> }
        : T;

export function toNative<T>(value: T): Native<T> {
  if (BN.isBN(value)) return BigInt((value as BN).toString()) as Native<T>;
  if (value instanceof PublicKey || value === null || typeof value !== "object") return value as Native<T>;
  if (Array.isArray(value)) return value.map((v) => toNative(v)) as Native<T>;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) out[k] = toNative(v);
  return out as Native<T>;
}

const U64_MAX = (1n << 64n) - 1n;

/** A u64 argument as Anchor expects it; throws a RangeError naming the field when out of range. */
export function u64(value: bigint | number, field: string): BN {
  const v = BigInt(value);
  if (v < 0n || v > U64_MAX) throw new RangeError(`${field} must be a u64, got ${value}`);
  return new BN(v.toString());
}

/** A u8, u16 or u32 argument; throws a RangeError naming the field when out of range. */
export function uint(value: number, bits: 8 | 16 | 32, field: string): number {
  if (!Number.isInteger(value) || value < 0 || value >= 2 ** bits) {
    throw new RangeError(`${field} must be a u${bits}, got ${value}`);
  }
  return value;
}

/** A fixed-size byte field from a 32-byte value (a sha256 digest). */
export function bytes32(value: Uint8Array, field: string): number[] {
  if (value.length !== 32) throw new RangeError(`${field} must be 32 bytes, got ${value.length}`);
  return Array.from(value);
}

/** An ASCII label in a zero-padded 16-byte field (GPU models). Empty means "any" / "none". */
export function label16(value: string | undefined, field: string): number[] {
  const text = value ?? "";
  if (!/^[\x20-\x7e]*$/.test(text)) throw new RangeError(`${field} must be printable ASCII, got ${JSON.stringify(text)}`);
  if (text.length > 16) throw new RangeError(`${field} must be at most 16 characters, got ${text.length}`);
  const bytes = new Array<number>(16).fill(0);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return bytes;
}

/** The text of a zero-padded 16-byte label. */
export function labelText(bytes: readonly number[]): string {
  const end = bytes.indexOf(0);
  return String.fromCharCode(...(end === -1 ? bytes : bytes.slice(0, end)));
}

/** Bytes of a provider's endpoint URL on-chain (the program's `ENDPOINT_LEN`). */
export const ENDPOINT_LEN = 96;

/** A provider endpoint URL as the program stores it: UTF-8, zero-padded to 96 bytes. */
export function encodeEndpoint(url: string): number[] {
  const bytes = new TextEncoder().encode(url);
  if (bytes.length === 0 || bytes.length > ENDPOINT_LEN) throw new RangeError(`endpoint must be 1 to ${ENDPOINT_LEN} bytes of UTF-8, got ${bytes.length}`);
  if (bytes.includes(0)) throw new RangeError("endpoint must not contain NUL");
  const padded = new Array<number>(ENDPOINT_LEN).fill(0);
  bytes.forEach((byte, i) => (padded[i] = byte));
  return padded;
}

/** The endpoint URL of a decoded provider account. */
export function endpointText(bytes: readonly number[]): string {
  const end = bytes.indexOf(0);
  return new TextDecoder().decode(Uint8Array.from(end === -1 ? bytes : bytes.slice(0, end)));
}

/** The variant name of a decoded Anchor enum, e.g. `{ open: {} }` → "open". */
export function variantOf<T extends object>(value: T): keyof T & string {
  const [name] = Object.keys(value);
  return name as keyof T & string;
}
