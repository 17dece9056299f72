// Runs the bots: one pass per tick of the shared ticker (a pass still running makes the next one
// skip), each due crank sent at most once at a time, lost races counted apart from failures,
// metrics for everything.
import { PublicKey, type Connection, type TransactionInstruction } from "@solana/web3.js";
import { ComputeMarketError, MissingAccountError } from "@compute-market/sdk";
import { Counter, Gauge, Histogram, Ticker, type HealthReport, type Logger, type Registry } from "@compute-market/common";
import type { IndexedKind, MarketIndex } from "@compute-market/common";
import type { Action, Bot, MarketView } from "./bots/types";

export interface RunnerOptions {
  tickMs: number;
  /** Cranks sent at once. */
  concurrency: number;
  /** Log what would be sent, send nothing. */
  dryRun: boolean;
  /** Rebuild the index from the chain this often. */
  resyncMs: number;
  /** Cranks of one kind packed into one transaction at most (1: each alone). */
  packSize: number;
  /** Sends instructions in one transaction (the keeper's client). */
  send(instructions: TransactionInstruction[]): Promise<string>;
}

type Outcome = "sent" | "lost_race" | "failed" | "dry_run";

export class Runner {
  private readonly ticker: Ticker;
  private lastSlot = 0n;
  private readonly inFlight = new Set<string>();
  private readonly actions: Counter<"bot" | "kind" | "outcome">;
  private readonly tickSeconds: Histogram<"phase">;
  private readonly indexed: Gauge<"kind">;
  private readonly slotGauge: Gauge;

  constructor(
    private readonly connection: Connection,
    private readonly index: MarketIndex,
    private readonly bots: Bot[],
    private readonly options: RunnerOptions,
    private readonly logger: Logger,
    registry: Registry,
  ) {
    this.actions = new Counter({ name: "keeper_actions_total", help: "Cranks by bot, kind and outcome", labelNames: ["bot", "kind", "outcome"], registers: [registry] });
    this.tickSeconds = new Histogram({ name: "keeper_tick_seconds", help: "Duration of a tick", labelNames: ["phase"], registers: [registry] });
    this.indexed = new Gauge({ name: "keeper_indexed_accounts", help: "Accounts in the index", labelNames: ["kind"], registers: [registry] });
    this.slotGauge = new Gauge({ name: "keeper_slot", help: "Latest slot seen", registers: [registry] });
    this.ticker = new Ticker({ tickMs: options.tickMs, tick: () => this.pass(), resyncMs: options.resyncMs, resync: () => index.load(), logger });
  }

  start(): void {
    this.ticker.start();
  }

  /** Stops ticking; returns once the pass in flight (and its cranks) is done. */
  stop(): Promise<void> {
    return this.ticker.stop();
  }

  health(): HealthReport {
    const { healthy, ...ticks } = this.ticker.health();
    return { healthy, details: { ...ticks, slot: this.lastSlot.toString(), inFlight: this.inFlight.size, indexed: this.index.counts() } };
  }

  /** One pass now (or the one running). Public for tests. */
  tick(): Promise<void> {
    return this.ticker.runOnce();
  }

  /** Reads the slot, asks every bot what is due, sends it. */
  private async pass(): Promise<void> {
    const done = this.tickSeconds.startTimer({ phase: "tick" });
    try {
      const slot = BigInt(await this.connection.getSlot("confirmed"));
      this.lastSlot = slot;
      this.slotGauge.set(Number(slot));
      for (const [kind, count] of Object.entries(this.index.counts())) this.indexed.set({ kind }, count);
      const view = await this.refreshWatched(this.view(slot));
      const planned = this.bots.flatMap((bot) => bot.plan(view).map((action) => ({ bot, action })));
      await this.runAll(planned.filter(({ action }) => !this.inFlight.has(action.key)));
    } finally {
      done();
    }
  }

  /** Re-reads what the bots watch and, when there is any, builds the view again from it. */
  private async refreshWatched(view: MarketView): Promise<MarketView> {
    const byKind = new Map<IndexedKind, PublicKey[]>();
    for (const { kind, address } of this.bots.flatMap((bot) => bot.watched?.(view) ?? [])) byKind.set(kind, [...(byKind.get(kind) ?? []), address]);
    if (byKind.size === 0) return view;
    try {
      await Promise.all([...byKind].map(([kind, addresses]) => this.index.refreshMany(kind, addresses)));
    } catch (error) {
      this.logger.warn({ err: error }, "watched accounts not re-read: planning from the index");
      return view;
    }
    return this.view(view.slot);
  }

