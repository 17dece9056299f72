// The demo consumer's container jobs: real (small) work on the local busybox image, with inputs
// published by content hash, and one job that fails on its own terms.
import { inputEntry, type ContainerJobSpec } from "@compute-market/sdk";

export interface DemoJob {
  title: string;
  spec: ContainerJobSpec;
  inputs: Map<string, Uint8Array>;
  sealed: boolean;
}

/** Deterministic pseudo-random bytes (xorshift from `seed`), so the demo's digests are the same on every run. */
export function dataset(size: number, seed = 0x2545f491): Uint8Array {
  const bytes = new Uint8Array(size);
  let state = seed;
  for (let i = 0; i < size; i++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    bytes[i] = state & 0xff;
  }
  return bytes;
}

const BOOK = new TextEncoder().encode(
  Array.from({ length: 2_000 }, (_, i) => `line ${i}: the quick brown fox jumps over the lazy dog`).join("\n") + "\n",
);

export function demoJobs(image: string): DemoJob[] {
  const base = { version: 1 as const, image, env: {}, network: false, gpus: 0, cpus: 1, memoryMb: 128, timeoutSeconds: 20, maxOutputBytes: 1_000_000 };
  const data = dataset(4 * 1024 * 1024);
  return [
    {
      title: "sha256 of a 4 MiB dataset",
      spec: { ...base, command: ["sh", "-c", "echo hashing; sha256sum /inputs/data.bin | head -c 64 > /outputs/sha256.txt"], inputs: [inputEntry("data.bin", data)] },
      inputs: new Map([["data.bin", data]]),
      sealed: false,
    },
    {
      title: "word count of a text",
      spec: { ...base, command: ["sh", "-c", "wc -w < /inputs/book.txt > /outputs/words.txt; echo counted"], inputs: [inputEntry("book.txt", BOOK)] },
      inputs: new Map([["book.txt", BOOK]]),
      sealed: false,
    },
    {
      title: "sum of squares 1..100000 (sealed-bid auction)",
      spec: { ...base, command: ["sh", "-c", "seq 1 100000 | awk '{ s += $1 * $1 } END { printf \"%.0f\\n\", s }' > /outputs/sum.txt"], inputs: [] },
      inputs: new Map(),
      sealed: true,
    },
    {
      title: "a job whose command fails",
      spec: { ...base, command: ["sh", "-c", "echo 'config.yaml not found' >&2; exit 2"], inputs: [] },
      inputs: new Map(),
      sealed: false,
    },
  ];
}
