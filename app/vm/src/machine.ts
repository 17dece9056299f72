// The rv32im machine (crates/vm-core) in TypeScript through its WebAssembly build
// (target/wasm/vm_wasm.wasm, made by scripts/build-vm-wasm): the same code the program runs, so
// the keeper's, the provider's and a browser's replays cannot disagree with the chain. No Node
// built-in here: the Node entry (index.ts) reads the module from disk, the browser entry
// (browser.ts) from a URL or bytes.

/** Machine status, as in the state blob. */
export enum VmStatus {
  Running = 0,
  Halted = 1,
  Misaligned = 2,
  IllegalInstruction = 3,
  AccessFault = 4,
  Breakpoint = 5,
}

export const STATE_BYTES = 173;
/** The largest encoded step witness: the state, a flags byte and two leaves with their paths. */
export const MAX_WITNESS_BYTES = STATE_BYTES + 1 + 2 * (4 + 32 + 19 * 32);

/** Why a witness does not show a step, as the chain will say it. */
export type WitnessErrorName = "MalformedWitness" | "PreStateMismatch" | "InvalidState" | "BadProof" | "MissingLeaf";
const WITNESS_ERRORS: Record<number, WitnessErrorName> = { 1: "MalformedWitness", 2: "PreStateMismatch", 3: "InvalidState", 4: "BadProof", 5: "MissingLeaf" };

export class WitnessError extends Error {
  constructor(readonly errorName: WitnessErrorName) {
    super(`the step witness was refused: ${errorName}`);
    this.name = "WitnessError";
  }
}
/** Where `VmModule.load()` finds the WebAssembly when given none: set by the entry point (the Node
 * entry reads it from disk; in a browser, pass the bytes or use `VmModule.fromUrl`). */
let defaultWasm: (() => Promise<Uint8Array>) | null = null;

export function setDefaultWasm(loader: () => Promise<Uint8Array>): void {
  defaultWasm = loader;
}

/** The slice of the WebAssembly API used here (the project's TypeScript libraries omit it). */
declare const WebAssembly: {
  instantiate(bytes: Uint8Array, imports: Record<string, unknown>): Promise<{ instance: { exports: unknown } }>;
};

interface Exports {
  memory: { buffer: ArrayBuffer };
  vm_alloc(len: number): number;
  vm_dealloc(pointer: number, len: number): void;
  vm_load(code: number, codeLen: number, input: number, inputLen: number): number;
  vm_free(handle: number): void;
  vm_run(handle: number, maxSteps: bigint): bigint;
  vm_steps(handle: number): bigint;
  vm_status(handle: number): number;
  vm_exit_code(handle: number): number;
  vm_state(handle: number, out: number): number;
  vm_output(handle: number, out: number, capacity: number): number;
  vm_step(handle: number): void;
  vm_witness(handle: number, out: number): number;
  vm_verify_step(pre: number, witness: number, len: number, out: number): number;
  vm_output_proof(handle: number, out: number): number;
  vm_program_roots(code: number, codeLen: number, input: number, inputLen: number, out: number): number;
  vm_replay_new(code: number, codeLen: number, input: number, inputLen: number, interval: bigint): number;
  vm_replay_seek(handle: number, step: bigint): bigint;
  vm_replay_state_at(handle: number, step: bigint, out: number): number;
  vm_replay_hash_at(handle: number, step: bigint, out: number): number;
  vm_replay_witness_at(handle: number, step: bigint, out: number): number;
  vm_replay_stats(handle: number, out: number): number;
}

const U64_MAX = BigInt("18446744073709551615");

/** What a replay holds (crates/vm-core/src/replay.rs). */
export interface ReplayStats {
  /** Steps between snapshots. */
  interval: bigint;
  snapshots: number;
  /** Leaves held by the snapshots' undo/redo logs and the open journal (36 bytes each). */
  journalLeaves: number;
  /** Bytes held by the snapshots and their logs (besides the machine's 16 MiB and its tree). */
  bytes: number;
  /** Builds of the memory tree (1 once a state was hashed: it is updated, never rebuilt). */
  treeBuilds: number;
  leafHashes: bigint;
  nodeHashes: bigint;
}

