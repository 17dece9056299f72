// The output Merkle root: leaf and node encodings, canonical order, odd levels, proofs and the
// manifest. Expected values are built here from explicit sha256 calls, and a few are pinned as hex
// computed by an independent implementation, so the protocol format cannot drift silently.
import assert from "node:assert/strict";
import { sha256 } from "@noble/hashes/sha256";
import { bytesToHex } from "@noble/hashes/utils";
import {
  buildManifest,
  comparePaths,
  emptyRoot,
  InvalidResultSetError,
  leafHash,
  manifestRoot,
  merkleProof,
  merkleRoot,
  verifyMerkleProof,
  type FileEntry,
  type ResultManifest,
} from "@compute-market/sdk";

const utf8 = (text: string) => new TextEncoder().encode(text);

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

function u32le(value: number): Uint8Array {
  return Uint8Array.of(value & 0xff, (value >>> 8) & 0xff, (value >>> 16) & 0xff, (value >>> 24) & 0xff);
}

function u64le(value: number): Uint8Array {
  const out = new Uint8Array(8);
  let rest = BigInt(value);
  for (let i = 0; i < 8; i++) {
    out[i] = Number(rest & 0xffn);
    rest >>= 8n;
  }
  return out;
}

/** The leaf as the protocol spells it, byte by byte. */
function expectedLeaf(path: string, content: Uint8Array): Uint8Array {
  const pathBytes = utf8(path);
  return sha256(concat(Uint8Array.of(0x00), u32le(pathBytes.length), pathBytes, u64le(content.length), sha256(content)));
}

function expectedNode(left: Uint8Array, right: Uint8Array): Uint8Array {
  return sha256(concat(Uint8Array.of(0x01), left, right));
}

function file(path: string, content: Uint8Array | string): FileEntry {
  const bytes = typeof content === "string" ? utf8(content) : content;
  return { path, size: bytes.length, sha256: sha256(bytes) };
}

const hex = bytesToHex;

