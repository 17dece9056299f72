// The container a job runs in, from its spec: limits, isolation, mounts and GPUs.
import assert from "node:assert/strict";
import { containerOptions, JOB_LABEL, PIDS_LIMIT } from "../../../app/provider/src/runtime";
import { shellSpec } from "../../support/docker";

const IMAGE = `sha256:${"cd".repeat(32)}`;
const PATHS = { inputsDir: "/work/run/inputs", outputDir: "/work/run/result/outputs" };

describe("container options", () => {
  it("maps a CPU job's spec to limits, isolation and mounts", () => {
    const options = containerOptions(shellSpec(IMAGE, "echo hi", { env: { MODE: "fast" }, cpus: 1.5, memoryMb: 256 }), PATHS, "Job1");
    assert.equal(options.Image, IMAGE);
    assert.deepEqual(options.Cmd, ["sh", "-c", "echo hi"]);
    assert.deepEqual(options.Env, ["MODE=fast"]);
    assert.deepEqual(options.Labels, { [JOB_LABEL]: "Job1" });
    assert.equal(options.NetworkDisabled, true);
    const host = options.HostConfig!;
    assert.equal(host.NetworkMode, "none");
    assert.equal(host.Memory, 256 * 1024 * 1024);
    assert.equal(host.MemorySwap, host.Memory, "no swap beyond the memory limit");
    assert.equal(host.NanoCpus, 1_500_000_000);
    assert.equal(host.PidsLimit, PIDS_LIMIT);
    assert.equal(host.ReadonlyRootfs, true);
    assert.deepEqual(host.Binds, ["/work/run/inputs:/inputs:ro", "/work/run/result/outputs:/outputs:rw"]);
    assert.deepEqual(host.CapDrop, ["ALL"]);
    assert.deepEqual(host.SecurityOpt, ["no-new-privileges"]);
    assert.equal(host.AutoRemove, false);
    assert.equal(host.DeviceRequests, undefined);
  });

  it("asks for GPUs through device requests, and a network only when the job wants one", () => {
    const options = containerOptions(shellSpec(IMAGE, "nvidia-smi", { gpus: 2, network: true }), PATHS, "Job2");
    assert.deepEqual(options.HostConfig!.DeviceRequests, [{ Driver: "nvidia", Count: 2, Capabilities: [["gpu"]] }]);
    assert.equal(options.HostConfig!.NetworkMode, "bridge");
    assert.equal(options.NetworkDisabled, false);
  });

  it("leaves the image's default command alone when the spec has none", () => {
    assert.equal("Cmd" in containerOptions(shellSpec(IMAGE, "", { command: [] }), PATHS, "Job3"), false);
  });
});
