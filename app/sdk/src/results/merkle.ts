// The output Merkle root of a job's result files. This is a protocol format: the `output_root` a
// provider commits on-chain is exactly this value, so any change here breaks every consumer.
//
//   Files are (path, size, sha256(content)) with `path` a relative POSIX path (no leading `/`, no
//   empty, `.` or `..` segments; see `isSafeRelativePath`), unique within the set.
//
//   leaf(file) = sha256( 0x00
//                      || u32-LE(byte length of the UTF-8 path)
//                      || UTF-8 path bytes
//                      || u64-LE(size)
//                      || sha256(content) )                       -- 32 bytes
//
//   The leaves are ordered by their UTF-8 path bytes, ascending (unsigned byte-wise comparison,
//   shorter prefix first), whatever order the files were listed in.
//
//   node(left, right) = sha256( 0x01 || left || right )
//
//   Each level pairs nodes left to right; when a level has an odd count, its last node is carried
//   up to the next level unchanged (it is not hashed with itself).
//
//   root(no files) = sha256( 0x02 )        -- a marker no leaf or node can equal
//   root(one file) = leaf(that file)
//   root(n files)  = the single node left after repeated pairing
//
// The 0x00 / 0x01 / 0x02 prefixes keep leaves, inner nodes and the empty root in separate domains,
// so a leaf can never be passed off as an inner node or vice versa.
import { sha256 } from "@noble/hashes/sha256";
import { bytesToHex, hexToBytes } from "@noble/hashes/utils";
import { isSafeRelativePath } from "../spec";
import { equalBytes } from "./internal";

const LEAF_PREFIX = 0x00;
const NODE_PREFIX = 0x01;
const EMPTY_PREFIX = 0x02;
const HEX64 = /^[0-9a-f]{64}$/;

/** One result file as the tree sees it. */
export interface FileEntry {
  path: string;
  size: number;
  /** sha256 of the file's bytes, 32 bytes. */
  sha256: Uint8Array;
}

/** One step up from a leaf: the sibling's hash and which side of the pair the sibling sits on. */
export interface MerkleProofStep {
  sibling: Uint8Array;
  side: "left" | "right";
}

/** The path from one leaf to the root, leaf level first. Levels where the node was carried up add no step. */
export type MerkleProof = MerkleProofStep[];

/** What a provider serves at `GET /v1/jobs/:job/results`; files in canonical (path byte) order. */
export interface ResultManifest {
  version: 1;
  files: { path: string; size: number; sha256: string }[];
  /** Lower-case hex of `merkleRoot(files)`. */
  root: string;
}

export class InvalidResultSetError extends Error {
  constructor(reason: string) {
    super(`invalid result set: ${reason}`);
    this.name = "InvalidResultSetError";
  }
}

const encoder = new TextEncoder();

/** The root of no files at all. */
export function emptyRoot(): Uint8Array {
  return sha256(Uint8Array.of(EMPTY_PREFIX));
}

export function leafHash(entry: FileEntry): Uint8Array {
  checkEntry(entry);
  const path = encoder.encode(entry.path);
  const buffer = new Uint8Array(1 + 4 + path.length + 8 + 32);
  const view = new DataView(buffer.buffer);
  buffer[0] = LEAF_PREFIX;
  view.setUint32(1, path.length, true);
  buffer.set(path, 5);
  view.setBigUint64(5 + path.length, BigInt(entry.size), true);
  buffer.set(entry.sha256, 5 + path.length + 8);
  return sha256(buffer);
}

export function nodeHash(left: Uint8Array, right: Uint8Array): Uint8Array {
  const buffer = new Uint8Array(1 + 32 + 32);
  buffer[0] = NODE_PREFIX;
  buffer.set(left, 1);
  buffer.set(right, 33);
  return sha256(buffer);
}

/** Unsigned byte-wise order of the UTF-8 encodings, which differs from JS string order outside the BMP. */
export function comparePaths(a: string, b: string): number {
  return compareBytes(encoder.encode(a), encoder.encode(b));
}

/** The entries in canonical order, after checking paths are safe and unique. Does not mutate its input. */
export function canonicalOrder(entries: readonly FileEntry[]): FileEntry[] {
  const keyed = entries.map((entry) => {
    checkEntry(entry);
    return { entry, key: encoder.encode(entry.path) };
  });
  keyed.sort((a, b) => compareBytes(a.key, b.key));
  for (let i = 1; i < keyed.length; i++) {
    if (compareBytes(keyed[i - 1].key, keyed[i].key) === 0) throw new InvalidResultSetError(`duplicate path ${JSON.stringify(keyed[i].entry.path)}`);
  }
  return keyed.map(({ entry }) => entry);
}

