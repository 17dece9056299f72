// The daemons' market index against a local cluster (real JSON-RPC and PubSub): changes are ordered
// by the slot they were read at, so a resync whose read is older than a notification already
// applied keeps the notification's state, and an account closed after the read stays closed; and
// what changed while its WebSocket was cut is read back as soon as the subscriptions return.
import assert from "node:assert/strict";
import { Connection, Keypair, PublicKey } from "@solana/web3.js";
import { MarketIndex, createLogger, followSubscription, isNewer } from "@compute-market/common";
import { startFaultProxy } from "@compute-market/localnet";
import { startClusterMarket, type ClusterMarket } from "../../support/cluster-market";
import { until } from "../../support/provider-market";

const logger = createLogger("index-test", "silent");
const SPEC = { cpuCores: 2, memoryMb: 1_024, diskGb: 10, gpuCount: 0, vramMb: 0 };

/** A connection whose `getProgramAccounts` answers are held until `release`: a resync read at one
 * slot whose answer arrives after later changes. */
function heldConnection(connection: Connection): { connection: Connection; hold(): void; release(): void; read(): Promise<void> } {
  let held: Promise<void> | null = null;
  let releaseHeld = (): void => undefined;
  let reads: (() => void)[] = [];
  const proxy = new Proxy(connection, {
    get(target, key, receiver) {
      if (key !== "getProgramAccounts") return Reflect.get(target, key, receiver);
      return async (...args: Parameters<Connection["getProgramAccounts"]>) => {
        const answer = await target.getProgramAccounts(...args);
        const gate = held;
        reads.splice(0).forEach((done) => done());
        if (gate) await gate;
        return answer;
      };
    },
  });
  return {
    connection: proxy,
    hold: () => {
      held = new Promise((resolve) => (releaseHeld = resolve));
    },
    release: () => {
      held = null;
      releaseHeld();
    },
    read: () => new Promise((resolve) => reads.push(resolve)),
  };
}

