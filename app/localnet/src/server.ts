// A local Solana cluster process's network face: JSON-RPC over HTTP and PubSub over WebSocket on one
// port, PubSub again on the next port (where web3.js looks for it), and a clock that ticks slots.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { WebSocketServer } from "ws";
import { ErrorCode, failure, isObject, type JsonRpcResponse, type RequestLogger } from "./jsonrpc";
import { BLOCKHASH_VALIDITY, Ledger, type ProgramToLoad } from "./ledger";
import { PubSub } from "./pubsub";
import { handleRpc } from "./rpc";

export interface LocalClusterOptions {
  /**
   * Port of the JSON-RPC endpoint. PubSub is served on it and on the next port, which is where
   * `new Connection(url)` looks for it, as with solana-test-validator. 0 picks a free pair.
   */
  port?: number;
  host?: string;
  /** Programs to load into a new ledger; not allowed with `ledger`. */
  programs?: ProgramToLoad[];
  /** Milliseconds per slot; 0 stops the clock, which then moves only by localnet_advanceSlots and localnet_warpToSlot. */
  slotMs?: number;
  /** A ledger to serve instead of a new one. */
  ledger?: Ledger;
  /** Called for every request served, for logging. */
  onRequest?: RequestLogger;
}

export interface LocalCluster {
  /** The JSON-RPC URL, e.g. http://127.0.0.1:8899. */
  url: string;
  /** The PubSub URL web3.js derives from `url`: the next port. */
  wsUrl: string;
  ledger: Ledger;
  pubsub: PubSub;
  /** Stops the clock, closes every socket and both listeners. */
  close(): Promise<void>;
}

/** The largest request body accepted; a transaction is at most 1232 bytes, a batch can be long. */
const MAX_BODY_BYTES = 10 * 1024 * 1024;
/** Attempts at finding two free consecutive ports when asked for any. */
const PORT_PAIR_ATTEMPTS = 20;
/** How long sockets get to complete the WebSocket close handshake before they are cut. */
const CLOSE_GRACE_MS = 1_000;
/**
 * Any origin may call, as with a node's RPC: nothing here is behind a cookie, so a page served
 * from elsewhere (a dapp on a dev server, an explorer) can use the cluster.
 */
const CORS_HEADERS: http.OutgoingHttpHeaders = { "access-control-allow-origin": "*" };
/** What a preflight allows when it names no headers: web3.js sends these two. */
const DEFAULT_ALLOWED_HEADERS = "content-type, solana-client";
/** How long a browser may cache a preflight's answer, in seconds: a day, as a node answers. */
const PREFLIGHT_MAX_AGE_S = 86_400;

/** How long a blockhash lives on a real cluster: 150 blocks of 400 ms. */
const BLOCKHASH_LIFETIME_MS = 60_000;

/** Blocks a blockhash stays valid for at `slotMs` a slot: 150, or more where slots are shorter, so
 * it lives as long in wall time as on a real cluster (web3.js reuses one for 30 s). */
export function blockhashValidityFor(slotMs: number): number {
  return slotMs > 0 ? Math.max(BLOCKHASH_VALIDITY, Math.ceil(BLOCKHASH_LIFETIME_MS / slotMs)) : BLOCKHASH_VALIDITY;
}

export async function startLocalCluster(options: LocalClusterOptions = {}): Promise<LocalCluster> {
  const { port = 8899, host = "127.0.0.1", slotMs = 400, onRequest } = options;
  if (options.ledger && options.programs) throw new Error("startLocalCluster: pass programs or a ledger, not both");
  const ledger = options.ledger ?? Ledger.create({ programs: options.programs, blockhashValidity: blockhashValidityFor(slotMs) });
  const pubsub = new PubSub(ledger, { onRequest });
  const sockets = new WebSocketServer({ noServer: true });
  const createServer = (): http.Server => {
    const server = http.createServer((request, response) => {
      // Only reading the body can fail, when the client goes away mid-request.
      serveHttp(ledger, request, response, onRequest).catch(() => response.destroy());
    });
    server.on("upgrade", (request, socket, head) => sockets.handleUpgrade(request, socket, head, (ws) => pubsub.accept(ws)));
    return server;
  };
  const servers = await listenOnPair(createServer, host, port);
  const clock = slotMs > 0 ? setInterval(() => ledger.advanceSlots(1n), slotMs) : null;
  const rpcPort = (servers[0].address() as AddressInfo).port;
  const hostname = host.includes(":") ? `[${host}]` : host;
  return {
    url: `http://${hostname}:${rpcPort}`,
    wsUrl: `ws://${hostname}:${rpcPort + 1}`,
    ledger,
    pubsub,
    close: async () => {
      if (clock) clearInterval(clock);
      pubsub.close();
      const cut = setTimeout(() => sockets.clients.forEach((ws) => ws.terminate()), CLOSE_GRACE_MS);
      await Promise.all(servers.map(closeServer));
      clearTimeout(cut);
      sockets.close();
    },
  };
}

