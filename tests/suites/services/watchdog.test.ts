// The SDK's ServiceWatchdog against a local cluster: it acknowledges healthy replicas up to the
// current slot (and the provider is paid with what it delivered), acknowledges none while a
// replica is down, ends one that stayed down past the grace asking for a replacement (unless told
// not to), watches a seat's replica once it started, and warns of a deposit that cannot pay one
// more period.
import assert from "node:assert/strict";
import type { PublicKey } from "@solana/web3.js";
import { ServiceWatchdog, verifyAcknowledgement, type Acknowledgement, type WatchdogEvent } from "@compute-market/sdk";
import { bidOf, minDeposit, PERIOD, running, startedSlot, type Lease } from "../../support/service-lease";

function watchdogOf(lease: Lease, healthy: (provider: PublicKey) => boolean, replace?: boolean) {
  const delivered: Acknowledgement[] = [];
  const events: WatchdogEvent[] = [];
  const watchdog = new ServiceWatchdog({
    client: lease.consumer.client,
    watchdog: lease.watchdog,
    job: lease.job,
    probe: async (provider) => healthy(provider),
    deliver: async (ack) => void delivered.push(ack),
    onEvent: (event) => events.push(event),
    replace,
  });
  return { watchdog, delivered, events };
}

describe("ServiceWatchdog", () => {
  it("acknowledges each healthy replica up to the current slot, and the provider is paid with it", async () => {
    const lease = await running([80n, 90n]);
    const start = await startedSlot(lease, 0);
    lease.env.ledger.warpToSlot(start + 30n);
    const { watchdog, delivered } = watchdogOf(lease, () => true);
    await watchdog.tick();
    assert.equal(delivered.length, 2);
    assert.ok(delivered.every((ack) => verifyAcknowledgement(ack) && ack.watchdog.equals(lease.watchdog.publicKey) && ack.upToSlot === start + 30n));
    const owner = lease.providers[0].owner;
    const mine = delivered.find((ack) => ack.provider.equals(lease.providers[0].provider))!;
    await owner.client.claimService(mine, { ownerToken: owner.paymentToken });
    assert.equal(lease.env.tokenBalance(owner.paymentToken), 1_000_000_000n + 30n * 80n);
  });

  it("acknowledges nothing for a replica that is down, and ends it once it stayed down past the grace", async () => {
    const lease = await running([80n]);
    const start = await startedSlot(lease, 0);
    let up = true;
    const { watchdog, delivered, events } = watchdogOf(lease, () => up);
    lease.env.ledger.warpToSlot(start + 10n);
    await watchdog.tick();
    assert.equal(delivered.length, 1);
    up = false;
    lease.env.ledger.warpToSlot(start + 10n + PERIOD);
    await watchdog.tick();
    assert.equal(delivered.length, 1, "no acknowledgement while down");
    assert.equal((await lease.consumer.client.fetchBid(bidOf(lease, 0)))!.endedSlot, 0n, "within the grace (one period): not ended yet");
    lease.env.ledger.warpToSlot(start + 11n + PERIOD);
    await watchdog.tick();
    assert.ok(events.some((event) => event.kind === "ended" && event.replaced));
    assert.equal((await lease.consumer.client.fetchBid(bidOf(lease, 0)))!.endedSlot, start + 11n + PERIOD);
    assert.equal((await lease.consumer.client.fetchService(lease.service))!.openSeats, 1, "a replacement was asked for: the seat round is open");
    // The owner is paid for what was acknowledged, nothing after.
    const owner = lease.providers[0].owner;
    await owner.client.claimService(delivered[0], { ownerToken: owner.paymentToken });
    assert.equal(lease.env.tokenBalance(owner.paymentToken), 1_000_000_000n + 10n * 80n);
  });

  it("ends a failing replica without asking for a replacement when told not to, and watches a seat's replica once it started", async () => {
    const lease = await running([80n], {}, 2);
    const start = await startedSlot(lease, 0);
    const { watchdog, events } = watchdogOf(lease, () => false, false);
    lease.env.ledger.warpToSlot(start + PERIOD + 1n);
    await watchdog.tick();
    assert.ok(events.some((event) => event.kind === "ended" && !event.replaced));
    assert.equal((await lease.consumer.client.fetchService(lease.service))!.openSeats, 0);

    // A second lease: its replacement, once started, is probed and acknowledged like the first round's.
    const other = await running([80n], {}, 2);
    const healthy = new Set<string>();
    const { watchdog: second, delivered } = watchdogOf(other, (provider) => healthy.has(provider.toBase58()));
    const otherStart = await startedSlot(other, 0);
    other.env.ledger.warpToSlot(otherStart + PERIOD + 1n);
    await second.tick();
    await other.providers[1].owner.client.bidSeat({ job: other.job, price: 70n });
    other.env.ledger.warpToSlot((await other.consumer.client.fetchService(other.service))!.seatDeadlineSlot + 1n);
    await other.consumer.client.awardSeat({ job: other.job });
    await other.providers[1].owner.client.startSeat({ job: other.job });
    healthy.add(other.providers[1].provider.toBase58());
    other.env.ledger.warpToSlot(other.env.ledger.slot + 5n);
    await second.tick();
    assert.equal(delivered.length, 1);
    assert.ok(delivered[0].provider.equals(other.providers[1].provider), "the seat's replica is acknowledged");
  });

  it("warns when the deposit cannot pay every replica one more period", async () => {
    const lease = await running([100n], { deposit: minDeposit(1n) });
    const start = await startedSlot(lease, 0);
    lease.env.ledger.warpToSlot(start + 20n);
    const owner = lease.providers[0].owner;
    const { watchdog, delivered, events } = watchdogOf(lease, () => true);
    await watchdog.tick();
    assert.ok(!events.some((event) => event.kind === "low-balance"), "a full period is still paid for");
    await owner.client.claimService(delivered[0], { ownerToken: owner.paymentToken });
    await watchdog.tick();
    const warning = events.find((event) => event.kind === "low-balance");
    assert.ok(warning?.kind === "low-balance" && warning.perPeriod === 100n * PERIOD);
  });
});
