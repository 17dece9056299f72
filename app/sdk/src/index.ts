// @compute-market/sdk: the typed client of the compute-market program. Browser-safe.
export * from "./accounts";
export * from "./client";
export * from "./errors";
export * from "./events";
export * from "./instructions";
export * from "./native";
export * from "./pda";
export * from "./results";
export * from "./rpc/send";
export * from "./spec";
export * from "./machine-spec";
export * from "./types";
export type { ComputeMarket } from "./generated/compute_market";
export * from "./publish";
export * from "./verifiable";
export * as rules from "./rules";
