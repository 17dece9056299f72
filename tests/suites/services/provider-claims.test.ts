// The provider's side of a service lease: the claim schedule, the acknowledgement book (checked,
// kept per job, written through to disk, reloaded after a restart), the results server's
// acknowledgement endpoint and each of its refusals, and the claimer, which claims what a
// watchdog acknowledged on schedule so the owner is paid exactly the rate for those slots.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Keypair, PublicKey } from "@solana/web3.js";
import pino from "pino";
import {
  AcknowledgementRefusedError,
  acknowledgementPath,
  deliverAcknowledgement,
  encodeAcknowledgementSubmission,
  ServiceWatchdog,
  signAcknowledgement,
  verifyAcknowledgement,
  type Acknowledgement,
} from "@compute-market/sdk";
import { createLogger, errorText, type Logger } from "@compute-market/common";
import type { JournalFileSystem } from "../../../app/provider/src/lifecycle/journal";
import { JobLogHub } from "../../../app/provider/src/results/catalog";
import { startResultsServer, type ResultsServer } from "../../../app/provider/src/results/server";
import { BlobStore } from "../../../app/provider/src/results/store";
import {
  AcknowledgementBook,
  BadSignatureError,
  fetchLeaseTerms,
  LeaseMismatchError,
  StaleAcknowledgementError,
  UnknownLeaseError,
  WrongIncarnationError,
  WrongJobError,
  WrongProviderError,
  WrongWatchdogError,
  type LeaseTerms,
} from "../../../app/provider/src/services/acknowledgements";
import { claimDue, unclaimedSlots, type ClaimScheduleInput } from "../../../app/provider/src/services/claim-schedule";
import { ServiceClaimer, type ClaimPolicy } from "../../../app/provider/src/services/claimer";
import { bidOf, PERIOD, running, serviceInput, startedSlot, type Lease } from "../../support/service-lease";

const silent = createLogger("provider-claims", "silent");
const workDir = () => fs.mkdtempSync(path.join(os.tmpdir(), "provider-acks-"));
const INITIAL = 1_000_000_000n;

describe("claimDue", () => {
  // 50 slots unclaimed at 80 per slot, a 100-slot period, well inside the replica's term.
  const base: ClaimScheduleInput = { upToSlot: 150n, paidThrough: 100n, rate: 80n, periodSlots: 100n, claimEveryPeriods: 2n, maxUnclaimedTokens: 1_000_000n, replicaEnd: 10_000n, slot: 200n };
  const due = (changes: Partial<ClaimScheduleInput>) => claimDue({ ...base, ...changes });

  it("waits while the unclaimed time is under every threshold", () => {
    assert.equal(due({}), false);
  });

  it("claims once claimEveryPeriods × P slots are acknowledged and unclaimed", () => {
    assert.equal(due({ upToSlot: 299n, slot: 300n }), false);
    assert.equal(due({ upToSlot: 300n, slot: 300n }), true);
  });

  it("claims once the unclaimed pay reaches the node's risk cap", () => {
    assert.equal(due({ maxUnclaimedTokens: 50n * 80n + 1n }), false);
    assert.equal(due({ maxUnclaimedTokens: 50n * 80n }), true);
  });

  it("claims what is left once the replica is over, however little", () => {
    assert.equal(due({ replicaEnd: 201n }), false, "not over yet");
    assert.equal(due({ replicaEnd: 200n }), true);
    assert.equal(due({ upToSlot: 101n, replicaEnd: 180n }), true, "one slot");
  });

  it("never claims when nothing new is acknowledged, even with the replica over", () => {
    assert.equal(due({ upToSlot: 100n, replicaEnd: 150n, maxUnclaimedTokens: 1n }), false);
    assert.equal(due({ upToSlot: 90n, replicaEnd: 150n, maxUnclaimedTokens: 1n }), false);
    // Acknowledged past the end, but paid through the end: nothing left to pay.
    assert.equal(due({ upToSlot: 190n, paidThrough: 150n, replicaEnd: 150n, maxUnclaimedTokens: 1n }), false);
  });

  it("never claims an acknowledgement ahead of the slot (the program refuses it)", () => {
    assert.equal(due({ upToSlot: 300n, slot: 299n, maxUnclaimedTokens: 1n }), false);
  });

  it("counts no slot past the replica's end", () => {
    assert.equal(unclaimedSlots({ upToSlot: 500n, paidThrough: 100n, replicaEnd: 150n }), 50n);
    assert.equal(unclaimedSlots({ upToSlot: 120n, paidThrough: 100n, replicaEnd: 150n }), 20n);
  });
});

