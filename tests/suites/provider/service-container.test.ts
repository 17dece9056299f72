// Service replicas' containers: the spec's service section validated, the container options
// (published ports, the job's isolation kept), and against the real Docker daemon a busybox
// HTTP server started, checked healthy at its public URL, restarted by the node's supervision
// after it dies (same URL), seen unhealthy when it stops answering, and removed when it ends; its
// lines streamed to the node's log, across a restart.
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type Docker from "dockerode";
import { specHash, validateSpec, type ContainerJobSpec } from "@compute-market/sdk";
import { checkHealth, serviceContainerOptions, ServiceHost } from "../../../app/provider/src/runtime";
import { jobContainers, shellSpec, testDocker } from "../../support/docker";

/** busybox httpd serving /tmp, with /tmp/health answering 200 until /tmp/health is removed. */
const HTTPD = "echo ok > /tmp/health; exec httpd -f -p 8080 -h /tmp";

function serviceSpec(image: string, overrides: Partial<ContainerJobSpec> = {}): ContainerJobSpec {
  return shellSpec(image, HTTPD, { network: true, service: { ports: [8080], healthCheck: { kind: "http", port: 8080, path: "/health", expectedStatus: 200 } }, ...overrides });
}

function dirs(): { inputsDir: string; outputDir: string } {
  const root = mkdtempSync(path.join(os.tmpdir(), "svc-"));
  const paths = { inputsDir: path.join(root, "inputs"), outputDir: path.join(root, "outputs") };
  mkdirSync(paths.inputsDir);
  mkdirSync(paths.outputDir);
  return paths;
}

describe("service spec", () => {
  const base = serviceSpec("sha256:" + "a".repeat(64));

  it("accepts a service with published ports and an HTTP or TCP health check, and hashes it", () => {
    validateSpec(base);
    validateSpec({ ...base, service: { ports: [8080, 9000], healthCheck: { kind: "tcp", port: 9000 } } });
    assert.notDeepEqual(specHash(base), specHash({ ...base, service: undefined }), "the service section is part of what the job commits to");
  });

  const bad: [string, Partial<ContainerJobSpec>, string][] = [
    ["no ports", { service: { ports: [], healthCheck: { kind: "tcp", port: 1 } } }, "service.ports"],
    ["a port out of range", { service: { ports: [70_000], healthCheck: { kind: "tcp", port: 70_000 } } }, "service.ports"],
    ["a repeated port", { service: { ports: [80, 80], healthCheck: { kind: "tcp", port: 80 } } }, "service.ports"],
    ["no network", { network: false }, "network"],
    ["a health check on an unpublished port", { service: { ports: [80], healthCheck: { kind: "tcp", port: 81 } } }, "service.healthCheck.port"],
    ["a relative health path", { service: { ports: [80], healthCheck: { kind: "http", port: 80, path: "health", expectedStatus: 200 } } }, "service.healthCheck.path"],
    ["a status that is not HTTP's", { service: { ports: [80], healthCheck: { kind: "http", port: 80, path: "/", expectedStatus: 42 } } }, "service.healthCheck.expectedStatus"],
    ["an unknown check", { service: { ports: [80], healthCheck: { kind: "udp", port: 80 } as never } }, "service.healthCheck.kind"],
  ];
  for (const [what, overrides, field] of bad) {
    it(`refuses ${what}, naming ${field}`, () => {
      assert.throws(() => validateSpec({ ...base, ...overrides }), (error: Error) => error.message.startsWith(`invalid job spec: ${field}:`));
    });
  }

  it("publishes the ports on the host and keeps the job's isolation", () => {
    const options = serviceContainerOptions(base, { inputsDir: "/in", outputDir: "/out" }, "Job1", [{ containerPort: 8080, hostPort: 31_000 }], "127.0.0.1");
    assert.deepEqual(options.ExposedPorts, { "8080/tcp": {} });
    assert.deepEqual(options.HostConfig?.PortBindings, { "8080/tcp": [{ HostIp: "127.0.0.1", HostPort: "31000" }] });
    assert.equal(options.HostConfig?.NetworkMode, "bridge");
    assert.equal(options.HostConfig?.ReadonlyRootfs, true);
    assert.deepEqual(options.HostConfig?.CapDrop, ["ALL"]);
    assert.deepEqual(options.HostConfig?.RestartPolicy, { Name: "no" }, "the node restarts it, not Docker behind its back");
    assert.equal(options.Labels?.["compute-market.job"], "Job1");
  });
});

