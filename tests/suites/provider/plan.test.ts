// The provider node's planner: from jobs, this node's bids, the slot and the journal to the next
// action of each job, mirroring the program's deadlines.
import assert from "node:assert/strict";
import { Keypair, PublicKey } from "@solana/web3.js";
import type { BidAccount, JobAccount, ServiceAccount } from "@compute-market/sdk";
import { FORGET_GRACE_SLOTS, plan, planJob, type PlanInput } from "../../../app/provider/src/lifecycle/plan";
import type { JournalRecord } from "../../../app/provider/src/lifecycle/journal";

const ME = Keypair.generate().publicKey;
const RIVAL = Keypair.generate().publicKey;
const JOB = Keypair.generate().publicKey.toBase58();

type State = "open" | "awarded" | "running" | "committed";
type Status = "sealed" | "active" | "won" | "started" | "committed";

function job(state: State, overrides: { sealed?: boolean; ranked?: PublicKey[]; awardedSlot?: bigint; replication?: number; service?: boolean } = {}): JobAccount {
  const ranked = overrides.ranked ?? [];
  return {
    kind: overrides.service ? { service: {} } : { batch: {} },
    state: { [state]: {} },
    mode: { replicated: {} },
    replication: overrides.replication ?? 1,
    sealed: overrides.sealed ?? false,
    bidDeadlineSlot: 100n,
    revealDeadlineSlot: 120n,
    auction: { rankedCount: ranked.length, ranking: ranked.map((provider) => ({ provider, price: 1n, score: 0n, slot: 0n })) },
    progress: { awardedSlot: overrides.awardedSlot ?? 130n, startDeadlineSlot: 150n, commitDeadlineSlot: 400n, challengeDeadlineSlot: 500n, started: 0, committed: 0, failed: 0, openDisputes: 0 },
  } as unknown as JobAccount;
}

function bid(status: Status, awardedSlot = 130n, revealed = false): BidAccount {
  return { status: { [status]: {} }, provider: ME, job: new PublicKey(JOB), awardedSlot, revealed } as unknown as BidAccount;
}

function record(phase: JournalRecord["phase"], extra: Partial<JournalRecord> = {}): JournalRecord {
  return { job: JOB, consumer: RIVAL.toBase58(), specHash: "00", phase, slot: "90", price: "5", updatedAt: "", ...extra };
}

function input(slot: bigint, parts: { job?: JobAccount; bid?: BidAccount; record?: JournalRecord; busy?: boolean; declined?: boolean }): PlanInput {
  return {
    slot,
    jobs: new Map(parts.job ? [[JOB, parts.job]] : []),
    bids: new Map(parts.bid ? [[JOB, parts.bid]] : []),
    journal: new Map(parts.record ? [[JOB, parts.record]] : []),
    busy: new Set(parts.busy ? [JOB] : []),
    declined: new Set(parts.declined ? [JOB] : []),
  };
}

const kind = (i: PlanInput) => planJob(JOB, i)?.kind ?? null;

