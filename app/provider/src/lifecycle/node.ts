// The provider node's loop: on every tick it reads the chain (through the market index), plans
// what each job needs (plan.ts) and carries it out — bid, reveal, start, run, commit, withdraw.
// Each job has at most one action in flight; a failed action is retried with backoff until its
// deadline passes. Everything it does is decided from the chain and the journal, so a restarted
// node picks up where the chain says it is and never commits twice (the program refuses it too).
import { randomBytes } from "node:crypto";
import { PublicKey, type Connection } from "@solana/web3.js";
import { sha256 } from "@noble/hashes/sha256";
import { bytesToHex, hexToBytes } from "@noble/hashes/utils";
import { ComputeMarketError, rules, type BidAccount, type ComputeMarketClient, type ContainerJobSpec, type JobAccount, type MachineProgram, type ServiceAccount } from "@compute-market/sdk";
import { backoffDelay, type Logger, type MarketIndex } from "@compute-market/common";
import type { DeclineLog } from "./declines";
import type { JobJournal, JournalRecord } from "./journal";
import { plan, sealsResults, stateOf, type Action } from "./plan";

/**
 * Why a job is not worth a bid. A lasting decline (bad spec, missing image) holds until the node
 * restarts; a passing one (no free capacity now) is looked at again a little later.
 */
export class Decline extends Error {
  constructor(readonly why: string, readonly passing = false) {
    super(why);
    this.name = "Decline";
  }
}

/** How long a job declined for a passing reason waits before it is considered again. */
const RECONSIDER_MS = 1_000;

/** A failure on the provider's side (daemon down, image gone): worth retrying while time remains. */
export class ProviderFault extends Error {
  constructor(message: string, readonly cause?: unknown) {
    super(message);
    this.name = "ProviderFault";
  }
}

/** What a job runs: a container, or a verifiable job's program on the machine. */
export type JobWork = { kind: "container"; spec: ContainerJobSpec } | { kind: "machine"; program: MachineProgram };

/** The last run of a replica's health check (the spec's HTTP path and status, or TCP) by its node. */
export interface ReplicaHealth {
  healthy: boolean;
  checkedAt: Date;
}

/** A verifiable run's end, as `commit_verifiable` takes it (the output root is the result's). */
export interface MachineCommitment {
  finalState: Uint8Array;
  heapRoot: Uint8Array;
  lowNode: Uint8Array;
}

/** What a run produced: the committed root covers the outputs and the run's status record. */
export interface ExecutionResult {
  outputRoot: Uint8Array;
  outcome: NonNullable<JournalRecord["outcome"]>;
  /** Hex sha256 of the stored manifest, so results can be served after a restart. */
  manifestBlob?: string;
  /** Verifiable jobs: the final state and the output root's path into it. */
  machine?: MachineCommitment;
  /** Verifiable jobs: hex sha256 of the output bytes in the blob store. */
  outputBlob?: string;
}

/** The parts of the node that touch the world other than the chain. */
export interface NodePorts {
  /** The job's spec (or program), fetched and checked against the job's on-chain commitments; throws Decline. */
  resolveSpec(job: PublicKey, account: JobAccount): Promise<JobWork>;
  /** Checks that the node can run the work now (image present, capacity free); throws Decline. */
  admit(job: PublicKey, account: JobAccount, work: JobWork): Promise<void>;
  /** The price to bid, or null to pass. */
  quote(job: PublicKey, account: JobAccount, work: JobWork): bigint | null;
  /** Reserves the job's resources; released by `release`. */
  reserve(job: PublicKey, account: JobAccount): void;
  release(job: PublicKey): void;
  /** Runs the work, stores the outputs; throws ProviderFault for the node's own failures. */
  execute(job: PublicKey, account: JobAccount, work: JobWork, signal: AbortSignal): Promise<ExecutionResult>;
  /** The URL the consumer fetches results from. */
  resultUri(job: PublicKey, account?: JobAccount): string;
  /** Starts a service replica's container; returns the public URL of each published port. */
  serve(job: PublicKey, spec: ContainerJobSpec): Promise<{ urls: string[] }>;
  /** Restarts the replica's container if it stopped and runs its health check; `running` is false when this node has none for it (a restart lost it). */
  supervise(job: PublicKey): Promise<{ running: boolean; restarted: boolean; healthy: boolean }>;
  /** Stops and removes the replica's container; a no-op when there is none. */
  unserve(job: PublicKey): Promise<void>;
}

