#!/usr/bin/env node
// Builds the installable packages into each one's dist/: the SDK and the machine as ES modules
// (.mjs) with a CommonJS twin (.cjs) and type declarations, the three CLIs as single ES-module
// bins with a shebang, each with the files it reads at run time (the machine's WebAssembly, the
// program for the local cluster). The repository's own code is bundled in (the IDL JSON
// inlined, so nothing imports JSON at run time); every other package stays a dependency,
// pinned as in the repository. With --pack, `npm pack` then writes each tarball to
// target/packages/. Run after build-program and build-vm-wasm.
import { execFileSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const WASM = path.join(ROOT, "target/wasm/vm_wasm.wasm");
const PROGRAM = path.join(ROOT, "target/deploy/compute_market.so");

/** What each package ships: a library entry (with declarations), bins, and run-time files. */
const PACKAGES = [
  { dir: "app/sdk", library: "src/index.ts", platform: "neutral", assets: [] },
  { dir: "app/vm", library: "src/index.ts", platform: "node", assets: [WASM] },
  { dir: "app/keeper", bins: { "compute-market-keeper": "src/main.ts" }, assets: [WASM] },
  { dir: "app/provider", bins: { "compute-market-provider": "src/main.ts" }, assets: [WASM] },
  { dir: "app/localnet", bins: { "compute-market-localnet": "src/cli.ts" }, assets: [PROGRAM] },
];

// An ES module has no __dirname or require; bundled code that uses them gets them here.
const NODE_ESM_PRELUDE = [
  'import { createRequire as __cmCreateRequire } from "node:module";',
  'import { fileURLToPath as __cmFileURLToPath } from "node:url";',
  'import { dirname as __cmDirname } from "node:path";',
  "const require = __cmCreateRequire(import.meta.url);",
  "const __filename = __cmFileURLToPath(import.meta.url);",
  "const __dirname = __cmDirname(__filename);",
].join("\n");

const log = (message) => process.stderr.write(`[packages] ${message}\n`);
const readJson = (file) => JSON.parse(readFileSync(file, "utf8"));
const isWorkspace = (name) => name.startsWith("@compute-market/");

/** The workspace packages by name, with their manifests. */
function workspaces() {
  const byName = new Map();
  for (const dir of readJson(path.join(ROOT, "package.json")).workspaces) {
    const manifest = readJson(path.join(ROOT, dir, "package.json"));
    byName.set(manifest.name, { dir, manifest });
  }
  return byName;
}

/** Every third-party dependency a package needs once the workspace packages it uses are bundled in. */
function thirdPartyDependencies(name, byName, seen = new Set()) {
  const out = {};
  if (seen.has(name)) return out;
  seen.add(name);
  for (const [dep, version] of Object.entries(byName.get(name).manifest.dependencies ?? {})) {
    if (isWorkspace(dep)) Object.assign(out, thirdPartyDependencies(dep, byName, seen));
    else out[dep] = version;
  }
  return out;
}

async function bundle(options) {
  await build({ bundle: true, target: "node20", tsconfig: path.join(ROOT, "tsconfig.json"), logLevel: "warning", legalComments: "none", ...options });
}

/** Declarations of a library's source, with the repository's compiler settings. */
function declarations(dir) {
  const config = path.join(ROOT, dir, "tsconfig.declarations.json");
  writeFileSync(
    config,
    JSON.stringify({
      extends: "../../tsconfig.json",
      compilerOptions: { declaration: true, emitDeclarationOnly: true, noEmit: false, outDir: "dist", rootDir: "src", types: ["node"] },
      include: ["src/**/*.ts"],
    }),
  );
  try {
    execFileSync(path.join(ROOT, "node_modules/.bin/tsc"), ["-p", config], { cwd: path.join(ROOT, dir), stdio: "inherit" });
  } finally {
    rmSync(config, { force: true });
  }
}

async function buildPackage(spec, byName) {
  const dir = path.join(ROOT, spec.dir);
  const manifest = readJson(path.join(dir, "package.json"));
  const dist = path.join(dir, "dist");
  rmSync(dist, { recursive: true, force: true });
  mkdirSync(dist, { recursive: true });
  const needed = thirdPartyDependencies(manifest.name, byName);
  // A bin bundles the workspace packages it uses: their dependencies must be its own, or an install elsewhere lacks them.
  const missing = Object.keys(needed).filter((dep) => manifest.dependencies?.[dep] !== needed[dep]);
  if (missing.length > 0) throw new Error(`${manifest.name} must depend on ${missing.map((dep) => `${dep}@${needed[dep]}`).join(", ")} (what its bundled workspace packages use)`);
  const external = [...Object.keys(needed), "node:*"];
  if (spec.library) {
    const entry = path.join(dir, spec.library);
    const banner = spec.platform === "node" ? { js: NODE_ESM_PRELUDE } : undefined;
    await bundle({ entryPoints: [entry], outfile: path.join(dist, "index.mjs"), format: "esm", platform: spec.platform, external, banner });
    await bundle({ entryPoints: [entry], outfile: path.join(dist, "index.cjs"), format: "cjs", platform: spec.platform === "neutral" ? "neutral" : "node", external, mainFields: ["main"] });
    declarations(spec.dir);
  }
  if (spec.bins) {
    // Split at dynamic imports: a command's work loads only when it runs, so --help is quick.
    const entryPoints = Object.fromEntries(Object.entries(spec.bins).map(([bin, source]) => [bin, path.join(dir, source)]));
    await bundle({ entryPoints, outdir: dist, splitting: true, chunkNames: "chunks/[name]-[hash]", outExtension: { ".js": ".mjs" }, format: "esm", platform: "node", external, banner: { js: `#!/usr/bin/env node\n${NODE_ESM_PRELUDE}` } });
  }
  for (const asset of spec.assets) {
    if (!existsSync(asset)) throw new Error(`${path.relative(ROOT, asset)} is missing: run scripts/build-program and scripts/build-vm-wasm first`);
    copyFileSync(asset, path.join(dist, path.basename(asset)));
  }
  log(`${manifest.name}: ${path.relative(ROOT, dist)}`);
}

async function main() {
  const pack = process.argv.includes("--pack");
  const byName = workspaces();
  for (const spec of PACKAGES) await buildPackage(spec, byName);
  if (!pack) return;
  const out = path.join(ROOT, "target/packages");
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  for (const spec of PACKAGES) {
    const file = execFileSync("npm", ["pack", "--silent", "--pack-destination", out], { cwd: path.join(ROOT, spec.dir), encoding: "utf8" }).trim().split("\n").pop();
    log(`packed ${path.join("target/packages", file)}`);
  }
}

main().catch((error) => {
  log(error instanceof Error ? error.message : String(error));
  process.exit(1);
});
