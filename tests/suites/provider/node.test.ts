// The provider node's lifecycle against a local cluster (real JSON-RPC), with its world — spec
// source, container runtime, pricing — replaced by fakes: bidding open and sealed, start, run,
// commit, withdrawal of a lost bid, retries after a provider-side fault, and restarts that
// resume a job without ever committing twice.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { PublicKey } from "@solana/web3.js";
import { sha256 } from "@noble/hashes/sha256";
import { bytesToHex } from "@noble/hashes/utils";
import { variantOf, type ContainerJobSpec, type JobAccount } from "@compute-market/sdk";
import { MarketIndex, createLogger } from "@compute-market/common";
import { DeclineLog } from "../../../app/provider/src/lifecycle/declines";
import { JobJournal, type JournalFileSystem } from "../../../app/provider/src/lifecycle/journal";
import { Decline, ProviderFault, ProviderNode, type ExecutionResult, type JobWork, type NodePorts } from "../../../app/provider/src/lifecycle/node";
import { startClusterMarket, type ClusterMarket, type ClusterWallet } from "../../support/cluster-market";
import { shellSpec } from "../../support/docker";

const SPEC: ContainerJobSpec = shellSpec(`sha256:${"ab".repeat(32)}`, "echo hi > /outputs/hi", { timeoutSeconds: 10 });
const logger = createLogger("provider-test", (process.env.TEST_LOG as "silent") ?? "silent");

/** Fakes of the node's world, with counters and hooks the tests steer. */
class FakePorts implements NodePorts {
  reserved = new Set<string>();
  executions = 0;
  faultsToThrow = 0;
  price = 500n;
  /** When set, execute waits for it (a container that is still running). */
  hold: Promise<void> | null = null;
  resolveSpec = async (_job: PublicKey, account: JobAccount): Promise<JobWork> => {
    if (bytesToHex(Uint8Array.from(account.specHash)) !== "11".repeat(32)) throw new Decline("unknown spec");
    return { kind: "container", spec: SPEC };
  };
  admit = async (): Promise<void> => undefined;
  quote = (): bigint | null => this.price;
  reserve = (job: PublicKey): void => void this.reserved.add(job.toBase58());
  release = (job: PublicKey): void => void this.reserved.delete(job.toBase58());
  execute = async (job: PublicKey, _account: JobAccount, _work: JobWork, signal: AbortSignal): Promise<ExecutionResult> => {
    this.executions += 1;
    if (this.faultsToThrow > 0) {
      this.faultsToThrow -= 1;
      throw new ProviderFault("docker daemon unreachable");
    }
    if (this.hold) {
      const held = this.hold;
      await new Promise<void>((resolve, reject) => {
        held.then(resolve, reject);
        signal.addEventListener("abort", () => reject(new Error("aborted")));
      });
    }
    return { outputRoot: sha256(job.toBytes()), outcome: { status: "succeeded", exitCode: 0 } };
  };
  resultUri = (job: PublicKey): string => `http://127.0.0.1:1/v1/jobs/${job.toBase58()}/results`;
  // Batch jobs only here: a service replica would fail the test loudly.
  serve = async (): Promise<{ urls: string[] }> => assert.fail("no service is served in these tests");
  supervise = async (): Promise<{ running: boolean; restarted: boolean; healthy: boolean }> => assert.fail("no service is served in these tests");
  unserve = async (): Promise<void> => undefined;
}

interface Operator {
  owner: ClusterWallet;
  provider: PublicKey;
  workDir: string;
  ports: FakePorts;
}

