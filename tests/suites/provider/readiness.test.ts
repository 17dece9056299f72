// Why a provider node cannot bid, as it says at start, on /health and in `provider status`; and the
// log of jobs it declined, which `status` reads back from the work directory.
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { MarketAccount, ProviderAccount } from "@compute-market/sdk";
import { biddingBlockers } from "../../../app/provider/src/readiness";
import { DeclineLog } from "../../../app/provider/src/lifecycle/declines";

const market = { params: { minStake: 1_000n, jobStakeLock: 200n } } as unknown as MarketAccount;
const provider = (staked: bigint, locked = 0n, unbonding = 0n) => ({ staked, locked, unbonding }) as unknown as ProviderAccount;
const blockers = (p: ProviderAccount, dockerUp = true) => biddingBlockers({ provider: p, market, dockerUp, dockerSocket: "/var/run/docker.sock" });

describe("provider readiness", () => {
  it("can bid with enough bonded and free stake and Docker up", () => {
    assert.deepEqual(blockers(provider(1_000n)), []);
    assert.deepEqual(blockers(provider(1_500n, 300n)), []);
  });

  it("names stake below the minimum, with the amount to add and the command", () => {
    const [reason] = blockers(provider(900n));
    assert.equal(reason, "bonded stake 900 is below the market's minimum 1000: add 100 with `provider stake --amount 100`");
    // Unbonding stake does not count as bonded.
    assert.match(blockers(provider(1_200n, 0n, 300n))[0], /bonded stake 900 is below/);
  });

  it("names free stake below one bid's lock, and a Docker daemon that does not answer", () => {
    assert.deepEqual(blockers(provider(1_100n, 1_000n)), ["free stake 100 is below one bid's lock 200: add stake, or wait for running jobs to release theirs"]);
    assert.deepEqual(blockers(provider(1_000n), false), ["the Docker daemon does not answer at /var/run/docker.sock: container jobs cannot run (verifiable jobs can)"]);
    assert.equal(blockers(provider(0n), false).length, 3);
  });
});

describe("decline log", () => {
  it("keeps the latest declines newest first, one per job, bounded, across a restart", () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "declines-"));
    const log = new DeclineLog(dir, 3);
    log.record("a", "image not allowed", 10n, new Date(1_000));
    log.record("b", "spec unavailable", 11n, new Date(2_000));
    log.record("a", "needs a GPU", 12n, new Date(3_000));
    log.record("c", "strategy passes", 13n);
    log.record("d", "too big", 14n);
    assert.deepEqual(log.recent().map((e) => [e.job, e.why]), [["d", "too big"], ["c", "strategy passes"], ["a", "needs a GPU"]]);
    assert.deepEqual(DeclineLog.read(dir).map((e) => e.job), ["d", "c", "a"], "on disk as in memory");
    assert.deepEqual(new DeclineLog(dir, 3).recent().map((e) => e.slot), ["14", "13", "12"], "read back after a restart");
  });

  it("reads a missing or damaged file as no declines", () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "declines-"));
    assert.deepEqual(DeclineLog.read(dir), []);
    writeFileSync(path.join(dir, "declines.json"), "{not json");
    assert.deepEqual(DeclineLog.read(dir), []);
  });
});
