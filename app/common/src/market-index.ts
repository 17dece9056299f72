// A daemon's view of the market: every job, bid, provider, dispute and service account of the
// program, loaded at start, kept current by account and log subscriptions, and rebuilt from the
// chain on a timer. The chain is the truth; this is a cache that can always be thrown away.
//
// Every change carries the slot it was seen at, and no read overwrites a change notified at a
// later slot, or at its own slot after the read was asked (see `Seen`): so a change that lands
// while the load is read is kept, whichever arrives first, and a resync never rolls back a newer
// update.
//
// The first load waits until the subscriptions are live (web3.js reports "subscribed"): a change
// that lands while they connect is then in the load, not lost between the two. A cut WebSocket
// loses every notification until web3.js has reconnected and resubscribed (it does both by
// itself, and nothing tells the listeners what they missed): so once a subscription that fell
// back to "pending" is "subscribed" again, the whole index is read again (a backfill), instead of
// waiting for the next resync; subscriptions not live by the end of start's wait are treated the
// same way. What a daemon has at stake between resyncs, its games, it also re-reads itself
// (`refreshMany`).
import type { Program } from "@coral-xyz/anchor";
import bs58 from "bs58";
import { PublicKey, type AccountInfo, type Connection, type Logs } from "@solana/web3.js";
import { parseEvents, toNative, transportError, variantOf, type BidAccount, type ComputeMarket, type DisputeAccount, type JobAccount, type ProviderAccount, type ServiceAccount } from "@compute-market/sdk";
import type { Logger } from "./logger";
import { withRetry } from "./retry";

type Indexed = { job: JobAccount; bid: BidAccount; provider: ProviderAccount; dispute: DisputeAccount; service: ServiceAccount };
export type IndexedKind = keyof Indexed;
type Kind = IndexedKind;

const KINDS: Kind[] = ["job", "bid", "provider", "dispute", "service"];
/** Events after which a job's accounts are gone (a lease's last replica closing settles it). */
const CLOSING_EVENTS = new Set(["jobFinalized", "jobExpired", "jobCancelled", "jobRefunded", "serviceSettled"]);
/** Events after which one provider's bid on a job is gone. */
const BID_CLOSING_EVENTS = new Set(["bidWithdrawn", "winnerFailed", "replicaClosed"]);
/** Each kind's read is tried this often on a transport failure: one busy answer must not fail a
 * daemon's start, a backfill or a resync (each kind alone, so that five reads need not all pass at once). */
const READ_ATTEMPTS = 6;
/** How long `start` waits for its subscriptions to be live before it loads anyway. */
const START_LIVE_WITHIN_MS = 10_000;

/**
 * When a change was seen: the slot the cluster gave it, and this index's order of events (a
 * notification's arrival, a read's request). A change of a later slot is newer. Of one slot, a
 * notification is newer than what was seen before it arrived, and a read is newer only than what
 * was seen before it was asked: on a validator both show the slot's final state, but a cluster
 * whose reads see a slot still being filled (ours) may answer a read asked before a change of
 * that slot after its notification.
 */
export interface Seen {
  slot: number;
  sequence: number;
}

export function isNewer(change: Seen, last: Seen): boolean {
  return change.slot > last.slot || (change.slot === last.slot && change.sequence > last.sequence);
}

/** The states web3.js's Connection moves a subscription through. */
export type SubscriptionState = "pending" | "subscribing" | "subscribed" | "unsubscribing" | "unsubscribed";

/**
 * web3.js's own hook on a subscription's state (the one its `confirmTransaction` waits on before
 * it polls, to miss nothing between the two); internal, so not in its typings.
 */
interface SubscriptionStateHook {
  _onSubscriptionStateChange?(clientSubscriptionId: number, callback: (state: SubscriptionState) => void): () => void;
}

/** Calls `callback` on every state change of subscription `id`; null when this Connection has no such hook. */
export function onSubscriptionState(connection: Connection, id: number, callback: (state: SubscriptionState) => void): (() => void) | null {
  const hook = (connection as unknown as SubscriptionStateHook)._onSubscriptionStateChange;
  return typeof hook === "function" ? hook.call(connection, id, callback) : null;
}

/**
 * One subscription's next state: "pending" means its socket closed (web3.js resubscribes when it
 * reopens), so it is cut until "subscribed" again, and that moment calls for a backfill.
 */
export function followSubscription(cut: boolean, state: SubscriptionState): { cut: boolean; backfill: boolean } {
  if (state === "pending") return { cut: true, backfill: false };
  if (state === "subscribed") return { cut: false, backfill: cut };
  return { cut, backfill: false };
}

/** One of the index's subscriptions: how to remove it, and whether it is live now. */
interface Subscription {
  remove(): Promise<void>;
  /** Stops following its state (web3.js's hook). */
  stopFollowing: () => void;
  live: boolean;
  cut: boolean;
}