/** The output quarter's root and the two siblings that prove it into a memory root. */
export interface OutputProof {
  outputRoot: Uint8Array;
  heapRoot: Uint8Array;
  lowNode: Uint8Array;
}

/** One WebAssembly instance; machines made from it share its memory. */
export class VmModule {
  private constructor(private readonly exports: Exports) {}

  static async load(wasm?: Uint8Array): Promise<VmModule> {
    if (!wasm && !defaultWasm) throw new Error("no WebAssembly for the machine: pass its bytes, or use VmModule.fromUrl");
    const { instance } = await WebAssembly.instantiate(wasm ?? (await defaultWasm!()), {});
    const raw = instance.exports as unknown as Exports;
    // Pointers are unsigned: past 2 GiB of WebAssembly memory an i32 result reads as negative.
    return new VmModule({ ...raw, vm_alloc: (len: number) => raw.vm_alloc(len) >>> 0 });
  }

  /** The module fetched from `url` (a browser's way to it). */
  static async fromUrl(url: string | URL): Promise<VmModule> {
    const response = await fetch(url);
    if (!response.ok) throw new Error(`the machine's WebAssembly at ${String(url)} answered ${response.status}`);
    return VmModule.load(new Uint8Array(await response.arrayBuffer()));
  }

  /** A machine at the start of a job: `code` at address 0, `input` length-prefixed in its quarter. */
  machine(code: Uint8Array, input: Uint8Array): VmMachine {
    const e = this.exports;
    const codePointer = this.copyIn(code);
    const inputPointer = this.copyIn(input);
    const handle = e.vm_load(codePointer, code.length, inputPointer, input.length);
    e.vm_dealloc(codePointer, code.length);
    e.vm_dealloc(inputPointer, input.length);
    if (handle === 0) throw new RangeError("the code or the input does not fit its 4 MiB region");
    return new VmMachine(e, handle, (pointer, len) => this.copyOut(pointer, len));
  }

  /**
   * A replay of a job with a snapshot every `interval` steps (0n: vm-core's default, 2^18): the
   * raw handle behind `Replay`, which most callers want instead.
   */
  replay(code: Uint8Array, input: Uint8Array, interval = 0n): VmReplay {
    if (interval < 0n || interval > U64_MAX) throw new RangeError("the snapshot interval is a u64");
    const e = this.exports;
    const codePointer = this.copyIn(code);
    const inputPointer = this.copyIn(input);
    const handle = e.vm_replay_new(codePointer, code.length, inputPointer, input.length, interval);
    e.vm_dealloc(codePointer, Math.max(code.length, 1));
    e.vm_dealloc(inputPointer, Math.max(input.length, 1));
    if (handle === 0) throw new RangeError("the code or the input does not fit its 4 MiB region");
    return new VmReplay(e, handle, (pointer, len) => this.copyOut(pointer, len));
  }

  /** The roots a verifiable job is posted with: its code quarter's and its input quarter's. */
  programRoots(code: Uint8Array, input: Uint8Array): { codeRoot: Uint8Array; inputRoot: Uint8Array } {
    const e = this.exports;
    const codePointer = this.copyIn(code);
    const inputPointer = this.copyIn(input);
    const out = e.vm_alloc(64);
    try {
      if (e.vm_program_roots(codePointer, code.length, inputPointer, input.length, out) !== 1) {
        throw new RangeError("the code or the input does not fit its 4 MiB region");
      }
      const roots = this.copyOut(out, 64);
      return { codeRoot: roots.subarray(0, 32), inputRoot: roots.subarray(32) };
    } finally {
      e.vm_dealloc(codePointer, Math.max(code.length, 1));
      e.vm_dealloc(inputPointer, Math.max(input.length, 1));
      e.vm_dealloc(out, 64);
    }
  }

