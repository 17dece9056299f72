// A service replica's container: the job's isolation (limits, read-only root, no capabilities,
// inputs read-only) plus the spec's ports published on the host, kept running until the replica
// ends. The node supervises it itself rather than through Docker's restart policy, so that it
// knows every restart (a policy restart happens behind its back) and a container it stopped
// stays stopped. Each published port keeps one host port for the replica's whole life: its
// public URL does not move when the container restarts.
import net from "node:net";
import { PassThrough } from "node:stream";
import type Docker from "dockerode";
import type { ContainerJobSpec, HealthCheck, ServiceSpec } from "@compute-market/sdk";
import { containerOptions, NODE_LABEL, type ContainerPaths } from "./container-options";
import { attachLines, cleanupLeftovers, ensureImage, withTimeout } from "./docker-runner";

/** Marks a service's container, beside the job label, so a node restarting finds its replicas. */
export const SERVICE_LABEL = "compute-market.service";
const DEFAULT_DAEMON_TIMEOUT_MS = 15_000;
const DEFAULT_PULL_TIMEOUT_MS = 120_000;
const HEALTH_TIMEOUT_MS = 2_000;

/** One container port and the host port it is published on. */
export interface PublishedPort {
  containerPort: number;
  hostPort: number;
}

/** The service spec of a spec that must be a service's. */
export function serviceOf(spec: ContainerJobSpec): ServiceSpec {
  if (!spec.service) throw new Error("the job's spec has no service section: it is not a service's container");
  return spec.service;
}

/** The container of a replica: the job's options, on the bridge network, its ports published on `hostIp`. */
export function serviceContainerOptions(spec: ContainerJobSpec, paths: ContainerPaths, job: string, ports: PublishedPort[], hostIp: string, node?: string): Docker.ContainerCreateOptions {
  const base = containerOptions(spec, paths, job, node);
  const exposed = Object.fromEntries(ports.map(({ containerPort }) => [`${containerPort}/tcp`, {}]));
  const bindings = Object.fromEntries(ports.map(({ containerPort, hostPort }) => [`${containerPort}/tcp`, [{ HostIp: hostIp, HostPort: String(hostPort) }]]));
  return {
    ...base,
    Labels: { ...base.Labels, [SERVICE_LABEL]: job },
    ExposedPorts: exposed,
    NetworkDisabled: false,
    HostConfig: { ...base.HostConfig, NetworkMode: "bridge", PortBindings: bindings, RestartPolicy: { Name: "no" } },
  };
}

/** A free TCP port on `host`, as the kernel hands one out (the caller binds it soon after). */
export function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, host, () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error("no free port"))));
    });
  });
}

/** Whether the replica answers its health check on `host` now. */
export async function checkHealth(check: HealthCheck, ports: PublishedPort[], host: string, timeoutMs = HEALTH_TIMEOUT_MS): Promise<boolean> {
  const published = ports.find((p) => p.containerPort === check.port);
  if (!published) return false;
  if (check.kind === "tcp") return tcpAccepts(host, published.hostPort, timeoutMs);
  try {
    const response = await fetch(`http://${host}:${published.hostPort}${check.path}`, { signal: AbortSignal.timeout(timeoutMs), redirect: "manual" });
    await response.body?.cancel();
    return response.status === check.expectedStatus;
  } catch {
    return false;
  }
}

function tcpAccepts(host: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
  });
}

export interface ServiceHostOptions {
  docker: Docker;
  /** Address the ports are published on (0.0.0.0 for every interface). */
  hostIp: string;
  /** Host name or address in the replicas' public URLs, and where the node runs health checks. */
  publicHost: string;
  daemonTimeoutMs?: number;
  pullTimeoutMs?: number;
  /** The node the containers belong to (labelled, so only this node cleans them up). */
  nodeId?: string;
  /** Each line a replica's container writes, and the node's own notes about it ("system"). */
  onLog?: (job: string, stream: "stdout" | "stderr" | "system", line: string) => void;
}

/** A replica this node runs: its container, ports, public URLs and restarts so far. */
export interface RunningReplica {
  job: string;
  containerId: string;
  ports: PublishedPort[];
  urls: string[];
  restarts: number;
}

/** A shell (`sh`, no terminal) in a replica's container: its input, its output as it comes, its exit. */
export interface ReplicaShell {
  write(input: string): void;
  /** Closes the shell's input: `sh` exits once it has run what it was given. */
  end(): void;
  stdout: PassThrough;
  stderr: PassThrough;
  /** Resolves with the shell's exit code (null when Docker did not say) once it ended. */
  exited: Promise<number | null>;
}

/** What one supervision pass found of a replica. */
export type ReplicaCheck = { job: string; running: boolean; restarted: boolean; healthy: boolean };

/** Starts, supervises, checks and stops this node's service containers. */
export class ServiceHost {
  private readonly replicas = new Map<string, { replica: RunningReplica; spec: ContainerJobSpec }>();

  constructor(private readonly options: ServiceHostOptions) {}

  private get timeout(): number {
    return this.options.daemonTimeoutMs ?? DEFAULT_DAEMON_TIMEOUT_MS;
  }

