// The provider's results server: a public content-addressed blob store (job specs and inputs that
// consumers publish), verifiable jobs' outputs (public, like their programs), the challenge for
// wallet auth, and, for the job's consumer only, the result manifest, the result files and a
// WebSocket of the job's logs; and, when the node serves leases, its replicas' acknowledgements
// from the consumer's watchdog (public: the watchdog's signature is their authority), where each
// replica answers, and a WebSocket shell into a replica for the consumer only. One http.Server;
// WebSockets are accepted by hand on `upgrade` so a refused one gets a plain HTTP error before
// any handshake.
import http from "node:http";
import type { AddressInfo } from "node:net";
import type { Duplex, Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { PublicKey } from "@solana/web3.js";
import { WebSocket, WebSocketServer } from "ws";
import type { ReplicaShell } from "../runtime/service-container";
import { isSafeRelativePath, parseAcknowledgementSubmission, type ReplicaReport } from "@compute-market/sdk";
import { createLogger, type Logger } from "@compute-market/common";
import { authenticate, ChallengeBook, type AuthResult, type ConsumerOf } from "./auth";
import type { LogEvent, ResultsCatalog } from "./catalog";
import { BlobHashMismatchError, BlobTooLargeError, isSha256Hex, type BlobStore } from "./store";
import { AcknowledgementRejected, type AcknowledgementBook, type LeaseLookup, type RejectionReason } from "../services/acknowledgements";

export interface ResultsServerOptions {
  /** Defaults to 127.0.0.1. */
  host?: string;
  /** 0 picks a free port. */
  port: number;
  store: BlobStore;
  jobs: ResultsCatalog;
  consumerOf: ConsumerOf;
  /** A verifiable job's output: its blob id (sha256 hex), or null when this node ran no such job. */
  outputOf?: (job: string) => Promise<string | null>;
  /** Largest blob a PUT may upload. */
  maxBlobBytes: number;
  /** Bytes the store may hold before public uploads are refused (507); unlimited when absent. */
  maxStoreBytes?: number;
  logger?: Logger;
  /** Nonce book; tests pass one with their own clock. */
  challenges?: ChallengeBook;
  /** Longest request target accepted (414 past it). */
  maxUrlLength?: number;
  /** Interval of WebSocket pings; a client that missed the previous one is dropped. */
  heartbeatMs?: number;
  /** Where service acknowledgements are kept, and how a job's lease terms are read; without it the node takes none (404). */
  acknowledgements?: { book: AcknowledgementBook; leaseOf: LeaseLookup };
  /** This node's report on its replica of a service job (its URLs, health, latest acknowledgement), or null when it serves none. */
  replicaReportOf?: (job: string) => Promise<Omit<ReplicaReport, "job"> | null>;
  /** A shell in this node's replica of a service job, or null when it serves none. */
  shellOf?: (job: string) => Promise<ReplicaShell | null>;
}

export interface ResultsServer {
  /** Base URL, e.g. `http://127.0.0.1:41234`. */
  url: string;
  close(): Promise<void>;
}

/** A refused request: its status and the `error` of its JSON body. */
class HttpError extends Error {
  constructor(readonly status: number, message: string, readonly headers: Record<string, string> = {}, readonly reason?: string) {
    super(message);
  }
}

type Route =
  | { kind: "health" }
  | { kind: "blob"; sha256: string }
  | { kind: "challenge"; job: string }
  | { kind: "results"; job: string }
  | { kind: "file"; job: string; path: string }
  | { kind: "logs"; job: string }
  | { kind: "output"; job: string }
  | { kind: "acknowledgement"; job: string }
  | { kind: "service"; job: string }
  | { kind: "shell"; job: string };

const MAX_HEADER_BYTES = 16 * 1024;
/** An acknowledgement's body is ~130 bytes; anything much larger is not one. */
const MAX_ACK_BODY_BYTES = 1_024;
/** A slow WebSocket reader is dropped rather than buffered without bound. */
const MAX_WS_BUFFERED_BYTES = 4 * 1024 * 1024;
const ALLOWED_METHODS: Record<Route["kind"], string[]> = {
  health: ["GET", "HEAD"],
  blob: ["GET", "HEAD", "PUT"],
  challenge: ["GET"],
  results: ["GET"],
  file: ["GET", "HEAD"],
  logs: ["GET"],
  output: ["GET", "HEAD"],
  acknowledgement: ["POST"],
  service: ["GET"],
  shell: ["GET"],
};
const CORS_HEADERS = {
  // Auth is a per-request signature, not a cookie, so any origin may call.
  "access-control-allow-origin": "*",
  "access-control-allow-methods": "GET, HEAD, PUT, POST, OPTIONS",
  "access-control-allow-headers": "authorization, content-type",
  "access-control-expose-headers": "content-length",
  "access-control-max-age": "600",
};

export async function startResultsServer(options: ResultsServerOptions): Promise<ResultsServer> {
  const log = options.logger ?? createLogger("results-server", "silent");
  const challenges = options.challenges ?? new ChallengeBook();
  const maxUrlLength = options.maxUrlLength ?? 8_192;
  const context: Context = { ...options, log, challenges, maxUrlLength };

  const server = http.createServer({ maxHeaderSize: MAX_HEADER_BYTES }, (request, response) => {
    handleRequest(context, request, response).catch((error) => failed(log, response, error));
  });
  const wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });
  server.on("upgrade", (request: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on("error", () => socket.destroy());
    handleUpgrade(context, wss, request, socket, head).catch((error) => {
      log.error({ err: error }, "websocket upgrade failed");
      refuseUpgrade(socket, 500, "internal error");
    });
  });

  const alive = new WeakSet<WebSocket>();
  wss.on("connection", (ws: WebSocket) => {
    alive.add(ws);
    ws.on("pong", () => alive.add(ws));
  });
  const heartbeat = setInterval(() => {
    for (const ws of wss.clients) {
      if (!alive.has(ws)) {
        ws.terminate();
        continue;
      }
      alive.delete(ws);
      ws.ping();
    }
  }, options.heartbeatMs ?? 30_000);
  heartbeat.unref();

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host ?? "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  const url = `http://${host}:${address.port}`;
  log.info({ url }, "results server listening");

  return {
    url,
    close: async () => {
      clearInterval(heartbeat);
      for (const ws of wss.clients) ws.terminate();
      await new Promise<void>((done) => wss.close(() => done()));
      const closed = new Promise<void>((done) => server.close(() => done()));
      server.closeAllConnections();
      await closed;
    },
  };
}

