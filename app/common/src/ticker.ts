// The daemons' heartbeat: one pass every interval (a pass still running makes the next one skip,
// never queue), a slower resync beside it, and one health rule for both daemons. The keeper and
// the provider node each hand it their pass; neither keeps timers of its own.
import type { Logger } from "./logger";

export interface TickerOptions {
  /** Time between the starts of two passes. */
  tickMs: number;
  /** One pass (reads the chain, acts). A throw is logged and the next pass runs as usual. */
  tick(): Promise<void>;
  /** Time between two resyncs (rebuilding caches from the chain); none when absent. */
  resyncMs?: number;
  resync?(): Promise<void>;
  logger: Logger;
  /** The clock health is measured on (tests move it). */
  now?: () => number;
}

export interface TickHealth {
  healthy: boolean;
  /** Since the last pass that completed without a throw (-1: none has yet). */
  lastTickMsAgo: number;
  ticks: number;
  /** Passes that threw since start. */
  failedTicks: number;
}

/** The last completed pass may be this many intervals old (plus the grace) before the daemon reports itself unhealthy. */
export const HEALTHY_TICK_INTERVALS = 3;
export const HEALTHY_TICK_GRACE_MS = 2_000;

/** Whether a daemon whose last pass finished `ageMs` ago, ticking every `tickMs`, is alive. */
export function tickIsFresh(ageMs: number, tickMs: number): boolean {
  return ageMs >= 0 && ageMs < HEALTHY_TICK_INTERVALS * tickMs + HEALTHY_TICK_GRACE_MS;
}

export class Ticker {
  private tickTimer: NodeJS.Timeout | null = null;
  private resyncTimer: NodeJS.Timeout | null = null;
  private current: Promise<void> | null = null;
  private resyncing: Promise<void> | null = null;
  private lastTickAt = 0;
  private ticks = 0;
  private failedTicks = 0;
  private readonly now: () => number;

  constructor(private readonly options: TickerOptions) {
    this.now = options.now ?? Date.now;
  }

  get running(): boolean {
    return this.tickTimer !== null;
  }

  /** Starts ticking (the first pass at once) and resyncing. Idempotent. */
  start(): void {
    if (this.tickTimer) return;
    this.tickTimer = setInterval(() => void this.runOnce(), this.options.tickMs);
    const { resync, resyncMs } = this.options;
    if (resync && resyncMs) this.resyncTimer = setInterval(() => void this.resyncOnce(), resyncMs);
    void this.runOnce();
  }

  /** Stops the timers and waits for the pass (and resync) in flight, so nothing runs after it returns. */
  async stop(): Promise<void> {
    if (this.tickTimer) clearInterval(this.tickTimer);
    if (this.resyncTimer) clearInterval(this.resyncTimer);
    this.tickTimer = this.resyncTimer = null;
    await Promise.all([this.current, this.resyncing]);
  }

  /** One pass now, unless one is running (then that one is awaited instead). Public for tests. */
  runOnce(): Promise<void> {
    this.current ??= this.pass().finally(() => (this.current = null));
    return this.current;
  }

  /** One resync now, unless one is running. */
  resyncOnce(): Promise<void> {
    const { resync } = this.options;
    if (!resync) return Promise.resolve();
    this.resyncing ??= resync()
      .catch((error: unknown) => this.options.logger.warn({ err: error }, "resync failed; keeping the current state"))
      .finally(() => (this.resyncing = null));
    return this.resyncing;
  }

  health(): TickHealth {
    const lastTickMsAgo = this.lastTickAt > 0 ? this.now() - this.lastTickAt : -1;
    return { healthy: tickIsFresh(lastTickMsAgo, this.options.tickMs), lastTickMsAgo, ticks: this.ticks, failedTicks: this.failedTicks };
  }

  private async pass(): Promise<void> {
    try {
      await this.options.tick();
      // Only a pass that completed counts for health: a daemon whose every pass fails (its RPC
      // down, say) turns unhealthy after a few intervals instead of looking alive.
      this.lastTickAt = this.now();
    } catch (error) {
      this.failedTicks += 1;
      this.options.logger.warn({ err: error }, "tick failed");
    } finally {
      this.ticks += 1;
    }
  }
}
