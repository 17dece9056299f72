// A content-addressed blob store on disk, and the hashing of a job's output directory into a
// ResultManifest. Blobs live at `<root>/blobs/<first 2 hex>/<other 62 hex>` and are written to
// `<root>/tmp` first, then renamed into place, so a blob path only ever holds complete content.
// Large files stream in 1 MiB chunks; only files of at most 1 MiB are read in one buffer.
import { createHash, randomBytes, type Hash } from "node:crypto";
import { constants as fsConstants, promises as fs } from "node:fs";
import type { FileHandle } from "node:fs/promises";
import path from "node:path";
import { Readable, Transform, Writable, type TransformCallback } from "node:stream";
import { pipeline } from "node:stream/promises";
import { buildManifest, isSafeRelativePath, type FileEntry, type ResultManifest } from "@compute-market/sdk";

const HEX64 = /^[0-9a-f]{64}$/;
const READ_CHUNK = 1 << 20;
/** Files up to this size are read in one buffer rather than streamed. */
const SMALL_FILE_BYTES = 1 << 20;
/** Files an output directory may hold at most unless the caller says otherwise. */
export const DEFAULT_MAX_OUTPUT_FILES = 100_000;

export class BlobTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`blob larger than ${limit} bytes`);
    this.name = "BlobTooLargeError";
  }
}

export class BlobHashMismatchError extends Error {
  constructor(readonly expected: string, readonly actual: string) {
    super(`content hashes to ${actual}, not ${expected}`);
    this.name = "BlobHashMismatchError";
  }
}

/** The output directory holds something that must not be served: a link, a special file, an odd name. */
export class UnsafeOutputError extends Error {
  constructor(readonly path: string, reason: string) {
    super(`unsafe output ${JSON.stringify(path)}: ${reason}`);
    this.name = "UnsafeOutputError";
  }
}

export class OutputTooLargeError extends Error {
  constructor(reason: string) {
    super(`output too large: ${reason}`);
    this.name = "OutputTooLargeError";
  }
}

/**
 * Bytes, the path of a regular file (a string is always a path), or a stream of chunks. A Readable
 * is destroyed if the put fails; pass `request.iterator({ destroyOnReturn: false })` to keep an
 * HTTP request's socket usable for the error response.
 */
export type BlobSource = Uint8Array | string | AsyncIterable<Uint8Array>;

export interface PutOptions {
  /** Refuse (and keep nothing) unless the content hashes to this lower-case hex. */
  expectedSha256?: string;
  /** Refuse (and keep nothing) past this many bytes. */
  maxBytes?: number;
}

export interface StoredBlob {
  sha256: string;
  size: number;
}

export function isSha256Hex(value: string): boolean {
  return HEX64.test(value);
}

export class BlobStore {
  /** Shard directories known to exist, to skip a mkdir per blob. */
  private readonly shards = new Set<string>();

  /** Bytes of all blobs held: walked once when first asked, then kept current by `commit`. */
  private storedBytes: number | null = null;

  private constructor(readonly root: string) {}

  /** Total bytes of the blobs in the store. */
  async totalBytes(): Promise<number> {
    if (this.storedBytes === null) this.storedBytes = await directoryBytes(path.join(this.root, "blobs"));
    return this.storedBytes;
  }

  /** Creates the layout under `root` and clears temp files a crash left behind. */
  static async open(root: string): Promise<BlobStore> {
    await fs.mkdir(path.join(root, "blobs"), { recursive: true });
    await fs.rm(path.join(root, "tmp"), { recursive: true, force: true });
    await fs.mkdir(path.join(root, "tmp"), { recursive: true });
    return new BlobStore(root);
  }

  /** Where a blob lives (whether or not it is there). */
  pathOf(sha256: string): string {
    if (!isSha256Hex(sha256)) throw new Error(`not a sha256 hex digest: ${JSON.stringify(sha256)}`);
    return path.join(this.root, "blobs", sha256.slice(0, 2), sha256.slice(2));
  }

