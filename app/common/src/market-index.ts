// A daemon's view of the market: every job, bid, provider and dispute account of the program, loaded
// at start, kept current by account and log subscriptions, and rebuilt from the chain on a
// timer. The chain is the truth; this is a cache that can always be thrown away.
import type { Program } from "@coral-xyz/anchor";
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
  loadedAt = 0;

  constructor(
    private readonly program: Program<ComputeMarket>,
    private readonly connection: Connection,
    private readonly logger: Logger,
  ) {
    for (const account of program.idl.accounts ?? []) {
      const kind = KINDS.find((k) => k === account.name);
      if (kind) this.discriminators.set(Buffer.from(account.discriminator).toString("hex"), kind);
    }
  }

  /** Replaces the whole index with what the chain holds now. */
  async load(): Promise<void> {
    const [jobs, bids, providers, disputes] = await Promise.all([
      this.program.account.job.all(),
      this.program.account.bid.all(),
      this.program.account.provider.all(),
      this.program.account.dispute.all(),
    ]);
    this.replace(this.jobs, jobs.map((a) => [a.publicKey, toNative(a.account)]));
    this.replace(this.bids, bids.map((a) => [a.publicKey, toNative(a.account)]));
    this.replace(this.providers, providers.map((a) => [a.publicKey, toNative(a.account)]));
    this.replace(this.disputes, disputes.map((a) => [a.publicKey, toNative(a.account)]));
    this.loadedAt = Date.now();
    this.logger.debug(this.counts(), "index loaded");
  }

  /** Follows account changes and closing events until `stop`. */
  subscribe(): void {
    this.subscriptions.push(
      this.connection.onProgramAccountChange(this.program.programId, ({ accountId, accountInfo }) => this.apply(accountId, accountInfo), "confirmed"),
      this.connection.onLogs(this.program.programId, (logs) => this.applyLogs(logs), "confirmed"),
    );
  }

  async stop(): Promise<void> {
    const ids = this.subscriptions;
    this.subscriptions = [];
    await Promise.allSettled(ids.map((id, i) => (i % 2 === 0 ? this.connection.removeProgramAccountChangeListener(id) : this.connection.removeOnLogsListener(id))));
  }

  /** Replaces one account with what the chain holds now (or forgets it, when it is gone). */
  async refresh(kind: Kind, address: PublicKey): Promise<void> {
    const info = await this.connection.getAccountInfo(address, "confirmed");
    if (!info || info.owner.toBase58() !== this.program.programId.toBase58()) {
      this.forget(kind, address);
      return;
    }
    this.apply(address, info);
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

  private apply(address: PublicKey, info: AccountInfo<Buffer>): void {
    const kind = this.discriminators.get(info.data.subarray(0, 8).toString("hex"));
    if (!kind) return;
    if (info.lamports === 0 || info.data.length === 0) {
      this.forget(kind, address);
      return;
    }
    try {
      const decoded = toNative(this.program.coder.accounts.decode(kind, info.data));
      this.mapOf(kind).set(address.toBase58(), decoded as never);
    } catch (error) {
      this.logger.warn({ address: address.toBase58(), kind, err: error }, "undecodable account skipped");
    }
  }

  private applyLogs(logs: Logs): void {
    if (logs.err) return;
    // A closed account is no longer the program's, so no account notification reports it:
    // the events of the instructions that close accounts do.
    for (const event of parseEvents(this.program, logs.logs)) {
      const { job, provider, dispute } = event.data as { job?: PublicKey; provider?: PublicKey; dispute?: PublicKey };
      if (event.name === "disputeSettled" && dispute) this.disputes.delete(dispute.toBase58());
      if (!job) continue;
      if (BID_CLOSING_EVENTS.has(event.name) && provider) {
        for (const [address, bid] of this.bids) if (bid.job.equals(job) && bid.provider.equals(provider)) this.bids.delete(address);
      }
      if (event.name === "jobFinalized") {
        // Finalization closes the bids that held the award; losing bids stay until withdrawn.
        for (const [address, bid] of this.bids) if (bid.job.equals(job) && !["active", "sealed"].includes(variantOf(bid.status))) this.bids.delete(address);
      }
      if (CLOSING_EVENTS.has(event.name)) this.jobs.delete(job.toBase58());
    }
  }

  private mapOf(kind: Kind): Map<string, Indexed[Kind]> {
    const maps: { [K in Kind]: Map<string, Indexed[K]> } = { job: this.jobs, bid: this.bids, provider: this.providers, dispute: this.disputes };
    return maps[kind] as Map<string, Indexed[Kind]>;
  }

  private replace<T>(map: Map<string, T>, entries: [PublicKey, T][]): void {
    map.clear();
    for (const [address, value] of entries) map.set(address.toBase58(), value);
  }
}