/** Two servers on consecutive ports: `port` and the next, or any free pair when `port` is 0. */
async function listenOnPair(create: () => http.Server, host: string, port: number): Promise<[http.Server, http.Server]> {
  for (let attempt = 1; ; attempt++) {
    const first = create();
    await listen(first, port, host);
    const second = create();
    try {
      await listen(second, (first.address() as AddressInfo).port + 1, host);
      return [first, second];
    } catch (error) {
      await closeServer(first);
      if (port !== 0 || attempt === PORT_PAIR_ATTEMPTS) throw error;
    }
  }
}

function listen(server: http.Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    try {
      server.listen(port, host, () => {
        server.off("error", reject);
        resolve();
      });
    } catch (error) {
      // An out-of-range port (65535 + 1) throws instead of emitting "error".
      reject(error);
    }
  });
}

function closeServer(server: http.Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    server.close(() => resolve());
    // Idle keep-alive connections would otherwise hold the close open.
    server.closeAllConnections();
  });
}

async function serveHttp(ledger: Ledger, request: http.IncomingMessage, response: http.ServerResponse, onRequest?: RequestLogger): Promise<void> {
  if (request.method === "GET" && request.url === "/health") return reply(response, 200, "text/plain", "ok");
  if (request.method === "OPTIONS") return replyToPreflight(request, response);
  if (request.method !== "POST") return reply(response, 405, "text/plain", "JSON-RPC requests are POSTed", { allow: "POST, OPTIONS" });
  const body = await readBody(request);
  if (body === null) return reply(response, 413, "text/plain", "request body too large");
  const started = performance.now();
  const parsed = parseJson(body);
  const answer = parsed.ok ? handleRpc(ledger, parsed.value) : failure(null, { code: ErrorCode.parseError, message: "Parse error" });
  if (onRequest) logRequests(onRequest, parsed.ok ? parsed.value : null, answer, performance.now() - started);
  reply(response, 200, "application/json", JSON.stringify(answer));
}

function reply(response: http.ServerResponse, status: number, contentType: string, body: string, headers: http.OutgoingHttpHeaders = {}): void {
  response.writeHead(status, { "content-type": contentType, ...CORS_HEADERS, ...headers }).end(body);
}

/** A browser's CORS preflight: the POST it asks about is allowed, with whatever headers it names. */
function replyToPreflight(request: http.IncomingMessage, response: http.ServerResponse): void {
  response.writeHead(204, preflightHeaders(request.headers["access-control-request-headers"])).end();
}

function preflightHeaders(requestedHeaders: string | undefined): http.OutgoingHttpHeaders {
  return {
    ...CORS_HEADERS,
    "access-control-allow-methods": "POST, OPTIONS",
    "access-control-allow-headers": requestedHeaders?.trim() || DEFAULT_ALLOWED_HEADERS,
    "access-control-max-age": String(PREFLIGHT_MAX_AGE_S),
  };
}

/** The body as text, or null if it is longer than MAX_BODY_BYTES. */
async function readBody(request: http.IncomingMessage): Promise<string | null> {
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of request) {
    length += (chunk as Buffer).length;
    if (length > MAX_BODY_BYTES) return null;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}

function parseJson(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false };
  }
}

/** One log entry per request of a batch; they share the batch's duration. */
function logRequests(onRequest: RequestLogger, request: unknown, answer: JsonRpcResponse | JsonRpcResponse[], ms: number): void {
  const requests = Array.isArray(request) ? request : [request];
  const responses = Array.isArray(answer) ? answer : [answer];
  responses.forEach((response, i) => {
    const one: unknown = requests[i];
    onRequest({
      transport: "http",
      method: isObject(one) && typeof one.method === "string" ? one.method : "(invalid)",
      id: response.id,
      ms,
      error: "error" in response ? response.error : null,
    });
  });
}
