// One small HTTP server per daemon: GET /health (200 healthy / 503 not, with details) and
// GET /metrics (Prometheus text format).
import http from "node:http";
import type { AddressInfo } from "node:net";
import type { Registry } from "prom-client";

export interface HealthReport {
  healthy: boolean;
  details: Record<string, unknown>;
}

export interface StatusServer {
  port: number;
  close(): Promise<void>;
}

export function startStatusServer(options: { port: number; host?: string; registry: Registry; health: () => HealthReport }): Promise<StatusServer> {
  const server = http.createServer(async (request, response) => {
    try {
      if (request.method === "GET" && request.url === "/health") {
        const report = options.health();
        response.writeHead(report.healthy ? 200 : 503, { "content-type": "application/json" });
        response.end(JSON.stringify(report));
      } else if (request.method === "GET" && request.url === "/metrics") {
        response.writeHead(200, { "content-type": options.registry.contentType });
        response.end(await options.registry.metrics());
      } else {
        response.writeHead(404).end();
      }
    } catch (error) {
      response.writeHead(500).end(String(error));
    }
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host ?? "127.0.0.1", () => {
      resolve({
        port: (server.address() as AddressInfo).port,
        close: () => new Promise<void>((done) => server.close(() => done())),
      });
    });
  });
}
