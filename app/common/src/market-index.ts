// A daemon's view of the market: every job, bid, provider and dispute account of the program, loaded
// at start, kept current by account and log subscriptions, and rebuilt from the chain on a
// timer. The chain is the truth; this is a cache that can always be thrown away.
//
// Every change carries the slot it was read at, and no change overwrites one read at a later
// slot: so the subscriptions start before the first load (a change that lands while the load is
// read is kept, whichever arrives first) and a resync never rolls back a newer update. A
// notification can still be missed (a WebSocket not yet live, or dropped): what a daemon has at
// stake between resyncs, its games, it re-reads itself (`refreshMany`).
import { utils, type Program } from "@coral-xyz/anchor";
import { PublicKey, type AccountInfo, type Connection, type Logs } from "@solana/web3.js";
import { parseEvents, toNative, variantOf, type BidAccount, type ComputeMarket, type DisputeAccount, type JobAccount, type ProviderAccount } from "@compute-market/sdk";
import type { Logger } from "./logger";

type Indexed = { job: JobAccount; bid: BidAccount; provider: ProviderAccount; dispute: DisputeAccount };
export type IndexedKind = keyof Indexed;
type Kind = IndexedKind;

const KINDS: Kind[] = ["job", "bid", "provider", "dispute"];
/** Events after which a job's accounts are gone. */
const CLOSING_EVENTS = new Set(["jobFinalized", "jobExpired", "jobCancelled", "jobRefunded"]);
/** Events after which one provider's bid on a job is gone. */
const BID_CLOSING_EVENTS = new Set(["bidWithdrawn", "winnerFailed"]);

export class MarketIndex {
  readonly jobs = new Map<string, JobAccount>();
  readonly bids = new Map<string, BidAccount>();
  readonly providers = new Map<string, ProviderAccount>();
  readonly disputes = new Map<string, DisputeAccount>();
  private subscriptions: number[] = [];
  private discriminators = new Map<string, Kind>();
  private discriminatorOf = new Map<Kind, Uint8Array>();
  /** The slot of the latest change applied to each address (an update or a removal). */
  private changedAt = new Map<string, number>();
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

  /** Subscribes, then loads: the way to start an index, so that no change falls between the two. */
  async start(): Promise<void> {
    this.subscribe();
    await this.load();
  }

  /** Replaces the whole index with what the chain holds now, keeping changes seen at later slots. */
  async load(): Promise<void> {
    const loaded = await Promise.all(KINDS.map((kind) => this.fetchAll(kind)));
    KINDS.forEach((kind, i) => this.replaceAt(kind, loaded[i].slot, loaded[i].accounts));
    // Changes no later than every kind's read are in the loaded state now: no need to remember them.
    const readAt = Math.min(...loaded.map((l) => l.slot));
    for (const [address, slot] of this.changedAt) if (slot <= readAt) this.changedAt.delete(address);
    this.loadedAt = Date.now();
    this.logger.debug(this.counts(), "index loaded");
  }

  /** Follows account changes and closing events until `stop`. */
  subscribe(): void {
    this.subscriptions.push(
      this.connection.onProgramAccountChange(this.program.programId, ({ accountId, accountInfo }, context) => this.apply(accountId, accountInfo, context.slot), "confirmed"),
      this.connection.onLogs(this.program.programId, (logs, context) => this.applyLogs(logs, context.slot), "confirmed"),
    );
  }

  async stop(): Promise<void> {
    const ids = this.subscriptions;
    this.subscriptions = [];
    await Promise.allSettled(ids.map((id, i) => (i % 2 === 0 ? this.connection.removeProgramAccountChangeListener(id) : this.connection.removeOnLogsListener(id))));
  }

  /** Replaces one account with what the chain holds now (or forgets it, when it is gone). */
  async refresh(kind: Kind, address: PublicKey): Promise<void> {
    await this.refreshMany(kind, [address]);
  }