export class MarketIndex {
  readonly jobs = new Map<string, JobAccount>();
  readonly bids = new Map<string, BidAccount>();
  readonly providers = new Map<string, ProviderAccount>();
  readonly disputes = new Map<string, DisputeAccount>();
  /** Service terms by their address, the PDA ["service", job]. */
  readonly services = new Map<string, ServiceAccount>();
  private subscriptions: Subscription[] = [];
  /** Called on each subscription state change while `start` waits for the subscriptions to be live. */
  private liveWaiters = new Set<() => void>();
  /** Ends the retries of reads once the index is stopped. */
  private stopping = new AbortController();
  /** The backfill running now, and whether another cut ended while it read. */
  private backfill: Promise<void> | null = null;
  private backfillAgain = false;
  /** Backfills done since start. */
  backfills = 0;
  private discriminators = new Map<string, Kind>();
  private discriminatorOf = new Map<Kind, Uint8Array>();
  /** When the latest change applied to each address (an update or a removal) was seen. */
  private changedAt = new Map<string, Seen>();
  /** Orders what this index hears and asks: a notification's arrival, a read's request. */
  private sequence = 0;
  loadedAt = 0;

  constructor(
    private readonly program: Program<ComputeMarket>,
    private readonly connection: Connection,
    private readonly logger: Logger,
  ) {
    for (const account of program.idl.accounts ?? []) {
      const kind = KINDS.find((k) => k === account.name);
      if (!kind) continue;
      this.discriminators.set(Buffer.from(account.discriminator).toString("hex"), kind);
      this.discriminatorOf.set(kind, Uint8Array.from(account.discriminator));
    }
  }

  /**
   * Subscribes, waits until the subscriptions are live, then loads: the way to start an index, so
   * that no change falls between the two (one that lands before they are live is in the load).
   * Subscriptions not live within `liveWithinMs` (a slow or missing WebSocket) are waited for no
   * longer: the index loads, and reads everything again once they are.
   */
  async start(liveWithinMs = START_LIVE_WITHIN_MS): Promise<void> {
    this.subscribe();
    if (!(await this.untilLive(liveWithinMs))) {
      for (const subscription of this.subscriptions) subscription.cut = !subscription.live;
      this.logger.warn({ waitedMs: liveWithinMs }, "subscriptions not live yet: loading now, and again once they are");
    }
    await this.load();
  }