interface Context extends ResultsServerOptions {
  log: Logger;
  challenges: ChallengeBook;
  maxUrlLength: number;
}

async function handleRequest(context: Context, request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
  for (const [name, value] of Object.entries(CORS_HEADERS)) response.setHeader(name, value);
  try {
    const { route } = parseTarget(request.url ?? "/", context.maxUrlLength);
    const method = request.method ?? "GET";
    if (method === "OPTIONS") {
      response.writeHead(204).end();
      return;
    }
    if (!ALLOWED_METHODS[route.kind].includes(method)) throw new HttpError(405, `method ${method} not allowed here`, { allow: ALLOWED_METHODS[route.kind].join(", ") });
    switch (route.kind) {
      case "health":
        return sendJson(response, 200, { ok: true });
      case "blob":
        return method === "PUT" ? await putBlob(context, request, response, route.sha256) : await getBlob(context, response, route.sha256, method === "HEAD");
      case "challenge":
        return await issueChallenge(context, response, route.job);
      case "results":
        return await sendManifest(context, request, response, route.job);
      case "file":
        return await sendFile(context, request, response, route.job, route.path, method === "HEAD");
      case "output": {
        // A verifiable job's output is public like its program: anyone may replay it.
        const blob = await context.outputOf?.(route.job);
        if (!blob) throw new HttpError(404, "no verifiable output for this job here");
        return await getBlob(context, response, blob, method === "HEAD");
      }
      case "logs":
        throw new HttpError(426, "the logs are a WebSocket: connect with an Upgrade request", { upgrade: "websocket" });
      case "shell":
        throw new HttpError(426, "the shell is a WebSocket: connect with an Upgrade request", { upgrade: "websocket" });
      case "acknowledgement":
        return await takeAcknowledgement(context, request, response, route.job);
      case "service": {
        // Public, like the endpoint itself: where the consumer's watchdog probes the replica.
        const report = await context.replicaReportOf?.(route.job);
        if (!report) throw new HttpError(404, "this node serves no replica of this job");
        return sendJson(response, 200, { job: route.job, ...report } satisfies ReplicaReport);
      }
    }
  } catch (error) {
    if (!(error instanceof HttpError)) throw error;
    // The body of a refused upload may still be arriving: answer, then close the connection.
    if (!request.complete) response.setHeader("connection", "close");
    sendJson(response, error.status, { error: error.message, ...(error.reason && { reason: error.reason }) }, error.headers);
  }
}

