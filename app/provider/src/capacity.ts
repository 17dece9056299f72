// The node's capacity ledger: what it registered, minus what the jobs it bid on or runs hold.
// A bid reserves its job's resources, so the node never bids beyond what it could run at once.
import type { HardwareSpecInput, JobAccount } from "@compute-market/sdk";

export type Requirements = JobAccount["requirements"];

/** A spec whose GPU model is the label text (as registered) or its 16 on-chain bytes. */
export type SpecLike = Omit<HardwareSpecInput, "gpuModel"> & { gpuModel?: string | readonly number[] };

/** The dimensions jobs consume. GPU memory is per GPU, so it is a condition, not a quantity. */
export interface Resources {
  gpus: number;
  cpuCores: number;
  memoryMb: number;
  diskGb: number;
}

const DIMENSIONS: readonly (keyof Resources)[] = ["gpus", "cpuCores", "memoryMb", "diskGb"];

const MODEL_LEN = 16;

/** A model label as its zero-padded bytes; null when no label could encode it. */
function modelBytes(model: string | readonly number[] | undefined): number[] | null {
  if (typeof model !== "string") {
    const bytes = [...(model ?? [])];
    return bytes.length <= MODEL_LEN ? [...bytes, ...new Array<number>(MODEL_LEN - bytes.length).fill(0)] : null;
  }
  // One char per byte, as `labelText` decodes them.
  if (model.length > MODEL_LEN || !/^[\x00-\xff]*$/.test(model)) return null;
  return Array.from({ length: MODEL_LEN }, (_, i) => (i < model.length ? model.charCodeAt(i) : 0));
}

/**
 * Whether a machine with `spec` meets a job's requirements: exactly the program's `Job::admits`
 * (programs/compute-market/src/state/job.rs), which place_bid enforces. The model compares all
 * 16 bytes, as the program does, so a requirement with bytes after its padding matches nothing.
 */
export function satisfies(spec: SpecLike, requirements: Requirements): boolean {
  const wanted = modelBytes(requirements.gpuModel);
  const offered = modelBytes(spec.gpuModel);
  const anyModel = wanted !== null && wanted.every((b) => b === 0);
  const sameModel = wanted !== null && offered !== null && wanted.every((b, i) => b === offered[i]);
  return (
    (anyModel || sameModel) &&
    spec.gpuCount >= requirements.gpuCount &&
    spec.vramMb >= requirements.vramMb &&
    spec.cpuCores >= requirements.cpuCores &&
    spec.memoryMb >= requirements.memoryMb &&
    spec.diskGb >= requirements.diskGb
  );
}

function demandOf(requirements: Requirements): Resources {
  return { gpus: requirements.gpuCount, cpuCores: requirements.cpuCores, memoryMb: requirements.memoryMb, diskGb: requirements.diskGb };
}

function totalOf(spec: SpecLike): Resources {
  return { gpus: spec.gpuCount, cpuCores: spec.cpuCores, memoryMb: spec.memoryMb, diskGb: spec.diskGb };
}

export class CapacityLedger {
  private readonly held = new Map<string, Resources>();
  private total: Resources;

  constructor(
    private spec: SpecLike,
    private readonly maxJobs: number,
  ) {
    if (!Number.isInteger(maxJobs) || maxJobs < 0) throw new RangeError(`maxJobs must be a non-negative integer, got ${maxJobs}`);
    this.total = totalOf(spec);
  }

  /** The machine changed (a GPU added or lost): jobs already held stay held. */
  resize(spec: SpecLike): void {
    this.spec = spec;
    this.total = totalOf(spec);
  }

  /** What is not held by any job; negative after a resize shrank the machine under its jobs. */
  free(): Resources {
    const free = { ...this.total };
    for (const demand of this.held.values()) for (const d of DIMENSIONS) free[d] -= demand[d];
    return free;
  }

  /** Whether the machine meets the job and has room for it next to the jobs it holds. */
  fits(requirements: Requirements): boolean {
    if (!satisfies(this.spec, requirements) || this.held.size >= this.maxJobs) return false;
    const free = this.free();
    const demand = demandOf(requirements);
    return DIMENSIONS.every((d) => demand[d] <= free[d]);
  }

  /** Holds the job's resources; a second reserve of the same job changes nothing. */
  reserve(job: string, requirements: Requirements): void {
    if (this.held.has(job)) return;
    if (!this.fits(requirements)) throw new Error(`job ${job} does not fit in the free capacity`);
    this.held.set(job, demandOf(requirements));
  }

  /** Frees the job's resources; releasing a job not held is a no-op. */
  release(job: string): void {
    this.held.delete(job);
  }

  holds(job: string): boolean {
    return this.held.has(job);
  }

  jobs(): number {
    return this.held.size;
  }

  /**
   * The fullest dimension, in [0, 1]: a machine with all GPUs busy is busy whatever its CPUs do.
   * The job count is a dimension too, against the configured maximum of concurrent jobs.
   */
  utilisation(): number {
    const free = this.free();
    const shares = DIMENSIONS.filter((d) => this.total[d] > 0).map((d) => 1 - free[d] / this.total[d]);
    const byJobs = this.maxJobs > 0 ? this.held.size / this.maxJobs : 1;
    return Math.min(1, Math.max(byJobs, ...shares));
  }
}
