// When each crank is due, as pure functions of a job and the slot. They mirror the program's
// own checks (src/state/job.rs), so a keeper does not send what would be refused.
import { isMachineJob, variantOf, type BidAccount, type JobAccount } from "@compute-market/sdk";

export type JobStateName = ReturnType<typeof variantOf<JobAccount["state"]>>;

export function stateOf(job: JobAccount): JobStateName {
  return variantOf(job.state);
}

function auctionEnd(job: JobAccount): bigint {
  return job.sealed ? job.revealDeadlineSlot : job.bidDeadlineSlot;
}

function instantAwardReady(job: JobAccount): boolean {
  const last = job.auction.ranking[job.replication - 1];
  return !job.sealed && job.instantPrice > 0n && job.auction.rankedCount >= job.replication && last.price <= job.instantPrice;
}

/** The auction can be closed with an award. */
export function awardDue(job: JobAccount, slot: bigint): boolean {
  return stateOf(job) === "open" && job.auction.rankedCount >= job.replication && (slot > auctionEnd(job) || instantAwardReady(job));
}

/** The auction ended without enough bids: the consumer is owed a refund. */
export function expiryDue(job: JobAccount, slot: bigint): boolean {
  return stateOf(job) === "open" && slot > auctionEnd(job) && job.auction.rankedCount < job.replication;
}

/** Whether a bid holds the job's current award (as the program's `Bid::holds_award`). */
export function holdsAward(bid: BidAccount, job: JobAccount): boolean {
  const status = variantOf(bid.status);
  const assigned = status === "won" || status === "started" || status === "committed";
  const running = ["awarded", "running", "committed"].includes(stateOf(job));
  return assigned && running && bid.awardedSlot === job.progress.awardedSlot;
}

/** A winner that has not started by the start deadline. */
export function noShowDue(job: JobAccount, bid: BidAccount, slot: bigint): boolean {
  return stateOf(job) === "awarded" && slot > job.progress.startDeadlineSlot && holdsAward(bid, job) && variantOf(bid.status) === "won";
}

/** A winner that has not committed by the commit deadline. */
export function timeoutDue(job: JobAccount, bid: BidAccount, slot: bigint): boolean {
  const state = stateOf(job);
  return state === "running" && slot > job.progress.commitDeadlineSlot && holdsAward(bid, job) && variantOf(bid.status) !== "committed";
}


const hex = (bytes: ArrayLike<number>): string => Buffer.from(Uint8Array.from(bytes)).toString("hex");

/** The committed final state hashes of a machine job's current winners, refuted ones left out. */
function standingStates(job: JobAccount, bids: readonly BidAccount[]): Set<string> {
  return new Set(bids.filter((bid) => holdsAward(bid, job) && variantOf(bid.status) === "committed").map((bid) => hex(bid.finalStateHash)));
}

/**
 * The challenge window passed with no dispute open, and a machine job's standing winners agree
 * (the program refuses to pay differing final states until a referee game has refuted one).
 */
export function finalizeDue(job: JobAccount, slot: bigint, bids: readonly BidAccount[] = []): boolean {
  const ready = stateOf(job) === "committed" && slot >= job.progress.challengeDeadlineSlot && job.progress.openDisputes === 0;
  return ready && (!isMachineJob(job) || standingStates(job, bids).size <= 1);
}

/**
 * A refereed job whose two winners committed different final states, with no game between them
 * yet: `referee` opens it (the first-ranked defends). Returns the two bids, ranking order.
 */
export function refereeDue(job: JobAccount, bids: readonly BidAccount[], hasGame: boolean): [BidAccount, BidAccount] | null {
  if (variantOf(job.mode) !== "refereed" || stateOf(job) !== "committed" || hasGame || job.auction.rankedCount < 2) return null;
  const [first, second] = job.auction.ranking.slice(0, 2).map((entry) => bids.find((bid) => bid.provider.equals(entry.provider)));
  if (!first || !second) return null;
  const committed = (bid: BidAccount) => holdsAward(bid, job) && variantOf(bid.status) === "committed";
  if (!committed(first) || !committed(second) || hex(first.finalStateHash) === hex(second.finalStateHash)) return null;
  return [first, second];
}

/** A committed verifiable result still open to challenge at `slot`. */
export function challengeOpen(job: JobAccount, bid: BidAccount, slot: bigint): boolean {
  return variantOf(job.mode) === "verifiable" && stateOf(job) === "committed" && slot < job.progress.challengeDeadlineSlot && holdsAward(bid, job) && variantOf(bid.status) === "committed";
}
