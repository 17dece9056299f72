// The node's capacity ledger: what it registered, minus what the jobs it bid on or runs hold.
// A bid reserves its job's resources, so the node never bids beyond what it could run at once.
import type { HardwareSpecInput, JobAccount } from "@compute-market/sdk";
import { labelText } from "@compute-market/sdk";

export type Requirements = JobAccount["requirements"];

interface Resources {
  gpus: number;
  cpuCores: number;
  memoryMb: number;
  diskGb: number;
}

const DIMENSIONS: (keyof Resources)[] = ["gpus", "cpuCores", "memoryMb", "diskGb"];

function demandOf(requirements: Requirements): Resources {
  return { gpus: requirements.gpuCount, cpuCores: requirements.cpuCores, memoryMb: requirements.memoryMb, diskGb: requirements.diskGb };
}

/**
 * Whether a machine with `spec` meets a job's requirements: the program's `Job::admits`
 * (programs/compute-market/src/state/job.rs), which place_bid enforces.
 */
export function satisfies(spec: HardwareSpecInput, requirements: Requirements): boolean {
  const model = labelText(requirements.gpuModel);
  return (
    (model === "" || model === (spec.gpuModel ?? "")) &&
    spec.gpuCount >= requirements.gpuCount &&
    spec.vramMb >= requirements.vramMb &&
    spec.cpuCores >= requirements.cpuCores &&
    spec.memoryMb >= requirements.memoryMb &&
    spec.diskGb >= requirements.diskGb
  );
}

function totalOf(spec: HardwareSpecInput): Resources {
  return { gpus: spec.gpuCount, cpuCores: spec.cpuCores, memoryMb: spec.memoryMb, diskGb: spec.diskGb };
}

export class CapacityLedger {
  private readonly held = new Map<string, Resources>();
  private total: Resources;

  constructor(
    private spec: HardwareSpecInput,
    private readonly maxJobs: number,
  ) {
    this.total = totalOf(spec);
  }

  /** The machine changed (a GPU added or lost): jobs already held stay held. */
  resize(spec: HardwareSpecInput): void {
    this.spec = spec;
    this.total = totalOf(spec);
  }

  /** What is not held by any job. */
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

  release(job: string): void {
    this.held.delete(job);
  }

  jobs(): number {
    return this.held.size;
  }

  /** The fullest dimension, in [0, 1]: a machine with all GPUs busy is busy whatever its CPUs do. */
  utilisation(): number {
    const free = this.free();
    const shares = DIMENSIONS.filter((d) => this.total[d] > 0).map((d) => 1 - free[d] / this.total[d]);
    const byJobs = this.maxJobs > 0 ? this.held.size / this.maxJobs : 1;
    return Math.min(1, Math.max(byJobs, ...shares));
  }
}
