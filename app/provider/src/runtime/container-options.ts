// The Docker container a job runs in, as a pure function of its spec: the spec's limits, no
// network unless asked, inputs read-only, one writable output directory, a read-only root file
// system, no capabilities, and labels that find the container again after a restart: the job's,
// and the node's own, so nodes sharing one Docker daemon never clean up each other's containers.
import type { ContainerCreateOptions } from "dockerode";
import type { ContainerJobSpec } from "@compute-market/sdk";

export const JOB_LABEL = "compute-market.job";
/** The node (its provider account) a container belongs to. */
export const NODE_LABEL = "compute-market.node";
/** Processes a job may start: enough for real work, not for a fork bomb. */
export const PIDS_LIMIT = 1024;
/** Scratch space at /tmp inside the container. */
export const TMPFS_SIZE = "64m";

export interface ContainerPaths {
  /** Host directory mounted read-only at /inputs. */
  inputsDir: string;
  /** Host directory mounted read-write at /outputs. */
  outputDir: string;
}

export function containerOptions(spec: ContainerJobSpec, paths: ContainerPaths, job: string, node?: string): ContainerCreateOptions {
  const memoryBytes = spec.memoryMb * 1024 * 1024;
  return {
    Image: spec.image,
    ...(spec.command.length > 0 ? { Cmd: [...spec.command] } : {}),
    Env: Object.entries(spec.env).map(([name, value]) => `${name}=${value}`),
    WorkingDir: "/outputs",
    Labels: { [JOB_LABEL]: job, ...(node ? { [NODE_LABEL]: node } : {}) },
    AttachStdout: true,
    AttachStderr: true,
    Tty: false,
    NetworkDisabled: !spec.network,
    HostConfig: {
      NetworkMode: spec.network ? "bridge" : "none",
      Memory: memoryBytes,
      // Equal to Memory: no swap, so the memory limit is the limit.
      MemorySwap: memoryBytes,
      NanoCpus: Math.round(spec.cpus * 1e9),
      PidsLimit: PIDS_LIMIT,
      ReadonlyRootfs: true,
      Tmpfs: { "/tmp": `rw,noexec,nosuid,size=${TMPFS_SIZE}` },
      Binds: [`${paths.inputsDir}:/inputs:ro`, `${paths.outputDir}:/outputs:rw`],
      CapDrop: ["ALL"],
      SecurityOpt: ["no-new-privileges"],
      AutoRemove: false,
      ...(spec.gpus > 0 ? { DeviceRequests: [{ Driver: "nvidia", Count: spec.gpus, Capabilities: [["gpu"]] }] } : {}),
    },
  };
}