export interface NodeOptions {
  client: ComputeMarketClient;
  connection: Connection;
  index: MarketIndex;
  journal: JobJournal;
  ports: NodePorts;
  market: PublicKey;
  provider: PublicKey;
  logger: Logger;
  /** Container runs at once; chain actions are not limited. */
  maxConcurrentRuns: number;
  /** Bid on service leases and run their replicas (off by default). */
  servesServices?: boolean;
  /** Where lasting declines are written, for `provider status`. */
  declines?: DeclineLog;
  /** The clock retry and reconsider times are kept on (tests move it). */
  now?: () => number;
}

const RETRY_BASE_MS = 500;
const RETRY_MAX_MS = 15_000;

export interface NodeStats {
  bids: number;
  reveals: number;
  starts: number;
  runs: number;
  commits: number;
  withdrawals: number;
  failures: number;
  /** Service replicas' containers started, and restarted after they died. */
  serves: number;
  restarts: number;
}

export class ProviderNode {
  private readonly busy = new Set<string>();
  private readonly declined = new Set<string>();
  private readonly retryAt = new Map<string, { at: number; attempt: number }>();
  private readonly runs = new Map<string, AbortController>();
  /** Each served replica's last health, so only changes are logged. */
  private readonly replicaHealth = new Map<string, ReplicaHealth>();
  private readonly inFlight = new Set<Promise<void>>();
  private stopped = false;
  lastSlot = 0n;
  readonly stats: NodeStats = { bids: 0, reveals: 0, starts: 0, runs: 0, commits: 0, withdrawals: 0, failures: 0, serves: 0, restarts: 0 };

  private readonly now: () => number;

  constructor(private readonly options: NodeOptions) {
    this.now = options.now ?? Date.now;
    // Resources held by jobs remembered mid-way are held again, so a restart cannot overbid.
    for (const record of options.journal.all().values()) {
      if (record.phase === "bid" || record.phase === "started" || record.phase === "ran" || record.phase === "serving") {
        const account = options.index.jobs.get(record.job);
        try {
          if (account) options.ports.reserve(new PublicKey(record.job), account);
        } catch (error) {
          // The machine shrank since: the job is still owed, so it keeps its place in the plan.
          options.logger.warn({ job: record.job, err: error }, "remembered job exceeds the capacity now");
        }
      }
    }
  }

  /** One pass: plan from the index and start every due action that is not already running. */
  async tick(): Promise<Action[]> {
    if (this.stopped) return [];
    const slot = BigInt(await this.options.connection.getSlot("confirmed"));
    this.lastSlot = slot;
    const now = this.now();
    const blocked = new Set([...this.busy, ...[...this.retryAt].filter(([, r]) => r.at > now).map(([job]) => job)]);
    const jobs = this.marketJobs();
    const services = this.leaseTerms(jobs);
    const actions = plan({ slot, jobs, bids: this.ownBids(), journal: this.options.journal.all(), busy: blocked, declined: this.declined, servesServices: this.options.servesServices, services });
    for (const action of actions) {
      if (action.kind === "run" && this.runs.size >= this.options.maxConcurrentRuns) continue;
      this.launch(action, slot);
    }
    return actions;
  }

  /** Waits for every action in flight; aborts container runs when `abortRuns`. */
  async stop(abortRuns = true): Promise<void> {
    this.stopped = true;
    if (abortRuns) for (const controller of this.runs.values()) controller.abort();
    await Promise.allSettled([...this.inFlight]);
  }

  /** Resolves when nothing is in flight (for tests and shutdown). */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  /** The indexed terms of the service leases among `jobs`, by job address. */
  private leaseTerms(jobs: ReadonlyMap<string, JobAccount>): Map<string, ServiceAccount> {
    const terms = new Map<string, ServiceAccount>();
    for (const [address, job] of jobs) {
      const service = rules.isService(job) ? this.options.index.serviceOf(new PublicKey(address))?.[1] : undefined;
      if (service) terms.set(address, service);
    }
    return terms;
  }

  private marketJobs(): Map<string, JobAccount> {
    const jobs = new Map<string, JobAccount>();
    for (const [address, job] of this.options.index.jobs) if (job.market.equals(this.options.market)) jobs.set(address, job);
    return jobs;
  }

