// Wallet-signed challenge auth for a provider's results server. The consumer proves it holds the
// job's consumer key by signing a fresh server nonce; no account or session exists on the server.
//
//   1. GET /v1/jobs/<job>/challenge                 -> { nonce: <64 hex>, expiresAt: <ms since epoch> }
//   2. sign the UTF-8 message
//        "compute-market:results:v1\njob:<job base58>\nnonce:<nonce hex>"
//      with the wallet's ed25519 key (a browser wallet's signMessage signs exactly these bytes);
//   3. send `Authorization: CM-Ed25519 <pubkey base58>:<nonce hex>:<signature base64>`, or, on a
//      WebSocket (browsers cannot set its headers), the same triple URL-encoded as `?auth=`.
//
// A nonce is good for one request and expires after a minute.
import { ed25519 } from "@noble/curves/ed25519";
import { PublicKey, type Keypair } from "@solana/web3.js";
import { errorText, ResultsHttpError, trimEndpoint } from "./internal";

export const RESULTS_AUTH_SCHEME = "CM-Ed25519";
export const RESULTS_AUTH_DOMAIN = "compute-market:results:v1";

/** Signs raw message bytes with an ed25519 wallet key; a browser wallet adapter's `signMessage` fits. */
export type SignMessage = (message: Uint8Array) => Promise<Uint8Array>;

export interface ResultsChallenge {
  /** 32 random bytes, lower-case hex. */
  nonce: string;
  /** Milliseconds since the epoch after which the server refuses the nonce. */
  expiresAt: number;
}

export interface ResultsCredentials {
  publicKey: string;
  nonce: string;
  /** 64 bytes. */
  signature: Uint8Array;
}

const NONCE_HEX = /^[0-9a-f]{64}$/;
const SIGNATURE_BASE64 = /^[A-Za-z0-9+/]{86}==$/;

/** The exact bytes a consumer signs to read `job`'s results with `nonce`. */
export function resultsAuthMessage(job: string, nonce: string): Uint8Array {
  return new TextEncoder().encode(`${RESULTS_AUTH_DOMAIN}\njob:${job}\nnonce:${nonce}`);
}

/** A SignMessage backed by a web3.js Keypair, for scripts, tests and servers. */
export function keypairSigner(keypair: Keypair): SignMessage {
  const seed = keypair.secretKey.slice(0, 32);
  return async (message) => ed25519.sign(message, seed);
}

/** `<pubkey base58>:<nonce hex>:<signature base64>`, the value of both the header and `?auth=`. */
export function encodeCredentials(credentials: ResultsCredentials): string {
  return `${credentials.publicKey}:${credentials.nonce}:${toBase64(credentials.signature)}`;
}

export function authorizationHeader(credentials: ResultsCredentials): string {
  return `${RESULTS_AUTH_SCHEME} ${encodeCredentials(credentials)}`;
}

/** Parses the triple; returns a reason instead of throwing so a server can answer with it. */
export function parseCredentials(value: string): ResultsCredentials | { error: string } {
  const parts = value.split(":");
  if (parts.length !== 3) return { error: "malformed credentials: expected <pubkey>:<nonce>:<signature>" };
  const [publicKey, nonce, signature] = parts;
  if (!isBase58PublicKey(publicKey)) return { error: "malformed credentials: public key is not a base58 ed25519 key" };
  if (!NONCE_HEX.test(nonce)) return { error: "malformed credentials: nonce must be 64 lower-case hex digits" };
  if (!SIGNATURE_BASE64.test(signature)) return { error: "malformed credentials: signature must be 64 bytes in base64" };
  return { publicKey, nonce, signature: fromBase64(signature) };
}

/** Parses an `Authorization` header value of the CM-Ed25519 scheme. */
export function parseAuthorizationHeader(header: string): ResultsCredentials | { error: string } {
  const space = header.indexOf(" ");
  if (space < 0 || header.slice(0, space) !== RESULTS_AUTH_SCHEME) return { error: `malformed authorization: expected scheme ${RESULTS_AUTH_SCHEME}` };
  return parseCredentials(header.slice(space + 1).trim());
}

/** Asks the server for a nonce and signs it: credentials for exactly one request. */
export async function signChallenge(options: {
  endpoint: string;
  job: string;
  publicKey: PublicKey | string;
  signMessage: SignMessage;
  fetch?: typeof fetch;
}): Promise<ResultsCredentials> {
  const doFetch = options.fetch ?? fetch;
  const url = `${trimEndpoint(options.endpoint)}/v1/jobs/${encodeURIComponent(options.job)}/challenge`;
  const response = await doFetch(url);
  if (!response.ok) throw new ResultsHttpError(response.status, await errorText(response), url);
  const challenge = (await response.json()) as ResultsChallenge;
  if (typeof challenge?.nonce !== "string" || !NONCE_HEX.test(challenge.nonce)) throw new Error("the server sent a malformed challenge");
  const signature = await options.signMessage(resultsAuthMessage(options.job, challenge.nonce));
  if (!(signature instanceof Uint8Array) || signature.length !== 64) throw new Error("signMessage must return a 64-byte ed25519 signature");
  const publicKey = typeof options.publicKey === "string" ? options.publicKey : options.publicKey.toBase58();
  return { publicKey, nonce: challenge.nonce, signature };
}

function isBase58PublicKey(value: string): boolean {
  if (value.length < 32 || value.length > 44) return false;
  try {
    return new PublicKey(value).toBase58() === value;
  } catch {
    return false;
  }
}

function toBase64(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}

function fromBase64(text: string): Uint8Array {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}
