// Hardware detection: nvidia-smi parsing, no GPU as a valid answer, the spec registered (mixed
// GPUs, reserves), and when a registration is stale.
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { encodeHardwareSpec, label16 } from "@compute-market/sdk";
import {
  detectGpus,
  detectHardware,
  gpuModelLabel,
  NVIDIA_SMI_ARGS,
  parseNvidiaSmi,
  specChanged,
  specChanges,
  toHardwareSpec,
  type DetectedHardware,
} from "../../../app/provider/src/hardware";

const H100 = "NVIDIA H100 80GB HBM3, 81559, GPU-aaaa\r\n NVIDIA H100 80GB HBM3 , 81559 , GPU-bbbb \n\n";

const MACHINE: DetectedHardware = {
  cpuCores: 32,
  memoryMb: 262_144,
  diskGb: 500,
  gpus: [
    { name: "NVIDIA A100-SXM4-40GB", memoryMb: 40_960, uuid: "a" },
    { name: "NVIDIA L4", memoryMb: 23_034, uuid: "b" },
    { name: "NVIDIA L4", memoryMb: 22_000, uuid: "c" },
  ],
};

describe("hardware detection", () => {
  describe("parseNvidiaSmi", () => {
    it("parses nvidia-smi's CSV, tolerating spaces, CRLF and blank lines", () => {
      assert.deepEqual(parseNvidiaSmi(H100), [
        { name: "NVIDIA H100 80GB HBM3", memoryMb: 81_559, uuid: "GPU-aaaa" },
        { name: "NVIDIA H100 80GB HBM3", memoryMb: 81_559, uuid: "GPU-bbbb" },
      ]);
      assert.deepEqual(parseNvidiaSmi(""), []);
      assert.deepEqual(parseNvidiaSmi("\n  \n"), []);
    });

    it("rejects a malformed line, naming it", () => {
      assert.throws(() => parseNvidiaSmi("H100, lots, GPU-x"), /unexpected nvidia-smi line 1: "H100, lots, GPU-x"/);
      assert.throws(() => parseNvidiaSmi("L4, 23034, GPU-a\nL4, [N/A], GPU-b"), /line 2/);
      assert.throws(() => parseNvidiaSmi("L4, 23034"), /unexpected nvidia-smi line/, "a missing column");
      assert.throws(() => parseNvidiaSmi("L4, 23034, GPU-a, extra"), /unexpected nvidia-smi line/, "an extra column");
      assert.throws(() => parseNvidiaSmi("L4, 0, GPU-a"), /unexpected nvidia-smi line/, "no memory");
      assert.throws(() => parseNvidiaSmi("L4, 23034.5, GPU-a"), /unexpected nvidia-smi line/, "fractional MiB");
      assert.throws(() => parseNvidiaSmi(", 23034, GPU-a"), /unexpected nvidia-smi line/, "no name");
      assert.throws(() => parseNvidiaSmi("L4, 23034, "), /unexpected nvidia-smi line/, "no uuid");
    });
  });

  describe("detectGpus", () => {
    it("asks nvidia-smi for name, memory and uuid as bare CSV", async () => {
      // Given a runner that records its call
      const calls: [string, string[]][] = [];
      const run = async (file: string, args: string[]) => {
        calls.push([file, args]);
        return H100;
      };

      // When GPUs are detected
      const detected = await detectGpus({ run });

      // Then both GPUs are found, with no note
      assert.deepEqual(calls, [["nvidia-smi", NVIDIA_SMI_ARGS]]);
      assert.deepEqual(NVIDIA_SMI_ARGS, ["--query-gpu=name,memory.total,uuid", "--format=csv,noheader,nounits"]);
      assert.equal(detected.gpus.length, 2);
      assert.equal(detected.note, undefined);
    });

    it("finds no GPU, and says why, when nvidia-smi is missing, fails or prints nonsense", async () => {
      const missing = Object.assign(new Error("spawn nvidia-smi ENOENT"), { code: "ENOENT" });
      assert.deepEqual(await detectGpus({ run: async () => Promise.reject(missing) }), { gpus: [], note: "nvidia-smi is not installed" });

      const failing = await detectGpus({ run: async () => Promise.reject(new Error("NVIDIA-SMI has failed because it couldn't communicate with the driver")) });
      assert.deepEqual(failing.gpus, []);
      assert.match(failing.note ?? "", /^nvidia-smi failed: .*couldn't communicate/);

      const garbled = await detectGpus({ run: async () => "No devices were found" });
      assert.deepEqual(garbled.gpus, []);
      assert.match(garbled.note ?? "", /unexpected nvidia-smi line/);

      assert.deepEqual(await detectGpus({ run: async () => "\n" }), { gpus: [], note: "nvidia-smi lists no GPU" });
    });
  });

  describe("detectHardware", () => {
    it("reads CPU, memory and free disk of the work directory through its probes, rounding down", async () => {
      // Given probes for a 32-core machine with 256 GiB and 500.9 GiB free
      const asked: string[] = [];
      const probes = {
        run: async () => H100,
        cpuCores: () => 32,
        memoryBytes: () => 256 * 1024 ** 3 + 1024 ** 2 - 1,
        freeDiskBytes: (dir: string) => {
          asked.push(dir);
          return 500.9 * 1024 ** 3;
        },
      };

      // When the hardware is detected
      const detected = await detectHardware("/work", probes);

      // Then whole MiB and GiB are reported, the disk of the work directory
      assert.deepEqual(asked, ["/work"]);
      assert.equal(detected.cpuCores, 32);
      assert.equal(detected.memoryMb, 262_144);
      assert.equal(detected.diskGb, 500);
      assert.equal(detected.gpus.length, 2);
      assert.equal(detected.gpuNote, undefined);
    });

    it("probes the real machine, for a work directory that does not exist yet", async () => {
      const workDir = path.join(mkdtempSync(path.join(os.tmpdir(), "hw-")), "not", "yet");
      const missing = Object.assign(new Error("spawn nvidia-smi ENOENT"), { code: "ENOENT" });

      const detected = await detectHardware(workDir, { run: async () => Promise.reject(missing) });

      assert.ok(detected.cpuCores >= 1);
      assert.ok(detected.memoryMb >= 1);
      assert.ok(Number.isInteger(detected.diskGb) && detected.diskGb >= 0);
      assert.deepEqual(detected.gpus, []);
      assert.equal(detected.gpuNote, "nvidia-smi is not installed");
    });
  });

  describe("toHardwareSpec", () => {
    it("registers the most numerous GPU model with its smallest memory, minus the host's reserve", () => {
      assert.deepEqual(toHardwareSpec(MACHINE, { cpuCores: 2, memoryMb: 8_192, diskGb: 50 }, 150), {
        gpuModel: "L4",
        gpuCount: 2,
        vramMb: 22_000,
        cpuCores: 30,
        memoryMb: 253_952,
        diskGb: 450,
        region: 150,
      });
    });

    it("breaks a tie between models by the larger memory", () => {
      const tied = { ...MACHINE, gpus: MACHINE.gpus.concat({ name: "NVIDIA A100-SXM4-40GB", memoryMb: 40_960, uuid: "d" }) };
      const spec = toHardwareSpec(tied);
      assert.equal(spec.gpuModel, "A100-SXM4-40GB");
      assert.equal(spec.gpuCount, 2);
      assert.equal(spec.vramMb, 40_960);
    });

    it("registers a machine without GPUs with no model, no count and no GPU memory", () => {
      const cpuOnly = toHardwareSpec({ ...MACHINE, gpus: [] });
      assert.deepEqual(cpuOnly, { gpuModel: "", gpuCount: 0, vramMb: 0, cpuCores: 32, memoryMb: 262_144, diskGb: 500, region: 0 });
    });

    it("keeps at least one core and 1 MiB, since the program rejects a spec without them", () => {
      const spec = toHardwareSpec({ cpuCores: 2, memoryMb: 1_024, diskGb: 3, gpus: [] }, { cpuCores: 4, memoryMb: 2_048, diskGb: 5 });
      assert.deepEqual([spec.cpuCores, spec.memoryMb, spec.diskGb], [1, 1, 0]);
    });

    it("labels GPU models as the chain stores them: printable ASCII, 16 bytes, no vendor prefix", () => {
      assert.equal(gpuModelLabel("NVIDIA H100 80GB HBM3"), "H100 80GB HBM3");
      assert.equal(gpuModelLabel("NVIDIA GeForce RTX 4090 Laptop GPU"), "GeForce RTX 4090");
      assert.equal(gpuModelLabel("NVIDIA RTX A6000 Ada Gen"), "RTX A6000 Ada Ge");
      assert.equal(gpuModelLabel("Tesla T4"), "Tesla T4");
      assert.equal(gpuModelLabel("NVIDIA Quadro RTX 8000 Max-Q"), "Quadro RTX 8000", "no trailing space after the cut");
      assert.equal(gpuModelLabel("NVIDIA TITAN Xᵖ"), "TITAN X", "non-ASCII dropped");
      const spec = toHardwareSpec({ ...MACHINE, gpus: [{ name: "NVIDIA RTX™ 6000 Ada Generation", memoryMb: 49_140, uuid: "x" }] });
      assert.equal(spec.gpuModel, "RTX 6000 Ada Gen");
      assert.doesNotThrow(() => encodeHardwareSpec(spec), "the SDK encodes the label as it is");
    });
  });

  describe("specChanges", () => {
    const onChain = { gpuModel: label16("L4", "m"), gpuCount: 2, vramMb: 22_000, cpuCores: 30, memoryMb: 253_952, diskGb: 450, region: 150 };
    const same = { gpuModel: "L4", gpuCount: 2, vramMb: 22_000, cpuCores: 30, memoryMb: 253_952, diskGb: 450, region: 150 };

    it("finds nothing to do for the registered machine, free disk moving by up to 10 %", () => {
      assert.deepEqual(specChanges(onChain, same), []);
      assert.deepEqual(specChanges(onChain, { ...same, diskGb: 405 }), []);
      assert.deepEqual(specChanges(onChain, { ...same, diskGb: 495 }), []);
      assert.equal(specChanged(onChain, same), false);
    });

    it("names every field that changed", () => {
      assert.deepEqual(specChanges(onChain, { ...same, gpuCount: 1, diskGb: 404 }), ["gpuCount", "diskGb"]);
      assert.deepEqual(specChanges(onChain, { ...same, gpuModel: "H100", vramMb: 81_559 }), ["gpuModel", "vramMb"]);
      assert.deepEqual(specChanges(onChain, { ...same, cpuCores: 28, memoryMb: 250_000, region: 0 }), ["cpuCores", "memoryMb", "region"]);
      assert.deepEqual(specChanges({ ...onChain, region: 0 }, { ...same, region: undefined }), [], "no region is region 0");
      assert.equal(specChanged(onChain, { ...same, gpuCount: 0, gpuModel: undefined, vramMb: 0 }), true);
    });
  });
});
