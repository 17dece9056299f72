// A daemon's first contact with its cluster: a URL that cannot be an RPC endpoint fails at once,
// naming it; a cluster that does not answer is asked again with backoff, each miss logged with the
// URL, until it answers; a keeper process started before its cluster waits for it, then runs, and
// warns that its wallet holds no stake token for challenge bonds.
import assert from "node:assert/strict";
import { Keypair } from "@solana/web3.js";
import { DEFAULT_PROGRAM_ID } from "@compute-market/sdk";
import { checkRpcUrl, freePort, waitForCluster, type Logger } from "@compute-market/common";
import { bootstrapSandbox, Ledger, SANDBOX_MINTS, startLocalCluster } from "@compute-market/localnet";
import { PROGRAM_PATH } from "../../support/env";
import { startKeeperProcess } from "../../support/processes";

/** A logger that keeps what was logged at warn and info. */
function recordingLogger(): { logger: Logger; lines: { level: string; fields: Record<string, unknown>; message: string }[] } {
  const lines: { level: string; fields: Record<string, unknown>; message: string }[] = [];
  const at = (level: string) => (fields: Record<string, unknown>, message: string) => void lines.push({ level, fields, message });
  return { logger: { warn: at("warn"), info: at("info") } as unknown as Logger, lines };
}

describe("waiting for the cluster", () => {
  it("refuses a URL that is not an http(s) endpoint, naming it", () => {
    assert.throws(() => checkRpcUrl("127.0.0.1:8899"), /--url 127\.0\.0\.1:8899 is not a URL/);
    assert.throws(() => checkRpcUrl("localhost:8899"), /--url localhost:8899 is not an http\(s\) URL/);
    assert.throws(() => checkRpcUrl("not a url"), /--url not a url is not a URL: pass a JSON-RPC endpoint/);
    assert.throws(() => checkRpcUrl("ws://127.0.0.1:8900"), /is not an http\(s\) URL/);
    checkRpcUrl("https://api.devnet.solana.com");
  });

  it("asks again with growing delays, logging the URL each time, until the cluster answers", async () => {
    let calls = 0;
    const connection = {
      getVersion: async () => {
        calls += 1;
        if (calls < 4) throw new Error("fetch failed");
        return { "solana-core": "4.3.0" };
      },
    };
    const { logger, lines } = recordingLogger();
    const version = await waitForCluster(connection as never, "http://127.0.0.1:1", logger, { baseMs: 100, maxMs: 250 });
    assert.equal(version, "4.3.0");
    assert.equal(calls, 4);
    const warnings = lines.filter((line) => line.level === "warn");
    assert.equal(warnings.length, 3);
    for (const warning of warnings) {
      assert.equal(warning.fields.url, "http://127.0.0.1:1");
      assert.match(warning.message, /cannot reach the cluster at http:\/\/127\.0\.0\.1:1: is it running, and is --url right\?/);
    }
    // Doubling from 100 ms, capped at 250, each ±25 %, as each miss's line says.
    const delays = warnings.map((warning) => warning.fields.retryInMs as number);
    assert.ok(delays[0] >= 75 && delays[0] <= 125 && delays[1] >= 150 && delays[1] <= 250 && delays[2] >= 187 && delays[2] <= 313, delays.join(", "));
    assert.deepEqual(lines.at(-1)?.fields, { url: "http://127.0.0.1:1", attempts: 4 });
  });

  it("a keeper process started before its cluster waits for it, then starts", async function () {
    this.timeout(120_000);
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const keeper = startKeeperProcess(url, Keypair.generate(), 200);
    let cluster: Awaited<ReturnType<typeof startLocalCluster>> | undefined;
    try {
      await keeper.waitForLine((line) => line.includes(`cannot reach the cluster at ${url}`), 60_000);
      assert.equal(keeper.child.exitCode, null, "it keeps running");
      // A sandbox, whose markets' stake token this keeper's wallet does not hold.
      const ledger = Ledger.create({ programs: [{ programId: DEFAULT_PROGRAM_ID, path: PROGRAM_PATH }] });
      await bootstrapSandbox(ledger, DEFAULT_PROGRAM_ID);
      cluster = await startLocalCluster({ port, slotMs: 100, ledger });
      await keeper.waitForLine((line) => line.includes('"keeper started"'), 60_000);
      // It says once that its challenger cannot post a bond, and which account to fund.
      const warning = keeper.output.find((line) => line.includes("holds no") && line.includes("cannot post a bond"));
      assert.ok(warning, keeper.output.join("\n"));
      assert.match(warning, new RegExp(`holds no ${SANDBOX_MINTS.stake.toBase58()} tokens: the challenger cannot post a bond to dispute a wrong result in markets .+; fund `));
    } finally {
      await keeper.stop();
      await cluster?.close();
    }
  });
});
