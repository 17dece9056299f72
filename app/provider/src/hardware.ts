// The machine the node offers: CPU cores, memory, free disk under its work directory, and NVIDIA
// GPUs from `nvidia-smi` (no GPU, or no nvidia-smi, is a valid answer). What is registered
// on-chain is this minus what the operator reserves for the host itself.
import { execFile } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { HardwareSpecInput, ProviderAccount } from "@compute-market/sdk";
import { labelText } from "@compute-market/sdk";

export interface GpuInfo {
  name: string;
  memoryMb: number;
  uuid: string;
}

export interface DetectedHardware {
  cpuCores: number;
  memoryMb: number;
  diskGb: number;
  gpus: GpuInfo[];
  /** Why no GPU was found, when none was. */
  gpuNote?: string;
}

/** What the operator keeps for the host itself; never offered to jobs. */
export interface Reserve {
  cpuCores: number;
  memoryMb: number;
  diskGb: number;
}

export const NO_RESERVE: Reserve = { cpuCores: 0, memoryMb: 0, diskGb: 0 };

/** Runs a command and resolves with its stdout; injected so tests need no GPU. */
export type CommandRunner = (file: string, args: string[]) => Promise<string>;

export const NVIDIA_SMI_ARGS = ["--query-gpu=name,memory.total,uuid", "--format=csv,noheader,nounits"];

/** A hung driver can stall nvidia-smi for minutes; detection must not stall the node. */
export const COMMAND_TIMEOUT_MS = 5_000;

export const runCommand: CommandRunner = (file, args) =>
  new Promise((resolve, reject) => {
    execFile(file, args, { timeout: COMMAND_TIMEOUT_MS }, (error, stdout) => (error ? reject(error) : resolve(stdout)));
  });

/** Parses `nvidia-smi --query-gpu=name,memory.total,uuid --format=csv,noheader,nounits`. */
export function parseNvidiaSmi(csv: string): GpuInfo[] {
  const gpus: GpuInfo[] = [];
  csv.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim();
    if (line === "") return;
    const fields = line.split(",").map((f) => f.trim());
    // Exactly three columns: a name with a comma, or an extra column, is not what was asked for.
    const [name, memory, uuid] = fields;
    const wellFormed = fields.length === 3 && name !== "" && /^\d+$/.test(memory) && Number(memory) > 0 && uuid !== "";
    if (!wellFormed) throw new Error(`unexpected nvidia-smi line ${index + 1}: ${JSON.stringify(line)} (want "name, memory MiB, uuid")`);
    gpus.push({ name, memoryMb: Number(memory), uuid });
  });
  return gpus;
}

export interface GpuDetection {
  gpus: GpuInfo[];
  /** Why the list is empty, when it is. */
  note?: string;
}

/** The NVIDIA GPUs, or none with the reason: a missing or failing nvidia-smi is not an error. */
export async function detectGpus(deps: { run?: CommandRunner } = {}): Promise<GpuDetection> {
  const run = deps.run ?? runCommand;
  let gpus: GpuInfo[];
  try {
    gpus = parseNvidiaSmi(await run("nvidia-smi", NVIDIA_SMI_ARGS));
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code === "ENOENT") return { gpus: [], note: "nvidia-smi is not installed" };
    return { gpus: [], note: `nvidia-smi failed: ${error instanceof Error ? error.message : String(error)}` };
  }
  return gpus.length > 0 ? { gpus } : { gpus, note: "nvidia-smi lists no GPU" };
}

export interface HardwareProbes {
  run?: CommandRunner;
  cpuCores?: () => number;
  memoryBytes?: () => number;
  /** Free bytes of the file system holding `dir`. */
  freeDiskBytes?: (dir: string) => number;
}

const MIB = 1024 ** 2;
const GIB = 1024 ** 3;

/**
 * The whole machine as the node sees it. Host totals, not the node's own cgroup: jobs run as
 * sibling containers through the Docker daemon, outside any limit placed on the node.
 */
export async function detectHardware(workDir: string, probes: HardwareProbes = {}): Promise<DetectedHardware> {
  const { gpus, note } = await detectGpus({ run: probes.run });
  const cpuCores = probes.cpuCores ?? (() => os.availableParallelism());
  const memoryBytes = probes.memoryBytes ?? (() => os.totalmem());
  const freeDisk = probes.freeDiskBytes ?? freeDiskBytes;
  return {
    cpuCores: cpuCores(),
    memoryMb: Math.floor(memoryBytes() / MIB),
    diskGb: Math.floor(freeDisk(workDir) / GIB),
    gpus,
    ...(note ? { gpuNote: note } : {}),
  };
}

