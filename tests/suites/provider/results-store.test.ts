// The provider's content-addressed blob store and the hashing of a job's output directory: layout,
// streaming puts, refusals that keep nothing, and the hostile files a container can leave behind.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { promises as fs, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { buildManifest, type FileEntry } from "@compute-market/sdk";
import {
  BlobHashMismatchError,
  BlobStore,
  BlobTooLargeError,
  hashOutputDir,
  OutputTooLargeError,
  UnsafeOutputError,
} from "../../../app/provider/src/results/store";

const sha256Hex = (bytes: Uint8Array | string) => createHash("sha256").update(bytes).digest("hex");

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Every file under `dir`, relative, sorted. */
async function listFiles(dir: string): Promise<string[]> {
  const entries = await fs.readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => path.relative(dir, path.join(e.parentPath ?? e.path, e.name))).sort();
}

function entry(relative: string, content: string | Buffer): FileEntry {
  const bytes = Buffer.from(content);
  return { path: relative, size: bytes.length, sha256: createHash("sha256").update(bytes).digest() };
}

describe("results blob store", () => {
  let work: string;
  let store: BlobStore;

  beforeEach(async () => {
    work = await fs.mkdtemp(path.join(os.tmpdir(), "cm-store-"));
    store = await BlobStore.open(path.join(work, "store"));
  });

  afterEach(async () => {
    await fs.rm(work, { recursive: true, force: true });
  });

  it("stores bytes under blobs/<2 hex>/<62 hex> and reads them back", async () => {
    // Given some bytes
    const bytes = Buffer.from("hello, results");
    // When they are put
    const id = await store.put(bytes);
    // Then the id is their sha256 and the blob sits at the content-addressed path
    assert.equal(id, sha256Hex(bytes));
    assert.equal(store.pathOf(id), path.join(work, "store", "blobs", id.slice(0, 2), id.slice(2)));
    assert.deepEqual(await fs.readFile(store.pathOf(id)), bytes);
    assert.equal(await store.has(id), true);
    assert.equal(await store.size(id), bytes.length);
    assert.deepEqual(await readAll((await store.get(id))!), bytes);
    // And putting them again changes nothing
    assert.equal(await store.put(bytes), id);
    assert.deepEqual(await listFiles(path.join(work, "store", "blobs")), [path.join(id.slice(0, 2), id.slice(2))]);
  });

  it("stores from a file path and from a stream", async () => {
    const file = path.join(work, "input.bin");
    const content = Buffer.alloc(3 * 1024 * 1024 + 7, 0xab);
    await fs.writeFile(file, content);
    assert.equal(await store.put(file), sha256Hex(content));
    const chunks = [Buffer.from("part one, "), Buffer.from("part two")];
    assert.deepEqual(await store.ingest(Readable.from(chunks)), { sha256: sha256Hex("part one, part two"), size: 18 });
    async function* generated(): AsyncGenerator<Uint8Array> {
      yield new Uint8Array([1, 2]);
      yield new Uint8Array([3]);
    }
    assert.equal(await store.put(generated()), sha256Hex(Buffer.from([1, 2, 3])));
  });

  it("answers absent and malformed ids without throwing", async () => {
    const absent = sha256Hex("never stored");
    assert.equal(await store.has(absent), false);
    assert.equal(await store.size(absent), null);
    assert.equal(await store.get(absent), null);
    assert.equal(await store.has("../../etc/passwd"), false);
    assert.equal(await store.get("ABCD"), null);
  });

  it("keeps nothing when the content does not hash to the expected id", async () => {
    // Given an expected id that is not the content's
    const wrong = sha256Hex("something else");
    // When the put is made
    await assert.rejects(store.put(Buffer.from("actual"), { expectedSha256: wrong }), BlobHashMismatchError);
    // Then neither the content nor a temp file remains
    assert.deepEqual(await listFiles(path.join(work, "store")), []);
    assert.equal(await store.has(sha256Hex("actual")), false);
  });

  it("keeps nothing past maxBytes, from bytes, streams or files", async () => {
    await assert.rejects(store.put(Buffer.alloc(11), { maxBytes: 10 }), BlobTooLargeError);
    await assert.rejects(store.put(Readable.from([Buffer.alloc(6), Buffer.alloc(6)]), { maxBytes: 10 }), BlobTooLargeError);
    const file = path.join(work, "big");
    await fs.writeFile(file, Buffer.alloc(11));
    await assert.rejects(store.put(file, { maxBytes: 10 }), BlobTooLargeError);
    assert.deepEqual(await listFiles(path.join(work, "store")), []);
    assert.equal(await store.put(Buffer.alloc(10), { maxBytes: 10 }), sha256Hex(Buffer.alloc(10)));
  });

  it("refuses to store through a symbolic link", async () => {
    const target = path.join(work, "secret");
    await fs.writeFile(target, "secret");
    await fs.symlink(target, path.join(work, "link"));
    await assert.rejects(store.put(path.join(work, "link")), UnsafeOutputError);
  });

  it("clears temp files a crash left behind when opened", async () => {
    await fs.writeFile(path.join(work, "store", "tmp", "leftover"), "partial");
    await BlobStore.open(path.join(work, "store"));
    assert.deepEqual(await fs.readdir(path.join(work, "store", "tmp")), []);
  });
});

