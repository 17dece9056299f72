// The SDK in a browser bundle: a page's code (tests/support/browser-entry.ts) bundled by esbuild
// for the browser and run where only a browser's globals exist — no Buffer, process or require —
// against a sandbox cluster over HTTP: it reads the markets and providers with no polyfill, then
// posts a job signed by its own key once it installed the one polyfill the README names (the
// global Buffer, which Anchor's borsh coder reads). Not a real browser: the console's suite will
// run one.
import assert from "node:assert/strict";
import path from "node:path";
import vm from "node:vm";
import { build } from "esbuild";
import { Keypair } from "@solana/web3.js";
import { DEFAULT_PROGRAM_ID } from "@compute-market/sdk";
import { bootstrapSandbox, startLocalCluster, type LocalCluster } from "@compute-market/localnet";
import { PROGRAM_PATH } from "../../support/env";

const ROOT = path.resolve(__dirname, "../../..");

describe("the SDK in a browser bundle", function () {
  this.timeout(120_000);
  let cluster: LocalCluster;
  before(async () => {
    cluster = await startLocalCluster({ port: 0, slotMs: 0, programs: [{ programId: DEFAULT_PROGRAM_ID, path: PROGRAM_PATH }] });
  });
  after(() => cluster.close());

  it("reads the sandbox's markets with no Node global and no polyfill, and posts a job with only the Buffer polyfill", async () => {
    const wallet = Keypair.generate();
    const { summary } = await bootstrapSandbox(cluster.ledger, DEFAULT_PROGRAM_ID, { wallets: [wallet.publicKey] });
    const bundled = await build({ entryPoints: [path.join(ROOT, "tests/support/browser-entry.ts")], bundle: true, platform: "browser", format: "iife", write: false, tsconfig: path.join(ROOT, "tsconfig.json"), logLevel: "error" });
    const code = bundled.outputFiles[0].text;

    // A page's globals, and nothing of Node's.
    const reported = new Promise<Record<string, unknown>>((resolve) => {
      const page: Record<string, unknown> = {
        rpcUrl: cluster.url,
        market: summary.markets[0].address,
        secretKey: Array.from(wallet.secretKey),
        report: resolve,
        ...{ TextEncoder, TextDecoder, crypto: globalThis.crypto, URL, atob, btoa, console, fetch, structuredClone, queueMicrotask, setTimeout, clearTimeout, setInterval, clearInterval, AbortController, WebSocket: class {} },
      };
      page.globalThis = page;
      page.window = page;
      page.self = page;
      vm.runInNewContext(code, page);
      for (const name of ["Buffer", "process", "require"]) assert.equal(typeof page[name], "undefined", `${name} must not exist in the page`);
    });
    const report = await reported;
    assert.equal(report.error, undefined, `${String(report.error)}\n${String(report.stack)}`);
    assert.equal(report.bufferBefore, "undefined", "the reads ran without a Buffer");
    assert.equal(report.minStake, "100000000");
    assert.equal(report.providers, 0);
    assert.equal(report.state, "open");
    assert.ok(cluster.ledger.getAccount(new (await import("@solana/web3.js")).PublicKey(report.job as string)), "the job is on the cluster");
  });
});