  /** Stores the content and returns its sha256 hex. */
  async put(source: BlobSource, options: PutOptions = {}): Promise<string> {
    return (await this.ingest(source, options)).sha256;
  }

  /** Stores the content and returns its sha256 hex and size. */
  async ingest(source: BlobSource, options: PutOptions = {}): Promise<StoredBlob> {
    const budget = new ByteBudget(options.maxBytes ?? Number.MAX_SAFE_INTEGER);
    if (source instanceof Uint8Array) return this.ingestBytes(source, budget, options.expectedSha256);
    if (typeof source !== "string") return this.ingestMetered(toStream(source), budget, options.expectedSha256);
    const input = await openRegularFile(source, source);
    try {
      if (input.size > budget.limit) throw new BlobTooLargeError(budget.limit);
      return await this.ingestMetered(input.handle.createReadStream({ highWaterMark: READ_CHUNK, autoClose: false }), budget, options.expectedSha256);
    } finally {
      await input.handle.close().catch(() => undefined);
    }
  }

  /** Streams `chunks` into the store, counting them against `budget`, which several puts may share. */
  async ingestMetered(chunks: Readable, budget: ByteBudget, expectedSha256?: string): Promise<StoredBlob> {
    const temp = this.tempPath();
    try {
      const digest = await digestInto(chunks, await fs.open(temp, "wx"), budget);
      return await this.commit(temp, digest, expectedSha256);
    } catch (error) {
      await fs.rm(temp, { force: true });
      throw error;
    }
  }

  /** Bytes already in memory: one write instead of a stream, which matters for many small files. */
  async ingestBytes(bytes: Uint8Array, budget: ByteBudget, expectedSha256?: string): Promise<StoredBlob> {
    if (!budget.take(bytes.length)) throw new BlobTooLargeError(budget.limit);
    const digest = { sha256: createHash("sha256").update(bytes).digest("hex"), size: bytes.length };
    // Checked before writing so a refused put touches no disk.
    if (expectedSha256 !== undefined && digest.sha256 !== expectedSha256) throw new BlobHashMismatchError(expectedSha256, digest.sha256);
    const temp = this.tempPath();
    try {
      await fs.writeFile(temp, bytes, { flag: "wx" });
      return await this.commit(temp, digest, undefined);
    } catch (error) {
      await fs.rm(temp, { force: true });
      throw error;
    }
  }

  private tempPath(): string {
    return path.join(this.root, "tmp", randomBytes(16).toString("hex"));
  }

  /** Checks the digest and renames the finished temp file into place. */
  private async commit(temp: string, digest: StoredBlob, expectedSha256: string | undefined): Promise<StoredBlob> {
    if (expectedSha256 !== undefined && digest.sha256 !== expectedSha256) throw new BlobHashMismatchError(expectedSha256, digest.sha256);
    const target = this.pathOf(digest.sha256);
    const shard = path.dirname(target);
    if (!this.shards.has(shard)) {
      await fs.mkdir(shard, { recursive: true });
      this.shards.add(shard);
    }
    const replaced = await fs.stat(target).then((stat) => stat.size, () => 0);
    // Same name, same content: replacing an existing blob is harmless and repairs a damaged one.
    await fs.rename(temp, target);
    if (this.storedBytes !== null) this.storedBytes += digest.size - replaced;
    return digest;
  }

  async has(sha256: string): Promise<boolean> {
    return (await this.size(sha256)) !== null;
  }

  async size(sha256: string): Promise<number | null> {
    if (!isSha256Hex(sha256)) return null;
    try {
      return (await fs.stat(this.pathOf(sha256))).size;
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
  }

  /** The blob's bytes as a stream, or null when absent. */
  async get(sha256: string): Promise<Readable | null> {
    return (await this.openBlob(sha256))?.stream ?? null;
  }

  /** The blob's size and stream from one open file, or null when absent. */
  async openBlob(sha256: string): Promise<{ size: number; stream: Readable } | null> {
    if (!isSha256Hex(sha256)) return null;
    let handle: FileHandle;
    try {
      handle = await fs.open(this.pathOf(sha256), "r");
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
    try {
      const { size } = await handle.stat();
      return { size, stream: handle.createReadStream({ highWaterMark: READ_CHUNK }) };
    } catch (error) {
      await handle.close();
      throw error;
    }
  }
}

async function directoryBytes(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await fs.readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    total += entry.isDirectory() ? await directoryBytes(full) : (await fs.lstat(full)).size;
  }
  return total;
}

export interface HashOutputOptions {
  /** When given, each file is also copied into the store, in the same read pass as its hash. */
  store?: BlobStore;
  maxFiles?: number;
  /** Files read at once; small files are bound by per-file latency, not bandwidth. */
  concurrency?: number;
}

/** A byte limit shared by reads running at once. */
export class ByteBudget {
  private used = 0;

