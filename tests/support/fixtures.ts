// Default inputs and set-up steps shared by the suites: a market, a staked provider, a posted job.
import { PublicKey } from "@solana/web3.js";
import type { HardwareSpecInput, MarketParamsInput, PostJobInput, ResourceClassInput } from "@compute-market/sdk";
import type { Actor, TestEnv } from "./env";

export const PROTOCOL_FEE_BPS = 250;

export const MARKET_CLASS: ResourceClassInput = {
  gpuModel: "",
  minGpuCount: 1,
  minVramMb: 16_384,
  minCpuCores: 4,
  minMemoryMb: 16_384,
};

export const MARKET_PARAMS: MarketParamsInput = {
  minStake: 1_000_000n,
  jobStakeLock: 500_000n,
  crankFee: 1_000n,
  bidWindowSlots: 150n,
  revealWindowSlots: 100n,
  startWindowSlots: 50n,
  challengeWindowSlots: 300n,
  unbondingSlots: 1_000n,
  slashNoShowBps: 1_000,
  slashTimeoutBps: 5_000,
  slashConsumerShareBps: 5_000,
  defaultReplication: 1,
  servicePauseSlots: 500n,
};

export const GPU_BOX: HardwareSpecInput = {
  gpuModel: "H100",
  gpuCount: 2,
  vramMb: 81_920,
  cpuCores: 32,
  memoryMb: 262_144,
  diskGb: 2_000,
  region: 150,
};

export const SPEC_HASH = new Uint8Array(32).fill(7);

export function jobInput(market: PublicKey, overrides: Partial<PostJobInput> = {}): PostJobInput {
  return {
    market,
    specHash: SPEC_HASH,
    requirements: { gpuCount: 1, vramMb: 16_384, cpuCores: 4, memoryMb: 16_384, diskGb: 10, maxDurationSlots: 9_000n },
    mode: "replicated",
    replication: 1,
    onFailure: "reopen",
    maxPrice: 2_000_000n,
    instantPrice: 0n,
    bidWindowSlots: 0n,
    ...overrides,
  };
}

/** The escrow `post_job` takes: replication × (max price + protocol fee) + crank fee. */
export function escrowFor(maxPrice: bigint, replication = 1n, feeBps = BigInt(PROTOCOL_FEE_BPS), crankFee = MARKET_PARAMS.crankFee): bigint {
  return replication * (maxPrice + (maxPrice * feeBps) / 10_000n) + crankFee;
}

export interface MarketSetup {
  authority: Actor;
  market: PublicKey;
  marketId: bigint;
}

/** Config (authority = a new actor, treasury = the same) and one market of the env's mints. */
export async function setupMarket(env: TestEnv, params: MarketParamsInput = MARKET_PARAMS): Promise<MarketSetup> {
  const authority = await env.actor();
  await authority.client.initializeConfig({ protocolFeeBps: PROTOCOL_FEE_BPS, treasury: authority.publicKey });
  const { market, id } = await authority.client.createMarket({
    class: MARKET_CLASS,
    params,
    paymentMint: env.paymentMint,
    stakeMint: env.stakeMint,
  });
  return { authority, market, marketId: id };
}

export interface ProviderSetup {
  owner: Actor;
  provider: PublicKey;
  vault: PublicKey;
}

/** A registered provider with `stake` tokens staked (none when 0). */
export async function setupProvider(env: TestEnv, market: PublicKey, stake = 0n): Promise<ProviderSetup> {
  const owner = await env.actor();
  const { provider, vault } = await owner.client.registerProvider({ market, spec: GPU_BOX, endpoint: "https://node.example/api" });
  if (stake > 0n) await owner.client.stake({ provider, amount: stake, ownerToken: owner.stakeToken });
  return { owner, provider, vault };
}
