// The consumer's side of a provider's results server: publish and fetch content-addressed blobs,
// download a job's results and check them against the on-chain output root, and follow its logs.
// Browser-safe: global fetch and WebSocket (both injectable), @noble for hashing.
import { sha256 } from "@noble/hashes/sha256";
import { bytesToHex } from "@noble/hashes/utils";
import type { PublicKey } from "@solana/web3.js";
import type { BidAccount } from "../accounts";
import { verifyOutput, type MachineRoots } from "../verifiable";
import { authorizationHeader, encodeCredentials, signChallenge, type SignMessage } from "./auth";
import { equalBytes, errorText, ResultsHttpError, trimEndpoint } from "./internal";
import { InvalidResultSetError, manifestEntries, manifestRoot, type ResultManifest } from "./merkle";

export { ResultsHttpError };

/** The results do not match what they claim or what the chain committed; nothing is returned. */
export class ResultVerificationError extends Error {
  constructor(readonly reason: string, readonly path?: string) {
    super(path === undefined ? `result verification failed: ${reason}` : `result verification failed for ${JSON.stringify(path)}: ${reason}`);
    this.name = "ResultVerificationError";
  }
}

export interface HttpOptions {
  /** Defaults to the global fetch. */
  fetch?: typeof fetch;
}

/** Reading a manifest stops past this many bytes. */
const MAX_MANIFEST_BYTES = 64 * 1024 * 1024;

/** `bytes` as a request body: fetch takes views of a plain ArrayBuffer only, so one over any
 * other buffer (a SharedArrayBuffer, say) is copied. */
function bodyOf(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return bytes.buffer instanceof ArrayBuffer ? (bytes as Uint8Array<ArrayBuffer>) : bytes.slice();
}

/** Uploads bytes to the provider's public blob store; returns their sha256 hex (the blob's id). */
export async function uploadBlob(endpoint: string, bytes: Uint8Array, options: HttpOptions = {}): Promise<string> {
  const id = bytesToHex(sha256(bytes));
  const url = `${trimEndpoint(endpoint)}/v1/blobs/${id}`;
  const response = await (options.fetch ?? fetch)(url, { method: "PUT", headers: { "content-type": "application/octet-stream" }, body: bodyOf(bytes) });
  if (!response.ok) throw new ResultsHttpError(response.status, await errorText(response), url);
  await response.body?.cancel();
  return id;
}

/** Downloads a blob and checks it hashes to its id. */
export async function fetchBlob(endpoint: string, sha256Hex: string, options: HttpOptions & { maxBytes?: number } = {}): Promise<Uint8Array> {
  const url = `${trimEndpoint(endpoint)}/v1/blobs/${sha256Hex}`;
  const response = await (options.fetch ?? fetch)(url);
  if (!response.ok) throw new ResultsHttpError(response.status, await errorText(response), url);
  const bytes = await readBody(response, options.maxBytes ?? Number.MAX_SAFE_INTEGER, () => new ResultVerificationError(`blob ${sha256Hex} is larger than allowed`));
  if (bytesToHex(sha256(bytes)) !== sha256Hex) throw new ResultVerificationError(`blob content does not hash to ${sha256Hex}`);
  return bytes;
}

/** The largest verifiable output: the output quarter less its length prefix. */
const MAX_VERIFIABLE_OUTPUT_BYTES = 4 * 1024 * 1024 - 4;

/**
 * Downloads a verifiable job's output from a provider's endpoint (public: anyone can replay the
 * job) and checks it against the provider's commitment: its quarter root must be the committed
 * output root, which the program proved into the committed final state. Throws
 * OutputMismatchError (from `verifyOutput`) when it is not the committed output.
 */
