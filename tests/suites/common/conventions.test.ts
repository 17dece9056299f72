// The codebase's conventions, checked on its sources so that they stay applied: one ticker for
// the daemons' loops, one log key for errors, PDA seeds built only by the seed helpers, a
// validate() in every instruction, and nothing of Node's in the SDK at run time.
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";

const ROOT = path.resolve(__dirname, "../../..");

function sources(dir: string, extension: string): string[] {
  const found: string[] = [];
  for (const name of readdirSync(path.join(ROOT, dir))) {
    const relative = path.join(dir, name);
    if (name === "node_modules" || name === "dist") continue;
    if (statSync(path.join(ROOT, relative)).isDirectory()) found.push(...sources(relative, extension));
    else if (name.endsWith(extension)) found.push(relative);
  }
  return found;
}

/** Lines of `files` matching `pattern`, as "file:line: text". */
function offending(files: string[], pattern: RegExp): string[] {
  return files.flatMap((file) =>
    readFileSync(path.join(ROOT, file), "utf8")
      .split("\n")
      .flatMap((line, i) => (pattern.test(line) ? [`${file}:${i + 1}: ${line.trim()}`] : [])),
  );
}

describe("codebase conventions", () => {
  it("the keeper and the provider loop only through the shared ticker", () => {
    const daemonFiles = [...sources("app/keeper/src", ".ts"), ...sources("app/provider/src", ".ts")];
    // The results server's WebSocket keep-alive is a connection heartbeat, not a work loop.
    const loops = offending(daemonFiles, /setInterval\(/).filter((line) => !line.includes("const heartbeat = setInterval("));
    assert.deepEqual(loops, []);
  });

  it("every daemon log line names its error under `err`", () => {
    const daemonFiles = ["app/common/src", "app/keeper/src", "app/provider/src"].flatMap((dir) => sources(dir, ".ts"));
    assert.deepEqual(offending(daemonFiles, /\.(trace|debug|info|warn|error|fatal)\(\{[^}]*\berror: /), []);
  });

  it("PDA seeds are built and checked only in the program's seed helpers", () => {
    const program = sources("programs/compute-market/src", ".rs").filter((file) => !file.endsWith("state/seeds.rs") && !file.endsWith("/pda.rs"));
    assert.deepEqual(offending(program, /Seed::from|find_program_address|create_program_address|expect_pda\(/), []);
  });

  it("the SDK and the machine's browser entry use nothing of Node's at run time, so a browser bundle needs no polyfill for it", () => {
    // The machine's browser entry and what it imports (its Node entry, index.ts, reads the WebAssembly from disk).
    const machine = ["app/vm/src/browser.ts", "app/vm/src/machine.ts", "app/vm/src/replay.ts", "app/vm/src/game.ts"];
    const sdk = [...sources("app/sdk/src", ".ts").filter((file) => !file.includes("/generated/")), ...machine];
    // Node built-ins, its globals used as values (`Buffer` as a type of web3.js's is fine), require.
    const code = (line: string) => !/^\s*(\/\/|\*|\/\*)/.test(line);
    const uses = offending(sdk, /from "node:|require\(|\bBuffer\.|\bnew Buffer\b|\bprocess\.|__dirname/).filter((line) => code(line.slice(line.indexOf(": ") + 2)));
    assert.deepEqual(uses, []);
  });

  it("every instruction validates its accounts in a validate() (or is an entry point into one that does)", () => {
    const dir = "programs/compute-market/src/instructions";
    const missing = sources(dir, ".rs")
      .filter((file) => !file.endsWith("mod.rs"))
      .filter((file) => {
        const text = readFileSync(path.join(ROOT, file), "utf8");
        const delegatesWhole = /^\s*fail_winner::process\(ctx, Miss::\w+\)\s*$/m.test(text);
        return !/\bfn validate(_\w+)?\(/.test(text) && !delegatesWhole;
      });
    assert.deepEqual(missing, []);
  });
});
