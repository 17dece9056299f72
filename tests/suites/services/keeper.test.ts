// The keeper's service cranker against an in-process cluster (real JSON-RPC and PubSub) serving a
// lease's ledger: it closes every replica once close_replica is due and not a slot before, the
// last close settles the lease and pays the keeper the crank fee, a replica nobody ended is closed
// after the lease's longest term, a lease short of a period is paused and settled once its pause
// ran out, and a second keeper racing for the same close loses quietly.
// The deadline cranker fails a service's no-show as a batch job's; a seat round is awarded once its
// bidding is over and a seat winner that did not start is failed. Read from the chain, the
// keeper's index and its own metrics; the keeper ticks only when the test says.
import assert from "node:assert/strict";
import { createAssociatedTokenAccountIdempotentInstruction, getAssociatedTokenAddressSync } from "@solana/spl-token";
import { PublicKey } from "@solana/web3.js";
import { sendInstructions, signAcknowledgement, type JobAccount } from "@compute-market/sdk";
import type { MarketIndex } from "@compute-market/common";
import { startLocalCluster, type LocalCluster } from "@compute-market/localnet";
import { KeeperConfigSchema, ServiceCranker, startKeeper, type Keeper, type KeeperConfig, type MarketView } from "@compute-market/keeper";
import type { Actor } from "../../support/env";
import { MARKET_PARAMS } from "../../support/fixtures";
import { testLogger, until } from "../../support/provider-market";
import { bidOf, consumerTokens, MAX_DURATION, minDeposit, PERIOD, posted, running, startedSlot, type Lease } from "../../support/service-lease";

interface Cranking {
  keeper: Keeper;
  wallet: Actor;
}

