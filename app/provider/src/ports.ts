// The node's world, for real: specs and inputs from the blob store (or fetched from other
// endpoints), the Docker daemon, the capacity ledger, the pricing strategy and the executor.
import fs from "node:fs/promises";
import path from "node:path";
import type Docker from "dockerode";
import type { PublicKey } from "@solana/web3.js";
import { bytesToHex, hexToBytes } from "@noble/hashes/utils";
import { decodeSpec, fetchBlob, isMachineJob, resolveMachineProgram, type ContainerJobSpec, type JobAccount, type MachineProgram, type MarketAccount } from "@compute-market/sdk";
import type { Logger, MachineRuntime } from "@compute-market/common";
import { Decline, ProviderFault, type ExecutionResult, type JobWork, type NodePorts } from "./lifecycle/node";
import { executeMachineJob } from "./machine";
import type { BlobStore } from "./results/store";
import type { JobLogHub } from "./results/catalog";
import { executeJob } from "./executor";
import type { ReplicaShell } from "./runtime/service-container";
import { ensureImage, isDaemonReachable, materializeInputs, ServiceHost } from "./runtime";

/** How long a pull may take while deciding on a bid. */
const IMAGE_PULL_TIMEOUT_MS = 120_000;

/** Milliseconds in a slot, to compare a spec's time limit with the job's on-chain duration. */
export const SLOT_MS = 400;

/** What the ports need of the capacity ledger. */
export interface Capacity {
  fits(requirements: JobAccount["requirements"]): boolean;
  reserve(job: string, requirements: JobAccount["requirements"]): void;
  release(job: string): void;
  utilisation(): number;
}

/** What the ports need of a pricing strategy. */
export interface Pricing {
  quote(job: JobAccount, market: MarketAccount, utilisation: number): bigint | null;
}

export interface PortsOptions {
  docker: Docker;
  store: BlobStore;
  hub: JobLogHub;
  workDir: string;
  /** Other endpoints to look for specs and inputs at, after the local store. */
  blobSources: string[];
  capacity: Capacity;
  pricing: Pricing;
  /** The market account, refreshed by the caller. */
  market: () => MarketAccount | null;
  /** This node's public endpoint (results URIs point there). */
  endpoint: string;
  /** The node's provider account (base 58): labels its containers as its own. */
  nodeId?: string;
  logger: Logger;
  /** Largest spec or input fetched from elsewhere. */
  maxBlobBytes: number;
  /** The machine that runs verifiable jobs. */
  machine: MachineRuntime;
  /** Where service replicas' ports are published (an address of this host; 0.0.0.0 for all). */
  serviceHostIp?: string;
}

/** The ports and the program lookup the node's game player needs too. */
export type Ports = NodePorts & {
  /** A verifiable job's program from the store (or the blob sources), checked against the job. */
  machineProgram(job: PublicKey, account: JobAccount): Promise<MachineProgram>;
  /** A shell in this node's replica of the lease `job` (base 58), or null when it serves none. */
  shell(job: string): Promise<ReplicaShell | null>;
};



/** Why a spec does not fit the job's on-chain requirements, or null when it does. */
export function specMismatch(spec: ContainerJobSpec, job: Pick<JobAccount, "requirements">): string | null {
  const r = job.requirements;
  if (spec.gpus > r.gpuCount) return `the spec asks for ${spec.gpus} GPUs, the job for ${r.gpuCount}`;
  if (spec.cpus > r.cpuCores) return `the spec asks for ${spec.cpus} CPUs, the job for ${r.cpuCores}`;
  if (spec.memoryMb > r.memoryMb) return `the spec asks for ${spec.memoryMb} MB, the job for ${r.memoryMb}`;
  const durationMs = Number(r.maxDurationSlots) * SLOT_MS;
  if (spec.timeoutSeconds * 1000 > durationMs) return `the spec's time limit ${spec.timeoutSeconds}s exceeds the job's ${durationMs / 1000}s`;
  return null;
}