describe("service host (Docker)", function () {
  this.timeout(60_000);
  let docker: Docker;
  let image: string;
  let host: ServiceHost;

  before(async () => {
    ({ docker, image } = await testDocker());
  });
  beforeEach(() => {
    host = new ServiceHost({ docker, hostIp: "127.0.0.1", publicHost: "127.0.0.1" });
  });
  afterEach(async () => {
    await host.stopAll();
    assert.equal(await jobContainers(docker), 0, "no service container is left behind");
  });

  async function untilHealthy(job: string, want: boolean): Promise<void> {
    for (let i = 0; i < 50; i++) {
      if ((await host.supervise(job)).healthy === want) return;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.fail(`replica ${job} never became ${want ? "healthy" : "unhealthy"}`);
  }

  it("serves at its public URL and is restarted on the same URL after its process dies", async () => {
    const replica = await host.start("Svc1", serviceSpec(image), dirs());
    assert.equal(replica.urls.length, 1);
    await untilHealthy("Svc1", true);
    assert.equal((await fetch(`${replica.urls[0]}/health`)).status, 200);

    await docker.getContainer(replica.containerId).kill();
    const check = await host.supervise("Svc1");
    assert.equal(check.restarted, true);
    await untilHealthy("Svc1", true);
    assert.equal(host.running("Svc1")!.restarts, 1);
    assert.deepEqual(host.running("Svc1")!.urls, replica.urls, "the URL does not move");
    assert.equal((await fetch(`${replica.urls[0]}/health`)).status, 200);
  });

  it("is unhealthy once it stops answering its check, healthy by TCP while it listens, and gone when stopped", async () => {
    const replica = await host.start("Svc2", serviceSpec(image), dirs());
    await untilHealthy("Svc2", true);
    assert.equal(await checkHealth({ kind: "tcp", port: 8080 }, replica.ports, "127.0.0.1"), true);
    // The check's page removed: httpd answers 404, not the expected 200.
    const exec = await docker.getContainer(replica.containerId).exec({ Cmd: ["rm", "/tmp/health"] });
    await exec.start({ Detach: true });
    await untilHealthy("Svc2", false);
    await host.stop("Svc2");
    assert.equal(await checkHealth({ kind: "tcp", port: 8080 }, replica.ports, "127.0.0.1"), false);
    assert.equal((await host.supervise("Svc2")).running, false);
  });

  it("streams the replica's lines, and again after a restart, with the node's note of it", async () => {
    const lines: [string, string, string][] = [];
    const logging = new ServiceHost({ docker, hostIp: "127.0.0.1", publicHost: "127.0.0.1", onLog: (job, stream, line) => void lines.push([job, stream, line]) });
    try {
      const spec = serviceSpec(image, { command: ["sh", "-c", `echo replica up; echo warming >&2; ${HTTPD}`] });
      const replica = await logging.start("Svc3", spec, dirs());
      const until = async (count: number) => {
        for (let i = 0; i < 50 && lines.filter(([, , line]) => line === "replica up").length < count; i++) await new Promise((resolve) => setTimeout(resolve, 100));
      };
      await until(1);
      assert.deepEqual(lines.slice(0, 2).sort(), [["Svc3", "stderr", "warming"], ["Svc3", "stdout", "replica up"]]);
      await docker.getContainer(replica.containerId).kill();
      assert.equal((await logging.supervise("Svc3")).restarted, true);
      await until(2);
      assert.ok(lines.some(([, stream, line]) => stream === "system" && /^the container stopped \(exit \d+\); restarting it$/.test(line)), JSON.stringify(lines));
      assert.equal(lines.filter(([, , line]) => line === "replica up").length, 2, "the restarted container's lines arrive too");
    } finally {
      await logging.stopAll();
    }
  });
});