/** A lease's parties as plain keys, for the book's checks without a cluster. */
function offChainLease(incarnation = 3n) {
  const watchdog = Keypair.generate();
  const job = Keypair.generate().publicKey;
  const provider = Keypair.generate().publicKey;
  const terms: LeaseTerms = { jobIncarnation: incarnation, service: { job, watchdog: watchdog.publicKey, jobIncarnation: incarnation } };
  const sign = (upToSlot: bigint, changes: Partial<{ job: PublicKey; jobIncarnation: bigint; provider: PublicKey; signer: Keypair }> = {}): Acknowledgement =>
    signAcknowledgement((changes.signer ?? watchdog).secretKey, { job: changes.job ?? job, jobIncarnation: changes.jobIncarnation ?? incarnation, provider: changes.provider ?? provider, upToSlot });
  return { watchdog, job, provider, terms, sign };
}

describe("AcknowledgementBook", () => {
  it("keeps the latest acknowledgement per job, refuses an older one, and reloads it after a restart", () => {
    const lease = offChainLease();
    const dir = workDir();
    const book = new AcknowledgementBook({ workDir: dir, provider: lease.provider });
    assert.equal(book.accept(lease.sign(10n), lease.terms), "stored");
    assert.equal(book.accept(lease.sign(20n), lease.terms), "stored");
    assert.equal(book.accept(lease.sign(20n), lease.terms), "unchanged", "a second delivery of the same slot");
    assert.throws(() => book.accept(lease.sign(15n), lease.terms), (error) => error instanceof StaleAcknowledgementError && error.held === 20n && error.upToSlot === 15n);
    assert.equal(book.latest(lease.job)?.upToSlot, 20n);

    const reloaded = new AcknowledgementBook({ workDir: dir, provider: lease.provider });
    const ack = reloaded.latest(lease.job)!;
    assert.equal(ack.upToSlot, 20n);
    assert.ok(verifyAcknowledgement(ack) && ack.watchdog.equals(lease.watchdog.publicKey) && ack.jobIncarnation === 3n);
    assert.deepEqual(ack.signature, lease.sign(20n).signature);
    assert.throws(() => reloaded.accept(lease.sign(19n), lease.terms), StaleAcknowledgementError, "the reloaded book still refuses older ones");
  });

  it("names each reason an acknowledgement is refused, and keeps none of them", () => {
    const lease = offChainLease();
    const dir = workDir();
    const book = new AcknowledgementBook({ workDir: dir, provider: lease.provider });
    const genuine = lease.sign(10n);
    const cases: [string, Acknowledgement, LeaseTerms | null, new (...args: never[]) => Error][] = [
      ["no lease", genuine, null, UnknownLeaseError],
      ["terms of another incarnation", genuine, { ...lease.terms, service: { ...lease.terms.service, jobIncarnation: 2n } }, LeaseMismatchError],
      ["another job", lease.sign(10n, { job: Keypair.generate().publicKey }), lease.terms, WrongJobError],
      ["another provider's replica", lease.sign(10n, { provider: Keypair.generate().publicKey }), lease.terms, WrongProviderError],
      ["an earlier incarnation", lease.sign(10n, { jobIncarnation: 2n }), lease.terms, WrongIncarnationError],
      ["another key", lease.sign(10n, { signer: Keypair.generate() }), lease.terms, WrongWatchdogError],
      ["a signature that does not verify", { ...genuine, signature: Uint8Array.from(genuine.signature, (b, i) => (i === 5 ? b ^ 1 : b)) }, lease.terms, BadSignatureError],
      ["the watchdog's key named on a signature by another", { ...lease.sign(10n, { signer: Keypair.generate() }), watchdog: lease.watchdog.publicKey }, lease.terms, BadSignatureError],
    ];
    for (const [what, ack, terms, type] of cases) assert.throws(() => book.accept(ack, terms), type, what);
    assert.equal(book.all().length, 0);
    assert.deepEqual(fs.readdirSync(path.join(dir, "acknowledgements")), []);
  });

  it("writes through to disk before returning: flushed temp file, rename, flushed directory", () => {
    const lease = offChainLease();
    const dir = workDir();
    const ops: string[] = [];
    const opened = new Map<number, string>();
    const recording: JournalFileSystem = {
      openSync: (file, flags) => {
        const fd = fs.openSync(file, flags);
        opened.set(fd, file);
        return fd;
      },
      writeSync: (fd, text) => (ops.push(`write ${opened.get(fd)}`), fs.writeSync(fd, text)),
      fsyncSync: (fd) => (ops.push(`fsync ${opened.get(fd)}`), fs.fsyncSync(fd)),
      closeSync: (fd) => (opened.delete(fd), fs.closeSync(fd)),
      renameSync: (from, to) => (ops.push(`rename ${from} -> ${to}`), fs.renameSync(from, to)),
    };
    const book = new AcknowledgementBook({ workDir: dir, provider: lease.provider, files: recording });
    book.accept(lease.sign(10n), lease.terms);
    const acks = path.join(dir, "acknowledgements");
    const file = path.join(acks, `${lease.job.toBase58()}.json`);
    const temp = ops[0].slice("write ".length);
    assert.deepEqual(ops, [`write ${temp}`, `fsync ${temp}`, `rename ${temp} -> ${file}`, `fsync ${acks}`]);
  });

  it("on reload ignores a damaged file and another node's acknowledgement", () => {
    const lease = offChainLease();
    const other = offChainLease();
    const dir = workDir();
    new AcknowledgementBook({ workDir: dir, provider: other.provider }).accept(other.sign(10n), other.terms);
    const book = new AcknowledgementBook({ workDir: dir, provider: lease.provider });
    book.accept(lease.sign(10n), lease.terms);
    const file = path.join(dir, "acknowledgements", `${lease.job.toBase58()}.json`);
    const stored = JSON.parse(fs.readFileSync(file, "utf8")) as { upToSlot: string };
    // A slot raised by hand no longer matches its signature.
    fs.writeFileSync(file, JSON.stringify({ ...stored, upToSlot: "99" }));
    const reloaded = new AcknowledgementBook({ workDir: dir, provider: lease.provider });
    assert.deepEqual(reloaded.all(), []);
  });

  it("lets a newer incarnation's acknowledgement replace an older one's, whatever their slots", () => {
    const first = offChainLease(3n);
    const book = new AcknowledgementBook({ workDir: workDir(), provider: first.provider });
    book.accept(first.sign(500n), first.terms);
    const terms: LeaseTerms = { jobIncarnation: 4n, service: { ...first.terms.service, jobIncarnation: 4n } };
    assert.equal(book.accept(first.sign(40n, { jobIncarnation: 4n }), terms), "stored");
    assert.equal(book.latest(first.job)?.jobIncarnation, 4n);
  });
});