export function createPorts(options: PortsOptions): Ports {
  const { store, docker, capacity, logger } = options;
  // Replicas are reached at the host of the node's public endpoint.
  // A replica's lines go to the job's log, which its consumer streams over the logs WebSocket.
  const services = new ServiceHost({ docker, hostIp: options.serviceHostIp ?? "127.0.0.1", publicHost: new URL(options.endpoint).hostname, nodeId: options.nodeId, onLog: (job, stream, line) => options.hub.append(job, stream, line) });

  /** A blob from the local store, or from the first source that has it (checked, then kept). */
  const obtain = async (sha256: string): Promise<Uint8Array | null> => {
    const local = await store.get(sha256);
    if (local) {
      const chunks: Buffer[] = [];
      for await (const chunk of local) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks);
    }
    for (const source of options.blobSources) {
      try {
        const bytes = await fetchBlob(source, sha256, { maxBytes: options.maxBlobBytes });
        await store.put(bytes, { expectedSha256: sha256 });
        return bytes;
      } catch (error) {
        logger.debug({ source, sha256, err: error }, "blob not found at source");
      }
    }
    return null;
  };

  const machineProgram = async (job: PublicKey, account: JobAccount): Promise<MachineProgram> =>
    resolveMachineProgram((sha256) => obtain(sha256), { address: job.toBase58(), account }, await options.machine.vm());

  const containerSpec = async (account: JobAccount): Promise<ContainerJobSpec> => {
    const hash = bytesToHex(Uint8Array.from(account.specHash));
    const bytes = await obtain(hash);
    if (!bytes) throw new Decline(`spec ${hash} is not published to this node or its sources`);
    let spec: ContainerJobSpec;
    try {
      spec = decodeSpec(bytes, hexToBytes(hash));
    } catch (error) {
      throw new Decline(`spec ${hash} is invalid: ${error instanceof Error ? error.message : String(error)}`);
    }
    const mismatch = specMismatch(spec, account);
    if (mismatch) throw new Decline(mismatch);
    for (const input of spec.inputs) {
      if (!(await store.has(input.sha256)) && !(await obtain(input.sha256))) throw new Decline(`input ${input.path} (${input.sha256}) is not available`);
    }
    return spec;
  };

  return {
    machineProgram,

    async resolveSpec(job: PublicKey, account: JobAccount): Promise<JobWork> {
      if (!isMachineJob(account)) return { kind: "container", spec: await containerSpec(account) };
      try {
        return { kind: "machine", program: await machineProgram(job, account) };
      } catch (error) {
        throw new Decline(error instanceof Error ? error.message : String(error));
      }
    },

    async admit(_job: PublicKey, account: JobAccount, work: JobWork): Promise<void> {
      // The machine runs in-process: no daemon, no image.
      if (work.kind === "machine") {
        if (!capacity.fits(account.requirements)) throw new Decline("not enough free capacity", true);
        return;
      }
      const spec = work.spec;
      // Not a Decline: the daemon may come back while the job is still open, so this is retried.
      if (!(await isDaemonReachable(docker, 3_000))) throw new Error("the Docker daemon is not reachable");
      try {
        // A registry image pinned by digest is pulled now, while bidding, rather than after the award.
        await ensureImage(docker, spec.image, 15_000, IMAGE_PULL_TIMEOUT_MS);
      } catch (error) {
        throw new Decline(`image ${spec.image} is not available on this node: ${error instanceof Error ? error.message : String(error)}`);
      }
      if (!capacity.fits(account.requirements)) throw new Decline("not enough free capacity", true);
    },

    quote(_job: PublicKey, account: JobAccount): bigint | null {
      const market = options.market();
      if (!market) return null;
      return options.pricing.quote(account, market, capacity.utilisation());
    },

    reserve(job: PublicKey, account: JobAccount): void {
      // Another job may have taken the room since `admit` (considered in the same tick).
      if (!capacity.fits(account.requirements)) throw new Decline("not enough free capacity", true);
      capacity.reserve(job.toBase58(), account.requirements);
    },

    release(job: PublicKey): void {
      capacity.release(job.toBase58());
    },

    async execute(job: PublicKey, account: JobAccount, work: JobWork, signal: AbortSignal): Promise<ExecutionResult> {
      if (work.kind === "machine") return executeMachineJob({ runtime: options.machine, store, hub: options.hub }, job, account, work.program, signal);
      const result = await executeJob({ docker, store, hub: options.hub, workDir: options.workDir, logger, nodeId: options.nodeId }, job, work.spec, signal);
      return { outputRoot: result.outputRoot, outcome: result.outcome, manifestBlob: await store.put(new TextEncoder().encode(JSON.stringify(result.manifest))) };
    },

    async serve(job: PublicKey, spec: ContainerJobSpec): Promise<{ urls: string[] }> {
      const id = job.toBase58();
      // A replica left running by this node before a restart keeps its container and its URLs.
      const adopted = await services.adopt(id, spec);
      if (adopted) return { urls: adopted.urls };
      const dir = path.join(options.workDir, "services", id);
      const paths = { inputsDir: path.join(dir, "inputs"), outputDir: path.join(dir, "outputs") };
      await fs.rm(dir, { recursive: true, force: true });
      await fs.mkdir(paths.outputDir, { recursive: true });
      await materializeInputs(spec, paths.inputsDir, async (sha256) => {
        const bytes = await obtain(sha256);
        if (!bytes) throw new ProviderFault(`input ${sha256} is no longer available`);
        return bytes;
      });
      const replica = await services.start(id, spec, paths);
      return { urls: replica.urls };
    },

    async supervise(job: PublicKey) {
      return services.supervise(job.toBase58());
    },

    shell(job: string) {
      return services.shell(job);
    },

    async unserve(job: PublicKey): Promise<void> {
      await services.stop(job.toBase58());
      options.hub.end(job.toBase58(), "replica ended");
    },

    resultUri(job: PublicKey, account?: JobAccount): string {
      // A verifiable job's result is its output, served to anyone; a container job's, to its consumer.
      const resource = account && isMachineJob(account) ? "output" : "results";
      return `${options.endpoint.replace(/\/+$/, "")}/v1/jobs/${job.toBase58()}/${resource}`;
    },
  };
}
