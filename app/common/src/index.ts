// @compute-market/common: daemon plumbing for the keeper and the provider node (Node-only).
export * from "./child";
export * from "./config";
export * from "./http";
export * from "./logger";
export * from "./metrics";
export * from "./net";
export * from "./retry";
export * from "./cluster";
export * from "./shutdown";
export * from "./ticker";
export * from "./market-index";
export * from "./games";
export * from "./transactions";