describe("provider node lifecycle", function () {
  this.timeout(60_000);
  let env: ClusterMarket;
  let consumer: ClusterWallet;

  beforeEach(async () => {
    env = await startClusterMarket();
    consumer = await env.wallet({ payment: 10_000_000n });
  });
  afterEach(async () => {
    await env.close();
  });

  async function operator(): Promise<Operator> {
    const owner = await env.wallet({ stake: 100_000n });
    const { provider } = await owner.client.registerProvider({ market: env.market, spec: { cpuCores: 8, memoryMb: 16_384, diskGb: 100, gpuCount: 0, vramMb: 0 }, endpoint: "http://127.0.0.1:1" });
    await owner.client.stake({ provider, amount: 50_000n });
    return { owner, provider, workDir: mkdtempSync(path.join(os.tmpdir(), "provider-node-")), ports: new FakePorts() };
  }

  /** The nodes' clock for retry times: tests move it instead of sleeping through a backoff. */
  let clockMs = 0;

  function node(op: Operator, journal = new JobJournal(op.workDir)): { node: ProviderNode; index: MarketIndex; step: () => Promise<void> } {
    const index = new MarketIndex(op.owner.client.program, env.connection, logger);
    const created = new ProviderNode({
      client: op.owner.client,
      connection: env.connection,
      index,
      journal,
      ports: op.ports,
      market: env.market,
      provider: op.provider,
      logger,
      maxConcurrentRuns: 2,
      declines: new DeclineLog(op.workDir),
      now: () => clockMs,
    });
    // One deterministic step: reload the chain, plan, and wait for what was started.
    const step = async () => {
      await index.load();
      await created.tick();
      await created.idle();
    };
    return { node: created, index, step };
  }

  async function postJob(sealed = false, specHash = Uint8Array.from(Buffer.from("11".repeat(32), "hex")), replication = 1): Promise<PublicKey> {
    const { job } = await consumer.client.postJob({
      market: env.market,
      specHash,
      requirements: { cpuCores: 1, memoryMb: 64, maxDurationSlots: 50n },
      mode: "replicated",
      replication,
      onFailure: "refund",
      maxPrice: 1_000n,
      instantPrice: 0n,
      bidWindowSlots: 0n,
      sealed,
    });
    return job;
  }

  const bidStatus = async (op: Operator, job: PublicKey) => {
    const bid = await op.owner.client.fetchBid(op.owner.client.bidAddress(job, op.provider));
    return bid ? variantOf(bid.status) : null;
  };

  it("bids, starts, runs, commits and is paid at finalization, then forgets the job", async () => {
    const op = await operator();
    const { node: n, step } = node(op);
    const job = await postJob();

    await step();
    assert.equal(await bidStatus(op, job), "active");
    assert.ok(op.ports.reserved.has(job.toBase58()), "capacity is reserved while bidding");

    env.advance(21n);
    await env.authority.client.award({ job });
    await step();
    assert.equal(await bidStatus(op, job), "started");
    await step();
    assert.equal(await bidStatus(op, job), "committed");
    const bid = await op.owner.client.fetchBid(op.owner.client.bidAddress(job, op.provider));
    assert.deepEqual(Uint8Array.from(bid!.outputRoot), sha256(job.toBytes()));
    assert.equal(op.ports.reserved.size, 0, "capacity is released once committed");

    env.advance(6n);
    await env.authority.client.finalize({ job });
    assert.equal(env.paymentBalance(op.owner.keypair.publicKey), 500n);
    env.advance(20n);
    await step();
    assert.deepEqual(n.stats, { bids: 1, reveals: 0, starts: 1, runs: 1, commits: 1, withdrawals: 0, failures: 0, serves: 0, restarts: 0 });
  });

  it("commits to a sealed price, reveals it in the window and wins at the second price", async () => {
    const op = await operator();
    const rival = await operator();
    rival.ports.price = 800n;
    const mine = node(op);
    const theirs = node(rival);
    const job = await postJob(true);

    await mine.step();
    await theirs.step();
    assert.equal(await bidStatus(op, job), "sealed");
    env.advance(21n);
    await mine.step();
    await theirs.step();
    assert.equal(await bidStatus(op, job), "active");
    env.advance(10n);
    await env.authority.client.award({ job });
    await mine.step();
    await mine.step();
    await theirs.step();
    assert.equal(await bidStatus(op, job), "committed");
    assert.equal(await bidStatus(rival, job), null, "the loser withdrew its bid");
    const bid = await op.owner.client.fetchBid(op.owner.client.bidAddress(job, op.provider));
    assert.equal(bid!.awardedPrice, 800n, "the winner is paid the second price");
    assert.equal((await rival.owner.client.fetchProvider(rival.provider))!.locked, 0n, "the loser's stake lock is released");
  });

  it("has the sealed bid's salt flushed to disk (file and directory) before the bid is sent", async () => {
    const op = await operator();
    // Every file operation in order, each with the path its descriptor was opened on.
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
    const journalDir = path.join(op.workDir, "jobs");
    const client = op.owner.client;
    const send = client.placeSealedBid.bind(client);
    let seenAtSend: { ops: string[]; onDisk: unknown } | null = null;
    client.placeSealedBid = async (args) => {
      const file = path.join(journalDir, `${args.job.toBase58()}.json`);
      seenAtSend = { ops: [...ops], onDisk: JSON.parse(fs.readFileSync(file, "utf8")).sealed?.salt };
      assert.equal(seenAtSend.onDisk, Buffer.from(args.salt!).toString("hex"), "the salt on disk is the one the commitment is made with");
      return send(args);
    };
    const { step } = node(op, new JobJournal(op.workDir, recording));
    const job = await postJob(true);
    await step();

    assert.equal(await bidStatus(op, job), "sealed");
    assert.ok(seenAtSend, "a sealed bid was sent");
    const file = path.join(journalDir, `${job.toBase58()}.json`);
    const temp = (seenAtSend as { ops: string[] }).ops.find((line) => line.startsWith("write "))!.slice("write ".length);
    assert.deepEqual((seenAtSend as { ops: string[] }).ops, [`write ${temp}`, `fsync ${temp}`, `rename ${temp} -> ${file}`, `fsync ${journalDir}`]);
  });

  it("seals its result when other winners run the job too, and reveals it once all committed", async () => {
    const ops = [await operator(), await operator()];
    const nodes = ops.map((op) => node(op));
    const job = await postJob(false, undefined, 2);
    for (const n of nodes) await n.step();
    env.advance(21n);
    await env.authority.client.award({ job });
    for (const n of nodes) await n.step();
    await nodes[0].step();
    assert.equal(await bidStatus(ops[0], job), "committed");
    const sealed = await ops[0].owner.client.fetchBid(ops[0].owner.client.bidAddress(job, ops[0].provider));
    assert.deepEqual(sealed!.outputRoot, new Array(32).fill(0), "the root stays hidden while another winner runs");
    assert.notDeepEqual(sealed!.resultCommitment, new Array(32).fill(0));
    await nodes[1].step();
    for (const n of nodes) await n.step();
    for (const op of ops) {
      const bid = await op.owner.client.fetchBid(op.owner.client.bidAddress(job, op.provider));
      assert.equal(bid!.revealed, true);
      assert.deepEqual(Uint8Array.from(bid!.outputRoot), sha256(job.toBytes()));
    }
    env.advance(6n);
    await env.authority.client.finalize({ job });
    for (const op of ops) assert.equal(env.paymentBalance(op.owner.keypair.publicKey), 500n, "both winners agree and are paid");
  });

  it("retries a run after a provider-side fault", async () => {
    const op = await operator();
    op.ports.faultsToThrow = 1;
    const { node: n, step } = node(op);
    const job = await postJob();
    await step();
    env.advance(21n);
    await env.authority.client.award({ job });
    await step();
    await step();
    assert.equal(await bidStatus(op, job), "started");
    assert.equal(n.stats.failures, 1);
    await step();
    assert.equal(op.ports.executions, 1, "no retry before the backoff has passed");
    clockMs += 1_200;
    await step();
    assert.equal(await bidStatus(op, job), "committed");
    assert.equal(op.ports.executions, 2);
  });

  it("resumes a run cut off by a restart and never commits twice", async () => {
    const op = await operator();
    const first = node(op);
    const job = await postJob();
    await first.step();
    env.advance(21n);
    await env.authority.client.award({ job });
    await first.step();
    // The container is running when the node goes down.
    op.ports.hold = new Promise(() => undefined);
    await first.index.load();
    await first.node.tick();
    while (op.ports.executions === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    await first.node.stop(true);
    assert.equal(await bidStatus(op, job), "started");

    // A new process with the same work dir runs it again and commits.
    op.ports.hold = null;
    const second = node(op);
    await second.step();
    assert.equal(await bidStatus(op, job), "committed");
    const record = new JobJournal(op.workDir).get(job.toBase58());
    assert.equal(record?.attempts, 2);

    // A third start finds the commitment on-chain and sends nothing.
    const third = node(op);
    await third.step();
    assert.equal(third.node.stats.commits + third.node.stats.runs, 0);
    assert.equal(op.ports.executions, 2);
  });

  it("declines a job whose spec it cannot get, and does not ask again", async () => {
    const op = await operator();
    const { node: n, step } = node(op);
    const job = await postJob(false, new Uint8Array(32).fill(9));
    await step();
    await step();
    assert.equal(await bidStatus(op, job), null);
    assert.equal(n.stats.bids, 0);
    assert.equal(op.ports.reserved.size, 0);
    // The decline and its reason are in the work directory, for `provider status`.
    assert.deepEqual(DeclineLog.read(op.workDir).map((entry) => [entry.job, entry.why]), [[job.toBase58(), "unknown spec"]]);
  });
});
