// Re-executes committed verifiable results: fetches the job's program (checked against the job's
// roots), replays it on the machine's WebAssembly build to its stop or step limit, and compares
// the final state hash with the provider's. One replay at a time (they are CPU-bound); verdicts
// are a cache, recomputed after a restart from the same chain state.
import type { PublicKey } from "@solana/web3.js";
import { resolveMachineProgram, type BidAccount, type BlobSource, type JobAccount, type MachineProgram } from "@compute-market/sdk";
import { ReplayCache, runToEnd, type Logger, type StateSummary } from "@compute-market/common";
import type { VmModule } from "@compute-market/vm";

export type Verdict =
  | { kind: "pending" }
  | { kind: "agrees"; steps: bigint }
  | { kind: "wrong"; ours: StateSummary; claimedSteps: bigint }
  | { kind: "skipped"; reason: string }
  | { kind: "unavailable"; reason: string; retryAt: number };

export interface VerifierOptions {
  vm: () => Promise<VmModule>;
  replays: () => Promise<ReplayCache>;
  /** Where the job's program is looked for (its winner's endpoint first). */
  sources: (job: JobAccount, bid: BidAccount) => BlobSource;
  /** Results claiming more steps than this are not replayed (the keeper's budget). */
  maxReplaySteps: bigint;
  logger: Logger;
  /** Wait before asking again for a program that could not be fetched. */
  retryMs?: number;
}

const hex = (bytes: ArrayLike<number>): string => Buffer.from(Uint8Array.from(bytes)).toString("hex");

/** One commitment: a bid's final state as committed in one award. */
export function verdictKey(bidAddress: PublicKey, bid: BidAccount): string {
  return `${bidAddress.toBase58()}:${bid.committedSlot}:${hex(bid.finalStateHash)}`;
}

export class Verifier {
  private readonly verdicts = new Map<string, Verdict>();
  private queue: Promise<void> = Promise.resolve();
  readonly counts = { agrees: 0, wrong: 0, skipped: 0, unavailable: 0 };

  constructor(private readonly options: VerifierOptions) {}

  /** The verdict on a commitment, starting its replay (queued) when there is none yet. */
  verdict(job: PublicKey, account: JobAccount, bidAddress: PublicKey, bid: BidAccount): Verdict {
    const key = verdictKey(bidAddress, bid);
    const known = this.verdicts.get(key);
    if (known && !(known.kind === "unavailable" && known.retryAt <= Date.now())) return known;
    const pending: Verdict = { kind: "pending" };
    this.verdicts.set(key, pending);
    this.queue = this.queue.then(async () => {
      const verdict = await this.replay(job, account, bid).catch((error: unknown): Verdict => ({ kind: "unavailable", reason: error instanceof Error ? error.message : String(error), retryAt: Date.now() + (this.options.retryMs ?? 5_000) }));
      this.counts[verdict.kind === "pending" ? "unavailable" : verdict.kind] += 1;
      this.verdicts.set(key, verdict);
    });
    return pending;
  }

  /** The program of a job, for replays of its games. */
  program(job: PublicKey, account: JobAccount, bid: BidAccount): () => Promise<MachineProgram> {
    return async () => resolveMachineProgram(this.options.sources(account, bid), { address: job.toBase58(), account }, await this.options.vm());
  }

  /** Forgets verdicts on commitments other than `keep` (see `verdictKey`), unless still pending. */
  retain(keep: ReadonlySet<string>): void {
    for (const [key, verdict] of this.verdicts) if (!keep.has(key) && verdict.kind !== "pending") this.verdicts.delete(key);
  }

  /** Resolves once every queued replay is done (tests, shutdown). */
  idle(): Promise<void> {
    return this.queue;
  }

  private async replay(job: PublicKey, account: JobAccount, bid: BidAccount): Promise<Verdict> {
    const log = this.options.logger.child({ job: job.toBase58(), provider: bid.provider.toBase58() });
    if (bid.steps > this.options.maxReplaySteps) {
      log.info({ claimedSteps: bid.steps.toString(), maxReplaySteps: this.options.maxReplaySteps.toString() }, "result not checked: more steps than the replay budget");
      return { kind: "skipped", reason: `claims ${bid.steps} steps, over the budget of ${this.options.maxReplaySteps}` };
    }
    const replays = await this.options.replays();
    const started = Date.now();
    let lastReport = started;
    const end = await replays.with(job.toBase58(), this.program(job, account, bid), (replay) =>
      runToEnd(replay, account.maxSteps, {
        onProgress: (steps) => {
          if (Date.now() - lastReport < 5_000) return;
          lastReport = Date.now();
          log.info({ steps: steps.toString(), claimedSteps: bid.steps.toString() }, "replaying");
        },
      }),
    );
    const agrees = hex(end.hash) === hex(bid.finalStateHash);
    const detail = { steps: end.summary.steps.toString(), claimedSteps: bid.steps.toString(), ms: Date.now() - started };
    if (agrees) {
      log.info(detail, "result verified");
      return { kind: "agrees", steps: end.summary.steps };
    }
    log.warn({ ...detail, status: end.summary.status, exitCode: end.summary.exitCode }, "result is wrong: the replay ends in another state");
    return { kind: "wrong", ours: end.summary, claimedSteps: bid.steps };
  }
}