/** Splits the request target without normalising `.` or `..` (a URL parser would). */
function parseTarget(target: string, maxUrlLength: number): { route: Route; query: URLSearchParams } {
  if (target.length > maxUrlLength) throw new HttpError(414, "request target too long");
  const mark = target.indexOf("?");
  const pathname = mark < 0 ? target : target.slice(0, mark);
  const query = new URLSearchParams(mark < 0 ? "" : target.slice(mark + 1));
  return { route: matchRoute(pathname), query };
}

function matchRoute(pathname: string): Route {
  const segments = pathname.split("/");
  if (segments[0] !== "" || segments[1] !== "v1") throw new HttpError(404, "no such route");
  const [, , resource, id, action, sub, ...rest] = segments;
  if (resource === "health" && segments.length === 3) return { kind: "health" };
  if (resource === "blobs" && segments.length === 4) {
    if (!isSha256Hex(id)) throw new HttpError(400, "a blob id must be 64 lower-case hex digits");
    return { kind: "blob", sha256: id };
  }
  if (resource === "services" && segments.length === 4) {
    if (!isJobId(id)) throw new HttpError(400, "a job id must be a base58 account address");
    return { kind: "service", job: id };
  }
  if (resource === "services" && action === "shell" && segments.length === 5) {
    if (!isJobId(id)) throw new HttpError(400, "a job id must be a base58 account address");
    return { kind: "shell", job: id };
  }
  if (resource === "services" && action === "acknowledgements" && segments.length === 5) {
    if (!isJobId(id)) throw new HttpError(400, "a job id must be a base58 account address");
    return { kind: "acknowledgement", job: id };
  }
  if (resource === "jobs" && segments.length >= 5) {
    if (!isJobId(id)) throw new HttpError(400, "a job id must be a base58 account address");
    if (action === "challenge" && segments.length === 5) return { kind: "challenge", job: id };
    if (action === "results" && segments.length === 5) return { kind: "results", job: id };
    if (action === "logs" && segments.length === 5) return { kind: "logs", job: id };
    if (action === "output" && segments.length === 5) return { kind: "output", job: id };
    if (action === "results" && sub === "files" && rest.length > 0) return { kind: "file", job: id, path: decodeFilePath(rest) };
  }
  throw new HttpError(404, "no such route");
}

function decodeFilePath(segments: string[]): string {
  let path: string;
  try {
    path = segments.map((segment) => decodeURIComponent(segment)).join("/");
  } catch {
    throw new HttpError(400, "malformed percent-encoding in the file path");
  }
  if (!isSafeRelativePath(path)) throw new HttpError(400, "the file path must be a safe relative path");
  return path;
}

