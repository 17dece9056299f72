// The web console: its bundle's size (raw and gzip, per kind of asset) and its first render
// against a sandbox cluster in Debian's Chromium — from navigation to the markets drawn (their
// accounts read through the SDK from the page), against the page's own DOMContentLoaded in the
// same load. The median of BENCH_CONSOLE_RUNS loads (default 5), each in a fresh page.
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { DEFAULT_PROGRAM_ID } from "@compute-market/sdk";
import { bootstrapSandbox, startLocalCluster } from "@compute-market/localnet";
import { buildConsole, CONSOLE_DIST, serveConsole } from "../app/console/server/serve";
import { consoleUrl, launchChromium } from "../tests/support/console";

const ROOT = path.resolve(__dirname, "..");
const RUNS = Number(process.env.BENCH_CONSOLE_RUNS ?? 5);

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => (entry.isDirectory() ? files(path.join(dir, entry.name)) : [path.join(dir, entry.name)]));
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;

async function main(): Promise<void> {
  buildConsole();
  const sizes = new Map<string, { raw: number; gzip: number }>();
  for (const file of files(CONSOLE_DIST)) {
    const bytes = readFileSync(file);
    const kind = path.extname(file).slice(1);
    const total = sizes.get(kind) ?? { raw: 0, gzip: 0 };
    sizes.set(kind, { raw: total.raw + bytes.length, gzip: total.gzip + gzipSync(bytes).length });
  }
  console.log("\nConsole bundle (app/console/dist)\n");
  console.log(`${"asset".padEnd(8)}${"raw".padStart(12)}${"gzip".padStart(12)}`);
  for (const [kind, { raw, gzip }] of [...sizes].sort()) console.log(`${kind.padEnd(8)}${kb(raw).padStart(12)}${kb(gzip).padStart(12)}`);

  const cluster = await startLocalCluster({ port: 0, slotMs: 0, programs: [{ programId: DEFAULT_PROGRAM_ID, path: path.join(ROOT, "target/deploy/compute_market.so") }] });
  await bootstrapSandbox(cluster.ledger, DEFAULT_PROGRAM_ID);
  const server = await serveConsole();
  const browser = await launchChromium();
  const rendered: number[] = [];
  const loaded: number[] = [];
  try {
    for (let i = 0; i < RUNS; i++) {
      const page = await browser.newPage();
      const started = Date.now();
      await page.goto(consoleUrl(server.url, cluster.url), { waitUntil: "domcontentloaded" });
      const domContentLoaded = Date.now() - started;
      await page.getByTestId("market").first().waitFor({ timeout: 30_000 });
      rendered.push(Date.now() - started);
      loaded.push(domContentLoaded);
      await page.close();
    }
  } finally {
    await browser.close();
    await server.close();
    await cluster.close();
  }
  console.log(`\nFirst render against a sandbox (2 markets), median of ${RUNS} loads\n`);
  console.log(`${"DOMContentLoaded".padEnd(34)}${`${median(loaded)} ms`.padStart(10)}`);
  console.log(`${"markets drawn (read over JSON-RPC)".padEnd(34)}${`${median(rendered)} ms`.padStart(10)}${`${(median(rendered) / median(loaded)).toFixed(1)}×`.padStart(8)}`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
