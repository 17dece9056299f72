// @compute-market/vm in a browser: the machine, its replay and its game moves, with no Node
// built-in; load the WebAssembly with `VmModule.fromUrl(url)` or `VmModule.load(bytes)`.
export * from "./machine";
export { Replay, type ReplayOptions } from "./replay";
export { splitPoints, segmentCount, nextMove, type GameView, type GameMove, type Role, type Trace } from "./game";
