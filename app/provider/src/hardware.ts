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

export interface Reserve {
  cpuCores: number;
  memoryMb: number;
  diskGb: number;
}

/** Runs a command and resolves with its stdout; injected so tests need no GPU. */
export type CommandRunner = (file: string, args: string[]) => Promise<string>;

export const NVIDIA_SMI_ARGS = ["--query-gpu=name,memory.total,uuid", "--format=csv,noheader,nounits"];

export const runCommand: CommandRunner = (file, args) =>
  new Promise((resolve, reject) => {
    execFile(file, args, { timeout: 5_000 }, (error, stdout) => (error ? reject(error) : resolve(stdout)));
  });

/** Parses `nvidia-smi --query-gpu=name,memory.total,uuid --format=csv,noheader,nounits`. */
export function parseNvidiaSmi(csv: string): GpuInfo[] {
  return csv
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line.length > 0)
    .map((line) => {
      const fields = line.split(",").map((f) => f.trim());
      const memoryMb = Number(fields[1]);
      if (fields.length !== 3 || fields[0] === "" || !Number.isInteger(memoryMb) || memoryMb <= 0) {
        throw new Error(`unexpected nvidia-smi line: ${JSON.stringify(line)}`);
      }
      return { name: fields[0], memoryMb, uuid: fields[2] };
    });
}

export async function detectGpus(run: CommandRunner = runCommand): Promise<{ gpus: GpuInfo[]; note?: string }> {
  try {
    return { gpus: parseNvidiaSmi(await run("nvidia-smi", NVIDIA_SMI_ARGS)) };
  } catch (error) {
    const code = (error as { code?: string }).code;
    return { gpus: [], note: code === "ENOENT" ? "nvidia-smi is not installed" : `nvidia-smi failed: ${error instanceof Error ? error.message : String(error)}` };
  }
}

export interface HardwareProbes {
  run?: CommandRunner;
  cpuCores?: () => number;
  memoryBytes?: () => number;
  /** Free bytes of the file system holding `dir`. */
  freeDiskBytes?: (dir: string) => number;
}

export async function detectHardware(workDir: string, probes: HardwareProbes = {}): Promise<DetectedHardware> {
  const { gpus, note } = await detectGpus(probes.run);
  const freeDisk =
    probes.freeDiskBytes ??
    ((dir: string) => {
      const stats = fs.statfsSync(existingAncestor(dir));
      return stats.bavail * stats.bsize;
    });
  return {
    cpuCores: (probes.cpuCores ?? (() => os.availableParallelism()))(),
    memoryMb: Math.floor((probes.memoryBytes ?? os.totalmem)() / (1024 * 1024)),
    diskGb: Math.floor(freeDisk(workDir) / 1024 ** 3),
    gpus,
    ...(note ? { gpuNote: note } : {}),
  };
}

/** The directory itself or its nearest existing parent: the work directory may not exist yet. */
function existingAncestor(dir: string): string {
  let current = path.resolve(dir);
  while (!fs.existsSync(current) && path.dirname(current) !== current) current = path.dirname(current);
  return current;
}

/** GPU model names as the chain stores them: printable ASCII, at most 16 characters. */
export function gpuModelLabel(name: string): string {
  return name.replace(/^NVIDIA\s+/i, "").replace(/[^\x20-\x7e]/g, "").trim().slice(0, 16);
}

/**
 * The spec to register. A job asks for N GPUs of one model, so a machine with mixed GPUs
 * advertises its most numerous model only (ties: the larger memory), with the smallest memory
 * among those units, since any of them may be handed to a job.
 */
export function toHardwareSpec(detected: DetectedHardware, reserve: Reserve = { cpuCores: 0, memoryMb: 0, diskGb: 0 }, region = 0): HardwareSpecInput {
  const byModel = new Map<string, GpuInfo[]>();
  for (const gpu of detected.gpus) byModel.set(gpuModelLabel(gpu.name), [...(byModel.get(gpuModelLabel(gpu.name)) ?? []), gpu]);
  const [model, units] = [...byModel].sort(([, a], [, b]) => b.length - a.length || Math.max(...b.map((g) => g.memoryMb)) - Math.max(...a.map((g) => g.memoryMb)))[0] ?? ["", []];
  return {
    gpuModel: units.length > 0 ? model : "",
    gpuCount: Math.min(units.length, 255),
    vramMb: units.length > 0 ? Math.min(...units.map((g) => g.memoryMb)) : 0,
    cpuCores: Math.max(detected.cpuCores - reserve.cpuCores, 1),
    memoryMb: Math.max(detected.memoryMb - reserve.memoryMb, 1),
    diskGb: Math.max(detected.diskGb - reserve.diskGb, 0),
    region,
  };
}

/** The fields in which the registered spec differs from what the machine offers now. */
export function specChanges(onChain: ProviderAccount["spec"], wanted: HardwareSpecInput): string[] {
  const changes: string[] = [];
  if (labelText(onChain.gpuModel) !== (wanted.gpuModel ?? "")) changes.push("gpuModel");
  if (onChain.gpuCount !== wanted.gpuCount) changes.push("gpuCount");
  if (onChain.vramMb !== wanted.vramMb) changes.push("vramMb");
  if (onChain.cpuCores !== wanted.cpuCores) changes.push("cpuCores");
  if (onChain.memoryMb !== wanted.memoryMb) changes.push("memoryMb");
  // Free disk moves all the time: only a change of more than 10 % re-registers.
  if (Math.abs(onChain.diskGb - wanted.diskGb) > Math.max(onChain.diskGb, wanted.diskGb) * 0.1) changes.push("diskGb");
  return changes;
}
