// Pricing strategies by name, from configuration.
import { FixedFloorStrategy } from "./fixed-floor";
import type { BiddingStrategy } from "./types";
import { UtilisationMarkupStrategy, type UtilisationMarkupConfig } from "./utilisation-markup";

export * from "./types";
export { FixedFloorStrategy } from "./fixed-floor";
export { UtilisationMarkupStrategy, type UtilisationMarkupConfig } from "./utilisation-markup";

export type StrategyConfig = { name: "fixed-floor"; price: bigint } | ({ name: "utilisation-markup" } & UtilisationMarkupConfig);

export function createStrategy(config: StrategyConfig): BiddingStrategy {
  switch (config.name) {
    case "fixed-floor":
      return new FixedFloorStrategy(config.price);
    case "utilisation-markup":
      return new UtilisationMarkupStrategy(config);
  }
}
