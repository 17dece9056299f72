// Throughput of hashOutputDir: how fast a provider turns a job's output directory into its result
// manifest, hashing only and hashing while ingesting into the blob store, for one large file,
// medium files and many small ones of the same total size. The files are freshly written, so
// reads mostly come from the page cache: this measures the hashing and copying, not the disk.
// BENCH_RESULTS_MIB sets the total size per layout (default 256).
import { randomBytes } from "node:crypto";
import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { BlobStore, hashOutputDir } from "../app/provider/src/results/store";

const TOTAL_MIB = Number(process.env.BENCH_RESULTS_MIB ?? 256);
const MIB = 1024 * 1024;

interface Layout {
  name: string;
  files: number;
  fileBytes: number;
}

const LAYOUTS: Layout[] = [
  { name: `1 × ${TOTAL_MIB} MiB`, files: 1, fileBytes: TOTAL_MIB * MIB },
  { name: `${TOTAL_MIB / 4} × 4 MiB`, files: TOTAL_MIB / 4, fileBytes: 4 * MIB },
  { name: `${TOTAL_MIB * 16} × 64 KiB`, files: TOTAL_MIB * 16, fileBytes: 64 * 1024 },
];

/** Writes `layout` under `dir` (16 files per subdirectory), from a 4 MiB random pattern. */
async function writeLayout(dir: string, layout: Layout, pattern: Buffer): Promise<void> {
  for (let i = 0; i < layout.files; i++) {
    const sub = path.join(dir, `d${Math.floor(i / 16)}`);
    if (i % 16 === 0) await fs.mkdir(sub, { recursive: true });
    const handle = await fs.open(path.join(sub, `f${i}.bin`), "w");
    try {
      for (let written = 0; written < layout.fileBytes; written += pattern.length) {
        // Vary each chunk's first bytes so no two chunks or files are identical.
        const chunk = pattern.subarray(0, Math.min(pattern.length, layout.fileBytes - written));
        chunk.writeUInt32LE(i, 0);
        chunk.writeUInt32LE(written / pattern.length, 4);
        await handle.write(chunk);
      }
    } finally {
      await handle.close();
    }
  }
}

async function timed(action: () => Promise<unknown>): Promise<number> {
  const start = process.hrtime.bigint();
  await action();
  return Number(process.hrtime.bigint() - start) / 1e9;
}

async function main(): Promise<void> {
  const work = await fs.mkdtemp(path.join(os.tmpdir(), "cm-bench-results-"));
  const pattern = randomBytes(4 * MIB);
  const rows: Record<string, string | number>[] = [];
  try {
    for (const layout of LAYOUTS) {
      const outputs = path.join(work, "outputs");
      await writeLayout(outputs, layout, pattern);
      const bytes = layout.files * layout.fileBytes;
      const maxBytes = bytes;
      // One untimed pass warms the page cache and the JIT the same way for both timed runs.
      await hashOutputDir(outputs, maxBytes);
      const hashOnly = await timed(() => hashOutputDir(outputs, maxBytes));
      const store = await BlobStore.open(path.join(work, "store"));
      const withStore = await timed(() => hashOutputDir(outputs, maxBytes, { store }));
      rows.push({
        layout: layout.name,
        files: layout.files,
        MiB: bytes / MIB,
        "hash only MB/s": Math.round(bytes / 1e6 / hashOnly),
        "hash + store MB/s": Math.round(bytes / 1e6 / withStore),
        "files/s (hash + store)": Math.round(layout.files / withStore),
      });
      await fs.rm(outputs, { recursive: true, force: true });
      await fs.rm(path.join(work, "store"), { recursive: true, force: true });
    }
  } finally {
    await fs.rm(work, { recursive: true, force: true });
  }
  console.log(`hashOutputDir throughput (${os.cpus()[0]?.model ?? "cpu"}, node ${process.version}, MB = 10^6 bytes)`);
  console.table(rows);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