function isJobId(value: string | undefined): value is string {
  if (value === undefined || value.length < 32 || value.length > 44) return false;
  try {
    return new PublicKey(value).toBase58() === value;
  } catch {
    return false;
  }
}

async function putBlob(context: Context, request: http.IncomingMessage, response: http.ServerResponse, sha256: string): Promise<void> {
  const declared = Number(request.headers["content-length"] ?? NaN);
  if (declared > context.maxBlobBytes) throw new HttpError(413, `blob larger than ${context.maxBlobBytes} bytes`);
  const existed = await context.store.has(sha256);
  // Uploads are public: a quota keeps anyone from filling the node's disk.
  if (!existed && context.maxStoreBytes !== undefined) {
    const incoming = Number.isFinite(declared) ? declared : context.maxBlobBytes;
    if ((await context.store.totalBytes()) + incoming > context.maxStoreBytes) throw new HttpError(507, "the blob store is full");
  }
  try {
    // Iterate without destroying the request on failure: the socket must carry the error response.
    const stored = await context.store.ingest(request.iterator({ destroyOnReturn: false }), { expectedSha256: sha256, maxBytes: context.maxBlobBytes });
    context.log.debug({ sha256, size: stored.size }, "blob stored");
    sendJson(response, existed ? 200 : 201, stored);
  } catch (error) {
    if (error instanceof BlobTooLargeError) throw new HttpError(413, `blob larger than ${context.maxBlobBytes} bytes`);
    if (error instanceof BlobHashMismatchError) throw new HttpError(400, `the body hashes to ${error.actual}, not ${error.expected}`);
    throw error;
  }
}

/** Statuses of the book's refusals: 403 not the watchdog's word for this replica, 409 out of date, 404 no lease. */
const REJECTION_STATUS: Record<RejectionReason, number> = {
  "unknown-lease": 404,
  "lease-mismatch": 409,
  "wrong-job": 403,
  "wrong-provider": 403,
  "wrong-incarnation": 403,
  "wrong-watchdog": 403,
  "bad-signature": 403,
  stale: 409,
};

/** `POST /v1/services/<job>/acknowledgements`: 204 once the acknowledgement is held on disk. */
async function takeAcknowledgement(context: Context, request: http.IncomingMessage, response: http.ServerResponse, job: string): Promise<void> {
  if (!context.acknowledgements) throw new HttpError(404, "this node takes no service acknowledgements");
  const { book, leaseOf } = context.acknowledgements;
  let body: unknown;
  try {
    body = JSON.parse(await readBody(request, MAX_ACK_BODY_BYTES));
  } catch (error) {
    if (error instanceof HttpError) throw error;
    throw new HttpError(400, "the body is not JSON");
  }
  const submission = parseAcknowledgementSubmission(body);
  if ("error" in submission) throw new HttpError(400, submission.error);
  const address = new PublicKey(job);
  const terms = await leaseOf(address);
  try {
    const outcome = book.submit(address, submission.upToSlot, submission.signature, terms);
    context.log.debug({ job, upToSlot: submission.upToSlot.toString(), outcome }, "acknowledgement taken");
  } catch (error) {
    if (error instanceof AcknowledgementRejected) throw new HttpError(REJECTION_STATUS[error.reason], error.message, {}, error.reason);
    throw error;
  }
  response.writeHead(204).end();
}

/** A small request body, refused (413) past `maxBytes` whether or not it declared its length. */
async function readBody(request: http.IncomingMessage, maxBytes: number): Promise<string> {
  const tooLarge = () => new HttpError(413, `the body is larger than ${maxBytes} bytes`);
  if (Number(request.headers["content-length"] ?? 0) > maxBytes) throw tooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request.iterator({ destroyOnReturn: false })) {
    size += (chunk as Buffer).length;
    if (size > maxBytes) throw tooLarge();
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}

