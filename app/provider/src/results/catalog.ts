// What the results server knows about jobs: their manifests and their logs. The node writes to a
// JobLogHub as containers run; the server only reads through ResultsCatalog.
import type { ResultManifest } from "@compute-market/sdk";

export type LogStream = "stdout" | "stderr" | "system";

/** One log line as sent over the logs WebSocket. `at` is milliseconds since the epoch. */
export interface LogLine {
  stream: LogStream;
  line: string;
  at: number;
}

/** The last message of a logs WebSocket. */
export interface LogEnd {
  event: "end";
  status: string;
}

export type LogEvent = LogLine | LogEnd;
export type LogListener = (event: LogEvent) => void;

/** The server's read side. */
export interface ResultsCatalog {
  manifest(job: string): ResultManifest | null;
  /** Lines kept so far, oldest first (older ones may have been dropped). */
  history(job: string): LogLine[];
  /** The job's final status once it has ended, else null. */
  ended(job: string): string | null;
  /** Live events after the call; returns the unsubscribe. */
  subscribe(job: string, listener: LogListener): () => void;
}

export interface JobLogHubOptions {
  /** Lines kept per job; older lines are dropped first. */
  maxLinesPerJob?: number;
  /** Longer lines are cut to this many UTF-16 units. */
  maxLineLength?: number;
  /** Jobs tracked at most; past it the oldest ended job (else the oldest job) is forgotten. */
  maxJobs?: number;
  now?: () => number;
}

/** A fixed-size ring of lines. */
class Ring<T> {
  private readonly items: (T | undefined)[];
  private start = 0;
  private count = 0;

  constructor(private readonly capacity: number) {
    this.items = new Array<T | undefined>(capacity);
  }

  push(item: T): void {
    if (this.capacity === 0) return;
    if (this.count < this.capacity) {
      this.items[(this.start + this.count) % this.capacity] = item;
      this.count++;
    } else {
      this.items[this.start] = item;
      this.start = (this.start + 1) % this.capacity;
    }
  }

  toArray(): T[] {
    const out: T[] = [];
    for (let i = 0; i < this.count; i++) out.push(this.items[(this.start + i) % this.capacity] as T);
    return out;
  }
}

interface JobEntry {
  lines: Ring<LogLine>;
  listeners: Set<LogListener>;
  status: string | null;
  manifest: ResultManifest | null;
}

export class JobLogHub implements ResultsCatalog {
  private readonly jobs = new Map<string, JobEntry>();
  private readonly maxLinesPerJob: number;
  private readonly maxLineLength: number;
  private readonly maxJobs: number;
  private readonly now: () => number;

  constructor(options: JobLogHubOptions = {}) {
    this.maxLinesPerJob = options.maxLinesPerJob ?? 5_000;
    this.maxLineLength = options.maxLineLength ?? 8_192;
    this.maxJobs = options.maxJobs ?? 1_000;
    this.now = options.now ?? Date.now;
  }

  append(job: string, stream: LogStream, line: string): void {
    const entry = this.entry(job);
    if (entry.status !== null) return; // nothing after the end
    const event: LogLine = { stream, line: line.length > this.maxLineLength ? line.slice(0, this.maxLineLength) : line, at: this.now() };
    entry.lines.push(event);
    this.emit(entry, event);
  }

  /** Marks the job ended; subscribers get the end event and are dropped. Later calls are ignored. */
  end(job: string, status: string): void {
    const entry = this.entry(job);
    if (entry.status !== null) return;
    entry.status = status;
    this.emit(entry, { event: "end", status });
    entry.listeners.clear();
  }

  setManifest(job: string, manifest: ResultManifest): void {
    this.entry(job).manifest = manifest;
  }

  /** Drops everything about a job (its live subscribers stay open until they close themselves). */
  forget(job: string): void {
    this.jobs.delete(job);
  }

  manifest(job: string): ResultManifest | null {
    return this.jobs.get(job)?.manifest ?? null;
  }

  history(job: string): LogLine[] {
    return this.jobs.get(job)?.lines.toArray() ?? [];
  }

  ended(job: string): string | null {
    return this.jobs.get(job)?.status ?? null;
  }

  subscribe(job: string, listener: LogListener): () => void {
    const entry = this.entry(job);
    if (entry.status !== null) return () => undefined;
    entry.listeners.add(listener);
    return () => {
      entry.listeners.delete(listener);
    };
  }

  private emit(entry: JobEntry, event: LogEvent): void {
    for (const listener of [...entry.listeners]) {
      try {
        listener(event);
      } catch {
        // one broken subscriber must not stop the others or the caller
      }
    }
  }

  private entry(job: string): JobEntry {
    let entry = this.jobs.get(job);
    if (!entry) {
      this.evictIfFull();
      entry = { lines: new Ring<LogLine>(this.maxLinesPerJob), listeners: new Set(), status: null, manifest: null };
      this.jobs.set(job, entry);
    }
    return entry;
  }

  private evictIfFull(): void {
    if (this.jobs.size < this.maxJobs) return;
    for (const [job, entry] of this.jobs) {
      if (entry.status !== null) {
        this.jobs.delete(job);
        return;
      }
    }
    this.jobs.delete(this.jobs.keys().next().value as string);
  }
}