  /** The post-state hash of one step, checked from the pre-state hash and an encoded witness alone. */
  verifyStep(preHash: Uint8Array, witness: Uint8Array): Uint8Array {
    if (preHash.length !== 32) throw new RangeError("the pre-state hash is 32 bytes");
    const e = this.exports;
    const pre = this.copyIn(preHash);
    const wire = this.copyIn(witness);
    const out = e.vm_alloc(32);
    try {
      const code = e.vm_verify_step(pre, wire, witness.length, out);
      if (code !== 0) throw new WitnessError(WITNESS_ERRORS[code] ?? "MalformedWitness");
      return this.copyOut(out, 32);
    } finally {
      e.vm_dealloc(pre, 32);
      e.vm_dealloc(wire, Math.max(witness.length, 1));
      e.vm_dealloc(out, 32);
    }
  }

  private copyIn(bytes: Uint8Array): number {
    const pointer = this.exports.vm_alloc(Math.max(bytes.length, 1));
    new Uint8Array(this.exports.memory.buffer, pointer, bytes.length).set(bytes);
    return pointer;
  }

  private copyOut(pointer: number, len: number): Uint8Array {
    // The memory may have grown (a new buffer) since any earlier view was made.
    return new Uint8Array(this.exports.memory.buffer, pointer, len).slice();
  }
}

export class VmMachine {
  constructor(
    private readonly e: Exports,
    private handle: number,
    private readonly copyOut: (pointer: number, len: number) => Uint8Array,
    /** Told when `free` released the handle (a replay's machine frees the replay). */
    private readonly onFree?: () => void,
  ) {}

  /** Runs up to `maxSteps` more steps without hashing; returns the steps taken. */
  run(maxSteps: bigint = U64_MAX): bigint {
    return this.e.vm_run(this.live(), maxSteps);
  }

  get steps(): bigint {
    return this.e.vm_steps(this.live());
  }

  get status(): VmStatus {
    return this.e.vm_status(this.live()) as VmStatus;
  }

  get exitCode(): number {
    return this.e.vm_exit_code(this.live()) >>> 0;
  }

  /** The 173-byte state blob and its sha256 (the state hash the chain compares). */
  state(): { blob: Uint8Array; hash: Uint8Array } {
    const pointer = this.e.vm_alloc(STATE_BYTES + 32);
    try {
      if (this.e.vm_state(this.live(), pointer) !== 1) throw new Error("unknown machine");
      const bytes = this.copyOut(pointer, STATE_BYTES + 32);
      return { blob: bytes.subarray(0, STATE_BYTES), hash: bytes.subarray(STATE_BYTES) };
    } finally {
      this.e.vm_dealloc(pointer, STATE_BYTES + 32);
    }
  }

  /** The bytes the program wrote to its output region (after its length prefix). */
  output(maxBytes = 4 * 1024 * 1024): Uint8Array {
    const pointer = this.e.vm_alloc(maxBytes);
    try {
      const len = this.e.vm_output(this.live(), pointer, maxBytes);
      return this.copyOut(pointer, Math.min(len, maxBytes));
    } finally {
      this.e.vm_dealloc(pointer, maxBytes);
    }
  }

  step(): void {
    this.e.vm_step(this.live());
  }

  /** The output root of the current memory with its proof into the memory root. */
  outputProof(): OutputProof {
    const pointer = this.e.vm_alloc(96);
    try {
      if (this.e.vm_output_proof(this.live(), pointer) !== 1) throw new Error("unknown machine");
      const bytes = this.copyOut(pointer, 96);
      return { outputRoot: bytes.subarray(0, 32), heapRoot: bytes.subarray(32, 64), lowNode: bytes.subarray(64) };
    } finally {
      this.e.vm_dealloc(pointer, 96);
    }
  }