async function getBlob(context: Context, response: http.ServerResponse, sha256: string, headOnly: boolean): Promise<void> {
  const blob = await context.store.openBlob(sha256);
  if (!blob) throw new HttpError(404, "no such blob");
  const headers = {
    "content-type": "application/octet-stream",
    "content-length": String(blob.size),
    // The name is the content's hash: it can never change.
    "cache-control": "public, max-age=31536000, immutable",
    etag: `"${sha256}"`,
  };
  await streamOut(response, headers, blob.stream, headOnly);
}

async function issueChallenge(context: Context, response: http.ServerResponse, job: string): Promise<void> {
  if ((await context.consumerOf(job)) === null) throw new HttpError(404, "unknown job");
  sendJson(response, 200, context.challenges.issue(job), { "cache-control": "no-store" });
}

async function sendManifest(context: Context, request: http.IncomingMessage, response: http.ServerResponse, job: string): Promise<void> {
  await requireConsumer(context, request, job);
  const manifest = context.jobs.manifest(job);
  if (!manifest) throw new HttpError(404, "no results for this job yet");
  sendJson(response, 200, manifest, { "cache-control": "no-store" });
}

async function sendFile(context: Context, request: http.IncomingMessage, response: http.ServerResponse, job: string, path: string, headOnly: boolean): Promise<void> {
  await requireConsumer(context, request, job);
  const manifest = context.jobs.manifest(job);
  if (!manifest) throw new HttpError(404, "no results for this job yet");
  const file = manifest.files.find((entry) => entry.path === path);
  if (!file) throw new HttpError(404, "no such file in the results");
  const blob = await context.store.openBlob(file.sha256);
  if (!blob) {
    context.log.error({ job, path, sha256: file.sha256 }, "a result file is missing from the store");
    throw new HttpError(500, "the file is missing from the provider's store");
  }
  await streamOut(response, { "content-type": "application/octet-stream", "content-length": String(blob.size), "cache-control": "no-store" }, blob.stream, headOnly);
}

async function requireConsumer(context: Context, request: http.IncomingMessage, job: string): Promise<void> {
  const result = await authenticate({ header: request.headers.authorization }, job, context.challenges, context.consumerOf);
  if (!result.ok) throw authError(result);
}

function authError(result: Extract<AuthResult, { ok: false }>): HttpError {
  return new HttpError(result.status, result.error, result.status === 401 ? { "www-authenticate": "CM-Ed25519" } : {});
}

async function handleUpgrade(context: Context, wss: WebSocketServer, request: http.IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
  let route: Route;
  let query: URLSearchParams;
  try {
    ({ route, query } = parseTarget(request.url ?? "/", context.maxUrlLength));
    if (route.kind !== "logs" && route.kind !== "shell") throw new HttpError(404, "no WebSocket at this route");
  } catch (error) {
    if (error instanceof HttpError) return refuseUpgrade(socket, error.status, error.message);
    throw error;
  }
  const job = route.job;
  // Both are the consumer's only: its wallet signs the node's challenge, as for results.
  const result = await authenticate({ query: query.get("auth") }, job, context.challenges, context.consumerOf);
  if (!result.ok) return refuseUpgrade(socket, result.status, result.error);
  const shell = route.kind === "shell" ? await context.shellOf?.(job) : null;
  if (route.kind === "shell" && !shell) return refuseUpgrade(socket, 404, "this node serves no replica of the job");
  if (socket.destroyed) {
    shell?.end();
    return;
  }
  wss.handleUpgrade(request, socket, head, (ws) => {
    wss.emit("connection", ws, request);
    if (shell) runShell(context, ws, job, shell);
    else streamLogs(context, ws, job);
  });
}

/** The shell's output to the consumer as `{stream, data}` messages, its `{stdin}` and `{eof}`
 * messages to the shell, `{event: "exit", code}` and a normal close when it exits. A closed
 * socket closes the shell's input, so `sh` exits with it. */