  private ownBids(): Map<string, BidAccount> {
    const bids = new Map<string, BidAccount>();
    for (const bid of this.options.index.bids.values()) if (bid.provider.equals(this.options.provider)) bids.set(bid.job.toBase58(), bid);
    return bids;
  }

  private launch(action: Action, slot: bigint): void {
    this.busy.add(action.job);
    const log = this.options.logger.child({ job: action.job, action: action.kind });
    const work = this.perform(action, slot, log)
      .then(() => {
        this.retryAt.delete(action.job);
      })
      .catch((error: unknown) => this.failed(action, error, log))
      .finally(() => {
        this.busy.delete(action.job);
        this.inFlight.delete(work);
      });
    this.inFlight.add(work);
  }

  private failed(action: Action, error: unknown, log: Logger): void {
    if (error instanceof Decline) {
      if (error.passing) {
        this.retryAt.set(action.job, { at: this.now() + RECONSIDER_MS, attempt: 0 });
        log.debug({ why: error.why }, "not now");
      } else {
        this.declined.add(action.job);
        this.options.declines?.record(action.job, error.why, this.lastSlot);
        log.info({ why: error.why }, "declined");
      }
      return;
    }
    this.stats.failures += 1;
    // The index may be behind the chain (an account closed without a notification): reread both.
    const job = new PublicKey(action.job);
    void this.options.index.refresh("job", job).catch(() => undefined);
    void this.options.index.refresh("bid", this.options.client.bidAddress(job, this.options.provider)).catch(() => undefined);
    const attempt = (this.retryAt.get(action.job)?.attempt ?? 0) + 1;
    const delay = backoffDelay(attempt, RETRY_BASE_MS, RETRY_MAX_MS);
    this.retryAt.set(action.job, { at: this.now() + delay, attempt });
    log.warn({ err: error, attempt, retryInMs: delay }, "action failed");
  }

  private async perform(action: Action, slot: bigint, log: Logger): Promise<void> {
    const job = new PublicKey(action.job);
    switch (action.kind) {
      case "consider":
        return this.consider(job, slot, log);
      case "reveal":
        return this.reveal(job, log);
      case "start":
        return this.start(job, slot, log);
      case "run":
        return this.run(job, slot, log);
      case "commit":
        return this.commit(job, slot, log);
      case "reveal-result":
        return this.revealResult(job, log);
      case "withdraw":
        return this.withdraw(job, log);
      case "serve":
        return this.serve(job, log);
      case "supervise":
        return this.supervise(job, log);
      case "unserve":
        return this.unserve(job, log);
      case "forget":
        return this.forget(job, action.why, log);
    }
  }

  private requireJob(job: PublicKey): JobAccount {
    const account = this.options.index.jobs.get(job.toBase58());
    if (!account) throw new Error("job is not in the index");
    return account;
  }

  private async consider(job: PublicKey, slot: bigint, log: Logger): Promise<void> {
    const { ports, journal, client } = this.options;
    const account = this.requireJob(job);
    const work = await ports.resolveSpec(job, account);
    await ports.admit(job, account, work);
    const price = ports.quote(job, account, work);
    // Passing, not lasting: a strategy may pass because the node is busy, which changes.
    if (price === null) throw new Decline(rules.isService(account) ? "the strategy passes on this lease (no rate per slot set, or the lease's rate cap is below it)" : "the strategy passes on this job", true);
    ports.reserve(job, account);
    const base = { job: job.toBase58(), consumer: account.consumer.toBase58(), specHash: bytesToHex(Uint8Array.from(account.specHash)), slot: slot.toString(), price: price.toString() };
    try {
      if (account.sealed) {
        // The salt is on disk before the commitment is sent: without it the bid could never be revealed.
        const salt = randomBytes(32);
        journal.put({ ...base, phase: "bid", sealed: { salt: bytesToHex(salt) } });
        await client.placeSealedBid({ job, price, salt });
      } else if (rules.isService(account) && rules.stateOf(account) === "running") {
        // A running lease takes bids only for the seat its round replaces, always open ones.
        journal.put({ ...base, phase: "bid" });
        await client.bidSeat({ job, price });
      } else {
        journal.put({ ...base, phase: "bid" });
        await client.placeBid({ job, price });
      }
    } catch (error) {
      ports.release(job);
      journal.delete(job.toBase58());
      if (error instanceof ComputeMarketError) throw new Decline(`bid refused: ${error.errorName}`);
      throw error;
    }
    this.stats.bids += 1;
    log.info({ price: price.toString(), sealed: account.sealed }, "bid placed");
  }

