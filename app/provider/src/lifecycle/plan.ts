// What the node should do next for each job, as a pure function of the chain (jobs, this node's
// bids, the slot) and of what it remembers (its journal and its in-flight work). Deadlines and
// checks are the SDK rules module's, so the node never sends what the program would refuse.
import { rules, type BidAccount, type JobAccount, type ServiceAccount } from "@compute-market/sdk";
import type { JournalRecord } from "./journal";

export type JobStateName = rules.JobStateName;
export type BidStatusName = rules.BidStatusName;

export type Action =
  /** An open job (or a running lease's open seat round) this node has not bid on: consider it (spec, image, capacity, price). */
  | { kind: "consider"; job: string }
  /** Reveal a sealed bid (its price and salt are in the journal). */
  | { kind: "reveal"; job: string }
  /** Acknowledge an award (a job's, or a lease's seat). */
  | { kind: "start"; job: string }
  /** Run the container of a started job (first time, or again after a restart). */
  | { kind: "run"; job: string }
  /** Post the result commitment of a job whose run finished. */
  | { kind: "commit"; job: string }
  /** Reveal a sealed result once every winner committed (its root and salt are in the journal). */
  | { kind: "reveal-result"; job: string }
  /** Take back a bid that can no longer win, releasing its stake lock. */
  | { kind: "withdraw"; job: string }
  /** Start a started service replica's container (first time, or again after a restart). */
  | { kind: "serve"; job: string }
  /** Check a serving replica: restart its container if it stopped, run its health check. */
  | { kind: "supervise"; job: string }
  /** A service replica ended: stop its container and release its capacity. */
  | { kind: "unserve"; job: string }
  /** The job is over for this node: release its capacity and close its record. */
  | { kind: "forget"; job: string; why: string };

export interface PlanInput {
  slot: bigint;
  /** Jobs of this node's market, by address. */
  jobs: ReadonlyMap<string, JobAccount>;
  /** This node's bids, by job address. */
  bids: ReadonlyMap<string, BidAccount>;
  journal: ReadonlyMap<string, JournalRecord>;
  /** Jobs with an action in flight (a transaction or a container run): left alone this tick. */
  busy: ReadonlySet<string>;
  /** Jobs this node looked at and chose not to bid on (until their state changes). */
  declined: ReadonlySet<string>;
  /** Whether this node bids on service leases (it runs their containers until they end). */
  servesServices?: boolean;
  /** The terms of the service leases among `jobs`, by job address (their seat rounds). */
  services?: ReadonlyMap<string, ServiceAccount>;
}

// The program's rules (deadlines, award, withdrawal), from the SDK's one rules module.
export const { stateOf, statusOf, holdsAward, sealsResults } = rules;
const { canBid, isService, isSeatAward, revealDue, resultRevealDue, seatBiddingOpen, seatStartDeadline, withdrawWorthwhile } = rules;

/** Whether a running lease's seat round takes bids now. */
function seatOpen(job: JobAccount, terms: ServiceAccount | undefined, slot: bigint): boolean {
  return terms !== undefined && seatBiddingOpen(job, terms, slot);
}

/** The last slot a won bid may start in: the job's start deadline, or a seat's own. */
function startDeadline(job: JobAccount, bid: BidAccount): bigint {
  return isSeatAward(job, bid.awardedSlot) ? seatStartDeadline(job, bid.awardedSlot) : job.progress.startDeadlineSlot;
}

/** Slots a record outlives its bid before it is forgotten, so a bid still on its way to the index is not mistaken for a closed one. */
export const FORGET_GRACE_SLOTS = 10n;

/** The next action for one job, or null when there is nothing to do now. */
export function planJob(address: string, input: PlanInput): Action | null {
  const { slot, busy } = input;
  if (busy.has(address)) return null;
  const job = input.jobs.get(address);
  const bid = input.bids.get(address);
  const record = input.journal.get(address);

  if (!bid) {
    // Service leases are bid on only by nodes set to serve them.
    const wanted = job !== undefined && (!isService(job) || input.servesServices === true);
    const seatRound = job !== undefined && seatOpen(job, input.services?.get(address), slot);
    // A seat round is an auction of its own: a node done with the lease's first round may bid in it.
    const fresh = !record || (seatRound && record.phase === "done");
    if (job && wanted && (canBid(job, slot) || seatRound) && fresh && !input.declined.has(address)) return { kind: "consider", job: address };
    if (record && record.phase !== "done" && slot > BigInt(record.slot) + FORGET_GRACE_SLOTS) return { kind: "forget", job: address, why: job ? `job is ${stateOf(job)} and this node holds no bid` : "job closed" };
    return null;
  }
  if (withdrawWorthwhile(job ?? null, bid, slot)) return { kind: "withdraw", job: address };
  if (!job) return null;
  if (revealDue(job, bid, slot) && record?.sealed) return { kind: "reveal", job: address };
  if (!holdsAward(bid, job)) return null;

  const status = statusOf(bid);
  if (resultRevealDue(job, bid, slot) && record?.resultSalt && record.outputRoot) return { kind: "reveal-result", job: address };
  if (status === "won" && slot <= startDeadline(job, bid)) return { kind: "start", job: address };
  if (isService(job)) return status === "started" ? planReplica(address, bid, record, slot) : null;
  if (status === "started" && slot <= job.progress.commitDeadlineSlot) {
    if (record?.phase === "ran" && record.outputRoot) return { kind: "commit", job: address };
    return { kind: "run", job: address };
  }
  return null;
}

/** A started service replica: served until its end, then stopped (its bid closes later, by a crank). */
function planReplica(address: string, bid: BidAccount, record: JournalRecord | undefined, slot: bigint): Action | null {
  const serving = record?.phase === "serving";
  const over = bid.endedSlot > 0n && slot >= bid.endedSlot;
  if (over) return serving ? { kind: "unserve", job: address } : null;
  return { kind: serving ? "supervise" : "serve", job: address };
}

/** Every job that needs something, in a stable order: chain jobs, then remembered ones. */
export function plan(input: PlanInput): Action[] {
  const addresses = new Set<string>([...input.jobs.keys(), ...input.bids.keys(), ...input.journal.keys()]);
  const actions: Action[] = [];
  for (const address of [...addresses].sort()) {
    const action = planJob(address, input);
    if (action) actions.push(action);
  }
  return actions;
}
