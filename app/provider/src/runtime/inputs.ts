// A job's inputs on disk for its container: each file checked against the spec's hash and size
// before it is written, and left read-only.
import fs from "node:fs/promises";
import path from "node:path";
import { sha256 } from "@noble/hashes/sha256";
import { bytesToHex } from "@noble/hashes/utils";
import { isSafeRelativePath, type ContainerJobSpec } from "@compute-market/sdk";

export class InputMismatchError extends Error {
  constructor(readonly path: string, reason: string) {
    super(`input ${path}: ${reason}`);
    this.name = "InputMismatchError";
  }
}

export async function materializeInputs(spec: ContainerJobSpec, inputsDir: string, fetchInput: (sha256: string) => Promise<Uint8Array>): Promise<void> {
  await fs.mkdir(inputsDir, { recursive: true });
  for (const input of spec.inputs) {
    if (!isSafeRelativePath(input.path)) throw new InputMismatchError(input.path, "unsafe path");
    const bytes = await fetchInput(input.sha256);
    if (bytes.length !== input.size) throw new InputMismatchError(input.path, `size ${bytes.length} is not the spec's ${input.size}`);
    const actual = bytesToHex(sha256(bytes));
    if (actual !== input.sha256) throw new InputMismatchError(input.path, `content hashes to ${actual}, not the spec's ${input.sha256}`);
    const target = path.join(inputsDir, input.path);
    await fs.mkdir(path.dirname(target), { recursive: true });
    await fs.writeFile(target, bytes, { mode: 0o444 });
  }
}