export function merkleRoot(entries: readonly FileEntry[]): Uint8Array {
  const leaves = canonicalOrder(entries).map(leafHash);
  if (leaves.length === 0) return emptyRoot();
  let level = leaves;
  while (level.length > 1) level = parentLevel(level);
  return level[0];
}

/** The proof that `path`'s entry is in the tree of `entries`. */
export function merkleProof(entries: readonly FileEntry[], path: string): MerkleProof {
  const ordered = canonicalOrder(entries);
  let index = ordered.findIndex((entry) => entry.path === path);
  if (index < 0) throw new InvalidResultSetError(`no file ${JSON.stringify(path)}`);
  const proof: MerkleProof = [];
  let level = ordered.map(leafHash);
  while (level.length > 1) {
    const isRight = index % 2 === 1;
    const siblingIndex = isRight ? index - 1 : index + 1;
    // The last node of an odd level has no sibling: it moves up as is and the proof gets no step.
    if (siblingIndex < level.length) proof.push({ sibling: level[siblingIndex], side: isRight ? "left" : "right" });
    level = parentLevel(level);
    index = Math.floor(index / 2);
  }
  return proof;
}

export function verifyMerkleProof(root: Uint8Array, entry: FileEntry, proof: MerkleProof): boolean {
  let hash: Uint8Array;
  try {
    hash = leafHash(entry);
  } catch {
    return false;
  }
  for (const step of proof) {
    if (step.sibling.length !== 32) return false;
    hash = step.side === "left" ? nodeHash(step.sibling, hash) : nodeHash(hash, step.sibling);
  }
  return equalBytes(hash, root);
}

/** The manifest of `entries`: files in canonical order with their root. */
export function buildManifest(entries: readonly FileEntry[]): ResultManifest {
  const ordered = canonicalOrder(entries);
  return {
    version: 1,
    files: ordered.map((entry) => ({ path: entry.path, size: entry.size, sha256: bytesToHex(entry.sha256) })),
    root: bytesToHex(merkleRoot(ordered)),
  };
}

/** The manifest's files as tree entries; throws InvalidResultSetError on a malformed manifest. */
export function manifestEntries(manifest: ResultManifest): FileEntry[] {
  if (manifest === null || typeof manifest !== "object" || manifest.version !== 1) throw new InvalidResultSetError("manifest version must be 1");
  if (!Array.isArray(manifest.files)) throw new InvalidResultSetError("manifest files must be an array");
  return manifest.files.map((file) => {
    if (file === null || typeof file !== "object" || typeof file.sha256 !== "string" || !HEX64.test(file.sha256)) {
      throw new InvalidResultSetError(`bad sha256 for ${JSON.stringify(file?.path)}`);
    }
    return { path: file.path, size: file.size, sha256: hexToBytes(file.sha256) };
  });
}

/** Recomputes the root from the manifest's files, ignoring the `root` field it claims. */
export function manifestRoot(manifest: ResultManifest): Uint8Array {
  return merkleRoot(manifestEntries(manifest));
}

function parentLevel(level: readonly Uint8Array[]): Uint8Array[] {
  const parents: Uint8Array[] = [];
  for (let i = 0; i + 1 < level.length; i += 2) parents.push(nodeHash(level[i], level[i + 1]));
  if (level.length % 2 === 1) parents.push(level[level.length - 1]);
  return parents;
}

function checkEntry(entry: FileEntry): void {
  if (entry === null || typeof entry !== "object") throw new InvalidResultSetError("entry must be an object");
  if (typeof entry.path !== "string" || !isSafeRelativePath(entry.path)) throw new InvalidResultSetError(`unsafe path ${JSON.stringify(entry.path)}`);
  if (!Number.isSafeInteger(entry.size) || entry.size < 0) throw new InvalidResultSetError(`bad size for ${JSON.stringify(entry.path)}`);
  if (!(entry.sha256 instanceof Uint8Array) || entry.sha256.length !== 32) throw new InvalidResultSetError(`sha256 of ${JSON.stringify(entry.path)} must be 32 bytes`);
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}