export async function fetchVerifiableOutput(
  options: HttpOptions & { endpoint: string; job: PublicKey | string; bid: Pick<BidAccount, "outputRoot" | "finalStateHash">; machine: MachineRoots },
): Promise<Uint8Array> {
  const url = `${trimEndpoint(options.endpoint)}/v1/jobs/${options.job.toString()}/output`;
  const response = await (options.fetch ?? fetch)(url);
  if (!response.ok) throw new ResultsHttpError(response.status, await errorText(response), url);
  const bytes = await readBody(response, MAX_VERIFIABLE_OUTPUT_BYTES, () => new ResultVerificationError("the output is larger than the output quarter"));
  verifyOutput(options.machine, options.bid, bytes);
  return bytes;
}

export interface AuthOptions extends HttpOptions {
  /** The provider's results endpoint, e.g. `https://provider.example:8443`. */
  endpoint: string;
  /** The job account address. */
  job: PublicKey | string;
  /** The consumer wallet that posted the job. */
  publicKey: PublicKey | string;
  signMessage: SignMessage;
}

export interface FetchResultsOptions extends AuthOptions {
  /** The job's committed output root (32 bytes), read from chain. */
  expectedRoot: Uint8Array;
}

export interface JobResults {
  manifest: ResultManifest;
  files: Map<string, Uint8Array>;
}

/**
 * Downloads the manifest and every file, checking each file's size and sha256 against the
 * manifest and the manifest's Merkle root against `expectedRoot`. One signed challenge per
 * request: a browser wallet is asked to sign once for the manifest and once per file.
 */
export async function fetchResults(options: FetchResultsOptions): Promise<JobResults> {
  const job = addressOf(options.job);
  const base = `${trimEndpoint(options.endpoint)}/v1/jobs/${job}/results`;
  const manifestResponse = await authorizedGet(options, job, base);
  const manifestBytes = await readBody(manifestResponse, MAX_MANIFEST_BYTES, () => new ResultVerificationError("the manifest is too large"));
  const manifest = parseManifest(manifestBytes);
  checkManifest(manifest, options.expectedRoot);

  const files = new Map<string, Uint8Array>();
  for (const file of manifest.files) {
    const url = `${base}/files/${file.path.split("/").map(encodeURIComponent).join("/")}`;
    const response = await authorizedGet(options, job, url);
    const bytes = await readBody(response, file.size, () => new ResultVerificationError(`more bytes than the manifest's ${file.size}`, file.path));
    if (bytes.length !== file.size) throw new ResultVerificationError(`${bytes.length} bytes, the manifest says ${file.size}`, file.path);
    if (bytesToHex(sha256(bytes)) !== file.sha256) throw new ResultVerificationError("content does not match the manifest's sha256", file.path);
    files.set(file.path, bytes);
  }
  return { manifest, files };
}

/** Checks the manifest is well formed, that its root is that of its files, and that it is the expected one. */
export function checkManifest(manifest: ResultManifest, expectedRoot: Uint8Array): void {
  let root: Uint8Array;
  try {
    manifestEntries(manifest);
    root = manifestRoot(manifest);
  } catch (error) {
    if (error instanceof InvalidResultSetError) throw new ResultVerificationError(`malformed manifest: ${error.message}`);
    throw error;
  }
  if (manifest.root !== bytesToHex(root)) throw new ResultVerificationError("the manifest's root is not the root of its files");
  if (expectedRoot.length !== 32 || !equalBytes(root, expectedRoot)) throw new ResultVerificationError("the results' root is not the expected (on-chain) output root");
}

/** A log line of the job's container, or of the provider (`system`). */
export interface JobLogLine {
  stream: "stdout" | "stderr" | "system";
  line: string;
  /** Milliseconds since the epoch. */
  at: number;
}

/** The last message: the job has ended with `status`. */
export interface JobLogEnd {
  event: "end";
  status: string;
}

export type JobLogMessage = JobLogLine | JobLogEnd;

/**
 * The subset of the WebSocket API used here. Handler parameters are typed `never` so that both the
 * DOM WebSocket and the `ws` package's class fit; the handlers below read only `data`, `code`,
 * `reason` and `message`.
 */
export interface WebSocketLike {
  onmessage: ((event: never) => void) | null;
  onerror: ((event: never) => void) | null;
  onclose: ((event: never) => void) | null;
  close(code?: number, reason?: string): void;
}

