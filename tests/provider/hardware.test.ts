// Hardware detection: nvidia-smi parsing, no GPU as a valid answer, the spec registered (mixed
// GPUs, reserves), and when a registration is stale.
import assert from "node:assert/strict";
import { detectGpus, detectHardware, parseNvidiaSmi, specChanges, toHardwareSpec, type DetectedHardware } from "../../app/provider/src/hardware";
import { label16 } from "@compute-market/sdk";

const H100 = "NVIDIA H100 80GB HBM3, 81559, GPU-aaaa\n NVIDIA H100 80GB HBM3 , 81559 , GPU-bbbb \n\n";

describe("hardware detection", () => {
  it("parses nvidia-smi's CSV, tolerating spaces and blank lines", () => {
    assert.deepEqual(parseNvidiaSmi(H100), [
      { name: "NVIDIA H100 80GB HBM3", memoryMb: 81559, uuid: "GPU-aaaa" },
      { name: "NVIDIA H100 80GB HBM3", memoryMb: 81559, uuid: "GPU-bbbb" },
    ]);
    assert.deepEqual(parseNvidiaSmi(""), []);
    assert.throws(() => parseNvidiaSmi("H100, lots, GPU-x"), /unexpected nvidia-smi line/);
  });

  it("finds no GPU, and says why, when nvidia-smi is missing or fails", async () => {
    const missing = Object.assign(new Error("spawn nvidia-smi ENOENT"), { code: "ENOENT" });
    assert.deepEqual(await detectGpus(async () => Promise.reject(missing)), { gpus: [], note: "nvidia-smi is not installed" });
    const failing = await detectGpus(async () => Promise.reject(new Error("NVIDIA-SMI has failed because it couldn't communicate with the driver")));
    assert.deepEqual(failing.gpus, []);
    assert.match(failing.note ?? "", /couldn't communicate/);
  });

  it("reads CPU, memory and free disk through its probes", async () => {
    const detected = await detectHardware("/work", { run: async () => H100, cpuCores: () => 32, memoryBytes: () => 256 * 1024 ** 3, freeDiskBytes: () => 500 * 1024 ** 3 });
    assert.equal(detected.cpuCores, 32);
    assert.equal(detected.memoryMb, 262_144);
    assert.equal(detected.diskGb, 500);
    assert.equal(detected.gpus.length, 2);
  });

  it("registers the most numerous GPU model with its smallest memory, minus the host's reserve", () => {
    const detected: DetectedHardware = {
      cpuCores: 32,
      memoryMb: 262_144,
      diskGb: 500,
      gpus: [
        { name: "NVIDIA A100-SXM4-40GB", memoryMb: 40_960, uuid: "a" },
        { name: "NVIDIA L4", memoryMb: 23_034, uuid: "b" },
        { name: "NVIDIA L4", memoryMb: 22_000, uuid: "c" },
      ],
    };
    assert.deepEqual(toHardwareSpec(detected, { cpuCores: 2, memoryMb: 8_192, diskGb: 50 }, 150), {
      gpuModel: "L4",
      gpuCount: 2,
      vramMb: 22_000,
      cpuCores: 30,
      memoryMb: 253_952,
      diskGb: 450,
      region: 150,
    });
    const cpuOnly = toHardwareSpec({ ...detected, gpus: [] });
    assert.equal(cpuOnly.gpuModel, "");
    assert.equal(cpuOnly.gpuCount, 0);
    assert.equal(cpuOnly.vramMb, 0);
    assert.equal(toHardwareSpec({ ...detected, gpus: [{ name: "NVIDIA GeForce RTX 4090 Laptop GPU", memoryMb: 16_000, uuid: "x" }] }).gpuModel, "GeForce RTX 4090");
  });

  it("notices a changed GPU count or memory, and ignores free disk moving by under 10 %", () => {
    const onChain = { gpuModel: label16("L4", "m"), gpuCount: 2, vramMb: 22_000, cpuCores: 30, memoryMb: 253_952, diskGb: 450, region: 0 };
    const same = { gpuModel: "L4", gpuCount: 2, vramMb: 22_000, cpuCores: 30, memoryMb: 253_952, diskGb: 440 };
    assert.deepEqual(specChanges(onChain, same), []);
    assert.deepEqual(specChanges(onChain, { ...same, gpuCount: 1, diskGb: 300 }), ["gpuCount", "diskGb"]);
  });
});
