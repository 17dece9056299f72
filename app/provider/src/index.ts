// @compute-market/provider: the provider node (Node-only).
export * from "./capacity";
export * from "./config";
export * from "./executor";
export * from "./hardware";
export * from "./lifecycle/journal";
export * from "./lifecycle/node";
export * from "./lifecycle/plan";
export * from "./ports";
export * from "./provider";
export * from "./results/auth";
export * from "./results/catalog";
export * from "./results/server";
export * from "./results/store";
export * from "./runtime";
export * from "./services";
export * from "./strategy";