  /** Re-reads several accounts of one kind in one request (e.g. the games a daemon sits in, whose
   * next move must not wait on a notification that a dropped WebSocket never delivers). */
  async refreshMany(kind: Kind, addresses: PublicKey[]): Promise<void> {
    if (addresses.length === 0) return;
    const { context, value } = await this.connection.getMultipleAccountsInfoAndContext(addresses, "confirmed");
    addresses.forEach((address, i) => {
      const info = value[i];
      if (!info || !info.owner.equals(this.program.programId)) this.remove(kind, address.toBase58(), context.slot);
      else this.apply(address, info, context.slot);
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

  counts(): Record<Kind, number> {
    return { job: this.jobs.size, bid: this.bids.size, provider: this.providers.size, dispute: this.disputes.size };
  }

  /** Every account of one kind, and the slot they were read at. */
  private async fetchAll(kind: Kind): Promise<{ slot: number; accounts: [string, Indexed[Kind]][] }> {
    const discriminator = this.discriminatorOf.get(kind);
    if (!discriminator) throw new Error(`the IDL has no ${kind} account`);
    const { context, value } = await this.connection.getProgramAccounts(this.program.programId, {
      commitment: "confirmed",
      withContext: true,
      filters: [{ memcmp: { offset: 0, bytes: utils.bytes.bs58.encode(discriminator) } }],
    });
    const accounts: [string, Indexed[Kind]][] = [];
    for (const { pubkey, account } of value) {
      const decoded = this.decode(kind, pubkey, account.data);
      if (decoded) accounts.push([pubkey.toBase58(), decoded]);
    }
    return { slot: context.slot, accounts };
  }

  /** Whether a change read at `slot` is at least as new as the last one applied to `address`. */
  private isCurrent(address: string, slot: number): boolean {
    return slot >= (this.changedAt.get(address) ?? -1);
  }

  private apply(address: PublicKey, info: AccountInfo<Buffer>, slot: number): void {
    const kind = this.discriminators.get(info.data.subarray(0, 8).toString("hex"));
    if (!kind) return;
    const key = address.toBase58();
    if (info.lamports === 0 || info.data.length === 0) {
      this.remove(kind, key, slot);
      return;
    }
    if (!this.isCurrent(key, slot)) return;
    const decoded = this.decode(kind, address, info.data);
    if (!decoded) return;
    this.mapOf(kind).set(key, decoded);
    this.changedAt.set(key, slot);
  }

  private remove(kind: Kind, address: string, slot: number): void {
    if (!this.isCurrent(address, slot)) return;
    this.mapOf(kind).delete(address);
    this.changedAt.set(address, slot);
  }

  private decode(kind: Kind, address: PublicKey, data: Buffer): Indexed[Kind] | null {
    try {
      return toNative(this.program.coder.accounts.decode(kind, data)) as Indexed[Kind];
    } catch (error) {
      this.logger.warn({ address: address.toBase58(), kind, err: error }, "undecodable account skipped");
      return null;
    }
  }

  private applyLogs(logs: Logs, slot: number): void {
    if (logs.err) return;
    // A closed account is no longer the program's, so no account notification reports it:
    // the events of the instructions that close accounts do.
    for (const event of parseEvents(this.program, logs.logs)) {
      const { job, provider, dispute } = event.data as { job?: PublicKey; provider?: PublicKey; dispute?: PublicKey };
      if (event.name === "disputeSettled" && dispute) this.remove("dispute", dispute.toBase58(), slot);
      if (!job) continue;
      if (BID_CLOSING_EVENTS.has(event.name) && provider) {
        for (const [address, bid] of this.bids) if (bid.job.equals(job) && bid.provider.equals(provider)) this.remove("bid", address, slot);
      }
      if (event.name === "jobFinalized") {
        // Finalization closes the bids that held the award; losing bids stay until withdrawn.
        for (const [address, bid] of this.bids) if (bid.job.equals(job) && !["active", "sealed"].includes(variantOf(bid.status))) this.remove("bid", address, slot);
      }
      if (CLOSING_EVENTS.has(event.name)) this.remove("job", job.toBase58(), slot);
    }
  }

  private mapOf(kind: Kind): Map<string, Indexed[Kind]> {
    const maps: { [K in Kind]: Map<string, Indexed[K]> } = { job: this.jobs, bid: this.bids, provider: this.providers, dispute: this.disputes };
    return maps[kind] as Map<string, Indexed[Kind]>;
  }

  /** The chain's accounts of one kind as read at `slot`; an address changed later keeps that change. */
  private replaceAt(kind: Kind, slot: number, accounts: [string, Indexed[Kind]][]): void {
    const map = this.mapOf(kind);
    const loaded = new Map(accounts);
    for (const address of [...map.keys()]) if (!loaded.has(address) && this.isCurrent(address, slot)) map.delete(address);
    for (const [address, value] of loaded) if (this.isCurrent(address, slot)) map.set(address, value);
  }
}
