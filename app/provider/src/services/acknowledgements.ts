// The provider's store of its replicas' acknowledgements: the latest one the consumer's watchdog
// signed for each service job, checked before it is kept (so it can be claimed) and written
// through to disk (so a restart loses no acknowledged time). One JSON file per job under
// <workDir>/acknowledgements, written like the journal's records.
import * as fs from "node:fs";
import path from "node:path";
import { PublicKey } from "@solana/web3.js";
import { verifyAcknowledgement, type Acknowledgement, type ComputeMarketClient, type ServiceAccount } from "@compute-market/sdk";
import type { Logger } from "@compute-market/common";
import { writeFileDurably, type JournalFileSystem } from "../lifecycle/journal";

/** What an acknowledgement is checked against: the job's incarnation now and its lease's terms. */
export interface LeaseTerms {
  /** The job account's current incarnation. */
  jobIncarnation: bigint;
  /** The job's Service account (`["service", job]`). */
  service: Pick<ServiceAccount, "job" | "watchdog" | "jobIncarnation">;
}

/** The lease terms of a job, or null when it is no service (or no longer exists). */
export type LeaseLookup = (job: PublicKey) => Promise<LeaseTerms | null>;

/** Reads a job's lease terms from the chain. */
export async function fetchLeaseTerms(client: ComputeMarketClient, job: PublicKey): Promise<LeaseTerms | null> {
  const [account, service] = await Promise.all([client.fetchJob(job), client.fetchService(client.serviceAddress(job))]);
  return account && service ? { jobIncarnation: account.incarnation, service } : null;
}

/** Why an acknowledgement was not kept; `reason` is stable for callers that map it (to HTTP, say). */
export type RejectionReason = "unknown-lease" | "lease-mismatch" | "wrong-job" | "wrong-provider" | "wrong-incarnation" | "wrong-watchdog" | "bad-signature" | "stale";

export class AcknowledgementRejected extends Error {
  constructor(readonly reason: RejectionReason, message: string) {
    super(message);
    this.name = "AcknowledgementRejected";
  }
}

/** The job is no service, or its account is gone. */
export class UnknownLeaseError extends AcknowledgementRejected {
  constructor(job: PublicKey) {
    super("unknown-lease", `job ${job.toBase58()} is no service lease`);
  }
}

/** The lease terms passed belong to another job or incarnation than the job's now. */
export class LeaseMismatchError extends AcknowledgementRejected {
  constructor(job: PublicKey) {
    super("lease-mismatch", `the service terms passed are not those of job ${job.toBase58()} as it is now`);
  }
}

export class WrongJobError extends AcknowledgementRejected {
  constructor(ack: PublicKey, lease: PublicKey) {
    super("wrong-job", `the acknowledgement is of job ${ack.toBase58()}, not ${lease.toBase58()}`);
  }
}

export class WrongProviderError extends AcknowledgementRejected {
  constructor(ack: PublicKey, own: PublicKey) {
    super("wrong-provider", `the acknowledgement is of provider ${ack.toBase58()}'s replica, not this node's (${own.toBase58()})`);
  }
}

export class WrongIncarnationError extends AcknowledgementRejected {
  constructor(ack: bigint, current: bigint) {
    super("wrong-incarnation", `the acknowledgement is of the job's incarnation ${ack}, not the current ${current}`);
  }
}

export class WrongWatchdogError extends AcknowledgementRejected {
  constructor(ack: PublicKey, watchdog: PublicKey) {
    super("wrong-watchdog", `the acknowledgement is signed by ${ack.toBase58()}, not the lease's watchdog ${watchdog.toBase58()}`);
  }
}

export class BadSignatureError extends AcknowledgementRejected {
  constructor() {
    super("bad-signature", "the signature does not verify as the watchdog's over (job, incarnation, provider, slot)");
  }
}

/** An acknowledgement older than the one held: it would pay nothing the held one does not. */
export class StaleAcknowledgementError extends AcknowledgementRejected {
  constructor(readonly upToSlot: bigint, readonly held: bigint) {
    super("stale", `an acknowledgement up to slot ${held} is already held; ${upToSlot} is older`);
  }
}

/** The acknowledgement a delivery (job, slot, signature) stands for, with the rest fixed by this node and the chain. */
export function acknowledgementFor(job: PublicKey, provider: PublicKey, terms: LeaseTerms, upToSlot: bigint, signature: Uint8Array): Acknowledgement {
  return { job, jobIncarnation: terms.jobIncarnation, provider, upToSlot, watchdog: terms.service.watchdog, signature };
}

/** Throws the first reason `ack` is not this node's watchdog-signed word for the lease `terms`. */
export function checkAcknowledgement(ack: Acknowledgement, provider: PublicKey, terms: LeaseTerms | null): void {
  if (!terms) throw new UnknownLeaseError(ack.job);
  const { service } = terms;
  if (service.jobIncarnation !== terms.jobIncarnation) throw new LeaseMismatchError(service.job);
  if (!ack.job.equals(service.job)) throw new WrongJobError(ack.job, service.job);
  if (!ack.provider.equals(provider)) throw new WrongProviderError(ack.provider, provider);
  if (ack.jobIncarnation !== terms.jobIncarnation) throw new WrongIncarnationError(ack.jobIncarnation, terms.jobIncarnation);
  if (!ack.watchdog.equals(service.watchdog)) throw new WrongWatchdogError(ack.watchdog, service.watchdog);
  if (!verifyAcknowledgement(ack)) throw new BadSignatureError();
}