export type WebSocketConstructor = new (url: string) => WebSocketLike;

export interface StreamLogsOptions extends AuthOptions {
  /** Defaults to the global WebSocket; in Node pass e.g. the `ws` package's class. */
  WebSocket?: WebSocketConstructor;
  /** Aborting closes the socket and ends the iteration quietly. */
  signal?: AbortSignal;
}

type Pending<T> = { kind: "message"; message: T } | { kind: "closed"; code: number; reason: string } | { kind: "failed"; error: Error };

/** A WebSocket to a provider's route for the job's consumer, its messages parsed and queued until read. */
interface SignedFeed<T> {
  socket: WebSocketLike & { send(data: string): void; onopen: (() => void) | null };
  /** The next message, close or failure, waiting for one if none is queued. */
  next(): Promise<Pending<T>>;
  push(item: Pending<T>): void;
}

/** Signs the node's challenge for `options.job`, connects to `route` (a path taking the job's
 * address) and queues what arrives; `what` names the stream in its errors. */
async function openSignedFeed<T>(options: StreamLogsOptions, route: (job: string) => string, parse: (data: unknown) => T, what: string): Promise<SignedFeed<T>> {
  const Socket = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
  if (!Socket) throw new Error("no WebSocket available: pass options.WebSocket (e.g. the ws package) outside browsers");
  const job = addressOf(options.job);
  const credentials = await signChallenge({ ...options, job });
  const socket = new Socket(`${websocketBase(options.endpoint)}${route(job)}?auth=${encodeURIComponent(encodeCredentials(credentials))}`) as SignedFeed<T>["socket"];
  const queue: Pending<T>[] = [];
  let wake: (() => void) | null = null;
  const push = (item: Pending<T>): void => {
    queue.push(item);
    wake?.();
  };
  const handlers = socket as unknown as {
    onmessage: (event: { data: unknown }) => void;
    onerror: (event: { message?: string }) => void;
    onclose: (event: { code: number; reason: string }) => void;
  };
  handlers.onmessage = (event) => {
    try {
      push({ kind: "message", message: parse(event.data) });
    } catch (error) {
      push({ kind: "failed", error: error as Error });
    }
  };
  handlers.onerror = (event) => push({ kind: "failed", error: new Error(`${what} failed: ${event?.message || "connection error"}`) });
  handlers.onclose = (event) => push({ kind: "closed", code: event.code, reason: event.reason });
  const next = async (): Promise<Pending<T>> => {
    for (;;) {
      const item = queue.shift();
      if (item) return item;
      await new Promise<void>((resolve) => (wake = resolve));
      wake = null;
    }
  };
  return { socket, next, push };
}

/**
 * The job's logs: the lines kept so far, then live ones, ending after the `{event: "end"}` message.
 * Throws if the connection is refused or drops before the job ends.
 */
export async function* streamLogs(options: StreamLogsOptions): AsyncGenerator<JobLogMessage, void, undefined> {
  const feed = await openSignedFeed(options, (job) => `/v1/jobs/${job}/logs`, parseLogMessage, "log stream");
  const onAbort = (): void => feed.push({ kind: "closed", code: 1000, reason: "aborted" });
  options.signal?.addEventListener("abort", onAbort);

  try {
    for (;;) {
      if (options.signal?.aborted) return;
      const item = await feed.next();
      if (item.kind === "failed") throw item.error;
      if (item.kind === "closed") {
        if (options.signal?.aborted) return;
        throw new Error(`log stream closed before the job ended (code ${item.code}${item.reason ? `: ${item.reason}` : ""})`);
      }
      yield item.message;
      if ("event" in item.message) return;
    }
  } finally {
    options.signal?.removeEventListener("abort", onAbort);
    feed.socket.close(1000);
  }
}

async function authorizedGet(options: AuthOptions, job: string, url: string): Promise<Response> {
  const credentials = await signChallenge({ ...options, job });
  const response = await (options.fetch ?? fetch)(url, { headers: { authorization: authorizationHeader(credentials) } });
  if (!response.ok) throw new ResultsHttpError(response.status, await errorText(response), url);
  return response;
}

