// The server side of the results challenge auth (the format is in the SDK's results/auth.ts): a
// bounded book of single-use nonces and the check of a request's signed credentials.
import { randomBytes } from "node:crypto";
import { ed25519 } from "@noble/curves/ed25519";
import { PublicKey } from "@solana/web3.js";
import { parseAuthorizationHeader, parseCredentials, resultsAuthMessage, type ResultsChallenge, type ResultsCredentials } from "@compute-market/sdk";

/** The consumer wallet (base58) of a job, or null when the job is unknown. The node reads it from chain. */
export type ConsumerOf = (job: string) => Promise<string | null>;

export interface ChallengeBookOptions {
  /** How long a nonce is accepted. */
  ttlMs?: number;
  /** Outstanding nonces kept at most; past it the oldest are dropped. */
  maxOutstanding?: number;
  now?: () => number;
}

export type NonceCheck = "ok" | "unknown" | "expired";

/** Issued nonces, each bound to one job and usable once. */
export class ChallengeBook {
  readonly ttlMs: number;
  private readonly maxOutstanding: number;
  private readonly now: () => number;
  // Insertion order is issue order, so the oldest entries are first.
  private readonly nonces = new Map<string, { job: string; expiresAt: number }>();

  constructor(options: ChallengeBookOptions = {}) {
    this.ttlMs = options.ttlMs ?? 60_000;
    this.maxOutstanding = options.maxOutstanding ?? 10_000;
    this.now = options.now ?? Date.now;
  }

  issue(job: string): ResultsChallenge {
    this.prune();
    while (this.nonces.size >= this.maxOutstanding) this.nonces.delete(this.nonces.keys().next().value as string);
    const nonce = randomBytes(32).toString("hex");
    const expiresAt = this.now() + this.ttlMs;
    this.nonces.set(nonce, { job, expiresAt });
    return { nonce, expiresAt };
  }

  /** Removes the nonce whatever the outcome: a nonce is good for exactly one attempt. */
  take(job: string, nonce: string): NonceCheck {
    const entry = this.nonces.get(nonce);
    if (!entry || entry.job !== job) return "unknown";
    this.nonces.delete(nonce);
    return this.now() > entry.expiresAt ? "expired" : "ok";
  }

  get size(): number {
    return this.nonces.size;
  }

  // Expired nonces stay one more TTL so a late request hears "expired" rather than "unknown".
  private prune(): void {
    const horizon = this.now() - this.ttlMs;
    for (const [nonce, entry] of this.nonces) {
      if (entry.expiresAt >= horizon) break;
      this.nonces.delete(nonce);
    }
  }
}

export type AuthResult = { ok: true; consumer: string } | { ok: false; status: 401 | 404; error: string };

/** Where the credentials came from: the Authorization header of HTTP, or `?auth=` of a WebSocket. */
export type PresentedCredentials = { header: string | undefined } | { query: string | null };

/** Checks, in order: present, well-formed, fresh unused nonce for this job, valid signature, job known, signer is its consumer. */
export async function authenticate(presented: PresentedCredentials, job: string, book: ChallengeBook, consumerOf: ConsumerOf): Promise<AuthResult> {
  const parsed = parsePresented(presented);
  if ("error" in parsed) return { ok: false, status: 401, error: parsed.error };
  const nonce = book.take(job, parsed.nonce);
  if (nonce === "unknown") return { ok: false, status: 401, error: "unknown nonce: request a new challenge" };
  if (nonce === "expired") return { ok: false, status: 401, error: "expired nonce: request a new challenge" };
  if (!verifySignature(parsed, job)) return { ok: false, status: 401, error: "bad signature" };
  const consumer = await consumerOf(job);
  if (consumer === null) return { ok: false, status: 404, error: "unknown job" };
  if (consumer !== parsed.publicKey) return { ok: false, status: 401, error: "not the job's consumer" };
  return { ok: true, consumer };
}

function parsePresented(presented: PresentedCredentials): ResultsCredentials | { error: string } {
  if ("header" in presented) {
    if (!presented.header) return { error: "missing credentials: send Authorization: CM-Ed25519 <pubkey>:<nonce>:<signature>" };
    return parseAuthorizationHeader(presented.header);
  }
  if (!presented.query) return { error: "missing credentials: add ?auth=<pubkey>:<nonce>:<signature>" };
  return parseCredentials(presented.query);
}

function verifySignature(credentials: ResultsCredentials, job: string): boolean {
  try {
    // Strict RFC 8032 checks: one valid encoding per signature.
    return ed25519.verify(credentials.signature, resultsAuthMessage(job, credentials.nonce), new PublicKey(credentials.publicKey).toBytes(), { zip215: false });
  } catch {
    return false;
  }
}