/** The value of one metric series in the keeper's /metrics, 0 when absent. */
async function metric(keeper: Keeper, name: string, labels: Record<string, string>): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${keeper.status.port}/metrics`)).text();
  for (const line of text.split("\n")) {
    if (!line.startsWith(`${name}{`)) continue;
    if (Object.entries(labels).every(([key, value]) => line.includes(`${key}="${value}"`))) return Number(line.split(" ").pop());
  }
  return 0;
}

/** What the runner shows its bots, read from a keeper's index at `slot`. */
function viewOf(index: MarketIndex, slot: bigint): MarketView {
  return {
    slot,
    jobs: [...index.jobs].map(([address, job]) => [new PublicKey(address), job] as [PublicKey, JobAccount]),
    job: (address) => index.jobs.get(address.toBase58()),
    bidsOf: (job) => index.bidsOf(job),
    disputes: [],
    disputesOf: () => [],
    provider: (address) => index.providers.get(address.toBase58()),
    service: (job) => index.serviceOf(job)?.[1],
  };
}

/** The keeper's payment tokens, in its associated account (where the SDK sends the crank fee). */
function keeperTokens(lease: Lease, crank: Cranking): bigint {
  const ata = getAssociatedTokenAddressSync(lease.env.paymentMint, crank.wallet.publicKey, true);
  return lease.env.exists(ata) ? lease.env.tokenBalance(ata) : 0n;
}

describe("keeper: service cranker", function () {
  this.timeout(120_000);
  let cluster: LocalCluster | null = null;
  const keepers: Keeper[] = [];
  afterEach(async () => {
    for (const keeper of keepers.splice(0)) await keeper.stop();
    await cluster?.close();
    cluster = null;
  });

  /** A keeper on the lease's ledger, served by one cluster for every keeper of the test. */
  async function keeperOn(lease: Lease, bots: KeeperConfig["bots"] = ["service-cranker"]): Promise<Cranking> {
    cluster ??= await startLocalCluster({ ledger: lease.env.ledger, port: 0, slotMs: 0 });
    const wallet = await lease.env.actor();
    // Passes only when the test ticks (the first one, at start, finds nothing due).
    const config = KeeperConfigSchema.parse({ url: cluster.url, port: 0, tickMs: 3_600_000, resyncMs: 3_600_000, bots });
    const keeper = await startKeeper(config, wallet.keypair, testLogger);
    keepers.push(keeper);
    await keeper.runner.tick();
    return { keeper, wallet };
  }

  const planned = (crank: Cranking, lease: Lease) => new ServiceCranker(crank.wallet.client).plan(viewOf(crank.keeper.index, lease.env.ledger.slot)).map((action) => [action.kind, action.key]);
  const closeKey = (lease: Lease, i: number) => `close-replica:${lease.job.toBase58()}:${lease.providers[i].provider.toBase58()}`;

  it("closes each replica the consumer ended once its claim period is over, and the last close settles the lease", async () => {
    const lease = await running([80n, 90n]);
    const crank = await keeperOn(lease);
    const index = crank.keeper.index;
    assert.ok(index.serviceOf(lease.job)?.[0].equals(lease.service), "the terms are loaded with the index");
    const start = await startedSlot(lease, 0);
    lease.env.ledger.warpToSlot(start + 40n);
    await lease.consumer.client.endReplica({ job: lease.job, provider: lease.providers[0].provider });
    lease.env.ledger.warpToSlot(start + 50n);
    await lease.consumer.client.endReplica({ job: lease.job, provider: lease.providers[1].provider });
    await until("both ends in the index", () => [0, 1].every((i) => (index.bids.get(bidOf(lease, i).toBase58())?.endedSlot ?? 0n) > 0n));

    // The first replica's owner may still claim: nothing is planned, nothing closes.
    lease.env.ledger.warpToSlot(start + 40n + PERIOD);
    assert.deepEqual(planned(crank, lease), []);
    await crank.keeper.runner.tick();
    assert.ok(lease.env.exists(bidOf(lease, 0)));

    // One slot later it closes alone, and the lease runs on with the other.
    lease.env.ledger.warpToSlot(start + 41n + PERIOD);
    assert.deepEqual(planned(crank, lease), [["close_replica", closeKey(lease, 0)]]);
    await crank.keeper.runner.tick();
    assert.equal(lease.env.exists(bidOf(lease, 0)), false);
    assert.equal((await lease.consumer.client.fetchProvider(lease.providers[0].provider))!.locked, 0n, "the owner's stake lock is released");
    assert.ok(lease.env.exists(lease.job) && lease.env.exists(lease.service));
    assert.equal(keeperTokens(lease, crank), 0n, "no crank fee before the lease settles");
    await until("the closed bid out of the index", () => !index.bids.has(bidOf(lease, 0).toBase58()));
    assert.ok(index.jobs.has(lease.job.toBase58()), "the job stays indexed for its other replica");

    // The last replica's close settles: the keeper takes the crank fee, the consumer the rest.
    lease.env.ledger.warpToSlot(start + 51n + PERIOD);
    assert.deepEqual(planned(crank, lease), [["close_replica", closeKey(lease, 1)]]);
    const consumerBefore = consumerTokens(lease);
    const escrowLeft = lease.env.tokenBalance(lease.escrow);
    await crank.keeper.runner.tick();
    for (const account of [lease.job, lease.escrow, lease.service, bidOf(lease, 1)]) assert.equal(lease.env.exists(account), false);
    assert.equal(keeperTokens(lease, crank), MARKET_PARAMS.crankFee);
    assert.equal(consumerTokens(lease), consumerBefore + escrowLeft - MARKET_PARAMS.crankFee);
    await until("the settled lease out of the index", () => !index.jobs.has(lease.job.toBase58()) && !index.serviceOf(lease.job) && index.bidsOf(lease.job).length === 0);
    await index.load();
    assert.equal(index.serviceOf(lease.job), undefined, "a resync agrees: the terms are closed");
    assert.equal(await metric(crank.keeper, "keeper_actions_total", { bot: "service-cranker", kind: "close_replica", outcome: "sent" }), 2);
    assert.equal(await metric(crank.keeper, "keeper_actions_total", { bot: "service-cranker", outcome: "failed" }), 0);
  });

  it("settles with a close that costs more than the one before it of the same shape (the reused limit is simulated again)", async () => {
    const lease = await running([80n, 90n]);
    const crank = await keeperOn(lease);
    // The keeper's and the consumer's token accounts exist from the start: both closes send the
    // same instructions, and the settling one (two transfers, the escrow's close) costs far more.
    const mint = lease.env.paymentMint;
    const create = [crank.wallet.publicKey, lease.consumer.publicKey].map((owner) => createAssociatedTokenAccountIdempotentInstruction(crank.wallet.publicKey, getAssociatedTokenAddressSync(mint, owner, true), owner, mint));
    await sendInstructions(crank.wallet.provider, create);
    const start = await startedSlot(lease, 0);
    await lease.consumer.client.endReplica({ job: lease.job, provider: lease.providers[0].provider });
    lease.env.ledger.warpToSlot(start + 50n);
    await lease.consumer.client.endReplica({ job: lease.job, provider: lease.providers[1].provider });
    await until("both ends in the index", () => [0, 1].every((i) => (crank.keeper.index.bids.get(bidOf(lease, i).toBase58())?.endedSlot ?? 0n) > 0n));
    lease.env.ledger.warpToSlot(start + PERIOD + 1n);
    await crank.keeper.runner.tick();
    assert.equal(lease.env.exists(bidOf(lease, 0)), false, "the first close landed");
    await until("the first close in the index", () => crank.keeper.index.bidsOf(lease.job).length === 1);
    lease.env.ledger.warpToSlot(start + 50n + PERIOD + 1n);
    await crank.keeper.runner.tick();
    assert.equal(lease.env.exists(lease.job), false, "the settling close landed on its first tick");
    assert.equal(keeperTokens(lease, crank), MARKET_PARAMS.crankFee);
    assert.equal(await metric(crank.keeper, "keeper_actions_total", { bot: "service-cranker", outcome: "failed" }), 0);
  });

  it("closes a replica nobody ended after the lease's longest term and its claim period", async () => {
    const lease = await running([80n]);
    const crank = await keeperOn(lease);
    const start = await startedSlot(lease, 0);
    lease.env.ledger.warpToSlot(start + MAX_DURATION + PERIOD);
    assert.deepEqual(planned(crank, lease), []);
    await crank.keeper.runner.tick();
    assert.ok(lease.env.exists(lease.job));
    lease.env.ledger.warpToSlot(start + MAX_DURATION + PERIOD + 1n);
    await crank.keeper.runner.tick();
    assert.equal(lease.env.exists(lease.job), false);
    assert.equal((await lease.consumer.client.fetchProvider(lease.providers[0].provider))!.locked, 0n);
    assert.equal(keeperTokens(lease, crank), MARKET_PARAMS.crankFee);
  });

  it("pauses a lease whose deposit fell short of a period, once, and settles it after the pause ran out", async () => {
    // 1 token a slot, funded with exactly one period at the cap: one claim makes it short.
    const lease = await running([1n], { deposit: minDeposit(1n) });
    const crank = await keeperOn(lease);
    const start = await startedSlot(lease, 0);
    assert.deepEqual(planned(crank, lease), [], "a lease holding a period is not paused");
    lease.env.ledger.warpToSlot(start + 10n);
    const job = (await lease.consumer.client.fetchJob(lease.job))!;
    const ack = signAcknowledgement(lease.watchdog.secretKey, { job: lease.job, jobIncarnation: job.incarnation, provider: lease.providers[0].provider, upToSlot: start + 10n });
    await lease.providers[0].owner.client.claimService(ack, { ownerToken: lease.providers[0].owner.paymentToken });
    await until("the claim in the index", () => (crank.keeper.index.jobs.get(lease.job.toBase58())?.escrowed ?? 0n) < job.escrowed);
    assert.deepEqual(planned(crank, lease), [["pause_service", `pause-service:${lease.job.toBase58()}`]]);
    const pausedAt = lease.env.ledger.slot;
    await crank.keeper.runner.tick();
    assert.equal((await lease.consumer.client.fetchService(lease.service))!.pausedSlot, pausedAt);
    await until("the pause in the index", () => (crank.keeper.index.serviceOf(lease.job)?.[1].pausedSlot ?? 0n) > 0n);
    assert.deepEqual(planned(crank, lease), [], "paused once");

    // No top-up: the seat runs out at the pause's end; one period later the keeper settles the lease.
    lease.env.ledger.warpToSlot(pausedAt + MARKET_PARAMS.servicePauseSlots! + PERIOD + 1n);
    await crank.keeper.runner.tick();
    assert.equal(lease.env.exists(lease.job), false);
    assert.equal(keeperTokens(lease, crank), MARKET_PARAMS.crankFee);
    assert.equal(await metric(crank.keeper, "keeper_actions_total", { bot: "service-cranker", outcome: "failed" }), 0);
  });

  it("counts a close another keeper landed first as a lost race, not a failure", async () => {
    const lease = await running([80n]);
    const [a, b] = [await keeperOn(lease), await keeperOn(lease)];
    const start = await startedSlot(lease, 0);
    lease.env.ledger.warpToSlot(start + 10n);
    await lease.consumer.client.endReplica({ job: lease.job, provider: lease.providers[0].provider });
    await until("the end in both indexes", () => [a, b].every((k) => (k.keeper.index.bids.get(bidOf(lease, 0).toBase58())?.endedSlot ?? 0n) > 0n));
    lease.env.ledger.warpToSlot(start + 11n + PERIOD);
    await Promise.all([a.keeper.runner.tick(), b.keeper.runner.tick()]);
    assert.equal(lease.env.exists(lease.job), false);
    const outcomes = async (outcome: string) => (await metric(a.keeper, "keeper_actions_total", { kind: "close_replica", outcome })) + (await metric(b.keeper, "keeper_actions_total", { kind: "close_replica", outcome }));
    assert.equal(await outcomes("sent"), 1);
    assert.equal(await outcomes("lost_race"), 1);
    assert.equal(await outcomes("failed"), 0);
    assert.equal(keeperTokens(lease, a) + keeperTokens(lease, b), MARKET_PARAMS.crankFee, "one crank fee, to the keeper that landed it");
  });

  it("the deadline cranker fails a service's no-show and the refund drops its terms from the index", async () => {
    const lease = await posted();
    await lease.providers[0].owner.client.placeBid({ job: lease.job, price: 80n });
    lease.env.ledger.warpToSlot((await lease.consumer.client.fetchJob(lease.job))!.bidDeadlineSlot + 1n);
    await lease.consumer.client.award({ job: lease.job });
    const crank = await keeperOn(lease, ["deadline-cranker", "service-cranker"]);
    lease.env.ledger.warpToSlot((await lease.consumer.client.fetchJob(lease.job))!.progress.startDeadlineSlot + 1n);
    assert.deepEqual(planned(crank, lease), [], "an awarded lease has no replica to close");
    await crank.keeper.runner.tick();
    assert.equal(lease.env.exists(lease.job), false, "the no-show refunded the lease");
    assert.equal(await metric(crank.keeper, "keeper_actions_total", { bot: "deadline-cranker", kind: "fail_no_show", outcome: "sent" }), 1);
    // The terms outlive the job until close_service returns their rent; the index drops them with it.
    assert.ok(lease.env.exists(lease.service));
    await until("the refunded lease's terms out of the index", () => !crank.keeper.index.serviceOf(lease.job));
  });

  it("awards a seat round once its bidding is over, not a slot before, and fails a seat winner that did not start", async () => {
    const lease = await running([80n], {}, 3);
    const crank = await keeperOn(lease, ["deadline-cranker", "service-cranker"]);
    const index = crank.keeper.index;
    await lease.consumer.client.endReplica({ job: lease.job, provider: lease.providers[0].provider, replace: true });
    await lease.providers[1].owner.client.bidSeat({ job: lease.job, price: 70n });
    await until("the round and its bid in the index", () => (index.serviceOf(lease.job)?.[1].openSeats ?? 0) === 1 && index.bids.has(bidOf(lease, 1).toBase58()));
    const deadline = (await lease.consumer.client.fetchService(lease.service))!.seatDeadlineSlot;
    const awardKey = `award-seat:${lease.job.toBase58()}`;
    lease.env.ledger.warpToSlot(deadline);
    assert.deepEqual(planned(crank, lease), [], "bidding is still open");
    lease.env.ledger.warpToSlot(deadline + 1n);
    assert.deepEqual(planned(crank, lease), [["award_seat", awardKey]]);
    await crank.keeper.runner.tick();
    const won = (await lease.consumer.client.fetchBid(bidOf(lease, 1)))!;
    assert.equal(won.awardedSlot, deadline + 1n, "the seat went to the round's bid");
    assert.equal(await metric(crank.keeper, "keeper_actions_total", { bot: "service-cranker", kind: "award_seat", outcome: "sent" }), 1);

    // The winner never starts: one slot past its start window the deadline cranker slashes it.
    await until("the award in the index", () => index.bids.get(bidOf(lease, 1).toBase58())?.awardedSlot === won.awardedSlot);
    const job = (await lease.consumer.client.fetchJob(lease.job))!;
    const startDeadline = won.awardedSlot + (job.progress.startDeadlineSlot - job.progress.awardedSlot);
    lease.env.ledger.warpToSlot(startDeadline);
    await crank.keeper.runner.tick();
    assert.ok(lease.env.exists(bidOf(lease, 1)), "still inside its start window");
    lease.env.ledger.warpToSlot(startDeadline + 1n);
    await crank.keeper.runner.tick();
    assert.equal(lease.env.exists(bidOf(lease, 1)), false);
    assert.equal(await metric(crank.keeper, "keeper_actions_total", { bot: "deadline-cranker", kind: "fail_no_show", outcome: "sent" }), 1);
    assert.equal((await lease.consumer.client.fetchService(lease.service))!.seatsStarting, 0, "the seat was given up");
    assert.ok(lease.env.exists(lease.job), "the lease runs on");
  });
});
