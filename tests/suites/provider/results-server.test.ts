// The provider's results server against the SDK's results client, over a real socket: public
// blobs, the wallet-signed challenge auth and each of its refusals, verified downloads that catch
// a tampered store, and the logs WebSocket (history, live lines, end).
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { promises as fs } from "node:fs";
import http from "node:http";
import os from "node:os";
import { PassThrough } from "node:stream";
import path from "node:path";
import { Keypair } from "@solana/web3.js";
import { hexToBytes } from "@noble/hashes/utils";
import WebSocket from "ws";
import {
  authorizationHeader,
  encodeCredentials,
  fetchBlob,
  fetchReplicaReport,
  fetchResults,
  keypairSigner,
  resultsAuthMessage,
  ResultsHttpError,
  ResultVerificationError,
  streamLogs,
  openShell,
  type ShellMessage,
  uploadBlob,
  type JobLogMessage,
  type ResultManifest,
  type ResultsChallenge,
  type WebSocketConstructor,
} from "@compute-market/sdk";
import { ChallengeBook } from "../../../app/provider/src/results/auth";
import { JobLogHub } from "../../../app/provider/src/results/catalog";
import { startResultsServer, type ResultsServer } from "../../../app/provider/src/results/server";
import type { ReplicaShell } from "../../../app/provider/src/runtime/service-container";
import { BlobStore, hashOutputDir } from "../../../app/provider/src/results/store";
import { until } from "../../support/wait";

const MAX_BLOB = 256 * 1024;
const sha256Hex = (bytes: Uint8Array | string) => createHash("sha256").update(bytes).digest("hex");

interface Reply {
  status: number;
  body: Record<string, unknown>;
  headers: Headers;
}

async function request(url: string, init: RequestInit = {}): Promise<Reply> {
  const response = await fetch(url, init);
  const text = await response.text();
  return { status: response.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {}, headers: response.headers };
}

/** Sends a body without content-length (chunked), as a streaming client would; returns the status. */
function putChunked(url: string, chunks: Buffer[]): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: "PUT", headers: { "transfer-encoding": "chunked" } }, (res) => {
      let body = "";
      res.on("data", (chunk) => (body += chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    // The server may answer and close before the whole body is written.
    req.on("error", (error) => (req.writableEnded ? undefined : reject(error)));
    const writeNext = (i: number): void => {
      if (i === chunks.length) return void req.end();
      if (req.destroyed) return;
      req.write(chunks[i], () => setImmediate(() => writeNext(i + 1)));
    };
    writeNext(0);
  });
}

/** A GET whose request target is sent exactly as written, dot segments included. */
function rawGet(base: string, target: string, authorization: string): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    http
      .get({ hostname, port, path: target, headers: { authorization } }, (res) => {
        let body = "";
        res.on("data", (chunk) => (body += chunk));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on("error", reject);
  });
}

