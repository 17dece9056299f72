// Container runs against the real Docker daemon with the local busybox image: success with logs
// and outputs, and each way a run can fail, classified, quick, and leaving no container behind.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import Docker from "dockerode";
import { sha256 } from "@noble/hashes/sha256";
import { bytesToHex } from "@noble/hashes/utils";
import { cleanupLeftovers, InputMismatchError, isDaemonReachable, materializeInputs, runContainer, type RunOptions } from "../../../app/provider/src/runtime";
import { jobContainers, shellSpec, testDocker } from "../../support/docker";

describe("docker runner", function () {
  this.timeout(60_000);
  let docker: Docker;
  let image: string;

  before(async () => {
    ({ docker, image } = await testDocker());
  });
  afterEach(async () => {
    assert.equal(await jobContainers(docker), 0, "no job container is left behind");
  });

  function dirs(): { inputsDir: string; outputDir: string } {
    const root = mkdtempSync(path.join(os.tmpdir(), "run-"));
    return { inputsDir: path.join(root, "inputs"), outputDir: path.join(root, "outputs") };
  }

  async function run(script: string, overrides: Partial<Parameters<typeof shellSpec>[2]> = {}, extra: Partial<RunOptions> = {}) {
    const lines: string[] = [];
    const { inputsDir, outputDir } = dirs();
    const result = await runContainer({
      docker,
      spec: shellSpec(image, script, overrides),
      jobId: "TestJob",
      inputsDir,
      outputDir,
      onLog: (stream, line) => lines.push(`${stream}:${line}`),
      ...extra,
    });
    return { result, lines, outputDir, inputsDir };
  }

  it("runs a job, streams its output lines and keeps what it wrote to /outputs", async () => {
    const { result, lines, outputDir } = await run("echo hello; echo oops >&2; echo 42 > /outputs/answer.txt; mkdir /outputs/sub; echo x > /outputs/sub/y");
    assert.equal(result.status, "succeeded");
    assert.equal(result.exitCode, 0);
    assert.deepEqual(lines.sort(), ["stderr:oops", "stdout:hello"]);
    assert.equal(readFileSync(path.join(outputDir, "answer.txt"), "utf8"), "42\n");
    assert.equal(readFileSync(path.join(outputDir, "sub/y"), "utf8"), "x\n");
  });

  it("reports a non-zero exit", async () => {
    const { result } = await run("echo failing; exit 3");
    assert.equal(result.status, "failed");
    assert.equal(result.reason, "exit-nonzero");
    assert.equal(result.exitCode, 3);
  });

  it("kills a job at its wall-clock limit", async () => {
    const { result } = await run("sleep 30", { timeoutSeconds: 1 });
    assert.equal(result.reason, "timeout");
    assert.ok(result.durationMs < 10_000, `took ${result.durationMs} ms`);
  });

  it("reports a job the kernel killed for memory", async () => {
    // 64 MB of 'a's held in a shell variable, against a 16 MB limit.
    const { result } = await run("x=$(head -c 64000000 /dev/zero | tr '\\0' a); echo ${#x}", { memoryMb: 16 });
    assert.equal(result.reason, "oom-killed", result.message);
  });

  it("refuses outputs beyond the job's limit", async () => {
    const { result } = await run("head -c 5000 /dev/zero > /outputs/big", { maxOutputBytes: 4096 });
    assert.equal(result.reason, "output-too-large");
  });

  it("gives a job no network but loopback", async () => {
    const { result, lines } = await run("ls /sys/class/net");
    assert.equal(result.status, "succeeded");
    assert.deepEqual(lines, ["stdout:lo"]);
  });

  it("mounts inputs read-only, and the root file system too", async () => {
    const { inputsDir, outputDir } = dirs();
    const bytes = new TextEncoder().encode("input data\n");
    const spec = shellSpec(image, "cat /inputs/data/in.txt > /outputs/copy; echo x > /inputs/data/in.txt || echo inputs-ro; touch /etc-file || echo root-ro", {
      inputs: [{ path: "data/in.txt", sha256: bytesToHex(sha256(bytes)), size: bytes.length }],
    });
    await materializeInputs(spec, inputsDir, async () => bytes);
    const lines: string[] = [];
    const result = await runContainer({ docker, spec, jobId: "TestJob", inputsDir, outputDir, onLog: (_s, line) => lines.push(line) });
    assert.equal(result.status, "succeeded");
    assert.equal(readFileSync(path.join(outputDir, "copy"), "utf8"), "input data\n");
    assert.ok(lines.includes("inputs-ro"), lines.join("|"));
    assert.ok(lines.includes("root-ro"), lines.join("|"));
  });

  it("refuses an input whose bytes do not match the spec", async () => {
    const { inputsDir } = dirs();
    const spec = shellSpec(image, "true", { inputs: [{ path: "in", sha256: "00".repeat(32), size: 3 }] });
    await assert.rejects(materializeInputs(spec, inputsDir, async () => new Uint8Array([1, 2, 3])), InputMismatchError);
  });

  it("reports a missing image at once, whether a local ID or an unreachable registry digest", async () => {
    for (const missing of [`sha256:${"00".repeat(32)}`, `registry.invalid/none@sha256:${"11".repeat(32)}`]) {
      const started = Date.now();
      const { result } = await run("true", { image: missing });
      assert.equal(result.reason, "image-missing", result.message);
      assert.ok(result.message?.includes(missing));
      assert.ok(Date.now() - started < 30_000);
    }
  });

  it("reports an unreachable daemon instead of hanging", async () => {
    const absent = new Docker({ socketPath: "/nonexistent/docker.sock" });
    assert.equal(await isDaemonReachable(absent, 1_000), false);
    const { result } = await run("true", {}, { docker: absent });
    assert.equal(result.reason, "daemon-unavailable");
  });

  it("stops a run when the node cancels it", async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 500);
    const { result } = await run("sleep 30", {}, { signal: controller.signal });
    assert.equal(result.reason, "cancelled");
    assert.ok(result.durationMs < 10_000);
  });

  it("removes containers a crashed node left behind", async () => {
    const container = await docker.createContainer({ Image: image, Cmd: ["sleep", "30"], Labels: { "compute-market.job": "Orphan" } });
    await container.start();
    assert.equal(await cleanupLeftovers(docker), 1);
  });

  it("cleans up only its own node's containers when nodes share the daemon", async () => {
    const mine = await docker.createContainer({ Image: image, Cmd: ["sleep", "30"], Labels: { "compute-market.job": "Shared", "compute-market.node": "NodeA" } });
    const theirs = await docker.createContainer({ Image: image, Cmd: ["sleep", "30"], Labels: { "compute-market.job": "Shared", "compute-market.node": "NodeB" } });
    await Promise.all([mine.start(), theirs.start()]);
    assert.equal(await cleanupLeftovers(docker, undefined, "Shared", "NodeA"), 1);
    assert.equal((await theirs.inspect()).State.Running, true, "the other node's replica of the same job runs on");
    assert.equal(await cleanupLeftovers(docker, undefined, undefined, "NodeB"), 1);
  });

  it("writes inputs read-only", async () => {
    const { inputsDir } = dirs();
    const bytes = new TextEncoder().encode("x");
    await materializeInputs(shellSpec(image, "true", { inputs: [{ path: "a/b", sha256: bytesToHex(sha256(bytes)), size: 1 }] }), inputsDir, async () => bytes);
    assert.equal(statSync(path.join(inputsDir, "a/b")).mode & 0o777, 0o444);
  });
});
