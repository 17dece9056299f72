// The jobs this node chose not to bid on lately, and why, kept in the work directory so that
// `provider status` can tell an operator (a cache: losing it loses only the explanation).
import fs, { readFileSync } from "node:fs";
import path from "node:path";
import { writeFileDurably } from "./journal";

export interface DeclineEntry {
  job: string;
  why: string;
  slot: string;
  at: string;
}

const FILE = "declines.json";

export class DeclineLog {
  private entries: DeclineEntry[];

  constructor(
    private readonly workDir: string,
    private readonly limit = 20,
  ) {
    this.entries = DeclineLog.read(workDir);
  }

  /** The latest declines, newest first, as the file holds them (none when it is missing or unreadable). */
  static read(workDir: string): DeclineEntry[] {
    try {
      const parsed = JSON.parse(readFileSync(path.join(workDir, FILE), "utf8")) as unknown;
      return Array.isArray(parsed) ? (parsed as DeclineEntry[]) : [];
    } catch {
      return [];
    }
  }

  record(job: string, why: string, slot: bigint, now = new Date()): void {
    this.entries = [{ job, why, slot: slot.toString(), at: now.toISOString() }, ...this.entries.filter((entry) => entry.job !== job)].slice(0, this.limit);
    // Whole or not at all, as the journal's own files.
    writeFileDurably(fs, this.workDir, FILE, JSON.stringify(this.entries, null, 2));
  }

  recent(): DeclineEntry[] {
    return [...this.entries];
  }
}