  constructor(readonly limit: number) {}

  /** Counts `bytes`; false once the total passes the limit. */
  take(bytes: number): boolean {
    this.used += bytes;
    return this.used <= this.limit;
  }

  fits(bytes: number): boolean {
    return this.used + bytes <= this.limit;
  }
}

/**
 * Hashes every regular file under `dir` into a ResultManifest, refusing symbolic links, special
 * files (FIFOs, sockets, devices), names that are not UTF-8 and totals above `maxBytes`: the
 * directory was written by a container, so nothing in it is trusted. Empty directories do not
 * appear in the manifest. Call it after the container has exited, when nothing can change the tree.
 */
export async function hashOutputDir(dir: string, maxBytes: number, options: HashOutputOptions = {}): Promise<ResultManifest> {
  const files = await listOutputFiles(Buffer.from(dir), "", options.maxFiles ?? DEFAULT_MAX_OUTPUT_FILES, []);
  const budget = new ByteBudget(maxBytes);
  const entries = await mapPool(files, options.concurrency ?? 8, (file) => hashOutputFile(file, budget, options.store));
  return buildManifest(entries);
}

/** `work` over `items` with at most `limit` running; the first failure stops new work and is thrown. */
async function mapPool<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  let failure: { error: unknown } | null = null;
  const worker = async (): Promise<void> => {
    while (failure === null && next < items.length) {
      const index = next++;
      try {
        results[index] = await work(items[index]);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  if (failure !== null) throw (failure as { error: unknown }).error;
  return results;
}

interface OutputFile {
  absolute: Buffer;
  relative: string;
}

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

async function listOutputFiles(dir: Buffer, prefix: string, maxFiles: number, into: OutputFile[]): Promise<OutputFile[]> {
  // Names as raw bytes: a name that is not UTF-8 would otherwise be silently rewritten.
  const dirents = await fs.readdir(dir, { withFileTypes: true, encoding: "buffer" });
  for (const dirent of dirents) {
    const name = decodeName(dirent.name, prefix);
    const relative = prefix === "" ? name : `${prefix}/${name}`;
    if (!isSafeRelativePath(relative)) throw new UnsafeOutputError(relative, "path is not a safe relative path (too long or odd segments)");
    const absolute = Buffer.concat([dir, Buffer.from("/"), dirent.name]);
    if (dirent.isSymbolicLink()) throw new UnsafeOutputError(relative, "symbolic links are not allowed in outputs");
    if (dirent.isDirectory()) {
      await listOutputFiles(absolute, relative, maxFiles, into);
    } else if (dirent.isFile()) {
      if (into.length >= maxFiles) throw new OutputTooLargeError(`more than ${maxFiles} files`);
      into.push({ absolute, relative });
    } else {
      throw new UnsafeOutputError(relative, "only regular files and directories are allowed in outputs (found a FIFO, socket or device)");
    }
  }
  return into;
}

function decodeName(name: Buffer, prefix: string): string {
  try {
    return strictUtf8.decode(name);
  } catch {
    throw new UnsafeOutputError(prefix === "" ? "?" : `${prefix}/?`, "file name is not valid UTF-8");
  }
}

async function hashOutputFile(file: OutputFile, budget: ByteBudget, store: BlobStore | undefined): Promise<FileEntry> {
  const tooLarge = () => new OutputTooLargeError(`more than ${budget.limit} bytes in total (at ${JSON.stringify(file.relative)})`);
  const input = await openRegularFile(file.absolute, file.relative);
  try {
    if (!budget.fits(input.size)) throw tooLarge();
    if (input.size <= SMALL_FILE_BYTES) {
      const bytes = await readUpTo(input.handle, input.size);
      if (bytes !== null) {
        const digest = store ? await store.ingestBytes(bytes, budget) : hashBytes(bytes, budget);
        return { path: file.relative, size: digest.size, sha256: Buffer.from(digest.sha256, "hex") };
      }
      // It grew since stat: stream it from the start like a large one.
    }
    const chunks = input.handle.createReadStream({ highWaterMark: READ_CHUNK, autoClose: false, start: 0 });
    const digest = store ? await store.ingestMetered(chunks, budget) : await digestInto(chunks, null, budget);
    return { path: file.relative, size: digest.size, sha256: Buffer.from(digest.sha256, "hex") };
  } catch (error) {
    throw error instanceof BlobTooLargeError ? tooLarge() : error;
  } finally {
    await input.handle.close().catch(() => undefined);
  }
}

/** The whole file if it holds at most `limit` bytes, else null; reads from the current position. */
async function readUpTo(handle: FileHandle, limit: number): Promise<Buffer | null> {
  const buffer = Buffer.allocUnsafe(limit + 1);
  let filled = 0;
  for (;;) {
    const { bytesRead } = await handle.read(buffer, filled, buffer.length - filled, null);
    if (bytesRead === 0) return buffer.subarray(0, filled);
    filled += bytesRead;
    if (filled > limit) return null;
  }
}

function hashBytes(bytes: Uint8Array, budget: ByteBudget): StoredBlob {
  if (!budget.take(bytes.length)) throw new BlobTooLargeError(budget.limit);
  return { sha256: createHash("sha256").update(bytes).digest("hex"), size: bytes.length };
}

/**
 * Opens a file for reading only if it is a regular file, without following a final symbolic link
 * and without blocking on a FIFO, so a path swapped after listing is refused too.
 */
async function openRegularFile(file: string | Buffer, shown: string): Promise<{ handle: FileHandle; size: number }> {
  let handle: FileHandle;
  try {
    handle = await fs.open(file, fsConstants.O_RDONLY | fsConstants.O_NOFOLLOW | fsConstants.O_NONBLOCK);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ELOOP") throw new UnsafeOutputError(shown, "symbolic links are not allowed in outputs");
    throw error;
  }
  const stat = await handle.stat();
  if (!stat.isFile()) {
    await handle.close();
    throw new UnsafeOutputError(shown, "not a regular file");
  }
  return { handle, size: stat.size };
}

/** Streams `chunks` through sha256 (and into `sink` when given, closing it), failing past the budget. */
async function digestInto(chunks: Readable, sink: FileHandle | null, budget: ByteBudget): Promise<StoredBlob> {
  const hash = createHash("sha256");
  const meter = new HashingMeter(hash, budget);
  const destination = sink ? sink.createWriteStream() : discard();
  await pipeline(chunks, meter, destination);
  return { sha256: hash.digest("hex"), size: meter.size };
}

/** Passes chunks through while hashing and counting them. */
class HashingMeter extends Transform {
  size = 0;

  constructor(private readonly hash: Hash, private readonly budget: ByteBudget) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.size += chunk.length;
    if (!this.budget.take(chunk.length)) return callback(new BlobTooLargeError(this.budget.limit));
    this.hash.update(chunk);
    callback(null, chunk);
  }
}

function discard(): Writable {
  return new Writable({ write: (_chunk, _encoding, callback) => callback() });
}

function toStream(source: Uint8Array | AsyncIterable<Uint8Array>): Readable {
  if (source instanceof Uint8Array) return Readable.from([Buffer.from(source.buffer, source.byteOffset, source.byteLength)]);
  return source instanceof Readable ? source : Readable.from(source);
}

function isNotFound(error: unknown): boolean {
  return (error as NodeJS.ErrnoException)?.code === "ENOENT";
}
