// Pricing strategies by name, from configuration.
import { FixedFloorStrategy, type FixedFloorConfig } from "./fixed-floor";
import type { BiddingStrategy } from "./types";
import { UtilisationMarkupStrategy, type UtilisationMarkupConfig } from "./utilisation-markup";

export * from "./types";
export { FixedFloorStrategy, type FixedFloorConfig } from "./fixed-floor";
export { UtilisationMarkupStrategy, type UtilisationMarkupConfig } from "./utilisation-markup";

export type StrategyConfig = ({ name: "fixed-floor" } & FixedFloorConfig) | ({ name: "utilisation-markup" } & UtilisationMarkupConfig);

export type StrategyName = StrategyConfig["name"];

export const STRATEGY_NAMES: readonly StrategyName[] = ["fixed-floor", "utilisation-markup"];

export function createStrategy(config: StrategyConfig): BiddingStrategy {
  switch (config.name) {
    case "fixed-floor":
      return new FixedFloorStrategy(config.price, config.serviceRate);
    case "utilisation-markup":
      return new UtilisationMarkupStrategy(config);
    default: {
      // Configuration parsed elsewhere (or cast) may name a strategy this build does not have.
      const name = (config as { name?: unknown }).name;
      throw new Error(`unknown strategy ${JSON.stringify(name)}: expected one of ${STRATEGY_NAMES.join(", ")}`);
    }
  }
}
