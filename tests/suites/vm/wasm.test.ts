// The rv32im machine's WebAssembly build from TypeScript: the example guests give the host's
// answers, the state hash is deterministic and matches the native build's, and misuse fails
// clearly.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import { Replay, VmModule, VmStatus, WitnessError } from "@compute-market/vm";

const ROOT = path.resolve(__dirname, "../../..");
const guest = (name: string) => readFileSync(path.join(ROOT, "target/guests", `${name}.bin`));

function pseudoRandom(len: number, seed: number): Uint8Array {
  const bytes = new Uint8Array(len);
  let state = seed >>> 0;
  for (let i = 0; i < len; i++) {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    bytes[i] = state & 0xff;
  }
  return bytes;
}

describe("rv32im machine (WebAssembly)", function () {
  this.timeout(60_000);
  let vm: VmModule;
  before(async () => {
    vm = await VmModule.load();
  });

  it("runs the sha256 guest to the digest Node computes", () => {
    for (const len of [0, 63, 64, 5_000]) {
      const input = pseudoRandom(len, len + 1);
      const machine = vm.machine(guest("sha256"), input);
      machine.run();
      assert.equal(machine.status, VmStatus.Halted);
      assert.equal(machine.exitCode, 0);
      assert.deepEqual(Buffer.from(machine.output()), createHash("sha256").update(input).digest());
      machine.free();
    }
  });

  it("gives the same state hash as the native build at the same step", () => {
    const input = pseudoRandom(4_096, 99);
    const machine = vm.machine(guest("sha256"), input);
    const steps = machine.run(100_000n);
    assert.equal(steps, 100_000n);
    const { blob, hash } = machine.state();
    assert.equal(blob.length, 173);
    assert.deepEqual(Buffer.from(hash), createHash("sha256").update(blob).digest());
    // The native build, at the same step of the same program and input.
    const native = execFileSync(path.join(ROOT, "scripts/cargo"), ["run", "--quiet", "--release", "-p", "vm-core", "--example", "state-at", "--", path.join(ROOT, "target/guests/sha256.bin"), "99", "4096", "100000"], { cwd: ROOT }).toString().trim();
    assert.equal(Buffer.from(hash).toString("hex"), native);
    machine.free();
  });

  it("a replay answers states and witnesses at any step, in any order, as a fresh machine does", () => {
    const input = pseudoRandom(3_000, 9);
    const replay = new Replay(vm, guest("sha256"), input, { interval: 1_000n });
    try {
      const total = replay.final().steps;
      // Forward, backward, across snapshots, at them, at the stop and past it.
      const steps = [total, 0n, 999n, 1_000n, 1_001n, total / 2n, 5n, total - 1n, total + 10n, 2_500n, 1n];
      for (const step of steps) {
        const fresh = vm.machine(guest("sha256"), input);
        try {
          fresh.run(step);
          assert.deepEqual(replay.stateAt(step).blob, fresh.state().blob, `state at step ${step}`);
          if (step < total) assert.deepEqual(replay.witnessAt(step), fresh.witness(), `witness of step ${step}`);
        } finally {
          fresh.free();
        }
      }
      const stats = replay.stats;
      assert.equal(stats.treeBuilds, 1, "the memory tree is built once, then updated");
      assert.ok(stats.snapshots >= Number(total / 1_000n), "a snapshot every interval");
    } finally {
      replay.free();
    }
    assert.throws(() => replay.hashAt(0n), /freed/);
  });

  it("refuses an oversized image and a freed machine", () => {
    assert.throws(() => vm.machine(new Uint8Array(4 * 1024 * 1024 + 1), new Uint8Array()), /does not fit/);
    const machine = vm.machine(guest("montecarlo"), new Uint8Array(8));
    machine.free();
    assert.throws(() => machine.run(), /freed/);
  });

  it("checks steps from witnesses alone, and refuses a tampered one", () => {
    const machine = vm.machine(guest("sha256"), pseudoRandom(300, 4));
    machine.run(500n);
    for (let i = 0; i < 200; i++) {
      const pre = machine.state().hash;
      const witness = machine.witness();
      machine.step();
      assert.deepEqual(vm.verifyStep(pre, witness), machine.state().hash, `step ${500 + i}`);
    }
    const pre = machine.state().hash;
    const witness = machine.witness();
    const tampered = witness.slice();
    tampered[tampered.length - 1] ^= 1;
    assert.throws(() => vm.verifyStep(pre, tampered), (error: unknown) => error instanceof WitnessError && error.errorName === "BadProof");
    assert.throws(() => vm.verifyStep(new Uint8Array(32), witness), (error: unknown) => error instanceof WitnessError && error.errorName === "PreStateMismatch");
    assert.throws(() => vm.verifyStep(pre, witness.subarray(0, 100)), (error: unknown) => error instanceof WitnessError && error.errorName === "MalformedWitness");
    machine.free();
  });
});
