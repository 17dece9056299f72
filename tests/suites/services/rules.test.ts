// `rules.replicaCloseDue`, what the keeper's service cranker acts on, against close_replica: due
// exactly when the program closes the replica, on a real lease and on copies with one field changed.
// `rules.serviceClaim` against what claim_service pays (the fuzzer checks every accepted claim too).
import assert from "node:assert/strict";
import { Keypair } from "@solana/web3.js";
import { rules, signAcknowledgement, type BidAccount, type JobAccount, type ServiceAccount } from "@compute-market/sdk";
import { replicaCloseDue } from "@compute-market/keeper";
import { expectProgramError } from "../../support/assertions";
import { bidOf, MAX_DURATION, minDeposit, PERIOD, running, type Lease } from "../../support/service-lease";

interface Accounts {
  job: JobAccount;
  service: ServiceAccount;
  bid: BidAccount;
}

async function accountsOf(lease: Lease): Promise<Accounts> {
  const client = lease.consumer.client;
  const [job, service, bid] = await Promise.all([client.fetchJob(lease.job), client.fetchService(lease.service), client.fetchBid(bidOf(lease, 0))]);
  assert.ok(job && service && bid);
  return { job, service, bid };
}

/** Pure copies with one thing changed (the chain is not touched). */
const withJob = (job: JobAccount, more: Record<string, unknown>): JobAccount => ({ ...job, ...more }) as unknown as JobAccount;
const withBid = (bid: BidAccount, more: Partial<BidAccount>): BidAccount => ({ ...bid, ...more });
const withService = (service: ServiceAccount, more: Partial<ServiceAccount>): ServiceAccount => ({ ...service, ...more });

describe("rules: close_replica", () => {
  it("is due one slot after an ended replica's claim period, and at once when it was paid through its end", async () => {
    const lease = await running([80n]);
    const start = (await accountsOf(lease)).bid.startedSlot;
    lease.env.ledger.warpToSlot(start + 40n);
    await lease.consumer.client.endReplica({ job: lease.job, provider: lease.providers[0].provider });
    const { job, service, bid } = await accountsOf(lease);
    const end = start + 40n;
    assert.equal(rules.replicaEnd(job, service, bid), end);
    assert.equal(replicaCloseDue(job, service, bid, end + PERIOD), false);
    assert.equal(replicaCloseDue(job, service, bid, end + PERIOD + 1n), true);
    assert.equal(replicaCloseDue(job, service, withBid(bid, { claimedSlot: end - 1n }), end), false);
    assert.equal(replicaCloseDue(job, service, withBid(bid, { claimedSlot: end }), end), true, "paid through the end");

    // The program agrees: refused within the claim period, closed once the owner claimed to the end.
    const keeper = await lease.env.actor();
    lease.env.ledger.warpToSlot(end + PERIOD);
    const close = () => keeper.client.closeReplica({ job: lease.job, provider: lease.providers[0].provider, keeperToken: keeper.paymentToken });
    await expectProgramError(close(), "ReplicaStillClaimable");
    const owner = lease.providers[0].owner;
    const ack = signAcknowledgement(lease.watchdog.secretKey, { job: lease.job, jobIncarnation: job.incarnation, provider: lease.providers[0].provider, upToSlot: end });
    await owner.client.claimService(ack, { ownerToken: owner.paymentToken });
    const claimed = await accountsOf(lease);
    assert.equal(rules.paidThrough(claimed.bid), end);
    assert.equal(replicaCloseDue(claimed.job, claimed.service, claimed.bid, lease.env.ledger.slot), true);
    await close();
    assert.equal(lease.env.exists(bidOf(lease, 0)), false);
  });

  it("is due past the lease's longest term, or a pause's end while paused, each plus a period", async () => {
    const lease = await running([80n]);
    const { job, service, bid } = await accountsOf(lease);
    const term = bid.startedSlot + MAX_DURATION;
    assert.equal(replicaCloseDue(job, service, bid, term + PERIOD), false);
    assert.equal(replicaCloseDue(job, service, bid, term + PERIOD + 1n), true);
    // A pause ends every replica at its end; a replica ended before keeps its own end.
    const pauseEnds = bid.startedSlot + 500n;
    const paused = withService(service, { pausedSlot: bid.startedSlot + 1n, pauseEndsSlot: pauseEnds });
    assert.equal(rules.replicaEnd(job, paused, bid), pauseEnds);
    assert.equal(replicaCloseDue(job, paused, bid, pauseEnds + PERIOD), false);
    assert.equal(replicaCloseDue(job, paused, bid, pauseEnds + PERIOD + 1n), true);
    const endedBefore = withBid(bid, { endedSlot: bid.startedSlot + 10n });
    assert.equal(rules.replicaEnd(job, paused, endedBefore), bid.startedSlot + 10n);
    assert.equal(replicaCloseDue(job, paused, endedBefore, bid.startedSlot + 10n + PERIOD + 1n), true);
  });

  it("is never due for a lease that is not running, a replica not started, another lease's terms or a batch job", async () => {
    const lease = await running([80n]);
    const { job, service, bid } = await accountsOf(lease);
    const late = bid.startedSlot + MAX_DURATION + PERIOD + 1n;
    assert.equal(replicaCloseDue(job, service, bid, late), true);
    const cases: [string, JobAccount, ServiceAccount, BidAccount][] = [
      ["an awarded lease", withJob(job, { state: { awarded: {} } }), service, bid],
      ["a batch job", withJob(job, { kind: { batch: {} } }), service, bid],
      ["a replica that did not start", job, service, withBid(bid, { status: { won: {} } } as unknown as Partial<BidAccount>)],
      ["a bid of an earlier award", job, service, withBid(bid, { awardedSlot: bid.awardedSlot - 1n })],
      ["a bid of another incarnation", job, service, withBid(bid, { jobIncarnation: job.incarnation + 1n })],
      ["terms of another incarnation", job, withService(service, { jobIncarnation: service.jobIncarnation + 1n }), bid],
      ["terms of another job", job, withService(service, { job: Keypair.generate().publicKey }), bid],
    ];
    for (const [what, j, s, b] of cases) assert.equal(replicaCloseDue(j, s, b, late), false, what);
  });
});