  private async reveal(job: PublicKey, log: Logger): Promise<void> {
    const record = this.options.journal.get(job.toBase58());
    if (!record?.sealed) throw new Error("no sealed bid in the journal");
    await this.options.client.revealBid({ job, price: BigInt(record.price), salt: hexToBytes(record.sealed.salt) });
    this.stats.reveals += 1;
    log.info({ price: record.price }, "bid revealed");
  }

  private async start(job: PublicKey, slot: bigint, log: Logger): Promise<void> {
    const account = this.requireJob(job);
    const bid = this.ownBids().get(job.toBase58());
    const seat = bid !== undefined && rules.isSeatAward(account, bid.awardedSlot);
    await (seat ? this.options.client.startSeat({ job }) : this.options.client.startJob({ job }));
    this.remember(job, account, { phase: "started", slot: slot.toString() });
    this.stats.starts += 1;
    log.info({ commitDeadlineSlot: account.progress.commitDeadlineSlot.toString() }, "job started");
  }

  private async run(job: PublicKey, slot: bigint, log: Logger): Promise<void> {
    const { ports } = this.options;
    const account = this.requireJob(job);
    // Registered before the first await, so a stop() from now on reaches this run.
    const controller = new AbortController();
    this.runs.set(job.toBase58(), controller);
    try {
      const work = await ports.resolveSpec(job, account).catch((error: unknown) => {
        throw new ProviderFault(`spec unavailable: ${error instanceof Error ? error.message : String(error)}`, error);
      });
      if (controller.signal.aborted) throw new Error("the node is stopping");
      const record = this.remember(job, account, { slot: slot.toString() });
      const attempts = (record.attempts ?? 0) + 1;
      this.options.journal.update(job.toBase58(), { attempts });
      log.info({ attempt: attempts, ...(work.kind === "container" ? { image: work.spec.image } : { machine: work.program.spec.machine, maxSteps: account.maxSteps.toString() }) }, "run started");
      const result = await ports.execute(job, account, work, controller.signal);
      this.options.journal.update(job.toBase58(), {
        phase: "ran",
        outputRoot: bytesToHex(result.outputRoot),
        outcome: result.outcome,
        manifestBlob: result.manifestBlob,
        outputBlob: result.outputBlob,
        machine: result.machine && { finalState: bytesToHex(result.machine.finalState), heapRoot: bytesToHex(result.machine.heapRoot), lowNode: bytesToHex(result.machine.lowNode) },
      });
      this.stats.runs += 1;
      log.info({ outcome: result.outcome, outputRoot: bytesToHex(result.outputRoot) }, "run finished");
    } finally {
      this.runs.delete(job.toBase58());
    }
    // Commit at once rather than on the next tick: the commit deadline is the one that slashes.
    await this.commit(job, BigInt(await this.options.connection.getSlot("confirmed")), log);
  }

  private async commit(job: PublicKey, slot: bigint, log: Logger): Promise<void> {
    const record = this.options.journal.get(job.toBase58());
    if (!record?.outputRoot) throw new Error("no output root in the journal");
    const account = await this.options.client.fetchJob(job);
    const uri = this.options.ports.resultUri(job, account ?? undefined);
    const resultUriHash = sha256(new TextEncoder().encode(uri));
    if (record.machine) {
      const { finalState, heapRoot, lowNode } = record.machine;
      await this.options.client.commitVerifiable({ job, finalState: hexToBytes(finalState), outputRoot: hexToBytes(record.outputRoot), heapRoot: hexToBytes(heapRoot), lowNode: hexToBytes(lowNode), resultUriHash });
    } else if (account && sealsResults(account)) {
      // Several winners seal their roots; the salt is journaled first so the result can always
      // be revealed, even after a crash right after the commitment lands.
      const salt = record.resultSalt ?? bytesToHex(randomBytes(32));
      if (!record.resultSalt) this.options.journal.update(job.toBase58(), { resultSalt: salt });
      await this.options.client.commitSealedResult({ job, outputRoot: hexToBytes(record.outputRoot), salt: hexToBytes(salt), resultUriHash });
    } else {
      await this.options.client.commitResult({ job, outputRoot: hexToBytes(record.outputRoot), resultUriHash });
    }
    this.options.journal.update(job.toBase58(), { phase: "committed", slot: slot.toString() });
    this.options.ports.release(job);
    this.stats.commits += 1;
    log.info({ outputRoot: record.outputRoot, resultUri: uri }, "result committed");
  }