function runShell(context: Context, ws: WebSocket, job: string, shell: ReplicaShell): void {
  const send = (message: ShellServerMessage): void => {
    if (ws.readyState !== WebSocket.OPEN) return;
    if (ws.bufferedAmount > MAX_WS_BUFFERED_BYTES) return void ws.close(1008, "reader too slow");
    ws.send(JSON.stringify(message));
  };
  shell.stdout.on("data", (chunk: Buffer) => send({ stream: "stdout", data: chunk.toString("utf8") }));
  shell.stderr.on("data", (chunk: Buffer) => send({ stream: "stderr", data: chunk.toString("utf8") }));
  ws.on("message", (raw) => {
    const message = parseShellInput(String(raw));
    if (message === null) return void ws.close(1007, 'messages are {"stdin": "<text>"} or {"eof": true}');
    if ("stdin" in message) shell.write(message.stdin);
    else shell.end();
  });
  ws.on("close", () => shell.end());
  ws.on("error", (error) => {
    context.log.debug({ err: error, job }, "shell websocket error");
    shell.end();
  });
  void shell.exited.then((code) => {
    // The output's last chunks are read before the exit is told.
    setImmediate(() => {
      send({ event: "exit", code });
      if (ws.readyState === WebSocket.OPEN) ws.close(1000, "shell exited");
    });
  });
}

type ShellServerMessage = { stream: "stdout" | "stderr"; data: string } | { event: "exit"; code: number | null };

/** A client's shell message, or null for anything else. */
function parseShellInput(text: string): { stdin: string } | { eof: true } | null {
  try {
    const value = JSON.parse(text) as { stdin?: unknown; eof?: unknown };
    if (typeof value.stdin === "string") return { stdin: value.stdin };
    if (value.eof === true) return { eof: true };
    return null;
  } catch {
    return null;
  }
}

/** History first, then live lines, then the end event and a normal close. */
function streamLogs(context: Context, ws: WebSocket, job: string): void {
  const send = (event: LogEvent): boolean => {
    if (ws.readyState !== WebSocket.OPEN) return false;
    if (ws.bufferedAmount > MAX_WS_BUFFERED_BYTES) {
      ws.close(1008, "reader too slow");
      return false;
    }
    ws.send(JSON.stringify(event));
    return true;
  };
  const finish = (status: string): void => {
    send({ event: "end", status });
    ws.close(1000, "job ended");
  };
  // History, end state and subscription are read in one turn: no event can slip between them.
  const history = context.jobs.history(job);
  const status = context.jobs.ended(job);
  for (const line of history) if (!send(line)) return;
  if (status !== null) return finish(status);
  const unsubscribe = context.jobs.subscribe(job, (event) => {
    if ("event" in event) finish(event.status);
    else send(event);
  });
  ws.on("close", unsubscribe);
  ws.on("error", (error) => {
    context.log.debug({ err: error, job }, "logs websocket error");
    unsubscribe();
  });
}

function refuseUpgrade(socket: Duplex, status: number, error: string): void {
  if (socket.destroyed) return;
  const body = JSON.stringify({ error });
  socket.end(
    `HTTP/1.1 ${status} ${http.STATUS_CODES[status] ?? "Error"}\r\n` +
      "connection: close\r\ncontent-type: application/json\r\n" +
      `content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}

async function streamOut(response: http.ServerResponse, headers: Record<string, string>, body: Readable, headOnly: boolean): Promise<void> {
  response.writeHead(200, headers);
  if (headOnly) {
    body.destroy();
    response.end();
    return;
  }
  // A client that goes away mid-transfer rejects the pipeline; there is nobody left to answer.
  await pipeline(body, response).catch(() => response.destroy());
}

function sendJson(response: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { ...headers, "content-type": "application/json", "content-length": String(Buffer.byteLength(text)) });
  response.end(text);
}

function failed(log: Logger, response: http.ServerResponse, error: unknown): void {
  log.error({ err: error }, "results request failed");
  if (response.headersSent) {
    response.destroy();
    return;
  }
  sendJson(response, 500, { error: "internal error" });
}