/** Reads a body, failing as soon as it passes `maxBytes` rather than buffering whatever a server sends. */
async function readBody(response: Response, maxBytes: number, tooLarge: () => Error): Promise<Uint8Array> {
  if (!response.body) return new Uint8Array(0);
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.length;
    if (total > maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw tooLarge();
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.length;
  }
  return bytes;
}

function parseManifest(bytes: Uint8Array): ResultManifest {
  try {
    return JSON.parse(new TextDecoder().decode(bytes)) as ResultManifest;
  } catch {
    throw new ResultVerificationError("the manifest is not JSON");
  }
}

function parseLogMessage(data: unknown): JobLogMessage {
  const text = typeof data === "string" ? data : new TextDecoder().decode(data instanceof ArrayBuffer ? new Uint8Array(data) : (data as Uint8Array));
  const message = JSON.parse(text) as JobLogMessage;
  if (message === null || typeof message !== "object") throw new Error("log stream sent a message that is not an object");
  return message;
}

function websocketBase(endpoint: string): string {
  return trimEndpoint(endpoint).replace(/^http(s?):\/\//, "ws$1://");
}

function addressOf(key: PublicKey | string): string {
  return typeof key === "string" ? key : key.toBase58();
}

/** What a replica's shell sends: output as it comes, then its exit code (null when unknown). */
export type ShellMessage = { stream: "stdout" | "stderr"; data: string } | { event: "exit"; code: number | null };

/** A shell (`sh`, no terminal) in a replica of a service lease, opened by `openShell`. */
export interface ServiceShell {
  /** Sends text to the shell's input (queued until the connection is open). */
  write(input: string): void;
  /** Closes the shell's input: it exits once it has run what it was given. */
  end(): void;
  /** Output, then the exit; throws if the connection is refused or drops before the exit. */
  messages: AsyncGenerator<ShellMessage, void, undefined>;
  /** Closes the connection (the shell's input with it). */
  close(): void;
}

/**
 * Opens a shell in the provider's replica of the lease `job`, signed by the lease's consumer
 * (the node refuses anyone else, and answers 404 when it serves no replica of the job).
 */
export async function openShell(options: StreamLogsOptions): Promise<ServiceShell> {
  const feed = await openSignedFeed(options, (job) => `/v1/services/${job}/shell`, parseShellMessage, "shell");
  const { socket } = feed;
  // Input written before the connection opens waits for it.
  const unsent: string[] = [];
  let open = false;
  const send = (message: { stdin: string } | { eof: true }): void => {
    const text = JSON.stringify(message);
    if (open) socket.send(text);
    else unsent.push(text);
  };
  socket.onopen = () => {
    open = true;
    for (const text of unsent.splice(0)) socket.send(text);
  };

  async function* messages(): AsyncGenerator<ShellMessage, void, undefined> {
    try {
      for (;;) {
        const item = await feed.next();
        if (item.kind === "failed") throw item.error;
        if (item.kind === "closed") throw new Error(`shell closed before it exited (code ${item.code}${item.reason ? `: ${item.reason}` : ""})`);
        yield item.message;
        if ("event" in item.message) return;
      }
    } finally {
      socket.close(1000);
    }
  }
  return { write: (input) => send({ stdin: input }), end: () => send({ eof: true }), messages: messages(), close: () => socket.close(1000) };
}

function parseShellMessage(data: unknown): ShellMessage {
  const value = JSON.parse(typeof data === "string" ? data : new TextDecoder().decode(data as Uint8Array)) as Partial<{ stream: string; data: string; event: string; code: number | null }>;
  if ((value.stream === "stdout" || value.stream === "stderr") && typeof value.data === "string") return { stream: value.stream, data: value.data };
  if (value.event === "exit") return { event: "exit", code: typeof value.code === "number" ? value.code : null };
  throw new Error(`not a shell message: ${JSON.stringify(value).slice(0, 200)}`);
}
