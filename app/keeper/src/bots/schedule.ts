// When each crank is due, as pure functions of a job and the slot. They mirror the program's
// own checks (src/state/job.rs), so a keeper does not send what would be refused.
import { variantOf, type BidAccount, type JobAccount } from "@compute-market/sdk";

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

/** The challenge window passed with no dispute open. */
export function finalizeDue(job: JobAccount, slot: bigint): boolean {
  return stateOf(job) === "committed" && slot >= job.progress.challengeDeadlineSlot && job.progress.openDisputes === 0;
}
