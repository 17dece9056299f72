// The node's memory of its jobs, one JSON file per job under <workDir>/jobs. The chain is the
// truth for everything it can say; the journal keeps only what the chain cannot: a sealed bid's
// price and salt (written before the bid is sent, or the bid could never be revealed), the
// consumer and spec of each job (to serve results after the job account is closed), and the
// output root of a finished run (so a restart commits instead of running again).
import * as fs from "node:fs";
import path from "node:path";

/** The file operations the journal's durability rests on (tests watch their order). */
export interface JournalFileSystem {
  openSync(file: string, flags: string): number;
  writeSync(fd: number, text: string): number;
  fsyncSync(fd: number): void;
  closeSync(fd: number): void;
  renameSync(from: string, to: string): void;
}

export type JournalPhase =
  /** A bid is being sent or has been placed. */
  | "bid"
  /** The award was acknowledged on-chain. */
  | "started"
  /** The container finished and its outputs are hashed and stored. */
  | "ran"
  /** A service replica's container is up (its URLs below). */
  | "serving"
  /** The result commitment is on-chain. */
  | "committed"
  /** Nothing is left to do; kept so results can still be served. */
  | "done";

export interface JournalRecord {
  job: string;
  consumer: string;
  /** Hex sha256 of the spec document. */
  specHash: string;
  phase: JournalPhase;
  /** Slot at which the record was last written. */
  slot: string;
  /** The bid's price in base units (decimal string: JSON has no bigint). */
  price: string;
  /** A sealed bid's salt (hex); the price above is what it commits to. */
  sealed?: { salt: string };
  /** Hex output root of a finished run, and how the run ended. */
  outputRoot?: string;
  /** Jobs with several winners: the salt (hex) the result was sealed with, written before the
   * sealed commitment is sent (or it could never be revealed). */
  resultSalt?: string;
  /** Hex sha256 of the result manifest in the blob store. */
  manifestBlob?: string;
  /** Verifiable jobs: the final state blob and the output root's two siblings (hex), committed
   * by `commit_verifiable`, and the hex sha256 of the output bytes in the blob store. */
  machine?: { finalState: string; heapRoot: string; lowNode: string };
  outputBlob?: string;
  outcome?: { status: "succeeded" | "failed"; reason?: string; exitCode?: number | null; message?: string };
  /** How many times the container was started for this award (restarts count). */
  attempts?: number;
  /** Why the node gave up, when it did. */
  abandoned?: string;
  /** A service replica: the public URL of each published port, in the spec's order. */
  serviceUrls?: string[];
  updatedAt: string;
}

const FILE = /^[1-9A-HJ-NP-Za-km-z]{32,44}\.json$/;

/**
 * Writes `name` in `dir` so that a crash or power loss at any point leaves the old or the new
 * text, never neither: a temp file flushed with fsync, renamed over the old one, and the
 * directory flushed too (the rename is only durable once it is).
 */
export function writeFileDurably(files: JournalFileSystem, dir: string, name: string, text: string): void {
  const file = path.join(dir, name);
  const temp = `${file}.${process.pid}.tmp`;
  flushed(files, temp, "w", (fd) => files.writeSync(fd, text));
  files.renameSync(temp, file);
  flushed(files, dir, "r", () => undefined);
}

function flushed(files: JournalFileSystem, file: string, flags: string, write: (fd: number) => void): void {
  const fd = files.openSync(file, flags);
  try {
    write(fd);
    files.fsyncSync(fd);
  } finally {
    files.closeSync(fd);
  }
}

export class JobJournal {
  private readonly records = new Map<string, JournalRecord>();
  private readonly dir: string;

  constructor(
    workDir: string,
    private readonly files: JournalFileSystem = fs,
  ) {
    this.dir = path.join(workDir, "jobs");
    fs.mkdirSync(this.dir, { recursive: true });
    for (const name of fs.readdirSync(this.dir)) {
      if (!FILE.test(name)) continue;
      const record = JSON.parse(fs.readFileSync(path.join(this.dir, name), "utf8")) as JournalRecord;
      this.records.set(record.job, record);
    }
  }

  get(job: string): JournalRecord | undefined {
    return this.records.get(job);
  }

  all(): ReadonlyMap<string, JournalRecord> {
    return this.records;
  }

  /**
   * Writes a record through to disk before returning (`writeFileDurably`), so a crash or power
   * loss right after (a sealed bid sent, say) leaves the old or the new record, never neither.
   */
  put(record: Omit<JournalRecord, "updatedAt">): JournalRecord {
    const stored: JournalRecord = { ...record, updatedAt: new Date().toISOString() };
    writeFileDurably(this.files, this.dir, `${record.job}.json`, `${JSON.stringify(stored, null, 2)}\n`);
    this.records.set(record.job, stored);
    return stored;
  }

  /** Drops a record whose bid never reached the chain. */
  delete(job: string): void {
    fs.rmSync(path.join(this.dir, `${job}.json`), { force: true });
    this.records.delete(job);
  }

  update(job: string, changes: Partial<Omit<JournalRecord, "job" | "updatedAt">>): JournalRecord {
    const current = this.records.get(job);
    if (!current) throw new Error(`no journal record for job ${job}`);
    return this.put({ ...current, ...changes });
  }
}