  /** One tick's view: accounts grouped by job once, so every bot's lookups are map reads. */
  private view(slot: bigint): MarketView {
    const byJob = <T extends { job: PublicKey }>(accounts: Map<string, T>): Map<string, [PublicKey, T][]> => {
      const groups = new Map<string, [PublicKey, T][]>();
      for (const [address, account] of accounts) {
        const key = account.job.toBase58();
        const group = groups.get(key) ?? [];
        group.push([new PublicKey(address), account]);
        groups.set(key, group);
      }
      return groups;
    };
    const bids = byJob(this.index.bids);
    const disputes = byJob(this.index.disputes);
    const services = byJob(this.index.services);
    return {
      slot,
      jobs: [...this.index.jobs].map(([address, job]) => [new PublicKey(address), job] as [PublicKey, typeof job]),
      job: (address) => this.index.jobs.get(address.toBase58()),
      bidsOf: (job) => bids.get(job.toBase58()) ?? [],
      disputes: [...disputes.values()].flat(),
      disputesOf: (job) => disputes.get(job.toBase58()) ?? [],
      provider: (address) => this.index.providers.get(address.toBase58()),
      // One PDA per job: its group holds at most one.
      service: (job) => services.get(job.toBase58())?.[0]?.[1],
    };
  }

  private async runAll(planned: { bot: Bot; action: Action }[]): Promise<void> {
    const queue = this.packed(planned);
    const workers = Array.from({ length: Math.min(this.options.concurrency, queue.length) }, async () => {
      for (let next = queue.shift(); next; next = queue.shift()) await (next.length === 1 ? this.run(next[0].bot, next[0].action) : this.runPack(next));
    });
    await Promise.all(workers);
  }

  /** Cranks in units of work: packable ones of the same bot and kind in packs of `packSize`, the rest alone. */
  private packed(planned: { bot: Bot; action: Action }[]): { bot: Bot; action: Action }[][] {
    const units: { bot: Bot; action: Action }[][] = [];
    const open = new Map<string, { bot: Bot; action: Action }[]>();
    for (const item of planned) {
      if (!item.action.instructions || this.options.packSize <= 1 || this.options.dryRun) {
        units.push([item]);
        continue;
      }
      const key = `${item.bot.name}:${item.action.kind}`;
      const pack = open.get(key) ?? [];
      if (pack.length === 0) {
        units.push(pack);
        open.set(key, pack);
      }
      pack.push(item);
      if (pack.length >= this.options.packSize) open.delete(key);
    }
    return units;
  }

  /**
   * Sends several cranks in one transaction. If the pack is refused (one of them lost its race,
   * or it does not fit), its halves are tried, down to each crank alone, so that one stale crank
   * never holds up the others.
   */
  private async runPack(pack: { bot: Bot; action: Action }[]): Promise<void> {
    for (const { action } of pack) this.inFlight.add(action.key);
    let signature: string | null = null;
    try {
      const instructions = (await Promise.all(pack.map(({ action }) => action.instructions!()))).flat();
      signature = await this.options.send(instructions);
    } catch (error) {
      this.logger.debug({ err: error, cranks: pack.length }, "pack refused: sending it in halves");
    } finally {
      for (const { action } of pack) this.inFlight.delete(action.key);
    }
    if (signature === null) {
      // Halves: a pack too large for one transaction, or with one stale crank, costs a few tries, not one per crank.
      const half = Math.ceil(pack.length / 2);
      await Promise.all([pack.slice(0, half), pack.slice(half)].map((part) => (part.length === 1 ? this.run(part[0].bot, part[0].action) : this.runPack(part))));
      return;
    }
    for (const { bot, action } of pack) {
      this.logger.child({ bot: bot.name, kind: action.kind, job: action.job.toBase58() }).info({ signature, packed: pack.length }, "sent");
      this.actions.inc({ bot: bot.name, kind: action.kind, outcome: "sent" });
    }
  }

  private async run(bot: Bot, action: Action): Promise<void> {
    this.inFlight.add(action.key);
    const log = this.logger.child({ bot: bot.name, kind: action.kind, job: action.job.toBase58() });
    let outcome: Outcome;
    try {
      if (this.options.dryRun) {
        log.info("due (dry run)");
        outcome = "dry_run";
      } else {
        const signature = await action.send();
        log.info({ signature }, "sent");
        outcome = "sent";
      }
    } catch (error) {
      outcome = this.isLostRace(bot, error) ? "lost_race" : "failed";
      if (outcome === "lost_race") {
        log.debug({ err: error }, "another keeper got there first");
        if (action.stale) void this.index.refresh(action.stale.kind, action.stale.address).catch(() => undefined);
        else this.index.forget("job", action.job);
      } else {
        log.warn({ err: error }, "crank failed");
      }
    } finally {
      this.inFlight.delete(action.key);
    }
    this.actions.inc({ bot: bot.name, kind: action.kind, outcome });
  }

  /** A refusal that means the job moved on since the index saw it (another keeper, or closed). */
  private isLostRace(bot: Bot, error: unknown): boolean {
    if (error instanceof ComputeMarketError) return (bot.lostRaceErrors as readonly string[]).includes(error.errorName);
    // Closed since the index saw it: the SDK found it gone before sending anything.
    return error instanceof MissingAccountError && ["job", "bid", "provider", "dispute", "service"].includes(error.kind);
  }
}

