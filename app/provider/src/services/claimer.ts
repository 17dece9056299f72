// Claims the pay of this node's service replicas: each tick, for every job the acknowledgement
// book holds one for, it reads the job, the lease and the replica, and claims when the schedule
// (claim-schedule.ts) says so. A failed claim is retried with backoff; an acknowledgement that
// can pay nothing more (the replica over and paid, the job gone or posted again) is forgotten.
import { PublicKey } from "@solana/web3.js";
import { rules, variantOf, type Acknowledgement, type ComputeMarketClient } from "@compute-market/sdk";
import { backoffDelay, type Logger } from "@compute-market/common";
import type { AcknowledgementBook } from "./acknowledgements";
import { claimDue, unclaimedSlots } from "./claim-schedule";

export interface ClaimPolicy {
  /** Claim once this many acknowledgement periods are unclaimed. */
  claimEveryPeriods: bigint;
  /** Claim once the unclaimed pay reaches this many tokens. */
  maxUnclaimedTokens: bigint;
}

export interface ServiceClaimerOptions {
  /** A client of the provider's owner wallet (the bid's owner signs claims). */
  client: ComputeMarketClient;
  book: AcknowledgementBook;
  policy: ClaimPolicy;
  logger: Logger;
  /** Where pay goes; the owner's associated token account when absent. */
  ownerToken?: PublicKey;
  /** The clock retries are kept on (tests move it). */
  now?: () => number;
}

/** What a tick did for one job, for logs, metrics and tests. */
export type ClaimOutcome =
  | { job: string; kind: "claimed"; upToSlot: bigint; slots: bigint; signature: string }
  | { job: string; kind: "waiting"; unclaimedSlots: bigint }
  | { job: string; kind: "not-started" }
  | { job: string; kind: "backing-off" }
  | { job: string; kind: "failed"; error: unknown }
  | { job: string; kind: "forgotten"; why: string };

export interface ClaimerStats {
  claims: number;
  failures: number;
}

const RETRY_BASE_MS = 1_000;
const RETRY_MAX_MS = 60_000;

export class ServiceClaimer {
  private readonly retryAt = new Map<string, { at: number; attempt: number }>();
  private readonly now: () => number;
  readonly stats: ClaimerStats = { claims: 0, failures: 0 };

  constructor(private readonly options: ServiceClaimerOptions) {
    this.now = options.now ?? Date.now;
  }

  /** One pass over the book; one job's failure never stops the others'. */
  async tick(): Promise<ClaimOutcome[]> {
    const acks = this.options.book.all();
    if (acks.length === 0) return [];
    const slot = BigInt(await this.options.client.provider.connection.getSlot("confirmed"));
    const outcomes: ClaimOutcome[] = [];
    for (const ack of acks) outcomes.push(await this.visit(ack, slot));
    return outcomes;
  }

  private async visit(ack: Acknowledgement, slot: bigint): Promise<ClaimOutcome> {
    const job = ack.job.toBase58();
    const retry = this.retryAt.get(job);
    if (retry && retry.at > this.now()) return { job, kind: "backing-off" };
    try {
      const outcome = await this.settle(ack, slot);
      this.retryAt.delete(job);
      return outcome;
    } catch (error) {
      this.stats.failures += 1;
      const attempt = (retry?.attempt ?? 0) + 1;
      const delay = backoffDelay(attempt, RETRY_BASE_MS, RETRY_MAX_MS);
      this.retryAt.set(job, { at: this.now() + delay, attempt });
      this.options.logger.warn({ job, upToSlot: ack.upToSlot.toString(), err: error, attempt, retryInMs: delay }, "service claim failed");
      return { job, kind: "failed", error };
    }
  }

  private async settle(ack: Acknowledgement, slot: bigint): Promise<ClaimOutcome> {
    const { client, policy } = this.options;
    const job = ack.job.toBase58();
    const [account, service, bid] = await Promise.all([client.fetchJob(ack.job), client.fetchService(client.serviceAddress(ack.job)), client.fetchBid(client.bidAddress(ack.job, ack.provider))]);
    if (!account || !service || !bid) return this.forget(job, "the job, its lease or this node's replica is gone");
    if (account.incarnation !== ack.jobIncarnation) return this.forget(job, "the job was posted again since");
    if (variantOf(bid.status) !== "started") return { job, kind: "not-started" };

    // The program's own rules: a pause's end counts as the replica's end while it lasts.
    const end = rules.replicaEnd(account, service, bid);
    const paid = rules.paidThrough(bid);
    // Nothing more can be paid under any acknowledgement once the replica is over and paid.
    if (end <= slot && paid >= end) return this.forget(job, "the replica is over and paid");
    const input = { upToSlot: ack.upToSlot, paidThrough: paid, rate: bid.awardedPrice, periodSlots: service.ackPeriodSlots, ...policy, replicaEnd: end, slot };
    const slots = unclaimedSlots(input);
    if (!claimDue(input)) return { job, kind: "waiting", unclaimedSlots: slots };

    const signature = await client.claimService(ack, { ownerToken: this.options.ownerToken });
    this.stats.claims += 1;
    this.options.logger.info({ job, upToSlot: ack.upToSlot.toString(), slots: slots.toString(), signature }, "service claimed");
    return { job, kind: "claimed", upToSlot: ack.upToSlot, slots, signature };
  }

  private forget(job: string, why: string): ClaimOutcome {
    this.options.book.forget(job);
    this.retryAt.delete(job);
    this.options.logger.info({ job, why }, "service acknowledgement forgotten");
    return { job, kind: "forgotten", why };
  }
}