/** An acknowledgement as it is stored: bigints in decimal, keys in base58, the signature in base64. */
interface StoredAcknowledgement {
  job: string;
  jobIncarnation: string;
  provider: string;
  upToSlot: string;
  watchdog: string;
  signature: string;
}

function toStored(ack: Acknowledgement): StoredAcknowledgement {
  return {
    job: ack.job.toBase58(),
    jobIncarnation: ack.jobIncarnation.toString(),
    provider: ack.provider.toBase58(),
    upToSlot: ack.upToSlot.toString(),
    watchdog: ack.watchdog.toBase58(),
    signature: Buffer.from(ack.signature).toString("base64"),
  };
}

function fromStored(stored: StoredAcknowledgement): Acknowledgement {
  return {
    job: new PublicKey(stored.job),
    jobIncarnation: BigInt(stored.jobIncarnation),
    provider: new PublicKey(stored.provider),
    upToSlot: BigInt(stored.upToSlot),
    watchdog: new PublicKey(stored.watchdog),
    signature: Uint8Array.from(Buffer.from(stored.signature, "base64")),
  };
}

const FILE = /^[1-9A-HJ-NP-Za-km-z]{32,44}\.json$/;

export interface AcknowledgementBookOptions {
  workDir: string;
  /** This node's provider account: the only replica whose acknowledgements it keeps. */
  provider: PublicKey;
  files?: JournalFileSystem;
  logger?: Logger;
}

export class AcknowledgementBook {
  private readonly latestByJob = new Map<string, Acknowledgement>();
  private readonly dir: string;
  private readonly files: JournalFileSystem;
  readonly provider: PublicKey;

  constructor(options: AcknowledgementBookOptions) {
    this.provider = options.provider;
    this.files = options.files ?? fs;
    this.dir = path.join(options.workDir, "acknowledgements");
    fs.mkdirSync(this.dir, { recursive: true });
    for (const name of fs.readdirSync(this.dir)) {
      if (!FILE.test(name)) continue;
      const ack = this.load(path.join(this.dir, name));
      // A file that no longer verifies (damaged, or another node's) could never be claimed.
      if (ack && ack.provider.equals(this.provider) && verifyAcknowledgement(ack)) this.latestByJob.set(ack.job.toBase58(), ack);
      else options.logger?.warn({ file: name }, "ignoring an acknowledgement file that does not verify");
    }
  }

  private load(file: string): Acknowledgement | null {
    try {
      return fromStored(JSON.parse(fs.readFileSync(file, "utf8")) as StoredAcknowledgement);
    } catch {
      return null;
    }
  }

  /**
   * Keeps `ack` as the job's latest once it checks out against `terms` (see `checkAcknowledgement`)
   * and is not older than the one held; on disk before it returns. The same slot again is taken
   * and changes nothing (a watchdog may deliver twice).
   */
  accept(ack: Acknowledgement, terms: LeaseTerms | null): "stored" | "unchanged" {
    checkAcknowledgement(ack, this.provider, terms);
    // One of an earlier incarnation (the job closed and posted again) pays nothing now: replaced.
    const current = this.latestByJob.get(ack.job.toBase58());
    const held = current?.jobIncarnation === ack.jobIncarnation ? current : undefined;
    if (held && ack.upToSlot < held.upToSlot) throw new StaleAcknowledgementError(ack.upToSlot, held.upToSlot);
    if (held && ack.upToSlot === held.upToSlot) return "unchanged";
    writeFileDurably(this.files, this.dir, `${ack.job.toBase58()}.json`, `${JSON.stringify(toStored(ack), null, 2)}\n`);
    this.latestByJob.set(ack.job.toBase58(), ack);
    return "stored";
  }

  /**
   * A delivery over HTTP: only the slot and the signature come with it, the rest is fixed (the
   * job in the path, this node's provider, the incarnation and watchdog key on-chain), so any
   * mismatch shows as a signature that does not verify.
   */
  submit(job: PublicKey, upToSlot: bigint, signature: Uint8Array, terms: LeaseTerms | null): "stored" | "unchanged" {
    if (!terms) throw new UnknownLeaseError(job);
    return this.accept(acknowledgementFor(job, this.provider, terms, upToSlot, signature), terms);
  }

  latest(job: PublicKey | string): Acknowledgement | undefined {
    return this.latestByJob.get(typeof job === "string" ? job : job.toBase58());
  }

  all(): Acknowledgement[] {
    return [...this.latestByJob.values()];
  }

  /** Drops a job's acknowledgement once it can pay nothing more (replica over and paid, job gone). */
  forget(job: PublicKey | string): void {
    const key = typeof job === "string" ? job : job.toBase58();
    fs.rmSync(path.join(this.dir, `${key}.json`), { force: true });
    this.latestByJob.delete(key);
  }
}