describe("provider planner", () => {
  it("considers an open job while bidding is open, once, and never one it declined or is busy with", () => {
    assert.equal(kind(input(100n, { job: job("open") })), "consider");
    assert.equal(kind(input(101n, { job: job("open") })), null);
    assert.equal(kind(input(50n, { job: job("open"), declined: true })), null);
    assert.equal(kind(input(50n, { job: job("open"), busy: true })), null);
    assert.equal(kind(input(50n, { job: job("open"), record: record("bid") })), null);
  });

  it("considers a service lease only when set to serve services", () => {
    assert.equal(kind(input(50n, { job: job("open", { service: true }) })), null);
    assert.equal(kind({ ...input(50n, { job: job("open", { service: true }) }), servesServices: true }), "consider");
  });

  it("bids for a running lease's seat while its round takes bids, and starts a won seat within its own window", () => {
    const lease = job("running", { service: true });
    const round = (openSeats: number, seatDeadlineSlot: bigint, pausedSlot = 0n) => ({ openSeats, seatDeadlineSlot, pausedSlot, jobIncarnation: 0n }) as unknown as ServiceAccount;
    const withTerms = (slot: bigint, terms: ServiceAccount, parts: Parameters<typeof input>[1] = {}) => ({ ...input(slot, { job: lease, ...parts }), servesServices: true, services: new Map([[JOB, terms]]) });
    assert.equal(kind(withTerms(300n, round(1, 300n))), "consider");
    assert.equal(kind(withTerms(301n, round(1, 300n))), null, "the round's bidding is over");
    assert.equal(kind(withTerms(300n, round(0, 0n))), null, "no round is open");
    assert.equal(kind(withTerms(300n, round(1, 300n, 250n))), null, "a paused lease fills no seat");
    assert.equal(kind({ ...withTerms(300n, round(1, 300n)), servesServices: false }), null, "only a node set to serve services");
    assert.equal(kind(withTerms(300n, round(1, 300n), { record: record("done") })), "consider", "done with the first round, free for the seat's");
    assert.equal(kind(withTerms(300n, round(1, 300n), { record: record("bid", { slot: "295" }) })), null, "a bid of its own on the way");
    // A seat awarded at 320 may start until 320 + the lease's start window (150 - 130).
    const seat = bid("won", 320n);
    assert.equal(kind(withTerms(340n, round(0, 0n), { bid: seat, record: record("bid") })), "start");
    assert.equal(kind(withTerms(341n, round(0, 0n), { bid: seat, record: record("bid") })), null, "past the seat's start window: the no-show crank's");
  });

  it("serves a started replica, supervises it while it serves, and stops it once it ended", () => {
    const lease = job("running", { service: true });
    const replica = (endedSlot: bigint) => ({ ...bid("started"), endedSlot }) as BidAccount;
    assert.equal(kind(input(200n, { job: lease, bid: replica(0n), record: record("started") })), "serve");
    assert.equal(kind(input(200n, { job: lease, bid: replica(0n), record: record("serving") })), "supervise");
    // Ended with notice: served until the end slot, then stopped.
    assert.equal(kind(input(299n, { job: lease, bid: replica(300n), record: record("serving") })), "supervise");
    assert.equal(kind(input(300n, { job: lease, bid: replica(300n), record: record("serving") })), "unserve");
    assert.equal(kind(input(300n, { job: lease, bid: replica(300n), record: record("done") })), null, "already stopped");
    // A lease has no commit: a started replica is never "run", even past a batch job's commit deadline.
    assert.equal(kind(input(900n, { job: lease, bid: replica(0n), record: record("serving") })), "supervise");
  });

  it("reveals a sealed bid only inside the reveal window and only with a salt in the journal", () => {
    const sealedJob = job("open", { sealed: true });
    const salted = record("bid", { sealed: { salt: "ab" } });
    assert.equal(kind(input(100n, { job: sealedJob, bid: bid("sealed"), record: salted })), null);
    assert.equal(kind(input(101n, { job: sealedJob, bid: bid("sealed"), record: salted })), "reveal");
    assert.equal(kind(input(120n, { job: sealedJob, bid: bid("sealed"), record: salted })), "reveal");
    assert.equal(kind(input(110n, { job: sealedJob, bid: bid("sealed"), record: record("bid") })), null);
    // Past the window an unrevealed bid can only be withdrawn (and forfeits part of its lock).
    assert.equal(kind(input(121n, { job: sealedJob, bid: bid("sealed"), record: salted })), "withdraw");
  });

  it("reveals a sealed result once every winner committed, before the challenge deadline, only with its salt journaled", () => {
    const several = job("committed", { replication: 3 });
    const sealedResult = record("committed", { outputRoot: "11", resultSalt: "22" });
    assert.equal(kind(input(450n, { job: several, bid: bid("committed"), record: sealedResult })), "reveal-result");
    assert.equal(kind(input(499n, { job: several, bid: bid("committed"), record: sealedResult })), "reveal-result");
    assert.equal(kind(input(500n, { job: several, bid: bid("committed"), record: sealedResult })), null, "the reveal window is closed");
    assert.equal(kind(input(450n, { job: several, bid: bid("committed", 130n, true), record: sealedResult })), null, "already revealed");
    assert.equal(kind(input(450n, { job: several, bid: bid("committed"), record: record("committed", { outputRoot: "11" }) })), null, "no salt");
    assert.equal(kind(input(450n, { job: job("running", { replication: 3 }), bid: bid("committed"), record: sealedResult })), null, "others still run");
    assert.equal(kind(input(450n, { job: job("committed"), bid: bid("committed"), record: sealedResult })), null, "a single winner commits openly");
  });

  it("keeps a ranked open bid while the auction runs and withdraws an unranked one after it", () => {
    assert.equal(kind(input(101n, { job: job("open", { ranked: [ME] }), bid: bid("active") })), null);
    assert.equal(kind(input(100n, { job: job("open", { ranked: [RIVAL] }), bid: bid("active") })), null);
    assert.equal(kind(input(101n, { job: job("open", { ranked: [RIVAL] }), bid: bid("active") })), "withdraw");
  });

  it("withdraws a bid that lost the award, or whose job is gone", () => {
    assert.equal(kind(input(131n, { job: job("awarded"), bid: bid("active") })), "withdraw");
    assert.equal(kind(input(131n, { bid: bid("active") })), "withdraw");
    assert.equal(kind(input(131n, { job: job("awarded"), bid: bid("won", 99n) })), "withdraw");
  });

  it("starts an award until the start deadline, then leaves it to the cranks", () => {
    assert.equal(kind(input(150n, { job: job("awarded"), bid: bid("won") })), "start");
    assert.equal(kind(input(151n, { job: job("awarded"), bid: bid("won") })), null);
  });

  it("runs a started job, commits once the run is recorded, and never after the commit deadline", () => {
    const running = job("running");
    assert.equal(kind(input(200n, { job: running, bid: bid("started"), record: record("started") })), "run");
    assert.equal(kind(input(200n, { job: running, bid: bid("started") })), "run");
    assert.equal(kind(input(200n, { job: running, bid: bid("started"), record: record("ran", { outputRoot: "11" }) })), "commit");
    assert.equal(kind(input(401n, { job: running, bid: bid("started"), record: record("ran", { outputRoot: "11" }) })), null);
  });

  it("does nothing for a committed bid (no double commit), and forgets a finished job after a grace period", () => {
    assert.equal(kind(input(300n, { job: job("committed"), bid: bid("committed"), record: record("committed") })), null);
    const graceEnd = 90n + FORGET_GRACE_SLOTS;
    assert.equal(kind(input(graceEnd, { record: record("committed") })), null);
    assert.deepEqual(planJob(JOB, input(graceEnd + 1n, { record: record("committed") })), { kind: "forget", job: JOB, why: "job closed" });
    assert.equal(kind(input(graceEnd + 1n, { record: record("done") })), null);
  });

  it("plans every job in a stable order", () => {
    const other = Keypair.generate().publicKey.toBase58();
    const i = input(50n, { job: job("open") });
    (i.jobs as Map<string, JobAccount>).set(other, job("open"));
    assert.deepEqual(plan(i).map((a) => a.job), [JOB, other].sort());
  });
});