/** Fisher-Yates with a small deterministic generator, so failures reproduce. */
function shuffle<T>(items: readonly T[], seed: number): T[] {
  const out = [...items];
  let state = seed;
  for (let i = out.length - 1; i > 0; i--) {
    state = (state * 1103515245 + 12345) % 2147483648;
    const j = state % (i + 1);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

describe("results merkle root", () => {
  it("gives zero files the distinct empty marker sha256(0x02)", () => {
    // Given no files
    // When the root is computed
    const root = merkleRoot([]);
    // Then it is sha256 of the single byte 0x02
    assert.equal(hex(root), hex(sha256(Uint8Array.of(0x02))));
    assert.equal(hex(root), "dbc1b4c900ffe48d575b5da5c638040125f65db0fe3e24494b76ea986457d986");
    assert.equal(hex(emptyRoot()), hex(root));
  });

  it("encodes a leaf as 0x00 || u32-LE path length || path || u64-LE size || sha256(content)", () => {
    // Given one file
    const entry = file("a.txt", "hello");
    // When its leaf and the one-file root are computed
    // Then both equal the explicit encoding (and the pinned vector)
    assert.equal(hex(leafHash(entry)), hex(expectedLeaf("a.txt", utf8("hello"))));
    assert.equal(hex(merkleRoot([entry])), "f77869cd14a6f3a98e8a7555931ae53c9d0b47e878b15da9fccf32ca46415369");
  });

  it("hashes the UTF-8 byte length of the path, not its UTF-16 length", () => {
    // Given a path with multi-byte characters
    const path = "données/é€😀.txt";
    const entry = file(path, "x");
    // Then the leaf uses the 22-byte UTF-8 encoding, not the 16 UTF-16 units
    assert.equal(path.length, 16);
    assert.equal(utf8(path).length, 22);
    assert.equal(hex(leafHash(entry)), hex(expectedLeaf(path, utf8("x"))));
  });

  it("pairs two leaves as sha256(0x01 || left || right) in path order", () => {
    const a = file("a", "1");
    const b = file("b", "2");
    const expected = expectedNode(expectedLeaf("a", utf8("1")), expectedLeaf("b", utf8("2")));
    assert.equal(hex(merkleRoot([a, b])), hex(expected));
    assert.equal(hex(merkleRoot([b, a])), hex(expected));
  });

  it("carries the last node of an odd level up unchanged (3 and 5 files)", () => {
    // Given three files
    const three = [file("z", ""), file("a.txt", "hello"), file("b/c.bin", Uint8Array.of(0, 1, 2))];
    const [a, b, z] = [expectedLeaf("a.txt", utf8("hello")), expectedLeaf("b/c.bin", Uint8Array.of(0, 1, 2)), expectedLeaf("z", new Uint8Array(0))];
    // Then root = node(node(a, b), z), not node(node(a, b), node(z, z))
    assert.equal(hex(merkleRoot(three)), hex(expectedNode(expectedNode(a, b), z)));
    assert.equal(hex(merkleRoot(three)), "0fc0632b291093bb0dd7b1a4a799e2aaf61a7aae55a6efa0468fd3a71e35457b");

    // Given five files, the fifth is carried up twice
    const names = ["1", "2", "3", "4", "5"];
    const leaves = names.map((n) => expectedLeaf(n, utf8(n)));
    const expected = expectedNode(expectedNode(expectedNode(leaves[0], leaves[1]), expectedNode(leaves[2], leaves[3])), leaves[4]);
    assert.equal(hex(merkleRoot(names.map((n) => file(n, n)))), hex(expected));
  });

  it("orders by UTF-8 bytes, not by JavaScript string order", () => {
    // Given U+FF61 (UTF-8 EF BD A1) and U+1F600 (UTF-8 F0 9F 98 80, UTF-16 D83D DE00)
    const halfwidth = "\uff61";
    const emoji = "\u{1f600}";
    // JavaScript compares UTF-16 units and puts the emoji first; the protocol does the opposite
    assert.ok(emoji < halfwidth);
    assert.ok(comparePaths(halfwidth, emoji) < 0);
    // and "-" (2D) < "." (2E) < "/" (2F) byte-wise
    assert.ok(comparePaths("a-b", "a.b") < 0 && comparePaths("a.b", "a/b") < 0);
    const expected = expectedNode(expectedLeaf(halfwidth, utf8("x")), expectedLeaf(emoji, utf8("y")));
    assert.equal(hex(merkleRoot([file(emoji, "y"), file(halfwidth, "x")])), hex(expected));
  });

  it("does not depend on the order the files are listed in", () => {
    const files = Array.from({ length: 7 }, (_, i) => file(`dir${i % 3}/f${i}`, `content ${i}`));
    const root = hex(merkleRoot(files));
    for (let seed = 1; seed <= 10; seed++) assert.equal(hex(merkleRoot(shuffle(files, seed))), root);
    assert.equal(hex(merkleRoot([...files].reverse())), root);
  });

  it("changes the root when a path, a size, a content hash or the file set changes", () => {
    const files = [file("a", "1"), file("b", "2"), file("c", "3")];
    const root = hex(merkleRoot(files));
    const variants: FileEntry[][] = [
      [{ ...files[0], path: "a2" }, files[1], files[2]],
      [{ ...files[0], size: files[0].size + 1 }, files[1], files[2]],
      [{ ...files[0], sha256: sha256(utf8("tampered")) }, files[1], files[2]],
      [files[0], files[1]],
      [...files, file("d", "")],
    ];
    for (const variant of variants) assert.notEqual(hex(merkleRoot(variant)), root);
  });

  it("refuses duplicate or unsafe paths and malformed entries", () => {
    const bad: FileEntry[][] = [
      [file("a", "1"), file("a", "2")],
      [file("../escape", "x")],
      [file("/abs", "x")],
      [file("a//b", "x")],
      [file("a/./b", "x")],
      [{ path: "a", size: -1, sha256: new Uint8Array(32) }],
      [{ path: "a", size: 1.5, sha256: new Uint8Array(32) }],
      [{ path: "a", size: 1, sha256: new Uint8Array(31) }],
    ];
    for (const entries of bad) assert.throws(() => merkleRoot(entries), InvalidResultSetError);
  });
});

describe("results merkle proofs", () => {
  it("proves every file of trees of 1 to 9 files, and nothing else", () => {
    for (let count = 1; count <= 9; count++) {
      // Given a tree of `count` files
      const files = Array.from({ length: count }, (_, i) => file(`f${i}`, `body ${i}`));
      const root = merkleRoot(files);
      for (const entry of files) {
        // When a proof is made for each file
        const proof = merkleProof(files, entry.path);
        // Then it verifies against the root and no longer does once anything is altered
        assert.ok(verifyMerkleProof(root, entry, proof), `count ${count} ${entry.path}`);
        assert.ok(proof.length <= Math.ceil(Math.log2(count)));
        assert.ok(!verifyMerkleProof(root, { ...entry, size: entry.size + 1 }, proof));
        assert.ok(!verifyMerkleProof(root, { ...entry, sha256: sha256(utf8("other")) }, proof));
        assert.ok(!verifyMerkleProof(sha256(utf8("not the root")), entry, proof));
        if (proof.length > 0) {
          const flipped = proof.map((step, i) => (i === 0 ? { ...step, side: step.side === "left" ? ("right" as const) : ("left" as const) } : step));
          assert.ok(!verifyMerkleProof(root, entry, flipped));
        }
      }
    }
  });

  it("has no step at a level where the node is carried up", () => {
    // Given three files, the third leaf is carried to the top: its proof is the single node(a, b)
    const files = [file("a", "1"), file("b", "2"), file("c", "3")];
    const proof = merkleProof(files, "c");
    assert.equal(proof.length, 1);
    assert.equal(proof[0].side, "left");
    assert.equal(hex(proof[0].sibling), hex(expectedNode(expectedLeaf("a", utf8("1")), expectedLeaf("b", utf8("2")))));
  });

  it("refuses a proof for a path that is not in the set", () => {
    assert.throws(() => merkleProof([file("a", "1")], "b"), InvalidResultSetError);
  });
});

describe("results manifest", () => {
  it("lists files in canonical order and recomputes the same root", () => {
    const files = [file("b", "2"), file("a/x", "1")];
    const manifest = buildManifest(files);
    assert.deepEqual(manifest.files.map((f) => f.path), ["a/x", "b"]);
    assert.equal(manifest.files[0].sha256, hex(sha256(utf8("1"))));
    assert.equal(manifest.root, hex(merkleRoot(files)));
    assert.equal(hex(manifestRoot(manifest)), manifest.root);
  });

  it("recomputes from the files, so a manifest whose root lies is caught", () => {
    // Given a manifest whose file hash was changed but whose root was left as is
    const manifest = buildManifest([file("a", "1"), file("b", "2")]);
    const tampered: ResultManifest = { ...manifest, files: [{ ...manifest.files[0], sha256: hex(sha256(utf8("evil"))) }, manifest.files[1]] };
    // Then the recomputed root differs from the claimed one
    assert.notEqual(hex(manifestRoot(tampered)), tampered.root);
  });

  it("refuses a malformed manifest", () => {
    const good = buildManifest([file("a", "1")]);
    assert.throws(() => manifestRoot({ ...good, version: 2 } as unknown as ResultManifest), InvalidResultSetError);
    assert.throws(() => manifestRoot({ ...good, files: [{ ...good.files[0], sha256: "AB" }] }), InvalidResultSetError);
    assert.throws(() => manifestRoot({ ...good, files: [{ ...good.files[0], sha256: good.files[0].sha256.toUpperCase() }] }), InvalidResultSetError);
    assert.throws(() => manifestRoot({ ...good, files: "x" } as unknown as ResultManifest), InvalidResultSetError);
  });
});
