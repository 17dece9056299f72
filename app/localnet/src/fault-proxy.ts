// A fault-injecting proxy between daemons and an RPC node, HTTP and WebSocket: a given share of
// requests is answered with an error (503 or 429), delayed, or dropped (a sendTransaction answered
// with its signature but never delivered; any other request left without an answer until the
// client gives up); subscriptions are cut at random, or on demand with reconnects refused for as
// long as the caller holds the outage. The faults are drawn from a seeded generator, so a run can
// be repeated. Loopback only: it serves and forwards to addresses of this machine.
import http from "node:http";
import type { AddressInfo } from "node:net";
import bs58 from "bs58";
import { VersionedTransaction } from "@solana/web3.js";
import WebSocket, { WebSocketServer } from "ws";

export interface FaultOptions {
  /** The node's JSON-RPC URL; PubSub is on the next port, as on a validator. */
  target: string;
  /** Shares of HTTP requests (0..1) answered with an error, delayed, dropped. */
  errorRate: number;
  delayRate: number;
  dropRate: number;
  /** Delays are uniform in [0, maxDelayMs]. */
  maxDelayMs?: number;
  /** A dropped request other than a send is held this long, then its socket is closed. */
  holdMs?: number;
  /** Each open subscription socket is cut with this probability every second. */
  cutRatePerSecond?: number;
  seed?: number;
  port?: number;
}

export interface FaultCounts {
  requests: number;
  errors: number;
  delays: number;
  drops: number;
  cuts: number;
}

export interface FaultProxy {
  url: string;
  wsUrl: string;
  counts: FaultCounts;
  /**
   * Cuts every open subscription socket now (counted as cuts); returns how many. With
   * `holdDown`, new sockets are refused (HTTP 503 at the upgrade) until `restoreSubscriptions`:
   * a PubSub outage of the caller's length, during which clients keep trying to reconnect.
   */
  cutSubscriptions(options?: { holdDown?: boolean }): number;
  /** Accepts subscription sockets again after a held-down cut. */
  restoreSubscriptions(): void;
  /** Subscription sockets open now (e.g. to see a client's socket closed before closing the proxy). */
  openSubscriptions(): number;
  close(): Promise<void>;
}

/** xorshift32: small, seeded, good enough to draw faults. */
function generator(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state / 2 ** 32;
  };
}

/** The signature a sendTransaction request would be answered with (its first signature). */
function sendSignature(body: string): string | null {
  try {
    const request = JSON.parse(body) as { method?: string; params?: [string, { encoding?: string }?] };
    if (request.method !== "sendTransaction" || !request.params) return null;
    const [encoded, config] = request.params;
    const bytes = config?.encoding === "base64" ? Buffer.from(encoded, "base64") : null;
    if (!bytes) return null;
    return bs58.encode(VersionedTransaction.deserialize(bytes).signatures[0]);
  } catch {
    return null;
  }
}

function requestId(body: string): unknown {
  try {
    return (JSON.parse(body) as { id?: unknown }).id ?? null;
  } catch {
    return null;
  }
}

export async function startFaultProxy(options: FaultOptions): Promise<FaultProxy> {
  const random = generator(options.seed ?? 1);
  const target = new URL(options.target);
  const wsTarget = `ws://${target.hostname}:${Number(target.port) + 1}`;
  const counts: FaultCounts = { requests: 0, errors: 0, delays: 0, drops: 0, cuts: 0 };
  const maxDelay = options.maxDelayMs ?? 1_000;
  const hold = options.holdMs ?? 5_000;
  const held = new Set<http.ServerResponse>();

  const forward = (body: string, response: http.ServerResponse): void => {
    const upstream = http.request(target, { method: "POST", headers: { "content-type": "application/json" } }, (answer) => {
      response.writeHead(answer.statusCode ?? 502, { "content-type": "application/json" });
      answer.pipe(response);
    });
    upstream.on("error", () => {
      if (!response.headersSent) response.writeHead(502);
      response.end();
    });
    upstream.end(body);
  };

  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      counts.requests += 1;
      const draw = random();
      if (draw < options.errorRate) {
        counts.errors += 1;
        const limited = random() < 0.5;
        response.writeHead(limited ? 429 : 503, { "content-type": "text/plain" });
        response.end(limited ? "Too Many Requests" : "Service Unavailable");
        return;
      }
      if (draw < options.errorRate + options.dropRate) {
        counts.drops += 1;
        const signature = sendSignature(body);
        if (signature) {
          // Accepted and lost: what a node does with a transaction it never forwards.
          response.writeHead(200, { "content-type": "application/json" });
          response.end(JSON.stringify({ jsonrpc: "2.0", id: requestId(body), result: signature }));
          return;
        }
        held.add(response);
        setTimeout(() => {
          held.delete(response);
          response.destroy();
        }, hold).unref();
        return;
      }
      if (draw < options.errorRate + options.dropRate + options.delayRate) {
        counts.delays += 1;
        setTimeout(() => forward(body, response), random() * maxDelay).unref();
        return;
      }
      forward(body, response);
    });
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;

  // PubSub on the next port, as clients derive it; each client socket is paired with one upstream.
  const pairs = new Set<{ client: WebSocket; upstream: WebSocket }>();
  let heldDown = false;
  const wss = new WebSocketServer({
    host: "127.0.0.1",
    port: port + 1,
    // Refused at the upgrade, as a node that is down would: the client never sees an open socket.
    verifyClient: (_info, accept) => (heldDown ? accept(false, 503, "subscriptions held down") : accept(true)),
  });
  await new Promise<void>((resolve, reject) => {
    wss.once("listening", resolve);
    wss.once("error", reject);
  });
  wss.on("connection", (client) => {
    const upstream = new WebSocket(wsTarget);
    const pending: WebSocket.RawData[] = [];
    const pair = { client, upstream };
    pairs.add(pair);
    upstream.on("open", () => pending.splice(0).forEach((message) => upstream.send(message)));
    client.on("message", (message) => (upstream.readyState === WebSocket.OPEN ? upstream.send(message) : pending.push(message)));
    upstream.on("message", (message) => client.readyState === WebSocket.OPEN && client.send(message));
    const end = () => {
      pairs.delete(pair);
      client.terminate();
      upstream.terminate();
    };
    client.on("close", end);
    upstream.on("close", end);
    client.on("error", end);
    upstream.on("error", end);
  });
  const cut = (pair: { client: WebSocket }): void => {
    counts.cuts += 1;
    pair.client.terminate();
  };
  const cutter = setInterval(() => {
    for (const pair of [...pairs]) if (random() < (options.cutRatePerSecond ?? 0)) cut(pair);
  }, 1_000);
  cutter.unref();

  return {
    url: `http://127.0.0.1:${port}`,
    wsUrl: `ws://127.0.0.1:${port + 1}`,
    counts,
    cutSubscriptions: ({ holdDown = false } = {}) => {
      heldDown = holdDown;
      const open = [...pairs];
      open.forEach(cut);
      return open.length;
    },
    restoreSubscriptions: () => {
      heldDown = false;
    },
    openSubscriptions: () => pairs.size,
    close: async () => {
      clearInterval(cutter);
      for (const response of held) response.destroy();
      for (const pair of pairs) {
        pair.client.terminate();
        pair.upstream.terminate();
      }
      for (const client of wss.clients) client.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
