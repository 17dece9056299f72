// Fails the program build when the optimised module holds a global whose initializer contains a
// pointer (a table of slices, a panic location, a lookup table of strings). sbpf-linker 0.1.9
// copies such data into the SBPF image without its relocations or alignment, so the pointers
// would read as garbage at run time; this check turns that into a build error with a name.
import { readFileSync } from "node:fs";

const path = process.argv[2] ?? "target/sbpf-ir/post-opt.ll";
const module = readFileSync(path, "utf8");

const offenders = module
  .split("\n")
  .filter((line) => line.startsWith("@") && /\bconstant\b|\bglobal\b/.test(line))
  .filter((line) => /(^|[^"])\bptr (@|getelementptr|inttoptr)/.test(line.slice(line.indexOf("="))));

if (offenders.length > 0) {
  console.error(`[build] ${offenders.length} global(s) in ${path} hold pointers, which the relinker cannot relocate:`);
  for (const line of offenders) console.error("  " + line.slice(0, 240));
  console.error("[build] Build such arrays on the stack (pass them by value), and avoid panicking paths.");
  process.exit(1);
}