interface Node {
  book: AcknowledgementBook;
  server: ResultsServer;
  dir: string;
}

/** Replica `i`'s provider node: its book and a results server taking acknowledgements into it. */
async function providerNode(lease: Lease, i = 0, dir = workDir()): Promise<Node> {
  const book = new AcknowledgementBook({ workDir: dir, provider: lease.providers[i].provider });
  const client = lease.providers[i].owner.client;
  const server = await startResultsServer({
    port: 0,
    store: await BlobStore.open(path.join(dir, "store")),
    jobs: new JobLogHub(),
    consumerOf: async () => null,
    maxBlobBytes: 1_024,
    acknowledgements: { book, leaseOf: (job) => fetchLeaseTerms(client, job) },
  });
  return { book, server, dir };
}

const servers: ResultsServer[] = [];
const closeServers = async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
};

async function ackOf(lease: Lease, i: number, upToSlot: bigint, signer: Keypair = lease.watchdog): Promise<Acknowledgement> {
  const job = await lease.consumer.client.fetchJob(lease.job);
  return signAcknowledgement(signer.secretKey, { job: lease.job, jobIncarnation: job!.incarnation, provider: lease.providers[i].provider, upToSlot });
}

/** POSTs `body` (an object as JSON, or raw text) to `job`'s acknowledgement route. */
async function post(node: Node, job: PublicKey | string, body: unknown): Promise<{ status: number; body: { error?: string; reason?: string } }> {
  const response = await fetch(`${node.server.url}${acknowledgementPath(job)}`, { method: "POST", headers: { "content-type": "application/json" }, body: typeof body === "string" ? body : JSON.stringify(body) });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : {} };
}