describe("rules: claim_service", () => {
  it("settles a claim as the program pays it: to the slot, capped by what the deposit holds", async () => {
    const lease = await running([80n], { deposit: minDeposit(1n) });
    const owner = lease.providers[0].owner;
    const before = await accountsOf(lease);
    // Past one period: the deposit (one period at the cap) pays fewer slots at 80 than were acknowledged.
    lease.env.ledger.warpToSlot(before.bid.startedSlot + PERIOD + 50n);
    const upToSlot = lease.env.ledger.slot;
    const escrowBefore = lease.env.tokenBalance(lease.escrow);
    const predicted = rules.serviceClaim(before.job, before.service, before.bid, upToSlot, upToSlot, escrowBefore);
    assert.ok(typeof predicted !== "string", String(predicted));
    assert.ok(predicted.slots < upToSlot - before.bid.startedSlot, "the deposit caps the claim");
    const paidBefore = lease.env.tokenBalance(owner.paymentToken);
    const ack = signAcknowledgement(lease.watchdog.secretKey, { job: lease.job, jobIncarnation: before.job.incarnation, provider: lease.providers[0].provider, upToSlot });
    await owner.client.claimService(ack, { ownerToken: owner.paymentToken });
    const after = await accountsOf(lease);
    assert.equal(lease.env.tokenBalance(owner.paymentToken) - paidBefore, predicted.pay);
    assert.equal(escrowBefore - lease.env.tokenBalance(lease.escrow), predicted.pay + predicted.fee);
    assert.equal(after.bid.claimedSlot, rules.paidThrough(before.bid) + predicted.slots);
    // Nothing is left to pay: the rules and the program both say so.
    const again = rules.serviceClaim(after.job, after.service, after.bid, upToSlot, upToSlot, lease.env.tokenBalance(lease.escrow));
    assert.equal(again, "DepositExhausted");
    await expectProgramError(owner.client.claimService(ack, { ownerToken: owner.paymentToken }), "DepositExhausted");
  });

  it("names a replay, a future slot and another signer as the program does", async () => {
    const lease = await running([80n]);
    const { job, service, bid } = await accountsOf(lease);
    lease.env.ledger.warpToSlot(bid.startedSlot + 20n);
    const now = lease.env.ledger.slot;
    assert.equal(rules.serviceClaim(job, service, bid, now + 1n, now, 1_000_000n), "AcknowledgementAhead");
    assert.equal(rules.serviceClaim(job, service, withBid(bid, { claimedSlot: now }), now, now, 1_000_000n), "StaleAcknowledgement");
    const owner = lease.providers[0].owner;
    const forged = signAcknowledgement(Keypair.generate().secretKey, { job: lease.job, jobIncarnation: job.incarnation, provider: lease.providers[0].provider, upToSlot: now });
    await expectProgramError(owner.client.claimService(forged, { ownerToken: owner.paymentToken }), "InvalidAcknowledgement");
    const ahead = signAcknowledgement(lease.watchdog.secretKey, { job: lease.job, jobIncarnation: job.incarnation, provider: lease.providers[0].provider, upToSlot: now + 1n });
    await expectProgramError(owner.client.claimService(ahead, { ownerToken: owner.paymentToken }), "AcknowledgementAhead");
  });
});