describe("market index", function () {
  this.timeout(60_000);
  let env: ClusterMarket;
  beforeEach(async () => {
    env = await startClusterMarket();
  });
  afterEach(async () => {
    await env.close();
  });

  async function provider(): Promise<{ owner: Awaited<ReturnType<ClusterMarket["wallet"]>>; provider: PublicKey }> {
    const owner = await env.wallet({ stake: 100_000n });
    const { provider } = await owner.client.registerProvider({ market: env.market, spec: SPEC, endpoint: "http://127.0.0.1:1" });
    await owner.client.stake({ provider, amount: 20_000n });
    return { owner, provider };
  }

  it("keeps a change notified at a later slot than a resync's read", async () => {
    const { owner, provider: address } = await provider();
    const held = heldConnection(env.connection);
    const index = new MarketIndex(owner.client.program, held.connection, logger);
    await index.start();
    try {
      assert.equal(index.providers.get(address.toBase58())?.staked, 20_000n);
      // The resync reads the chain now, and its answer is held back.
      held.hold();
      const read = held.read();
      const resync = index.load();
      await read;
      env.advance(1n);
      await owner.client.stake({ provider: address, amount: 5_000n });
      await until("the stake notification", async () => index.providers.get(address.toBase58())?.staked === 25_000n);
      held.release();
      await resync;
      assert.equal(index.providers.get(address.toBase58())?.staked, 25_000n, "the resync's older read does not roll the stake back");
      // A later resync reads the new state and agrees.
      await index.load();
      assert.equal(index.providers.get(address.toBase58())?.staked, 25_000n);
    } finally {
      held.release();
      await index.stop();
    }
  });

  it("keeps a change notified at the slot of a resync's read when the read was asked before it", async () => {
    // The local cluster's clock is stopped: the read and the change are of one slot, the read
    // answered before the change landed and delivered after its notification.
    const { owner, provider: address } = await provider();
    const held = heldConnection(env.connection);
    const index = new MarketIndex(owner.client.program, held.connection, logger);
    await index.start();
    try {
      held.hold();
      const read = held.read();
      const resync = index.load();
      await read;
      await owner.client.stake({ provider: address, amount: 5_000n });
      await until("the stake notification", async () => index.providers.get(address.toBase58())?.staked === 25_000n);
      held.release();
      await resync;
      assert.equal(index.providers.get(address.toBase58())?.staked, 25_000n, "the read asked before the change does not roll it back");
      // A read asked after the notification is newer than it, at the same slot.
      await index.refresh("provider", address);
      await index.load();
      assert.equal(index.providers.get(address.toBase58())?.staked, 25_000n);
    } finally {
      held.release();
      await index.stop();
    }
  });

  it("keeps a bid withdrawn after a resync's read out of the index", async () => {
    const { owner, provider: address } = await provider();
    const consumer = await env.wallet({ payment: 1_000_000n });
    const { job } = await consumer.client.postJob({
      market: env.market,
      specHash: new Uint8Array(32).fill(1),
      requirements: { cpuCores: 1, memoryMb: 64, maxDurationSlots: 50n },
      mode: "replicated",
      replication: 1,
      onFailure: "refund",
      maxPrice: 1_000n,
      instantPrice: 0n,
      bidWindowSlots: 20n,
      sealed: false,
    });
    await owner.client.placeBid({ job, price: 900n });
    const bid = owner.client.bidAddress(job, address);
    const held = heldConnection(env.connection);
    const index = new MarketIndex(owner.client.program, held.connection, logger);
    await index.start();
    try {
      assert.ok(index.bids.has(bid.toBase58()));
      held.hold();
      const read = held.read();
      const resync = index.load();
      await read;
      env.advance(1n);
      await consumer.client.cancelJob({ job });
      await owner.client.withdrawBid({ job, market: env.market });
      await until("the withdrawal's event", async () => !index.bids.has(bid.toBase58()));
      held.release();
      await resync;
      assert.ok(!index.bids.has(bid.toBase58()), "the resync's older read does not bring the closed bid back");
    } finally {
      held.release();
      await index.stop();
    }
  });

  it("indexes a lease's terms and keeps them out once the lease settled after a resync's read", async () => {
    // Given a running service lease of one replica
    const { owner, provider: address } = await provider();
    const consumer = await env.wallet({ payment: 1_000_000n });
    const { job, service } = await consumer.client.postService({
      market: env.market,
      specHash: new Uint8Array(32).fill(3),
      requirements: { cpuCores: 1, memoryMb: 64, maxDurationSlots: 500n },
      replicas: 1,
      maxRate: 10n,
      watchdog: Keypair.generate().publicKey,
      ackPeriodSlots: 5n,
      deposit: 10_000n,
    });
    await owner.client.placeBid({ job, price: 8n });
    env.advance(21n);
    await consumer.client.award({ job });
    await owner.client.startJob({ job });
    const held = heldConnection(env.connection);
    const index = new MarketIndex(owner.client.program, held.connection, logger);
    await index.start();
    try {
      assert.ok(index.serviceOf(job)?.[0].equals(service));
      assert.equal(index.services.get(service.toBase58())?.closedReplicas, 0);
      // When the consumer ends the replica and, while a resync's read is held, it is closed
      await consumer.client.endReplica({ job, provider: address });
      held.hold();
      const read = held.read();
      const resync = index.load();
      await read;
      env.advance(6n);
      await consumer.client.closeReplica({ job, provider: address });
      await until("the settlement's events", async () => !index.jobs.has(job.toBase58()) && !index.services.has(service.toBase58()));
      held.release();
      await resync;
      // Then the older read brings back neither the job nor its terms
      assert.ok(!index.jobs.has(job.toBase58()) && !index.services.has(service.toBase58()), "the resync's older read does not bring the settled lease back");
      assert.equal(index.bidsOf(job).length, 0, "the replica's bid went with its close");
    } finally {
      held.release();
      await index.stop();
    }
  });

  it("reads the chain again once a cut WebSocket is back, so what changed during the cut is not missed", async () => {
    // Given a provider with a bid on an open job, and an index reaching the cluster through a proxy
    const { owner, provider: address } = await provider();
    const consumer = await env.wallet({ payment: 1_000_000n });
    const { job } = await consumer.client.postJob({
      market: env.market,
      specHash: new Uint8Array(32).fill(2),
      requirements: { cpuCores: 1, memoryMb: 64, maxDurationSlots: 50n },
      mode: "replicated",
      replication: 1,
      onFailure: "refund",
      maxPrice: 1_000n,
      instantPrice: 0n,
      bidWindowSlots: 20n,
      sealed: false,
    });
    await owner.client.placeBid({ job, price: 900n });
    const bid = owner.client.bidAddress(job, address).toBase58();
    const proxy = await startFaultProxy({ target: env.cluster.url, errorRate: 0, delayRate: 0, dropRate: 0 });
    const connection = new Connection(proxy.url, { commitment: "confirmed", wsEndpoint: proxy.wsUrl });
    const index = new MarketIndex(owner.client.program, connection, logger);
    try {
      await index.start();
      await until("the subscriptions to be live", async () => index.live);

      // When its WebSocket is cut and kept down while the stake grows and the bid is withdrawn
      assert.equal(proxy.cutSubscriptions({ holdDown: true }), 1);
      await until("the index to see the cut", async () => !index.live);
      env.advance(1n);
      await owner.client.stake({ provider: address, amount: 5_000n });
      await consumer.client.cancelJob({ job });
      await owner.client.withdrawBid({ job, market: env.market });
      assert.equal(index.providers.get(address.toBase58())?.staked, 20_000n, "no notification came through the cut");
      assert.ok(index.bids.has(bid));

      // Then, once the socket is back, the index has both changes within seconds (a keeper resyncs every 30 s)
      const back = Date.now();
      proxy.restoreSubscriptions();
      await until("the backfill after the cut", async () => index.providers.get(address.toBase58())?.staked === 25_000n && !index.bids.has(bid), 10_000);
      assert.ok(Date.now() - back < 10_000, `read back ${Date.now() - back} ms after the socket returned`);
      assert.equal(index.backfills, 1, "one read covers both subscriptions");
      assert.ok(index.live);
    } finally {
      // Stopped over a live socket, so that web3.js never unsubscribes over a cut one; the proxy
      // closes only once the Connection has closed its idle socket (no reconnecting to a closed port).
      proxy.restoreSubscriptions();
      await until("the subscriptions to be back before stopping", async () => index.live, 10_000).catch(() => undefined);
      await index.stop();
      await until("the index's socket to close", async () => proxy.openSubscriptions() === 0, 10_000).catch(() => undefined);
      await proxy.close();
    }
  });

  /** An index reaching the cluster through a fault proxy whose WebSocket is held down from the start. */
  async function indexBehindHeldSocket(owner: Awaited<ReturnType<ClusterMarket["wallet"]>>) {
    const proxy = await startFaultProxy({ target: env.cluster.url, errorRate: 0, delayRate: 0, dropRate: 0 });
    assert.equal(proxy.cutSubscriptions({ holdDown: true }), 0, "no socket yet: only new ones are refused");
    const connection = new Connection(proxy.url, { commitment: "confirmed", wsEndpoint: proxy.wsUrl });
    const index = new MarketIndex(owner.client.program, connection, logger);
    const close = async () => {
      proxy.restoreSubscriptions();
      await until("the subscriptions to be back before stopping", async () => index.live, 10_000).catch(() => undefined);
      await index.stop();
      await until("the index's socket to close", async () => proxy.openSubscriptions() === 0, 10_000).catch(() => undefined);
      await proxy.close();
    };
    return { proxy, index, close };
  }

  it("loads only once its subscriptions are live, so a change landing while they connect is not missed", async () => {
    // Given an index starting while its WebSocket cannot connect yet
    const { owner, provider: address } = await provider();
    const { proxy, index, close } = await indexBehindHeldSocket(owner);
    try {
      const started = index.start();
      await new Promise((resolve) => setTimeout(resolve, 500));
      // When the stake grows before its subscriptions are live, and they come up after
      env.advance(1n);
      await owner.client.stake({ provider: address, amount: 5_000n });
      proxy.restoreSubscriptions();
      await started;
      // Then the started index has it: its load came after the subscriptions were live
      assert.ok(index.live, "start returns with live subscriptions");
      assert.equal(index.providers.get(address.toBase58())?.staked, 25_000n, "the change made while the subscriptions connected");
      assert.equal(index.backfills, 0, "no read beyond the load");
    } finally {
      await close();
    }
  });

  it("loads anyway when its subscriptions are not live in time, and reads again once they are", async () => {
    const { owner, provider: address } = await provider();
    const { proxy, index, close } = await indexBehindHeldSocket(owner);
    try {
      await index.start(200);
      assert.ok(!index.live);
      assert.equal(index.providers.get(address.toBase58())?.staked, 20_000n, "loaded without its subscriptions");
      env.advance(1n);
      await owner.client.stake({ provider: address, amount: 5_000n });
      proxy.restoreSubscriptions();
      await until("the read once the subscriptions are live", async () => index.providers.get(address.toBase58())?.staked === 25_000n, 10_000);
      assert.equal(index.backfills, 1);
    } finally {
      await close();
    }
  });

  it("orders changes by slot, and within a slot by when a notification came or a read was asked", () => {
    assert.ok(isNewer({ slot: 11, sequence: 1 }, { slot: 10, sequence: 9 }), "a later slot");
    assert.ok(!isNewer({ slot: 9, sequence: 9 }, { slot: 10, sequence: 1 }), "an earlier slot, however late it came");
    assert.ok(isNewer({ slot: 10, sequence: 5 }, { slot: 10, sequence: 4 }), "of one slot: seen after the last change");
    assert.ok(!isNewer({ slot: 10, sequence: 4 }, { slot: 10, sequence: 5 }), "of one slot: a read asked before the last change came");
    assert.ok(!isNewer({ slot: 10, sequence: 5 }, { slot: 10, sequence: 5 }), "the same change");
  });

  it("takes a subscription that fell back to pending for cut until it is subscribed again", () => {
    assert.deepEqual(followSubscription(false, "subscribing"), { cut: false, backfill: false }, "the first subscribe is no cut");
    assert.deepEqual(followSubscription(false, "subscribed"), { cut: false, backfill: false });
    assert.deepEqual(followSubscription(false, "pending"), { cut: true, backfill: false }, "the socket closed");
    assert.deepEqual(followSubscription(true, "subscribing"), { cut: true, backfill: false }, "not live yet");
    assert.deepEqual(followSubscription(true, "subscribed"), { cut: false, backfill: true }, "back: read what was missed");
  });
});