async function refusal(delivery: Promise<void>): Promise<AcknowledgementRefusedError> {
  const error = await delivery.then(
    () => null,
    (e: unknown) => e,
  );
  assert.ok(error instanceof AcknowledgementRefusedError, `refused, not ${String(error)}`);
  return error;
}

describe("the acknowledgement endpoint", () => {
  afterEach(closeServers);

  it("takes the watchdog's acknowledgement of this node's replica (204) and keeps it", async () => {
    const lease = await running([80n]);
    const node = await providerNode(lease);
    servers.push(node.server);
    const start = await startedSlot(lease, 0);
    lease.env.ledger.warpToSlot(start + 30n);
    await deliverAcknowledgement(node.server.url, await ackOf(lease, 0, start + 30n));
    assert.equal(node.book.latest(lease.job)?.upToSlot, start + 30n);
    // The same one again is no error (a watchdog may retry a delivery).
    await deliverAcknowledgement(node.server.url, await ackOf(lease, 0, start + 30n));
  });

  it("refuses a forged acknowledgement, another job's, another replica's (403) and an older one (409)", async () => {
    const lease = await running([80n, 90n]);
    const node = await providerNode(lease);
    servers.push(node.server);
    const start = await startedSlot(lease, 0);
    lease.env.ledger.warpToSlot(start + 60n);
    await deliverAcknowledgement(node.server.url, await ackOf(lease, 0, start + 50n));

    // Signed by the provider itself, not the watchdog.
    const forged = await refusal(deliverAcknowledgement(node.server.url, await ackOf(lease, 0, start + 60n, lease.providers[0].owner.keypair)));
    assert.equal(forged.status, 403);
    assert.match(forged.reason, /does not verify/);
    // The same watchdog's acknowledgement of another service, posted for this one.
    const other = await lease.consumer.client.postService(serviceInput(lease.market, lease.watchdog.publicKey, { consumerToken: lease.consumer.paymentToken }));
    const otherJob = await lease.consumer.client.fetchJob(other.job);
    const elsewhere = signAcknowledgement(lease.watchdog.secretKey, { job: other.job, jobIncarnation: otherJob!.incarnation, provider: lease.providers[0].provider, upToSlot: start + 60n });
    const crossed = await post(node, lease.job, encodeAcknowledgementSubmission(elsewhere));
    assert.deepEqual([crossed.status, crossed.body.reason], [403, "bad-signature"]);
    // The other replica's acknowledgement, delivered to this node.
    const theirs = await post(node, lease.job, encodeAcknowledgementSubmission(await ackOf(lease, 1, start + 60n)));
    assert.deepEqual([theirs.status, theirs.body.reason], [403, "bad-signature"]);
    // Older than the one held.
    const older = await refusal(deliverAcknowledgement(node.server.url, await ackOf(lease, 0, start + 40n)));
    assert.equal(older.status, 409);
    assert.match(older.reason, new RegExp(`up to slot ${start + 50n} is already held`));

    assert.equal(node.book.latest(lease.job)?.upToSlot, start + 50n, "none of them replaced the genuine one");
    assert.ok(node.book.latest(lease.job)!.provider.equals(lease.providers[0].provider));
  });

  it("refuses malformed and oversized bodies (400, 413), unknown leases (404) and other methods (405)", async () => {
    const lease = await running([80n]);
    const node = await providerNode(lease);
    servers.push(node.server);
    const start = await startedSlot(lease, 0);
    lease.env.ledger.warpToSlot(start + 10n);
    const good = encodeAcknowledgementSubmission(await ackOf(lease, 0, start + 10n));

    for (const [what, body] of [
      ["not JSON", "{upToSlot"],
      ["a number for the slot", { ...good, upToSlot: Number(good.upToSlot) }],
      ["a slot past u64", { ...good, upToSlot: (2n ** 64n).toString() }],
      ["a base58 signature", { ...good, signature: "3".repeat(88) }],
      ["a short signature", { ...good, signature: good.signature.slice(4) }],
      ["no signature", { upToSlot: good.upToSlot }],
      ["an array", [good]],
    ] as const) {
      const reply = await post(node, lease.job, body);
      assert.equal(reply.status, 400, what);
      assert.ok(reply.body.error, what);
    }
    assert.equal((await post(node, lease.job, { ...good, padding: "x".repeat(2_000) })).status, 413);
    assert.equal((await post(node, "not-an-address", good)).status, 400);
    const unknown = await post(node, Keypair.generate().publicKey, good);
    assert.deepEqual([unknown.status, unknown.body.reason], [404, "unknown-lease"]);
    assert.equal((await fetch(`${node.server.url}${acknowledgementPath(lease.job)}`)).status, 405);
    assert.equal(node.book.latest(lease.job), undefined);
    assert.equal((await post(node, lease.job, good)).status, 204, "the genuine one is still taken");
  });
});

