// Serves the console's built page (app/console/dist) over HTTP: a static file server, nothing
// else; the page talks to the RPC URL and the providers' endpoints itself, like any dApp.
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, statSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";

export const CONSOLE_DIST = path.resolve(__dirname, "../dist");
const ROOT = path.resolve(__dirname, "../../..");

/** Builds the page into CONSOLE_DIST with Vite (a second or two). */
export function buildConsole(): void {
  execFileSync(process.execPath, [path.join(ROOT, "node_modules/vite/bin/vite.js"), "build", "app/console", "--logLevel", "warn"], { cwd: ROOT, stdio: "inherit" });
}

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".wasm": "application/wasm",
  ".json": "application/json",
};

export interface ConsoleServer {
  url: string;
  close(): Promise<void>;
}

/** Serves `dir` on `host:port` (0: any free port); unknown paths get the page (one route). */
export function serveConsole(options: { dir?: string; host?: string; port?: number } = {}): Promise<ConsoleServer> {
  const dir = options.dir ?? CONSOLE_DIST;
  if (!existsSync(path.join(dir, "index.html"))) throw new Error(`no built console in ${dir}: run \`npx vite build app/console\` (npm run console builds it)`);
  const server = http.createServer((request, response) => {
    const pathname = decodeURIComponent(new URL(request.url ?? "/", "http://console").pathname);
    const file = path.join(dir, pathname);
    // Nothing outside the built page is served.
    const inside = file.startsWith(dir + path.sep) && existsSync(file) && statSync(file).isFile();
    const target = inside ? file : path.join(dir, "index.html");
    response.writeHead(200, { "content-type": TYPES[path.extname(target)] ?? "application/octet-stream", "cache-control": "no-cache" });
    response.end(readFileSync(target));
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, options.host ?? "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo;
      resolve({ url: `http://${options.host ?? "127.0.0.1"}:${port}`, close: () => new Promise((done) => server.close(() => done())) });
    });
  });
}
