// Acknowledgements of a service's replicas: what a watchdog signs while a replica is healthy,
// and the Ed25519 program instruction that has the runtime verify one before a claim. Pure and
// browser-safe: the bytes are the program's (`state/service.rs`), the signature plain Ed25519.
import { ed25519 } from "@noble/curves/ed25519";
import { Ed25519Program, PublicKey, type TransactionInstruction } from "@solana/web3.js";

/** `compute-market:ack:v1`: the domain the program requires, so no other signature pays. */
export const ACK_DOMAIN = new TextEncoder().encode("compute-market:ack:v1");
export const ACK_MESSAGE_LEN = ACK_DOMAIN.length + 32 + 8 + 32 + 8;

/** A watchdog's word that `provider`'s replica of `job` (that incarnation) was healthy up to `upToSlot`. */
export interface Acknowledgement {
  job: PublicKey;
  jobIncarnation: bigint;
  provider: PublicKey;
  upToSlot: bigint;
  /** The watchdog's public key and its Ed25519 signature of `acknowledgementMessage(...)`. */
  watchdog: PublicKey;
  signature: Uint8Array;
}

function u64le(value: bigint): Uint8Array {
  const bytes = new Uint8Array(8);
  new DataView(bytes.buffer).setBigUint64(0, value, true);
  return bytes;
}

/** `domain ‖ job ‖ incarnation (u64 LE) ‖ provider ‖ up_to_slot (u64 LE)`, as the program rebuilds it. */
export function acknowledgementMessage(job: PublicKey, jobIncarnation: bigint, provider: PublicKey, upToSlot: bigint): Uint8Array {
  const message = new Uint8Array(ACK_MESSAGE_LEN);
  let at = 0;
  for (const part of [ACK_DOMAIN, job.toBytes(), u64le(jobIncarnation), provider.toBytes(), u64le(upToSlot)]) {
    message.set(part, at);
    at += part.length;
  }
  return message;
}

/** Signs an acknowledgement with the watchdog's 64-byte secret key (a web3.js `Keypair.secretKey`). */
export function signAcknowledgement(watchdogSecretKey: Uint8Array, ack: Omit<Acknowledgement, "watchdog" | "signature">): Acknowledgement {
  const message = acknowledgementMessage(ack.job, ack.jobIncarnation, ack.provider, ack.upToSlot);
  const seed = watchdogSecretKey.slice(0, 32);
  return { ...ack, watchdog: new PublicKey(ed25519.getPublicKey(seed)), signature: ed25519.sign(message, seed) };
}

/** Whether the signature is the watchdog's over the acknowledgement (what a provider checks on receipt). */
export function verifyAcknowledgement(ack: Acknowledgement): boolean {
  const message = acknowledgementMessage(ack.job, ack.jobIncarnation, ack.provider, ack.upToSlot);
  try {
    return ed25519.verify(ack.signature, message, ack.watchdog.toBytes());
  } catch {
    return false;
  }
}

/** The Ed25519 program instruction that verifies `ack`; a claim must follow it directly. */
export function acknowledgementVerifyInstruction(ack: Acknowledgement): TransactionInstruction {
  return Ed25519Program.createInstructionWithPublicKey({
    publicKey: ack.watchdog.toBytes(),
    message: acknowledgementMessage(ack.job, ack.jobIncarnation, ack.provider, ack.upToSlot),
    signature: ack.signature,
  });
}
