// Acknowledgements of a service's replicas: what a watchdog signs while a replica is healthy,
// and the Ed25519 program instruction that has the runtime verify one before a claim. Pure and
// browser-safe: the bytes are the program's (`state/service.rs`), the signature plain Ed25519.
import { ed25519 } from "@noble/curves/ed25519";
import { Ed25519Program, PublicKey, type TransactionInstruction } from "@solana/web3.js";

/** `compute-market:ack:v1`: the domain the program requires, so no other signature pays. */
export const ACK_DOMAIN: Uint8Array = new TextEncoder().encode("compute-market:ack:v1");
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

// --- delivery to the provider ------------------------------------------------------------------
// A provider's results server takes acknowledgements of its replicas at
// `POST <endpoint>/v1/services/<job>/acknowledgements` with the JSON body below. The job is in the
// path, the provider is the node's own and the incarnation and watchdog key are read from the
// chain, so the body carries only what they do not fix: the slot and the signature.

/** The JSON body of a delivery: `upToSlot` in decimal (JSON has no u64), `signature` in standard base64 (88 characters, padded). */
export interface AcknowledgementSubmission {
  upToSlot: string;
  signature: string;
}

const U64_MAX = 2n ** 64n - 1n;
const DECIMAL_U64 = /^(0|[1-9]\d{0,19})$/;
const SIGNATURE_BASE64 = /^[A-Za-z0-9+/]{86}==$/;

/** The path a provider takes `job`'s acknowledgements at. */
export function acknowledgementPath(job: PublicKey | string): string {
  return `${replicaReportPath(job)}/acknowledgements`;
}

export function encodeAcknowledgementSubmission(ack: Pick<Acknowledgement, "upToSlot" | "signature">): AcknowledgementSubmission {
  let binary = "";
  for (const byte of ack.signature) binary += String.fromCharCode(byte);
  return { upToSlot: ack.upToSlot.toString(), signature: btoa(binary) };
}

/** Parses a delivery's body; returns a reason instead of throwing so a server can answer with it. */
export function parseAcknowledgementSubmission(body: unknown): { upToSlot: bigint; signature: Uint8Array } | { error: string } {
  if (typeof body !== "object" || body === null || Array.isArray(body)) return { error: "the body must be a JSON object { upToSlot, signature }" };
  const { upToSlot, signature } = body as Record<string, unknown>;
  if (typeof upToSlot !== "string" || !DECIMAL_U64.test(upToSlot) || BigInt(upToSlot) > U64_MAX) return { error: "upToSlot must be a decimal string of a u64" };
  if (typeof signature !== "string" || !SIGNATURE_BASE64.test(signature)) return { error: "signature must be 64 bytes in standard base64" };
  const binary = atob(signature);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return { upToSlot: BigInt(upToSlot), signature: bytes };
}

/** A provider refused an acknowledgement: its HTTP status and the reason it gave. */
export class AcknowledgementRefusedError extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
    readonly url: string,
  ) {
    super(`${url} refused the acknowledgement (${status}): ${reason}`);
    this.name = "AcknowledgementRefusedError";
  }
}

/**
 * Hands `ack` to the provider whose results server is at `endpoint` (its registered endpoint),
 * e.g. as a `ServiceWatchdog`'s `deliver`; throws `AcknowledgementRefusedError` unless it was
 * taken (204). Browser-safe: `fetch` only.
 */
export async function deliverAcknowledgement(endpoint: string, ack: Acknowledgement, options: { fetch?: typeof fetch; timeoutMs?: number } = {}): Promise<void> {
  const url = `${endpoint.replace(/\/+$/, "")}${acknowledgementPath(ack.job)}`;
  const response = await (options.fetch ?? fetch)(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(encodeAcknowledgementSubmission(ack)),
    signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
  });
  if (response.status === 204) return;
  const text = await response.text().catch(() => "");
  let reason = text || response.statusText;
  try {
    const parsed = JSON.parse(text) as { error?: unknown };
    if (typeof parsed.error === "string") reason = parsed.error;
  } catch {
    // Not JSON (a proxy's page, say): the text is the reason.
  }
  throw new AcknowledgementRefusedError(response.status, reason, url);
}

// --- a replica, as its node reports it -----------------------------------------------------------
// `GET <endpoint>/v1/services/<job>` (public): where the node's replica of a lease answers, what
// the spec's health check said at its node's last run, and the latest acknowledgement the node
// holds. The node's own word: the chain knows only what was claimed, and a consumer's watchdog
// probes the URLs itself before it acknowledges.

export interface ReplicaReport {
  job: string;
  urls: string[];
  /** The node's last run of the spec's health check (`checkedAt` ISO 8601); null before the first. */
  health: { healthy: boolean; checkedAt: string } | null;
  /** The slot the latest acknowledgement the node holds covers (decimal), null when it holds none: what it can still claim up to. */
  acknowledgedUpToSlot: string | null;
}

/** The path a provider reports its replica of `job` at. */
export function replicaReportPath(job: PublicKey | string): string {
  return `/v1/services/${encodeURIComponent(typeof job === "string" ? job : job.toBase58())}`;
}

/** The node's report on its replica of `job`; null when it serves none (404). */
export async function fetchReplicaReport(endpoint: string, job: PublicKey | string, options: { signal?: AbortSignal } = {}): Promise<ReplicaReport | null> {
  const path = replicaReportPath(job);
  const response = await fetch(`${endpoint.replace(/\/+$/, "")}${path}`, { signal: options.signal });
  if (response.status === 404) return null;
  if (!response.ok) throw new Error(`${endpoint} answered ${response.status} for ${path}`);
  const body = (await response.json()) as Partial<ReplicaReport>;
  return { job: String(body.job), urls: Array.isArray(body.urls) ? body.urls.map(String) : [], health: body.health ?? null, acknowledgedUpToSlot: body.acknowledgedUpToSlot ?? null };
}