/** Opens a raw ws connection and reports how the server answered the upgrade. */
function wsAttempt(url: string): Promise<{ status: number; body: string } | { open: WebSocket }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.on("open", () => resolve({ open: ws }));
    ws.on("unexpected-response", (_req, res) => {
      let body = "";
      res.on("data", (chunk: Buffer) => (body += chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    ws.on("error", reject);
  });
}

async function collect(stream: AsyncIterable<JobLogMessage>, into: JobLogMessage[]): Promise<void> {
  for await (const message of stream) into.push(message);
}


describe("results server", () => {
  const consumer = Keypair.generate();
  const stranger = Keypair.generate();
  const job = Keypair.generate().publicKey.toBase58();
  const otherJob = Keypair.generate().publicKey.toBase58();
  const unknownJob = Keypair.generate().publicKey.toBase58();
  const outputsContent: Record<string, Buffer> = {
    "result.json": Buffer.from('{"accuracy":0.93}'),
    "model/weights.bin": randomBytes(300 * 1024),
    "logs/run one.txt": Buffer.from("spaces and ünïcödé in the name\n"),
  };

  let work: string;
  let store: BlobStore;
  let hub: JobLogHub;
  let clock: number;
  let server: ResultsServer;
  let manifest: ResultManifest;
  let root: Uint8Array;

  const consumerOf = async (id: string): Promise<string | null> => (id === job || id === otherJob ? consumer.publicKey.toBase58() : null);
  const as = (signer: Keypair) => ({ endpoint: server.url, job, publicKey: signer.publicKey, signMessage: keypairSigner(signer) });

  async function challenge(forJob = job): Promise<ResultsChallenge> {
    const reply = await request(`${server.url}/v1/jobs/${forJob}/challenge`);
    assert.equal(reply.status, 200);
    return reply.body as unknown as ResultsChallenge;
  }

  /** A header signed by `signer` over (`signedJob`, a fresh nonce issued for `nonceJob`). */
  async function header(signer: Keypair, options: { signedJob?: string; nonceJob?: string; nonce?: string } = {}): Promise<string> {
    const nonce = options.nonce ?? (await challenge(options.nonceJob ?? job)).nonce;
    const signature = await keypairSigner(signer)(resultsAuthMessage(options.signedJob ?? job, nonce));
    return authorizationHeader({ publicKey: signer.publicKey.toBase58(), nonce, signature });
  }

  const manifestUrl = () => `${server.url}/v1/jobs/${job}/results`;

  beforeEach(async () => {
    work = await fs.mkdtemp(path.join(os.tmpdir(), "cm-results-"));
    const outputs = path.join(work, "outputs");
    for (const [relative, content] of Object.entries(outputsContent)) {
      await fs.mkdir(path.dirname(path.join(outputs, relative)), { recursive: true });
      await fs.writeFile(path.join(outputs, relative), content);
    }
    store = await BlobStore.open(path.join(work, "store"));
    manifest = await hashOutputDir(outputs, 10 * 1024 * 1024, { store });
    root = hexToBytes(manifest.root);
    hub = new JobLogHub();
    hub.setManifest(job, manifest);
    clock = Date.now();
    server = await startResultsServer({ port: 0, store, jobs: hub, consumerOf, maxBlobBytes: MAX_BLOB, challenges: new ChallengeBook({ now: () => clock }) });
  });

  afterEach(async () => {
    await server.close();
    await fs.rm(work, { recursive: true, force: true });
  });

  describe("routing", () => {
    it("answers health, and JSON errors for unknown routes, wrong methods and malformed ids", async () => {
      assert.deepEqual((await request(`${server.url}/v1/health`)).body, { ok: true });
      const notFound = await request(`${server.url}/v2/anything`);
      assert.equal(notFound.status, 404);
      assert.equal(notFound.body.error, "no such route");
      const wrongMethod = await request(`${server.url}/v1/jobs/${job}/challenge`, { method: "POST" });
      assert.equal(wrongMethod.status, 405);
      assert.equal(wrongMethod.headers.get("allow"), "GET");
      assert.equal((await request(`${server.url}/v1/blobs/not-a-hash`)).status, 400);
      assert.match(String((await request(`${server.url}/v1/jobs/not_base58!/challenge`)).body.error), /job id/);
      const logsOverHttp = await request(`${server.url}/v1/jobs/${job}/logs`);
      assert.equal(logsOverHttp.status, 426);
    });

    it("answers CORS preflights so browser consumers can send Authorization", async () => {
      const reply = await fetch(manifestUrl(), { method: "OPTIONS", headers: { origin: "https://app.example", "access-control-request-headers": "authorization" } });
      assert.equal(reply.status, 204);
      assert.equal(reply.headers.get("access-control-allow-origin"), "*");
      assert.match(reply.headers.get("access-control-allow-headers") ?? "", /authorization/);
    });

    it("survives hostile request targets and headers", async () => {
      assert.equal((await request(`${server.url}/v1/jobs/${job}/results/files/%E0%A4%A`)).status, 400);
      assert.equal((await request(`${server.url}/v1/${"x".repeat(9_000)}`)).status, 414);
      const hugeHeader = await fetch(`${server.url}/v1/health`, { headers: { "x-pad": "y".repeat(20_000) } }).then((r) => r.status).catch(() => "closed");
      assert.ok(hugeHeader === 431 || hugeHeader === "closed");
      assert.deepEqual((await request(`${server.url}/v1/health`)).body, { ok: true });
    });
  });

  describe("service replicas", () => {
    it("tells where this node's replica of a lease answers, its health and latest acknowledgement, 404 for one it does not serve, 400 for a bad id, GET only", async () => {
      const report = { urls: ["http://127.0.0.1:40123"], health: { healthy: true, checkedAt: "2026-12-07T10:00:00.000Z" }, acknowledgedUpToSlot: "1234" };
      await server.close();
      server = await startResultsServer({ port: 0, store, jobs: hub, consumerOf, maxBlobBytes: MAX_BLOB, replicaReportOf: async (id) => (id === job ? report : null) });
      assert.deepEqual(await request(`${server.url}/v1/services/${job}`).then((r) => [r.status, r.body]), [200, { job, ...report }]);
      // The SDK's reader of the same route.
      assert.deepEqual(await fetchReplicaReport(server.url, job), { job, ...report });
      assert.equal(await fetchReplicaReport(server.url, Keypair.generate().publicKey), null, "a replica it does not serve");
      const other = Keypair.generate().publicKey.toBase58();
      const missing = await request(`${server.url}/v1/services/${other}`);
      assert.equal(missing.status, 404);
      assert.match(String(missing.body.error), /serves no replica/);
      assert.equal((await request(`${server.url}/v1/services/not_base58!`)).status, 400);
      const post = await request(`${server.url}/v1/services/${job}`, { method: "POST" });
      assert.equal(post.status, 405);
      assert.equal(post.headers.get("allow"), "GET");
    });
  });

  describe("challenges", () => {
    it("issues a fresh 32-byte nonce valid for a minute, and 404 for an unknown job", async () => {
      const first = await challenge();
      const second = await challenge();
      assert.match(first.nonce, /^[0-9a-f]{64}$/);
      assert.notEqual(first.nonce, second.nonce);
      assert.equal(first.expiresAt, clock + 60_000);
      const unknown = await request(`${server.url}/v1/jobs/${unknownJob}/challenge`);
      assert.equal(unknown.status, 404);
      assert.equal(unknown.body.error, "unknown job");
      await assert.rejects(fetchResults({ ...as(consumer), job: unknownJob, expectedRoot: root }), (error: Error) => {
        assert.ok(error instanceof ResultsHttpError);
        assert.equal(error.status, 404);
        assert.equal(error.serverMessage, "unknown job");
        return true;
      });
    });

    it("keeps a bounded number of outstanding nonces, dropping the oldest", () => {
      const book = new ChallengeBook({ maxOutstanding: 3 });
      const nonces = Array.from({ length: 5 }, () => book.issue(job).nonce);
      assert.equal(book.size, 3);
      assert.equal(book.take(job, nonces[0]), "unknown");
      assert.equal(book.take(job, nonces[4]), "ok");
    });
  });

  describe("auth refusals", () => {
    async function refused(headerValue: string | undefined, pattern: RegExp): Promise<void> {
      const reply = await request(manifestUrl(), { headers: headerValue === undefined ? {} : { authorization: headerValue } });
      assert.equal(reply.status, 401, JSON.stringify(reply.body));
      assert.match(String(reply.body.error), pattern);
      assert.equal(reply.headers.get("www-authenticate"), "CM-Ed25519");
    }

    it("refuses a request without credentials", async () => {
      await refused(undefined, /^missing credentials/);
    });

    it("refuses malformed credentials, naming the bad part", async () => {
      const good = await header(consumer);
      const [, triple] = good.split(" ");
      const [pubkey, nonce, signature] = triple.split(":");
      await refused(`Bearer ${triple}`, /^malformed authorization: expected scheme CM-Ed25519/);
      await refused("CM-Ed25519 just-one-part", /^malformed credentials: expected <pubkey>:<nonce>:<signature>/);
      await refused(`CM-Ed25519 0OIl:${nonce}:${signature}`, /public key/);
      await refused(`CM-Ed25519 ${pubkey}:${nonce.toUpperCase()}:${signature}`, /nonce must be 64 lower-case hex/);
      await refused(`CM-Ed25519 ${pubkey}:${nonce}:${signature.slice(4)}`, /signature must be 64 bytes in base64/);
    });

    it("refuses a nonce it never issued, or issued for another job", async () => {
      await refused(await header(consumer, { nonce: randomBytes(32).toString("hex") }), /^unknown nonce/);
      await refused(await header(consumer, { nonceJob: otherJob }), /^unknown nonce/);
    });

    it("refuses an expired nonce", async () => {
      // Given a signed nonce presented 61 s after it was issued
      const late = await header(consumer);
      clock += 61_000;
      // Then it is refused as expired
      await refused(late, /^expired nonce/);
    });

    it("refuses a replayed nonce", async () => {
      // Given one signed request that succeeds
      const once = await header(consumer);
      assert.equal((await request(manifestUrl(), { headers: { authorization: once } })).status, 200);
      // When the same header is sent again
      // Then the nonce is gone
      await refused(once, /^unknown nonce/);
    });

    it("refuses a signature over another message, and burns the nonce", async () => {
      const nonce = (await challenge()).nonce;
      await refused(await header(consumer, { signedJob: otherJob, nonce }), /^bad signature$/);
      await refused(await header(consumer, { nonce }), /^unknown nonce/);
    });

    it("refuses a valid signature from a wallet that is not the job's consumer", async () => {
      await refused(await header(stranger), /^not the job's consumer$/);
      await assert.rejects(fetchResults({ ...as(stranger), expectedRoot: root }), (error: Error) => error instanceof ResultsHttpError && error.status === 401);
    });
  });

  describe("results", () => {
    it("serves the manifest and the files to the consumer, verified against the expected root", async () => {
      // When the consumer fetches the results with its wallet
      const results = await fetchResults({ ...as(consumer), expectedRoot: root });
      // Then it has the manifest and every file, byte for byte
      assert.deepEqual(results.manifest, manifest);
      assert.deepEqual([...results.files.keys()].sort(), Object.keys(outputsContent).sort());
      for (const [relative, content] of Object.entries(outputsContent)) assert.deepEqual(Buffer.from(results.files.get(relative)!), content);
    });

    it("answers 404 for a file not in the results and 400 for a path that tries to leave", async () => {
      const missing = await request(`${manifestUrl()}/files/nope.txt`, { headers: { authorization: await header(consumer) } });
      assert.equal(missing.status, 404);
      assert.equal(missing.body.error, "no such file in the results");
      // Sent raw: fetch would resolve the dot segments itself
      for (const target of ["../../etc/passwd", "%2e%2e/%2e%2e/etc/passwd", "a//b", "a/%2F/b"]) {
        const escape = await rawGet(server.url, `/v1/jobs/${job}/results/files/${target}`, await header(consumer));
        assert.equal(escape.status, 400, target);
        assert.equal(JSON.parse(escape.body).error, "the file path must be a safe relative path");
      }
    });

    it("answers 404 before results exist", async () => {
      const reply = await request(`${server.url}/v1/jobs/${otherJob}/results`, { headers: { authorization: await header(consumer, { signedJob: otherJob, nonceJob: otherJob }) } });
      assert.equal(reply.status, 404);
      assert.equal(reply.body.error, "no results for this job yet");
    });

    it("detects a file altered in the provider's store after hashing", async () => {
      // Given the stored copy of one output was changed on disk (same size, different bytes)
      const target = manifest.files.find((f) => f.path === "model/weights.bin")!;
      const onDisk = await fs.readFile(store.pathOf(target.sha256));
      onDisk[1000] ^= 0xff;
      await fs.writeFile(store.pathOf(target.sha256), onDisk);
      // Then the client refuses the results, naming the file
      await assert.rejects(fetchResults({ ...as(consumer), expectedRoot: root }), (error: Error) => {
        assert.ok(error instanceof ResultVerificationError);
        assert.equal(error.path, "model/weights.bin");
        assert.match(error.message, /sha256/);
        return true;
      });
    });

    it("detects a stored file that grew", async () => {
      const target = manifest.files.find((f) => f.path === "result.json")!;
      await fs.appendFile(store.pathOf(target.sha256), "extra");
      await assert.rejects(fetchResults({ ...as(consumer), expectedRoot: root }), (error: Error) => error instanceof ResultVerificationError && error.path === "result.json");
    });

    it("refuses results whose root is not the expected on-chain root, or whose manifest lies", async () => {
      const otherRoot = new Uint8Array(32).fill(7);
      await assert.rejects(fetchResults({ ...as(consumer), expectedRoot: otherRoot }), /not the expected \(on-chain\) output root/);
      // Given a manifest that swapped a file's hash but kept the root
      hub.setManifest(job, { ...manifest, files: manifest.files.map((f, i) => (i === 0 ? { ...f, sha256: sha256Hex("evil") } : f)) });
      await assert.rejects(fetchResults({ ...as(consumer), expectedRoot: root }), /the manifest's root is not the root of its files/);
    });
  });

  describe("blobs", () => {
    it("takes a public upload and serves it back, verified", async () => {
      // Given a consumer publishing a job spec
      const spec = new TextEncoder().encode('{"version":1}');
      // When it uploads and anyone fetches it
      const id = await uploadBlob(server.url, spec);
      assert.equal(id, sha256Hex(spec));
      assert.deepEqual(await fetchBlob(server.url, id), spec);
      // Then HEAD gives its size, and uploading again answers 200 instead of 201
      const head = await fetch(`${server.url}/v1/blobs/${id}`, { method: "HEAD" });
      assert.equal(head.status, 200);
      assert.equal(head.headers.get("content-length"), String(spec.length));
      assert.equal((await request(`${server.url}/v1/blobs/${id}`, { method: "PUT", body: spec })).status, 200);
      assert.equal((await request(`${server.url}/v1/blobs/${sha256Hex("absent")}`)).status, 404);
    });

    it("refuses an upload whose body does not hash to its URL, keeping nothing", async () => {
      const claimed = sha256Hex("what I claim");
      const reply = await request(`${server.url}/v1/blobs/${claimed}`, { method: "PUT", body: "what I send" });
      assert.equal(reply.status, 400);
      assert.match(String(reply.body.error), new RegExp(`hashes to ${sha256Hex("what I send")}, not ${claimed}`));
      assert.equal(await store.has(claimed), false);
      assert.equal(await store.has(sha256Hex("what I send")), false);
    });

    it("refuses an oversized upload with 413, declared or streamed, keeping nothing", async () => {
      const big = randomBytes(MAX_BLOB + 1);
      const id = sha256Hex(big);
      // Declared by content-length: refused before reading
      const declared = await request(`${server.url}/v1/blobs/${id}`, { method: "PUT", body: big });
      assert.equal(declared.status, 413);
      assert.equal(declared.body.error, `blob larger than ${MAX_BLOB} bytes`);
      // Streamed without a length: refused once it passes the limit
      const chunks = Array.from({ length: 8 }, (_, i) => big.subarray((i * big.length) / 8, ((i + 1) * big.length) / 8));
      const streamed = await putChunked(`${server.url}/v1/blobs/${id}`, chunks);
      assert.equal(streamed.status, 413);
      assert.equal(await store.has(id), false);
      assert.deepEqual(await fs.readdir(path.join(work, "store", "tmp")), []);
      // And the server carries on
      assert.equal((await request(`${server.url}/v1/health`)).status, 200);
      assert.equal(await uploadBlob(server.url, big.subarray(0, MAX_BLOB)), sha256Hex(big.subarray(0, MAX_BLOB)));
    });

    it("refuses public uploads with 507 once the store holds its quota, keeping nothing", async () => {
      // Given a server whose store may hold only 100 bytes more than it holds now
      await server.close();
      const quota = (await store.totalBytes()) + 100;
      server = await startResultsServer({ port: 0, store, jobs: hub, consumerOf, maxBlobBytes: MAX_BLOB, maxStoreBytes: quota });
      const first = randomBytes(80);
      const second = randomBytes(80);
      // When two 80-byte blobs are uploaded
      assert.equal(await uploadBlob(server.url, first), sha256Hex(first));
      const refused = await request(`${server.url}/v1/blobs/${sha256Hex(second)}`, { method: "PUT", body: second });
      // Then the second is refused and not kept, and the first can still be uploaded again
      assert.equal(refused.status, 507);
      assert.equal(refused.body.error, "the blob store is full");
      assert.equal(await store.has(sha256Hex(second)), false);
      assert.equal(await store.totalBytes(), quota - 20);
      assert.equal((await request(`${server.url}/v1/blobs/${sha256Hex(first)}`, { method: "PUT", body: first })).status, 200);
    });

    it("lets the client catch a blob altered on the server", async () => {
      const id = await uploadBlob(server.url, new TextEncoder().encode("input data"));
      await fs.writeFile(store.pathOf(id), "other data");
      await assert.rejects(fetchBlob(server.url, id), ResultVerificationError);
    });
  });

  describe("log hub", () => {
    it("keeps a bounded ring of lines per job, cuts long lines and ignores lines after the end", () => {
      const small = new JobLogHub({ maxLinesPerJob: 3, maxLineLength: 5, now: () => 42 });
      for (let i = 1; i <= 5; i++) small.append(job, "stdout", `line ${i}`);
      assert.deepEqual(small.history(job), [
        { stream: "stdout", line: "line ", at: 42 },
        { stream: "stdout", line: "line ", at: 42 },
        { stream: "stdout", line: "line ", at: 42 },
      ]);
      const seen: string[] = [];
      small.subscribe(job, (event) => seen.push("event" in event ? `end:${event.status}` : event.line));
      small.append(job, "stderr", "x");
      small.end(job, "failed");
      small.append(job, "stdout", "late");
      small.end(job, "succeeded");
      assert.deepEqual(seen, ["x", "end:failed"]);
      assert.equal(small.ended(job), "failed");
      assert.equal(small.history(job).at(-1)?.line, "x");
    });

    it("forgets the oldest ended job first when tracking too many", () => {
      const hubOfTwo = new JobLogHub({ maxJobs: 2 });
      hubOfTwo.append("running", "stdout", "a");
      hubOfTwo.append("done", "stdout", "b");
      hubOfTwo.end("done", "succeeded");
      hubOfTwo.append("new", "stdout", "c");
      assert.deepEqual([hubOfTwo.history("running").length, hubOfTwo.history("done").length, hubOfTwo.history("new").length], [1, 0, 1]);
    });
  });

  it("answers 500 without crashing when the chain lookup fails", async () => {
    await server.close();
    server = await startResultsServer({
      port: 0,
      store,
      jobs: hub,
      maxBlobBytes: MAX_BLOB,
      consumerOf: async () => {
        throw new Error("rpc down");
      },
    });
    const reply = await request(`${server.url}/v1/jobs/${job}/challenge`);
    assert.equal(reply.status, 500);
    assert.equal(reply.body.error, "internal error");
    assert.equal((await request(`${server.url}/v1/health`)).status, 200);
  });

  describe("logs websocket", () => {
    const Socket = WebSocket as unknown as WebSocketConstructor;

    it("sends the history, then live lines, then the end", async () => {
      // Given two lines already logged
      hub.append(job, "stdout", "epoch 1");
      hub.append(job, "stderr", "warning: slow disk");
      // When the consumer connects
      const messages: JobLogMessage[] = [];
      const done = collect(streamLogs({ ...as(consumer), WebSocket: Socket }), messages);
      await until("the history", () => messages.length === 2, 5_000, 5);
      // And more lines arrive, then the job ends
      hub.append(job, "stdout", "epoch 2");
      await until("a live line", () => messages.length === 3, 5_000, 5);
      hub.end(job, "succeeded");
      await done;
      // Then it saw all of them in order, and the iteration finished after the end
      assert.deepEqual(
        messages.map((m) => ("event" in m ? `end:${m.status}` : `${m.stream}:${m.line}`)),
        ["stdout:epoch 1", "stderr:warning: slow disk", "stdout:epoch 2", "end:succeeded"],
      );
      assert.ok(messages.every((m) => "event" in m || typeof m.at === "number"));
    });

    it("sends the history and the end at once for a job that has ended", async () => {
      hub.append(job, "system", "container exited with 0");
      hub.end(job, "succeeded");
      const messages: JobLogMessage[] = [];
      await collect(streamLogs({ ...as(consumer), WebSocket: Socket }), messages);
      assert.deepEqual(messages.map((m) => ("event" in m ? m.status : m.line)), ["container exited with 0", "succeeded"]);
    });

    it("refuses the upgrade with 401 JSON for missing, bad or foreign credentials", async () => {
      const base = `${server.url.replace("http", "ws")}/v1/jobs/${job}/logs`;
      const missing = await wsAttempt(base);
      assert.ok("status" in missing);
      assert.equal(missing.status, 401);
      assert.match(JSON.parse(missing.body).error, /^missing credentials/);

      const nonce = (await challenge()).nonce;
      const signature = await keypairSigner(stranger)(resultsAuthMessage(job, nonce));
      const foreign = await wsAttempt(`${base}?auth=${encodeURIComponent(encodeCredentials({ publicKey: stranger.publicKey.toBase58(), nonce, signature }))}`);
      assert.ok("status" in foreign);
      assert.equal(foreign.status, 401);
      assert.equal(JSON.parse(foreign.body).error, "not the job's consumer");

      const replay = await wsAttempt(`${base}?auth=${encodeURIComponent(encodeCredentials({ publicKey: stranger.publicKey.toBase58(), nonce, signature }))}`);
      assert.ok("status" in replay);
      assert.match(JSON.parse(replay.body).error, /^unknown nonce/);

      await assert.rejects(collect(streamLogs({ ...as(stranger), WebSocket: Socket }), []), /401/);
    });

    it("closes live subscriptions when the server closes", async () => {
      const messages: JobLogMessage[] = [];
      const outcome = collect(streamLogs({ ...as(consumer), WebSocket: Socket }), messages).then(() => null, (error: Error) => error);
      hub.append(job, "stdout", "working");
      await until("a live line", () => messages.length === 1, 5_000, 5);
      await server.close();
      assert.match(String((await outcome)?.message), /closed before the job ended/);
      server = await startResultsServer({ port: 0, store, jobs: hub, consumerOf, maxBlobBytes: MAX_BLOB });
    });
  });

  describe("shell websocket", () => {
    const Socket = WebSocket as unknown as WebSocketConstructor;

    /** A shell that echoes its input in upper case and exits 0 at the end of its input. */
    function fakeShell(): ReplicaShell & { received: string[] } {
      const stdout = new PassThrough();
      const stderr = new PassThrough();
      let exit: (code: number) => void = () => undefined;
      const received: string[] = [];
      return {
        received,
        stdout,
        stderr,
        write: (input) => {
          received.push(input);
          stdout.write(input.toUpperCase());
        },
        end: () => {
          stdout.end();
          exit(0);
        },
        exited: new Promise<number | null>((resolve) => (exit = resolve)),
      };
    }

    async function withShells(shellOf: (id: string) => Promise<ReplicaShell | null>): Promise<void> {
      await server.close();
      server = await startResultsServer({ port: 0, store, jobs: hub, consumerOf, maxBlobBytes: MAX_BLOB, shellOf });
    }

    it("gives the consumer the replica's shell: input in, output out, then the exit", async () => {
      const shell = fakeShell();
      await withShells(async (id) => (id === job ? shell : null));
      const session = await openShell({ ...as(consumer), WebSocket: Socket });
      session.write("echo hi\n");
      session.end();
      const messages: ShellMessage[] = [];
      for await (const message of session.messages) messages.push(message);
      assert.deepEqual(messages, [{ stream: "stdout", data: "ECHO HI\n" }, { event: "exit", code: 0 }]);
      assert.deepEqual(shell.received, ["echo hi\n"]);
    });

    it("refuses a stranger (401), a job this node serves no replica of (404) and plain HTTP (426)", async () => {
      const opened: string[] = [];
      await withShells(async (id) => {
        opened.push(id);
        return id === job ? fakeShell() : null;
      });
      const strangers = await openShell({ ...as(stranger), WebSocket: Socket });
      await assert.rejects(strangers.messages.next(), /shell (failed|closed)/);
      const base = `${server.url.replace("http", "ws")}/v1/services`;
      const nonce = (await challenge(otherJob)).nonce;
      const signature = await keypairSigner(consumer)(resultsAuthMessage(otherJob, nonce));
      const unserved = await wsAttempt(`${base}/${otherJob}/shell?auth=${encodeURIComponent(encodeCredentials({ publicKey: consumer.publicKey.toBase58(), nonce, signature }))}`);
      assert.ok("status" in unserved);
      assert.equal(unserved.status, 404);
      assert.deepEqual(opened, [otherJob], "no shell is opened for a refused caller");
      assert.equal((await request(`${server.url}/v1/services/${job}/shell`)).status, 426);
    });

    it("closes a session that sends anything but stdin or eof, which ends the shell's input", async () => {
      const shell = fakeShell();
      await withShells(async () => shell);
      const nonce = (await challenge()).nonce;
      const signature = await keypairSigner(consumer)(resultsAuthMessage(job, nonce));
      const raw = new WebSocket(`${server.url.replace("http", "ws")}/v1/services/${job}/shell?auth=${encodeURIComponent(encodeCredentials({ publicKey: consumer.publicKey.toBase58(), nonce, signature }))}`);
      await new Promise((resolve) => raw.once("open", resolve));
      raw.send("rm -rf /");
      const code = await new Promise<number>((resolve) => raw.once("close", resolve));
      assert.equal(code, 1007);
      assert.equal(await shell.exited, 0, "the closed session ended the shell's input");
      assert.deepEqual(shell.received, [], "nothing reached the shell");
    });
  });
});