  /** The encoded witness of the next step (what a defender or challenger uploads). */
  witness(): Uint8Array {
    const pointer = this.e.vm_alloc(MAX_WITNESS_BYTES);
    try {
      const len = this.e.vm_witness(this.live(), pointer);
      return this.copyOut(pointer, len);
    } finally {
      this.e.vm_dealloc(pointer, MAX_WITNESS_BYTES);
    }
  }

  free(): void {
    if (this.handle !== 0) this.e.vm_free(this.handle);
    this.handle = 0;
    this.onFree?.();
  }

  private live(): number {
    if (this.handle === 0) throw new Error("the machine was freed");
    return this.handle;
  }
}

/**
 * A replay's handle: seeks both ways over snapshots kept every C steps. `machine` is its working
 * machine at the step last sought (reading it is free; its `run` and `step` go through the replay).
 */
export class VmReplay {
  readonly machine: VmMachine;

  constructor(
    private readonly e: Exports,
    private handle: number,
    private readonly copyOut: (pointer: number, len: number) => Uint8Array,
  ) {
    // Freeing either frees both: they are one handle.
    this.machine = new VmMachine(e, handle, copyOut, () => (this.handle = 0));
  }

  /** Moves to `step` (to the stop, if the run stops earlier); returns the step reached. */
  seek(step: bigint): bigint {
    return this.e.vm_replay_seek(this.live(), clampStep(step));
  }

  /** The state blob and hash at `step`. */
  state(step: bigint): { blob: Uint8Array; hash: Uint8Array } {
    return this.call(STATE_BYTES + 32, (out) => this.e.vm_replay_state_at(this.live(), clampStep(step), out), (bytes) => ({
      blob: bytes.subarray(0, STATE_BYTES),
      hash: bytes.subarray(STATE_BYTES),
    }));
  }

  /** The state hash at `step`. */
  hash(step: bigint): Uint8Array {
    return this.call(32, (out) => this.e.vm_replay_hash_at(this.live(), clampStep(step), out), (bytes) => bytes);
  }

  /** The encoded witness of the step from `step` to `step + 1`. */
  witness(step: bigint): Uint8Array {
    const pointer = this.e.vm_alloc(MAX_WITNESS_BYTES);
    try {
      const len = this.e.vm_replay_witness_at(this.live(), clampStep(step), pointer);
      if (len === 0) throw new Error("unknown replay");
      return this.copyOut(pointer, len);
    } finally {
      this.e.vm_dealloc(pointer, MAX_WITNESS_BYTES);
    }
  }

  stats(): ReplayStats {
    return this.call(56, (out) => this.e.vm_replay_stats(this.live(), out), (bytes) => {
      const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      const field = (i: number) => view.getBigUint64(8 * i, true);
      return {
        interval: field(0),
        snapshots: Number(field(1)),
        journalLeaves: Number(field(2)),
        bytes: Number(field(3)),
        treeBuilds: Number(field(4)),
        leafHashes: field(5),
        nodeHashes: field(6),
      };
    });
  }

  free(): void {
    this.machine.free();
  }

  /** Calls `write` with a scratch buffer of `len` bytes, then `read` on it if `write` returned 1. */
  private call<T>(len: number, write: (out: number) => number, read: (bytes: Uint8Array) => T): T {
    const pointer = this.e.vm_alloc(len);
    try {
      if (write(pointer) !== 1) throw new Error("unknown replay");
      return read(this.copyOut(pointer, len));
    } finally {
      this.e.vm_dealloc(pointer, len);
    }
  }

  private live(): number {
    if (this.handle === 0) throw new Error("the replay was freed");
    return this.handle;
  }
}

/** A step as the module takes it: a u64 (steps past u64 are past any stop). */
function clampStep(step: bigint): bigint {
  if (step < 0n) throw new RangeError("steps are not negative");
  return step > U64_MAX ? U64_MAX : step;
}