  private async revealResult(job: PublicKey, log: Logger): Promise<void> {
    const record = this.options.journal.get(job.toBase58());
    if (!record?.resultSalt || !record.outputRoot) throw new Error("no sealed result in the journal");
    await this.options.client.revealResult({ job, outputRoot: hexToBytes(record.outputRoot), salt: hexToBytes(record.resultSalt) });
    this.stats.reveals += 1;
    log.info({ outputRoot: record.outputRoot }, "result revealed");
  }

  private async withdraw(job: PublicKey, log: Logger): Promise<void> {
    await this.options.client.withdrawBid({ job, market: this.options.market });
    this.options.ports.release(job);
    const record = this.options.journal.get(job.toBase58());
    if (record && record.phase !== "committed") this.options.journal.update(job.toBase58(), { phase: "done" });
    this.stats.withdrawals += 1;
    log.info("bid withdrawn");
  }

  private async serve(job: PublicKey, log: Logger): Promise<void> {
    const { ports } = this.options;
    const account = this.requireJob(job);
    const work = await ports.resolveSpec(job, account).catch((error: unknown) => {
      throw new ProviderFault(`spec unavailable: ${error instanceof Error ? error.message : String(error)}`, error);
    });
    if (work.kind !== "container" || !work.spec.service) throw new ProviderFault("the lease's spec has no service section: there is nothing to serve");
    const { urls } = await ports.serve(job, work.spec);
    this.remember(job, account, { phase: "serving", serviceUrls: urls });
    this.stats.serves += 1;
    log.info({ urls, image: work.spec.image }, "replica serving");
  }

  /** What the spec's health check said of this node's replica of `job` at its last run (none before the first). */
  replicaHealthOf(job: string): ReplicaHealth | undefined {
    return this.replicaHealth.get(job);
  }

  private async supervise(job: PublicKey, log: Logger): Promise<void> {
    const check = await this.options.ports.supervise(job);
    if (!check.running) {
      // This run of the node does not supervise it yet (the node restarted): its container is
      // taken back, on the same URLs, or started again if it is gone.
      log.warn("replica not supervised by this run of the node: taking its container back or starting it again");
      return this.serve(job, log);
    }
    if (check.restarted) {
      this.stats.restarts += 1;
      log.warn("replica's container had stopped: restarted");
    }
    if (this.replicaHealth.get(job.toBase58())?.healthy !== check.healthy) log[check.healthy ? "info" : "warn"]({ healthy: check.healthy }, "replica health changed");
    this.replicaHealth.set(job.toBase58(), { healthy: check.healthy, checkedAt: new Date() });
  }

  private async unserve(job: PublicKey, log: Logger): Promise<void> {
    await this.options.ports.unserve(job);
    this.options.ports.release(job);
    this.replicaHealth.delete(job.toBase58());
    this.options.journal.update(job.toBase58(), { phase: "done" });
    log.info("replica ended: container stopped");
  }

  private async forget(job: PublicKey, why: string, log: Logger): Promise<void> {
    // A replica's container goes with its job (a close, a refund) if it was still up.
    if (this.options.journal.get(job.toBase58())?.phase === "serving") await this.options.ports.unserve(job);
    this.options.ports.release(job);
    const account = this.options.index.jobs.get(job.toBase58());
    const state = account ? stateOf(account) : "closed";
    this.options.journal.update(job.toBase58(), { phase: "done" });
    log.info({ why, state }, "job over");
  }

  /** The job's journal record, created from the chain when the journal lost it. */
  private remember(job: PublicKey, account: JobAccount, changes: Partial<JournalRecord>): JournalRecord {
    const existing = this.options.journal.get(job.toBase58());
    if (existing) return this.options.journal.update(job.toBase58(), changes);
    return this.options.journal.put({
      job: job.toBase58(),
      consumer: account.consumer.toBase58(),
      specHash: bytesToHex(Uint8Array.from(account.specHash)),
      phase: "started",
      slot: "0",
      price: "0",
      ...changes,
    });
  }
}