describe("results output hashing", () => {
  let work: string;
  let outputs: string;
  let store: BlobStore;

  beforeEach(async () => {
    work = await fs.mkdtemp(path.join(os.tmpdir(), "cm-outputs-"));
    outputs = path.join(work, "outputs");
    await fs.mkdir(outputs);
    store = await BlobStore.open(path.join(work, "store"));
  });

  afterEach(async () => {
    await fs.rm(work, { recursive: true, force: true });
  });

  async function write(relative: string, content: string | Buffer): Promise<void> {
    await fs.mkdir(path.dirname(path.join(outputs, relative)), { recursive: true });
    await fs.writeFile(path.join(outputs, relative), content);
  }

  it("walks nested directories into the canonical manifest and ingests every file", async () => {
    // Given nested files, an empty file and an empty directory
    await write("result.json", '{"ok":true}');
    await write("plots/a.png", Buffer.from([0x89, 0x50, 0x4e, 0x47]));
    await write("plots/deep/er/b.csv", "x,y\n1,2\n");
    await write("empty", "");
    await fs.mkdir(path.join(outputs, "nothing-here"));
    // When the directory is hashed with a store
    const manifest = await hashOutputDir(outputs, 1024, { store });
    // Then the manifest is the canonical one of those files
    const expected = buildManifest([
      entry("result.json", '{"ok":true}'),
      entry("plots/a.png", Buffer.from([0x89, 0x50, 0x4e, 0x47])),
      entry("plots/deep/er/b.csv", "x,y\n1,2\n"),
      entry("empty", ""),
    ]);
    assert.deepEqual(manifest, expected);
    assert.deepEqual(manifest.files.map((f) => f.path), ["empty", "plots/a.png", "plots/deep/er/b.csv", "result.json"]);
    // And each file can be read back from the store by its hash
    for (const file of manifest.files) {
      assert.deepEqual(await readAll((await store.get(file.sha256))!), await fs.readFile(path.join(outputs, file.path)));
    }
  });

  it("hashes without a store, leaving the store empty", async () => {
    await write("a", "1");
    const manifest = await hashOutputDir(outputs, 1024);
    assert.deepEqual(manifest, buildManifest([entry("a", "1")]));
    assert.equal(await store.has(manifest.files[0].sha256), false);
  });

  it("gives an empty directory the empty root", async () => {
    const manifest = await hashOutputDir(outputs, 0, { store });
    assert.deepEqual(manifest, buildManifest([]));
  });

  it("streams a large file to the right hash", async () => {
    const big = Buffer.alloc(24 * 1024 * 1024 + 3);
    for (let i = 0; i < big.length; i += 4096) big[i] = i & 0xff;
    await write("big.bin", big);
    const manifest = await hashOutputDir(outputs, big.length, { store });
    assert.deepEqual(manifest.files, [{ path: "big.bin", size: big.length, sha256: sha256Hex(big) }]);
  });

  it("rejects a symbolic link to a file, with its path in the error", async () => {
    // Given a container planted a link to a host file
    await write("ok.txt", "fine");
    await fs.symlink("/etc/passwd", path.join(outputs, "passwd"));
    // Then hashing refuses it by name
    await assert.rejects(hashOutputDir(outputs, 1 << 20, { store }), (error: Error) => {
      assert.ok(error instanceof UnsafeOutputError);
      assert.match(error.message, /"passwd".*symbolic link/);
      return true;
    });
  });

  it("rejects a symbolic link to a directory, even a dangling one", async () => {
    await fs.mkdir(path.join(outputs, "sub"));
    await fs.symlink("/", path.join(outputs, "sub", "root"));
    await assert.rejects(hashOutputDir(outputs, 1 << 20), /unsafe output "sub\/root": symbolic links/);
    await fs.rm(path.join(outputs, "sub", "root"));
    await fs.symlink("/does/not/exist", path.join(outputs, "dangling"));
    await assert.rejects(hashOutputDir(outputs, 1 << 20), UnsafeOutputError);
  });

  it("rejects a FIFO rather than blocking on it", async () => {
    execFileSync("mkfifo", [path.join(outputs, "pipe")]);
    await assert.rejects(hashOutputDir(outputs, 1 << 20, { store }), /unsafe output "pipe": only regular files/);
  });

  it("rejects a file name that is not UTF-8", async () => {
    writeFileSync(Buffer.concat([Buffer.from(outputs + "/bad-"), Buffer.from([0xff, 0xfe])]), "x");
    await assert.rejects(hashOutputDir(outputs, 1 << 20), /not valid UTF-8/);
  });

  it("enforces maxBytes over the total, at exactly the limit and one past it", async () => {
    // Given 100 bytes in three files
    await write("a", Buffer.alloc(40));
    await write("b/c", Buffer.alloc(40));
    await write("d", Buffer.alloc(20));
    // Then 100 is accepted and 99 refused, with or without a store
    assert.equal((await hashOutputDir(outputs, 100)).files.length, 3);
    await assert.rejects(hashOutputDir(outputs, 99), OutputTooLargeError);
    await assert.rejects(hashOutputDir(outputs, 99, { store }), /output too large: more than 99 bytes in total/);
  });

  it("enforces maxBytes across large files read at the same time", async () => {
    // Given three 2 MiB files, each of which fits alone in 5 MiB
    for (const name of ["x", "y", "z"]) await write(name, Buffer.alloc(2 * 1024 * 1024, name));
    // Then their total is refused, streamed in parallel or one at a time
    await assert.rejects(hashOutputDir(outputs, 5 * 1024 * 1024, { store }), OutputTooLargeError);
    await assert.rejects(hashOutputDir(outputs, 5 * 1024 * 1024, { concurrency: 1 }), OutputTooLargeError);
    assert.equal((await hashOutputDir(outputs, 6 * 1024 * 1024, { store })).files.length, 3);
  });

  it("enforces a file count limit", async () => {
    for (let i = 0; i < 5; i++) await write(`f${i}`, "");
    await assert.rejects(hashOutputDir(outputs, 0, { maxFiles: 4 }), /more than 4 files/);
    assert.equal((await hashOutputDir(outputs, 0, { maxFiles: 5 })).files.length, 5);
  });
});
