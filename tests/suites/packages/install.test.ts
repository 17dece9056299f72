// The packages as a user outside this repository gets them: `npm pack` of the SDK, the machine
// and the three CLIs, installed together into an empty project in the system's temporary
// directory, then used from there: the SDK and the machine imported as ES modules and required
// as CommonJS, their declarations type-checked under Node's and bundlers' resolution, each CLI's
// `--help`, and the local cluster started from its bin with the program it ships.
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import readline from "node:readline";
import { promisify } from "node:util";

const run = promisify(execFile);
const ROOT = path.resolve(__dirname, "../../..");
const TSC = path.join(ROOT, "node_modules/.bin/tsc");
const BINS = ["compute-market-keeper", "compute-market-provider", "compute-market-localnet"];

describe("packages installed outside the repository", function () {
  this.timeout(300_000);
  let project: string;

  before(async () => {
    await run(process.execPath, [path.join(ROOT, "scripts/build-packages.mjs"), "--pack"], { cwd: ROOT });
    const tarballs = readdirSync(path.join(ROOT, "target/packages")).map((file) => path.join(ROOT, "target/packages", file));
    assert.equal(tarballs.length, 5, `tarballs: ${tarballs.join(", ")}`);
    project = mkdtempSync(path.join(os.tmpdir(), "cm-outside-"));
    assert.ok(!path.relative(ROOT, project).match(/^[^.]/), "the project lies outside the repository");
    writeFileSync(path.join(project, "package.json"), JSON.stringify({ name: "outside", private: true, type: "module" }));
    await run("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline", "--loglevel=error", ...tarballs], { cwd: project, maxBuffer: 16 * 1024 * 1024 });
  });

  after(() => {
    if (project) rmSync(project, { recursive: true, force: true });
  });

  const node = async (file: string, source: string): Promise<string> => {
    writeFileSync(path.join(project, file), source);
    return (await run(process.execPath, [file], { cwd: project })).stdout.trim();
  };

  it("imports the SDK and runs the machine from its WebAssembly, as ES modules", async () => {
    const out = await node(
      "esm.mjs",
      `import { DEFAULT_PROGRAM_ID, findConfigPda, rules } from "@compute-market/sdk";
       import { VmModule, VmStatus } from "@compute-market/vm";
       const vm = await VmModule.load();
       const machine = vm.machine(new Uint8Array(4), new Uint8Array());
       machine.run(10n);
       console.log(JSON.stringify({ config: findConfigPda({ programId: DEFAULT_PROGRAM_ID })[0].toBase58(), deposit: String(rules.minDeposit(10n, 2, 100n, 100, 5n)), status: VmStatus[machine.status] }));`,
    );
    const result = JSON.parse(out) as Record<string, string>;
    assert.equal(result.deposit, "2025");
    assert.equal(result.status, "IllegalInstruction", "a zero word is not an instruction");
    assert.match(result.config, /^[1-9A-HJ-NP-Za-km-z]{32,44}$/);
  });

  it("requires the SDK and the machine as CommonJS", async () => {
    const out = await node("cjs.cjs", `const sdk = require("@compute-market/sdk"); const vm = require("@compute-market/vm"); console.log(typeof sdk.ComputeMarketClient, typeof sdk.rules.serviceClaim, typeof vm.VmModule.load);`);
    assert.equal(out, "function function function");
  });

  it("type-checks a consumer against the declarations, under Node's resolution and a bundler's", async () => {
    writeFileSync(
      path.join(project, "consumer.ts"),
      `import { DEFAULT_PROGRAM_ID, findJobPda, type JobAccount } from "@compute-market/sdk";
       import { VmModule } from "@compute-market/vm";
       const [job] = findJobPda({ consumer: DEFAULT_PROGRAM_ID, nonce: 1n, programId: DEFAULT_PROGRAM_ID });
       export const replication = (account: JobAccount): number => account.replication;
       export const loaded: Promise<VmModule> = VmModule.load();
       export const address: string = job.toBase58();
       // @ts-expect-error a job's replication is a number, so the declarations are not \`any\`
       export const wrong: string = ({} as JobAccount).replication;`,
    );
    for (const flags of [["--module", "nodenext", "--moduleResolution", "nodenext"], ["--module", "esnext", "--moduleResolution", "bundler"]]) {
      await run(TSC, ["--noEmit", "--strict", "--target", "es2022", "--skipLibCheck", "false", ...flags, "consumer.ts"], { cwd: project }).catch((error: { stdout?: string }) => {
        throw new Error(`tsc ${flags.join(" ")}:\n${error.stdout ?? String(error)}`);
      });
    }
  });

  it("answers --help from each CLI's bin", async () => {
    for (const bin of BINS) {
      const { stdout } = await run(path.join(project, "node_modules/.bin", bin), ["--help"], { cwd: project });
      assert.match(stdout, /^Usage: /, bin);
    }
  });

  it("starts the local cluster from its bin, with the program and the sandbox it ships", async () => {
    const child = spawn(path.join(project, "node_modules/.bin/compute-market-localnet"), ["--port", "0", "--slot-ms", "0", "--bootstrap"], { cwd: project, stdio: ["ignore", "pipe", "pipe"] });
    try {
      const line = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error("no ready line within 60 s")), 60_000);
        readline.createInterface({ input: child.stdout! }).once("line", (text) => {
          clearTimeout(timer);
          resolve(text);
        });
        child.once("exit", (code) => reject(new Error(`localnet exited with ${code}`)));
      });
      const ready = JSON.parse(line) as { event: string; url: string; programs: { path: string }[]; sandbox?: { markets: unknown[] } };
      assert.equal(ready.event, "ready");
      assert.ok(ready.programs[0].path.startsWith(project), `the program is the package's own: ${ready.programs[0].path}`);
      assert.ok((ready.sandbox?.markets.length ?? 0) >= 2);
      const reply = await fetch(ready.url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "getHealth" }) });
      assert.deepEqual(((await reply.json()) as { result: string }).result, "ok");
    } finally {
      child.kill("SIGTERM");
    }
  });
});