  /**
   * Takes back this node's container of the replica left running by an earlier run of the node
   * (a restart): same container, same host ports, so its public URLs do not move. Null when
   * there is none; a stopped one is started again by the next supervision pass.
   */
  async adopt(job: string, spec: ContainerJobSpec): Promise<RunningReplica | null> {
    const { docker, publicHost, nodeId } = this.options;
    if (nodeId === undefined) return null;
    const filters = { label: [`${SERVICE_LABEL}=${job}`, `${NODE_LABEL}=${nodeId}`] };
    const [found] = await withTimeout(docker.listContainers({ all: true, filters }), this.timeout, "the container list");
    if (!found) return null;
    const container = docker.getContainer(found.Id);
    const bindings = (await withTimeout(container.inspect(), this.timeout, "container inspection")).HostConfig.PortBindings ?? {};
    const ports = serviceOf(spec).ports.map((containerPort) => ({ containerPort, hostPort: Number(bindings[`${containerPort}/tcp`]?.[0]?.HostPort ?? 0) }));
    // A container without every port published is not one this node made for the spec.
    if (ports.some((port) => port.hostPort === 0)) return null;
    if (found.State === "running") await this.followLogs(job, container);
    const replica: RunningReplica = { job, containerId: found.Id, ports, urls: ports.map((p) => `http://${publicHost}:${p.hostPort}`), restarts: 0 };
    this.replicas.set(job, { replica, spec });
    this.options.onLog?.(job, "system", "the node restarted: its replica's container was taken back");
    return { ...replica };
  }

  /** Starts the replica's container (replacing a leftover of an earlier node run) and returns its URLs. */
  async start(job: string, spec: ContainerJobSpec, paths: ContainerPaths): Promise<RunningReplica> {
    const service = serviceOf(spec);
    const { docker, hostIp, publicHost } = this.options;
    await cleanupLeftovers(docker, this.timeout, job, this.options.nodeId);
    await ensureImage(docker, spec.image, this.timeout, this.options.pullTimeoutMs ?? DEFAULT_PULL_TIMEOUT_MS);
    const ports: PublishedPort[] = [];
    for (const containerPort of service.ports) ports.push({ containerPort, hostPort: await freePort(hostIp) });
    const container = await withTimeout(docker.createContainer(serviceContainerOptions(spec, paths, job, ports, hostIp, this.options.nodeId)), this.timeout, "container creation");
    await this.followLogs(job, container);
    await withTimeout(container.start(), this.timeout, "container start");
    const replica: RunningReplica = { job, containerId: container.id, ports, urls: ports.map((p) => `http://${publicHost}:${p.hostPort}`), restarts: 0 };
    this.replicas.set(job, { replica, spec });
    return { ...replica };
  }

  running(job: string): RunningReplica | undefined {
    const entry = this.replicas.get(job);
    return entry && { ...entry.replica };
  }

  /** One pass over a replica: starts its container again if it stopped, then runs its health check. */
  async supervise(job: string): Promise<ReplicaCheck> {
    const entry = this.replicas.get(job);
    if (!entry) return { job, running: false, restarted: false, healthy: false };
    const container = this.options.docker.getContainer(entry.replica.containerId);
    const state = (await withTimeout(container.inspect(), this.timeout, "container inspection")).State;
    let restarted = false;
    if (!state.Running) {
      this.options.onLog?.(job, "system", `the container stopped (exit ${state.ExitCode}); restarting it`);
      await this.followLogs(job, container);
      await withTimeout(container.start(), this.timeout, "container restart");
      entry.replica.restarts += 1;
      restarted = true;
    }
    const healthy = await checkHealth(serviceOf(entry.spec).healthCheck, entry.replica.ports, this.options.publicHost);
    return { job, running: true, restarted, healthy };
  }

  /** Opens a shell in the replica's running container, or null when this node runs none of the job. */
  async shell(job: string): Promise<ReplicaShell | null> {
    const entry = this.replicas.get(job);
    if (!entry) return null;
    const { docker } = this.options;
    const container = docker.getContainer(entry.replica.containerId);
    const exec = await withTimeout(container.exec({ Cmd: ["sh"], AttachStdin: true, AttachStdout: true, AttachStderr: true, Tty: false }), this.timeout, "shell creation");
    const stream = await withTimeout(exec.start({ hijack: true, stdin: true }), this.timeout, "shell start");
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    docker.modem.demuxStream(stream, stdout, stderr);
    const exited = new Promise<number | null>((resolve) => {
      const finish = (): void => {
        stdout.end();
        stderr.end();
        exec.inspect().then((state) => resolve(state.ExitCode ?? null), () => resolve(null));
      };
      stream.once("end", finish);
      stream.once("error", finish);
    });
    return { write: (input) => void stream.write(input), end: () => void stream.end(), stdout, stderr, exited };
  }

  /** Streams the container's lines to `onLog` until it stops (attached again at each restart). */
  private async followLogs(job: string, container: Docker.Container): Promise<void> {
    const onLog = this.options.onLog;
    if (!onLog) return;
    await attachLines(this.options.docker, container, this.timeout, (stream, line) => onLog(job, stream, line));
  }

  /** Stops and removes the replica's container (its replica ended), and any other of this node's
   * containers of the job (one an earlier run of the node left); a no-op when there is none. */
  async stop(job: string): Promise<void> {
    const entry = this.replicas.get(job);
    this.replicas.delete(job);
    if (entry) await withTimeout(this.options.docker.getContainer(entry.replica.containerId).remove({ force: true, v: true }), this.timeout, "container removal").catch(() => undefined);
    if (this.options.nodeId !== undefined) await cleanupLeftovers(this.options.docker, this.timeout, job, this.options.nodeId).catch(() => undefined);
  }

  /** Stops every replica (the node shuts down for good). */
  async stopAll(): Promise<void> {
    await Promise.all([...this.replicas.keys()].map((job) => this.stop(job)));
  }
}
