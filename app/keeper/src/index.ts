// @compute-market/keeper: the keeper daemon as a library (the CLI is main.ts).
export * from "./bots/auction-closer";
export * from "./bots/challenger";
export * from "./bots/dispute-cranker";
export * from "./bots/deadline-cranker";
export * from "./bots/finalizer";
export * from "./bots/schedule";
export * from "./bots/service-cranker";
export * from "./bots/types";
export * from "./config";
export { MarketIndex } from "@compute-market/common";
export * from "./keeper";
export * from "./runner";
export * from "./verification";
