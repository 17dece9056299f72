// The README's SDK example, extracted from the Markdown and run as it stands (as an ES module, as
// in a reader's project) against a sandbox cluster: so the README cannot drift from the SDK.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { build } from "esbuild";
import ts from "typescript";
import { DEFAULT_PROGRAM_ID } from "@compute-market/sdk";
import { bootstrapSandbox, startLocalCluster, type LocalCluster } from "@compute-market/localnet";
import { PROGRAM_PATH } from "../../support/env";

const ROOT = path.resolve(__dirname, "../../..");

/** The first ```ts block after `heading` in the README. */
function codeAfter(heading: string): string {
  const readme = readFileSync(path.join(ROOT, "README.md"), "utf8");
  const at = readme.indexOf(`\n${heading}\n`);
  assert.ok(at >= 0, `the README has no "${heading}"`);
  const block = /```ts\n([\s\S]*?)```/.exec(readme.slice(at));
  assert.ok(block, `no ts block after "${heading}"`);
  return block[1];
}

describe("the README's SDK example", function () {
  this.timeout(120_000);
  let cluster: LocalCluster;
  before(async () => {
    cluster = await startLocalCluster({ port: 0, slotMs: 0, programs: [{ programId: DEFAULT_PROGRAM_ID, path: PROGRAM_PATH }] });
    await bootstrapSandbox(cluster.ledger, DEFAULT_PROGRAM_ID);
  });
  after(() => cluster.close());

  it("type-checks as written: strict, as an ES module with top-level await", () => {
    // A reader pastes it into a TypeScript project: it must compile there, not only run.
    const dir = path.join(ROOT, "target/readme");
    mkdirSync(dir, { recursive: true });
    const source = path.join(dir, "sdk-example-typecheck.mts");
    writeFileSync(source, codeAfter("## The SDK"));
    const root = ts.readConfigFile(path.join(ROOT, "tsconfig.json"), ts.sys.readFile).config.compilerOptions;
    const { options } = ts.convertCompilerOptionsFromJson(
      { ...root, module: "nodenext", moduleResolution: "nodenext", types: ["node"], noEmit: true, noUnusedLocals: false },
      ROOT,
    );
    const program = ts.createProgram([source], options);
    const problems = ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, "\n"));
    assert.deepEqual(problems, [], "the example's type errors");
  });

  it("runs as written against a sandbox and commits its job", async () => {
    // Bundled as an ES module (top-level await, as in a reader's project), the SDK from source.
    const dir = path.join(ROOT, "target/readme");
    mkdirSync(dir, { recursive: true });
    const source = path.join(dir, "sdk-example.ts");
    writeFileSync(source, codeAfter("## The SDK"));
    const bundle = path.join(dir, "sdk-example.mjs");
    await build({
      entryPoints: [source],
      outfile: bundle,
      bundle: true,
      platform: "node",
      format: "esm",
      target: "node20",
      tsconfig: path.join(ROOT, "tsconfig.json"),
      logLevel: "error",
      // CommonJS dependencies inside an ES module need require, __filename and __dirname.
      banner: {
        js: 'import { createRequire } from "node:module"; import { fileURLToPath } from "node:url"; import { dirname } from "node:path"; const require = createRequire(import.meta.url); const __filename = fileURLToPath(import.meta.url); const __dirname = dirname(__filename);',
      },
    });
    const { stdout } = await promisify(execFile)(process.execPath, [bundle], { cwd: dir, env: { ...process.env, RPC_URL: cluster.url } });
    assert.equal(stdout.trim(), "committed");
  });
});
