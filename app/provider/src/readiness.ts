// Why this node cannot bid right now, in words an operator can act on: stake below the market's
// minimum or too little of it free for one bid's lock, or no Docker for container jobs. Said at
// start, on /health (degraded) and by `provider status`.
import { rules, type MarketAccount, type ProviderAccount } from "@compute-market/sdk";

export interface ReadinessInput {
  provider: ProviderAccount;
  market: MarketAccount;
  dockerUp: boolean;
  dockerSocket: string;
}

/** Every reason the node cannot bid; empty when it can. */
export function biddingBlockers({ provider, market, dockerUp, dockerSocket }: ReadinessInput): string[] {
  const reasons: string[] = [];
  const bonded = rules.bondedStake(provider);
  const { minStake, jobStakeLock } = market.params;
  if (bonded < minStake) reasons.push(`bonded stake ${bonded} is below the market's minimum ${minStake}: add ${minStake - bonded} with \`provider stake --amount ${minStake - bonded}\``);
  const free = rules.freeStake(provider);
  if (free < jobStakeLock) reasons.push(`free stake ${free} is below one bid's lock ${jobStakeLock}: add stake, or wait for running jobs to release theirs`);
  if (!dockerUp) reasons.push(`the Docker daemon does not answer at ${dockerSocket}: container jobs cannot run (verifiable jobs can)`);
  return reasons;
}
