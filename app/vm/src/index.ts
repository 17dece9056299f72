// @compute-market/vm in Node: the machine (machine.ts), its replay and its game moves, with the
// WebAssembly read from disk by default.
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { setDefaultWasm } from "./machine";

export * from "./machine";
export { Replay, type ReplayOptions } from "./replay";
export { splitPoints, segmentCount, nextMove, type GameView, type GameMove, type Role, type Trace } from "./game";

/** The machine's WebAssembly: beside this module in a built package, else the repository's build. */
const PACKAGED_WASM_PATH = path.join(__dirname, "vm_wasm.wasm");
export const DEFAULT_WASM_PATH = existsSync(PACKAGED_WASM_PATH) ? PACKAGED_WASM_PATH : path.resolve(__dirname, "../../../target/wasm/vm_wasm.wasm");

setDefaultWasm(async () => readFileSync(DEFAULT_WASM_PATH));