/** A claimer for replica `i`'s owner, paying into its token account. */
function claimerOf(lease: Lease, book: AcknowledgementBook, policy: Partial<ClaimPolicy> = {}, logger: Logger = silent, now?: () => number): ServiceClaimer {
  const owner = lease.providers[0].owner;
  return new ServiceClaimer({ client: owner.client, book, policy: { claimEveryPeriods: 2n, maxUnclaimedTokens: 10n ** 12n, ...policy }, logger, ownerToken: owner.paymentToken, now });
}

/** A watchdog of the lease whose every replica is healthy, delivering to `node`'s endpoint. */
function watchdogTo(lease: Lease, node: Node): ServiceWatchdog {
  return new ServiceWatchdog({
    client: lease.consumer.client,
    watchdog: lease.watchdog,
    job: lease.job,
    probe: async () => true,
    deliver: (ack) => deliverAcknowledgement(node.server.url, ack),
    onEvent: (event) => assert.notEqual(event.kind, "delivery-failed", JSON.stringify(event, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v))),
  });
}

describe("ServiceClaimer", () => {
  afterEach(closeServers);

  it("claims what the watchdog acknowledged once two periods built up: the owner is paid rate × slots exactly", async () => {
    const lease = await running([80n]);
    const node = await providerNode(lease);
    servers.push(node.server);
    const watchdog = watchdogTo(lease, node);
    const claimer = claimerOf(lease, node.book);
    const owner = lease.providers[0].owner;
    const start = await startedSlot(lease, 0);

    lease.env.ledger.warpToSlot(start + 150n);
    await watchdog.tick();
    assert.equal(node.book.latest(lease.job)?.upToSlot, start + 150n);
    assert.deepEqual((await claimer.tick()).map((o) => o.kind), ["waiting"], "150 slots: under two periods");
    assert.equal(lease.env.tokenBalance(owner.paymentToken), INITIAL);

    lease.env.ledger.warpToSlot(start + 2n * PERIOD + 30n);
    await watchdog.tick();
    const [claimed] = await claimer.tick();
    assert.ok(claimed.kind === "claimed" && claimed.slots === 2n * PERIOD + 30n);
    assert.equal(lease.env.tokenBalance(owner.paymentToken), INITIAL + (2n * PERIOD + 30n) * 80n);
    assert.equal((await owner.client.fetchBid(bidOf(lease, 0)))!.claimedSlot, start + 2n * PERIOD + 30n);

    // Nothing new: no claim (it would only be refused).
    assert.deepEqual((await claimer.tick()).map((o) => o.kind), ["waiting"]);
    lease.env.ledger.warpToSlot(start + 3n * PERIOD);
    await watchdog.tick();
    assert.deepEqual((await claimer.tick()).map((o) => o.kind), ["waiting"], "70 slots since the claim");
    assert.equal(lease.env.tokenBalance(owner.paymentToken), INITIAL + (2n * PERIOD + 30n) * 80n);
    assert.equal(claimer.stats.claims, 1);
  });

  it("claims sooner once the unclaimed pay reaches the risk cap", async () => {
    const lease = await running([80n]);
    const node = await providerNode(lease);
    servers.push(node.server);
    const watchdog = watchdogTo(lease, node);
    const claimer = claimerOf(lease, node.book, { maxUnclaimedTokens: 40n * 80n });
    const start = await startedSlot(lease, 0);
    lease.env.ledger.warpToSlot(start + 39n);
    await watchdog.tick();
    assert.deepEqual((await claimer.tick()).map((o) => o.kind), ["waiting"]);
    lease.env.ledger.warpToSlot(start + 40n);
    await watchdog.tick();
    assert.deepEqual((await claimer.tick()).map((o) => o.kind), ["claimed"]);
    assert.equal(lease.env.tokenBalance(lease.providers[0].owner.paymentToken), INITIAL + 40n * 80n);
  });

  it("claims the rest once the replica ended, up to its end only, then forgets the acknowledgement", async () => {
    const lease = await running([80n]);
    const node = await providerNode(lease);
    servers.push(node.server);
    const claimer = claimerOf(lease, node.book);
    const start = await startedSlot(lease, 0);
    lease.env.ledger.warpToSlot(start + 70n);
    await lease.consumer.client.endReplica({ job: lease.job, provider: lease.providers[0].provider });
    // Acknowledged past the end (a late watchdog): only the slots up to the end are paid.
    lease.env.ledger.warpToSlot(start + 90n);
    node.book.accept(await ackOf(lease, 0, start + 90n), await fetchLeaseTerms(lease.consumer.client, lease.job));

    const [claimed] = await claimer.tick();
    assert.ok(claimed.kind === "claimed" && claimed.slots === 70n, "under two periods, but the replica is over");
    assert.equal(lease.env.tokenBalance(lease.providers[0].owner.paymentToken), INITIAL + 70n * 80n);
    assert.deepEqual((await claimer.tick()).map((o) => o.kind), ["forgotten"]);
    assert.equal(node.book.latest(lease.job), undefined);
    assert.equal(fs.existsSync(path.join(node.dir, "acknowledgements", `${lease.job.toBase58()}.json`)), false);
  });

  it("claims after a restart what the node was acknowledged before it (the book reloads from disk)", async () => {
    const lease = await running([80n]);
    const dir = workDir();
    const before = await providerNode(lease, 0, dir);
    servers.push(before.server);
    const start = await startedSlot(lease, 0);
    lease.env.ledger.warpToSlot(start + 2n * PERIOD);
    await watchdogTo(lease, before).tick();
    await before.server.close();
    servers.splice(servers.indexOf(before.server), 1);

    const reloaded = new AcknowledgementBook({ workDir: dir, provider: lease.providers[0].provider });
    assert.equal(reloaded.latest(lease.job)?.upToSlot, start + 2n * PERIOD);
    assert.deepEqual((await claimerOf(lease, reloaded).tick()).map((o) => o.kind), ["claimed"]);
    assert.equal(lease.env.tokenBalance(lease.providers[0].owner.paymentToken), INITIAL + 2n * PERIOD * 80n);
  });

  it("logs a failed claim under `err`, backs off, and claims on a later tick", async () => {
    const lease = await running([80n]);
    const node = await providerNode(lease);
    servers.push(node.server);
    const start = await startedSlot(lease, 0);
    lease.env.ledger.warpToSlot(start + 2n * PERIOD);
    node.book.accept(await ackOf(lease, 0, start + 2n * PERIOD), await fetchLeaseTerms(lease.consumer.client, lease.job));

    const lines: Record<string, unknown>[] = [];
    const logger = pino({ level: "warn", serializers: { err: errorText } }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
    let clock = 0;
    const claimer = claimerOf(lease, node.book, {}, logger, () => clock);
    const client = lease.providers[0].owner.client;
    const claim = client.claimService.bind(client);
    client.claimService = async () => {
      throw new Error("rpc unreachable");
    };
    assert.deepEqual((await claimer.tick()).map((o) => o.kind), ["failed"]);
    assert.equal(lines.length, 1);
    assert.equal(lines[0].err, "rpc unreachable");
    assert.equal(lines[0].job, lease.job.toBase58());
    client.claimService = claim;
    assert.deepEqual((await claimer.tick()).map((o) => o.kind), ["backing-off"]);
    clock += 60_000;
    assert.deepEqual((await claimer.tick()).map((o) => o.kind), ["claimed"]);
    assert.equal(lease.env.tokenBalance(lease.providers[0].owner.paymentToken), INITIAL + 2n * PERIOD * 80n);
  });
});