  /** Resolves true once every subscription is live, false after `ms` (or when the index stops). */
  private untilLive(ms: number): Promise<boolean> {
    if (this.live) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (live: boolean) => {
        clearTimeout(timer);
        this.liveWaiters.delete(check);
        this.stopping.signal.removeEventListener("abort", stopped);
        resolve(live);
      };
      const check = () => this.live && done(true);
      const stopped = () => done(false);
      const timer = setTimeout(() => done(this.live), ms);
      this.liveWaiters.add(check);
      this.stopping.signal.addEventListener("abort", stopped);
    });
  }

  /** Whether every subscription is live now (false while a cut WebSocket is reconnecting). */
  get live(): boolean {
    return this.subscriptions.length > 0 && this.subscriptions.every((s) => s.live);
  }

  /** Replaces the whole index with what the chain holds now, keeping changes seen at later slots. */
  async load(): Promise<void> {
    const asked = ++this.sequence;
    const loaded = await Promise.all(KINDS.map((kind) => this.fetchAllRetried(kind)));
    KINDS.forEach((kind, i) => this.replaceAt(kind, { slot: loaded[i].slot, sequence: asked }, loaded[i].accounts));
    // Changes before every kind's read are in the loaded state now: no need to remember them (one
    // of the read's own slot is kept: another read of that slot may have been asked before it).
    const readAt = Math.min(...loaded.map((l) => l.slot));
    for (const [address, seen] of this.changedAt) if (seen.slot < readAt) this.changedAt.delete(address);
    this.loadedAt = Date.now();
    this.logger.debug(this.counts(), "index loaded");
  }

  /** Follows account changes and closing events until `stop`, and reads everything again after a cut. */
  subscribe(): void {
    if (this.stopping.signal.aborted) this.stopping = new AbortController();
    const accounts = this.connection.onProgramAccountChange(this.program.programId, ({ accountId, accountInfo }, context) => this.apply(accountId, accountInfo, this.notified(context.slot)), "confirmed");
    const logs = this.connection.onLogs(this.program.programId, (logs, context) => this.applyLogs(logs, this.notified(context.slot)), "confirmed");
    this.subscriptions.push(
      this.follow("accounts", accounts, () => this.connection.removeProgramAccountChangeListener(accounts)),
      this.follow("logs", logs, () => this.connection.removeOnLogsListener(logs)),
    );
  }

  async stop(): Promise<void> {
    const subscriptions = this.subscriptions;
    this.subscriptions = [];
    this.stopping.abort();
    for (const subscription of subscriptions) subscription.stopFollowing();
    await Promise.allSettled(subscriptions.map((subscription) => subscription.remove()));
    await this.backfill;
  }

  /** A subscription whose state is followed: a cut is logged, and its return starts a backfill. */
  private follow(name: string, id: number, remove: () => Promise<void>): Subscription {
    const subscription: Subscription = { remove, stopFollowing: () => undefined, live: false, cut: false };
    const stopFollowing = onSubscriptionState(this.connection, id, (state) => {
      const next = followSubscription(subscription.cut, state);
      if (next.cut && !subscription.cut) this.logger.warn({ subscription: name }, "subscription cut: its notifications are lost until it is back");
      subscription.cut = next.cut;
      subscription.live = state === "subscribed";
      // Both subscriptions share the socket: one read once neither is cut covers what both lost.
      if (next.backfill && this.subscriptions.every((s) => !s.cut)) this.requestBackfill(name);
      for (const waiter of [...this.liveWaiters]) waiter();
    });
    if (stopFollowing) subscription.stopFollowing = stopFollowing;
    else {
      // Without the hook a cut goes unseen: what it loses waits for the next resync.
      subscription.live = true;
      this.logger.warn({ subscription: name }, "this Connection does not report subscription states: changes lost to a cut wait for the next resync");
    }
    return subscription;
  }

  /** Reads the whole index again after a cut; one read at a time, and once more if another cut ended meanwhile. */
  private requestBackfill(subscription: string): void {
    if (this.backfill) {
      this.backfillAgain = true;
      return;
    }
    this.backfill = (async () => {
      do {
        this.backfillAgain = false;
        try {
          await this.load();
          this.backfills += 1;
          this.logger.info({ subscription, ...this.counts() }, "subscription back after a cut: index read again");
        } catch (error) {
          if (this.stopping.signal.aborted) return;
          this.logger.warn({ subscription, err: error }, "backfill failed; the next resync reads what the cut lost");
        }
      } while (this.backfillAgain && !this.stopping.signal.aborted);
    })().finally(() => {
      this.backfill = null;
    });
  }

  /** Replaces one account with what the chain holds now (or forgets it, when it is gone). */
  async refresh(kind: Kind, address: PublicKey): Promise<void> {
    await this.refreshMany(kind, [address]);
  }

  /** Re-reads several accounts of one kind in one request (e.g. the games a daemon sits in, whose
   * next move must not wait on a notification that a dropped WebSocket never delivers). */
  async refreshMany(kind: Kind, addresses: PublicKey[]): Promise<void> {
    if (addresses.length === 0) return;
    const asked = ++this.sequence;
    const { context, value } = await this.connection.getMultipleAccountsInfoAndContext(addresses, "confirmed");
    const seen = { slot: context.slot, sequence: asked };
    addresses.forEach((address, i) => {
      const info = value[i];
      if (!info || !info.owner.equals(this.program.programId)) this.remove(kind, address.toBase58(), seen);
      else this.apply(address, info, seen);
    });
  }

  /** Forgets an account found closed (e.g. a crank that lost a race to another keeper). */
  forget(kind: Kind, address: PublicKey): void {
    this.mapOf(kind).delete(address.toBase58());
  }

  /** The bids on one job. */
  bidsOf(job: PublicKey): [PublicKey, BidAccount][] {
    return [...this.bids].filter(([, bid]) => bid.job.equals(job)).map(([address, bid]) => [new PublicKey(address), bid]);
  }

  /** The games played over one job. */
  disputesOf(job: PublicKey): [PublicKey, DisputeAccount][] {
    return [...this.disputes].filter(([, dispute]) => dispute.job.equals(job)).map(([address, dispute]) => [new PublicKey(address), dispute]);
  }

  /** The terms of one service job (found by their `job` field: no PDA search). */
  serviceOf(job: PublicKey): [PublicKey, ServiceAccount] | undefined {
    for (const [address, service] of this.services) if (service.job.equals(job)) return [new PublicKey(address), service];
    return undefined;
  }

  counts(): Record<Kind, number> {
    return { job: this.jobs.size, bid: this.bids.size, provider: this.providers.size, dispute: this.disputes.size, service: this.services.size };
  }

  /** `fetchAll`, retried with backoff while the node fails to answer (not once the index is stopped). */
  private fetchAllRetried(kind: Kind): ReturnType<MarketIndex["fetchAll"]> {
    return withRetry(() => this.fetchAll(kind), {
      attempts: READ_ATTEMPTS,
      baseMs: 250,
      maxMs: 4_000,
      retryable: (error) => transportError(error) !== null,
      signal: this.stopping.signal,
      onRetry: (error, attempt, delayMs) => this.logger.debug({ kind, attempt, delayMs, err: error }, "read failed; retrying"),
    });
  }

  /** Every account of one kind, and the slot they were read at. */
  private async fetchAll(kind: Kind): Promise<{ slot: number; accounts: [string, Indexed[Kind]][] }> {
    const discriminator = this.discriminatorOf.get(kind);
    if (!discriminator) throw new Error(`the IDL has no ${kind} account`);
    const { context, value } = await this.connection.getProgramAccounts(this.program.programId, {
      commitment: "confirmed",
      withContext: true,
      filters: [{ memcmp: { offset: 0, bytes: bs58.encode(discriminator) } }],
    });
    const accounts: [string, Indexed[Kind]][] = [];
    for (const { pubkey, account } of value) {
      const decoded = this.decode(kind, pubkey, account.data);
      if (decoded) accounts.push([pubkey.toBase58(), decoded]);
    }
    return { slot: context.slot, accounts };
  }

  /** A notification, seen now at `slot`. */
  private notified(slot: number): Seen {
    return { slot, sequence: ++this.sequence };
  }

  /** Whether a change `seen` is newer than the last one applied to `address`. */
  private isCurrent(address: string, seen: Seen): boolean {
    const last = this.changedAt.get(address);
    return !last || isNewer(seen, last);
  }

  private apply(address: PublicKey, info: AccountInfo<Buffer>, seen: Seen): void {
    const kind = this.discriminators.get(info.data.subarray(0, 8).toString("hex"));
    if (!kind) return;
    const key = address.toBase58();
    if (info.lamports === 0 || info.data.length === 0) {
      this.remove(kind, key, seen);
      return;
    }
    if (!this.isCurrent(key, seen)) return;
    const decoded = this.decode(kind, address, info.data);
    if (!decoded) return;
    this.mapOf(kind).set(key, decoded);
    this.changedAt.set(key, seen);
  }

  private remove(kind: Kind, address: string, seen: Seen): void {
    if (!this.isCurrent(address, seen)) return;
    this.mapOf(kind).delete(address);
    this.changedAt.set(address, seen);
  }

  private decode(kind: Kind, address: PublicKey, data: Buffer): Indexed[Kind] | null {
    try {
      return toNative(this.program.coder.accounts.decode(kind, data)) as Indexed[Kind];
    } catch (error) {
      this.logger.warn({ address: address.toBase58(), kind, err: error }, "undecodable account skipped");
      return null;
    }
  }

  private applyLogs(logs: Logs, seen: Seen): void {
    if (logs.err) return;
    // A closed account is no longer the program's, so no account notification reports it:
    // the events of the instructions that close accounts do.
    for (const event of parseEvents(this.program, logs.logs)) {
      const { job, provider, dispute } = event.data as { job?: PublicKey; provider?: PublicKey; dispute?: PublicKey };
      if (event.name === "disputeSettled" && dispute) this.remove("dispute", dispute.toBase58(), seen);
      if (!job) continue;
      if (BID_CLOSING_EVENTS.has(event.name) && provider) {
        for (const [address, bid] of this.bids) if (bid.job.equals(job) && bid.provider.equals(provider)) this.remove("bid", address, seen);
      }
      if (event.name === "jobFinalized") {
        // Finalization closes the bids that held the award; losing bids stay until withdrawn.
        for (const [address, bid] of this.bids) if (bid.job.equals(job) && !["active", "sealed"].includes(variantOf(bid.status))) this.remove("bid", address, seen);
      }
      if (CLOSING_EVENTS.has(event.name)) {
        this.remove("job", job.toBase58(), seen);
        // Terms bind only their job: settled, they are closed with it; otherwise close_service
        // returns their rent later, with no event, and a resync may read them back until then.
        for (const [address, service] of this.services) if (service.job.equals(job)) this.remove("service", address, seen);
      }
    }
  }

  private mapOf(kind: Kind): Map<string, Indexed[Kind]> {
    const maps: { [K in Kind]: Map<string, Indexed[K]> } = { job: this.jobs, bid: this.bids, provider: this.providers, dispute: this.disputes, service: this.services };
    return maps[kind] as Map<string, Indexed[Kind]>;
  }

  /** The chain's accounts of one kind as read when `seen`; an address changed since keeps that change. */
  private replaceAt(kind: Kind, seen: Seen, accounts: [string, Indexed[Kind]][]): void {
    const map = this.mapOf(kind);
    const loaded = new Map(accounts);
    for (const address of [...map.keys()]) if (!loaded.has(address) && this.isCurrent(address, seen)) map.delete(address);
    for (const [address, value] of loaded) if (this.isCurrent(address, seen)) map.set(address, value);
  }
}