/** Free bytes for an unprivileged user (`bavail`, not `bfree`: root's reserve is not ours). */
export function freeDiskBytes(dir: string): number {
  const stats = fs.statfsSync(existingAncestor(dir));
  return stats.bavail * stats.bsize;
}

/** The directory itself or its nearest existing parent: the work directory may not exist yet. */
function existingAncestor(dir: string): string {
  let current = path.resolve(dir);
  while (!fs.existsSync(current) && path.dirname(current) !== current) current = path.dirname(current);
  return current;
}

/** Bytes of the on-chain GPU model label. */
export const GPU_MODEL_LEN = 16;

/**
 * A GPU name as the chain stores it: printable ASCII, at most 16 bytes, without the vendor
 * prefix every NVIDIA name carries ("NVIDIA H100 80GB HBM3" → "H100 80GB HBM3"), so the part
 * that tells models apart survives the truncation.
 */
export function gpuModelLabel(name: string): string {
  return name
    .replace(/^NVIDIA\s+/i, "")
    .replace(/[^\x20-\x7e]/g, "")
    .trim()
    .slice(0, GPU_MODEL_LEN)
    .trimEnd();
}

/** The GPUs to advertise: the most numerous model (ties: the larger memory, then the first seen). */
export function advertisedGpus(gpus: readonly GpuInfo[]): { model: string; units: GpuInfo[] } {
  const byModel = new Map<string, GpuInfo[]>();
  for (const gpu of gpus) {
    const model = gpuModelLabel(gpu.name);
    byModel.set(model, [...(byModel.get(model) ?? []), gpu]);
  }
  let best: { model: string; units: GpuInfo[] } = { model: "", units: [] };
  for (const [model, units] of byModel) {
    const more = units.length > best.units.length;
    const tieButLarger = units.length === best.units.length && maxMemory(units) > maxMemory(best.units);
    if (more || tieButLarger) best = { model, units };
  }
  return best;
}

function maxMemory(gpus: readonly GpuInfo[]): number {
  return gpus.reduce((max, gpu) => Math.max(max, gpu.memoryMb), 0);
}

/**
 * The spec to register. A job asks for N GPUs of one model and the program compares one model
 * label, so a machine with mixed GPUs advertises its most numerous model only, and only those
 * units; advertising the others would let a job that asked for that model land on another.
 * `vramMb` is per GPU (as `HardwareSpec.vram_mb`) and the smallest among the units, since any of
 * them may be handed to a job. Cores and memory stay at least 1 after the reserve: the program
 * rejects a spec without them.
 */
export function toHardwareSpec(detected: DetectedHardware, reserve: Reserve = NO_RESERVE, region = 0): HardwareSpecInput {
  const { model, units } = advertisedGpus(detected.gpus);
  const counted = units.slice(0, 255); // gpu_count is a u8
  return {
    gpuModel: counted.length > 0 ? model : "",
    gpuCount: counted.length,
    vramMb: counted.length > 0 ? Math.min(...counted.map((g) => g.memoryMb)) : 0,
    cpuCores: Math.max(detected.cpuCores - reserve.cpuCores, 1),
    memoryMb: Math.max(detected.memoryMb - reserve.memoryMb, 1),
    diskGb: Math.max(detected.diskGb - reserve.diskGb, 0),
    region,
  };
}

/** Free disk moves with every job; only a change of more than this share re-registers. */
export const DISK_TOLERANCE = 0.1;

/**
 * The fields in which the registered spec differs from what the machine offers now (a mutable
 * list of names: the caller adds its own, such as a changed endpoint).
 */
export function specChanges(onChain: ProviderAccount["spec"], wanted: HardwareSpecInput): string[] {
  const changes: string[] = [];
  if (labelText(onChain.gpuModel) !== (wanted.gpuModel ?? "")) changes.push("gpuModel");
  if (onChain.gpuCount !== wanted.gpuCount) changes.push("gpuCount");
  if (onChain.vramMb !== wanted.vramMb) changes.push("vramMb");
  if (onChain.cpuCores !== wanted.cpuCores) changes.push("cpuCores");
  if (onChain.memoryMb !== wanted.memoryMb) changes.push("memoryMb");
  if (Math.abs(onChain.diskGb - wanted.diskGb) > Math.max(onChain.diskGb, wanted.diskGb) * DISK_TOLERANCE) changes.push("diskGb");
  if (onChain.region !== (wanted.region ?? 0)) changes.push("region");
  return changes;
}

/** Whether the node should re-register (`update_provider`). */
export function specChanged(onChain: ProviderAccount["spec"], wanted: HardwareSpecInput): boolean {
  return specChanges(onChain, wanted).length > 0;
}
