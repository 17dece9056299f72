// The daemons' shared ticker: passes never overlap, a stop waits for the pass in flight, failed
// passes are logged and do not count as alive, and health follows one rule on an injected clock.
import assert from "node:assert/strict";
import { HEALTHY_TICK_GRACE_MS, HEALTHY_TICK_INTERVALS, Ticker, createLogger, tickIsFresh } from "@compute-market/common";

const logger = createLogger("ticker-test", "silent");

/** A promise the test settles by hand. */
function gate(): { wait: Promise<void>; open: () => void } {
  let open!: () => void;
  const wait = new Promise<void>((resolve) => (open = resolve));
  return { wait, open };
}

describe("ticker", () => {
  it("runs one pass at a time: a call while one runs joins it instead of queueing another", async () => {
    const held = gate();
    let started = 0;
    const ticker = new Ticker({ tickMs: 60_000, logger, tick: async () => void (started += 1, await held.wait) });
    const first = ticker.runOnce();
    const second = ticker.runOnce();
    assert.equal(started, 1);
    held.open();
    await Promise.all([first, second]);
    assert.equal(started, 1);
    await ticker.runOnce();
    assert.equal(started, 2);
  });

  it("returns from stop only once the pass in flight has finished, and starts none after", async () => {
    const held = gate();
    let finished = 0;
    let started = 0;
    const ticker = new Ticker({ tickMs: 5, logger, tick: async () => void (started += 1, await held.wait, (finished += 1)) });
    ticker.start();
    assert.equal(started, 1, "the first pass starts at once");
    const stopped = ticker.stop().then(() => finished);
    held.open();
    assert.equal(await stopped, 1, "stop waited for the pass");
    await new Promise((resolve) => setTimeout(resolve, 30));
    assert.equal(started, 1, "no pass after stop");
    assert.equal(ticker.running, false);
  });

  it("is healthy only while passes complete, by one rule: within 3 intervals plus 2 s of the last good one", async () => {
    let now = 1_000_000;
    let failing = false;
    const ticker = new Ticker({ tickMs: 1_000, logger, now: () => now, tick: async () => { if (failing) throw new Error("rpc down"); } });
    assert.deepEqual(ticker.health(), { healthy: false, lastTickMsAgo: -1, ticks: 0, failedTicks: 0 }, "not healthy before any pass");
    await ticker.runOnce();
    assert.equal(ticker.health().healthy, true);
    failing = true;
    now += HEALTHY_TICK_INTERVALS * 1_000 + HEALTHY_TICK_GRACE_MS - 1;
    await ticker.runOnce();
    assert.deepEqual(ticker.health(), { healthy: true, lastTickMsAgo: 4_999, ticks: 2, failedTicks: 1 });
    now += 1;
    assert.equal(ticker.health().healthy, false, "failing passes do not keep it alive");
    failing = false;
    await ticker.runOnce();
    assert.deepEqual(ticker.health(), { healthy: true, lastTickMsAgo: 0, ticks: 3, failedTicks: 1 });
  });

  it("keeps ticking after a pass throws", async () => {
    let passes = 0;
    const ticker = new Ticker({ tickMs: 60_000, logger, tick: async () => { passes += 1; throw new Error("boom"); } });
    await ticker.runOnce();
    await ticker.runOnce();
    assert.equal(passes, 2);
    assert.equal(ticker.health().failedTicks, 2);
  });

  it("resyncs one at a time, and a failed resync is not a failed tick", async () => {
    const held = gate();
    let resyncs = 0;
    const ticker = new Ticker({ tickMs: 60_000, logger, tick: async () => undefined, resync: async () => { resyncs += 1; await held.wait; throw new Error("index read failed"); } });
    const a = ticker.resyncOnce();
    const b = ticker.resyncOnce();
    held.open();
    await Promise.all([a, b]);
    assert.equal(resyncs, 1);
    assert.equal(ticker.health().failedTicks, 0);
  });

  it("names the threshold once for both daemons", () => {
    assert.equal(tickIsFresh(4_999, 1_000), true);
    assert.equal(tickIsFresh(5_000, 1_000), false);
    assert.equal(tickIsFresh(-1, 1_000), false);
  });
});
