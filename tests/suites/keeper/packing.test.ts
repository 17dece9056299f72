// The keeper packs due awards into shared transactions, and a stale one in a pack (a job another
// keeper awarded first) costs the others nothing: the pack is retried in halves and every other
// job is awarded. Read from the chain and from the keeper's own metrics.
import assert from "node:assert/strict";
import type { PublicKey } from "@solana/web3.js";
import { variantOf } from "@compute-market/sdk";
import { createLogger } from "@compute-market/common";
import { KeeperConfigSchema, startKeeper, type Keeper } from "@compute-market/keeper";
import { startClusterMarket, type ClusterMarket } from "../../support/cluster-market";
import { until } from "../../support/provider-market";

const SPEC = { cpuCores: 2, memoryMb: 1_024, diskGb: 10, gpuCount: 0, vramMb: 0 };

/** The value of one metric series in the keeper's /metrics, 0 when absent. */
async function metric(keeper: Keeper, name: string, labels: Record<string, string>): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${keeper.status.port}/metrics`)).text();
  for (const line of text.split("\n")) {
    if (!line.startsWith(`${name}{`)) continue;
    if (Object.entries(labels).every(([key, value]) => line.includes(`${key}="${value}"`))) return Number(line.split(" ").pop());
  }
  return 0;
}

describe("keeper: packed awards", function () {
  this.timeout(60_000);
  let env: ClusterMarket;
  let keeper: Keeper | null = null;
  beforeEach(async () => {
    env = await startClusterMarket();
  });
  afterEach(async () => {
    await keeper?.stop();
    keeper = null;
    await env.close();
  });

  it("awards eight due jobs in fewer transactions, and the others still when one was awarded by someone else first", async () => {
    const owner = await env.wallet({ stake: 100_000n });
    const { provider } = await owner.client.registerProvider({ market: env.market, spec: SPEC, endpoint: "http://127.0.0.1:1" });
    await owner.client.stake({ provider, amount: 50_000n });
    const consumer = await env.wallet({ payment: 10_000_000n });
    const jobs: PublicKey[] = [];
    for (let i = 0; i < 8; i += 1) {
      const { job } = await consumer.client.postJob({
        market: env.market,
        specHash: new Uint8Array(32).fill(i + 1),
        requirements: { cpuCores: 1, memoryMb: 64, maxDurationSlots: 50n },
        mode: "replicated",
        replication: 1,
        onFailure: "refund",
        maxPrice: 1_000n,
        instantPrice: 0n,
        bidWindowSlots: 0n,
      });
      await owner.client.placeBid({ job, price: 500n });
      jobs.push(job);
    }
    const wallet = await env.wallet();
    keeper = await startKeeper(KeeperConfigSchema.parse({ url: env.cluster.url, port: 0, tickMs: 50, bots: ["auction-closer"], packSize: 8 }), wallet.keypair, createLogger("keeper", "silent"));
    // The keeper misses another keeper's award of the first job once the auctions close.
    await keeper.runner.stop();
    await keeper.index.stop();
    env.advance(21n);
    await env.authority.client.award({ job: jobs[0] });
    keeper.index.subscribe();
    keeper.runner.start();
    const awarded = await until("every job awarded", async () => {
      const states = await Promise.all(jobs.map((job) => consumer.client.fetchJob(job)));
      return states.every((state) => state && variantOf(state.state) === "awarded") ? states : null;
    });
    assert.equal(awarded.length, 8);
    assert.equal(await metric(keeper, "keeper_actions_total", { kind: "award", outcome: "sent" }), 7, "seven awards by the keeper");
    assert.ok((await metric(keeper, "keeper_actions_total", { kind: "award", outcome: "lost_race" })) >= 1, "the stale one lost its race");
    const transactions = await metric(keeper, "keeper_transactions_total", { instruction: "award", outcome: "landed" });
    assert.ok(transactions >= 1 && transactions < 7, `seven awards in ${transactions} transactions`);
  });
});
