// Inputs of the SDK's calls: plain TypeScript values, checked and encoded before sending.
import { label16, u64, uint } from "./native";

export type VerificationModeName = "replicated" | "verifiable" | "refereed";
export type FailurePolicyName = "reopen" | "refund";

/** The hardware a provider registers. */
export interface HardwareSpecInput {
  /** GPU model label, at most 16 ASCII characters; omit when there is no GPU. */
  gpuModel?: string;
  gpuCount: number;
  /** Memory per GPU, in MiB. */
  vramMb: number;
  cpuCores: number;
  memoryMb: number;
  diskGb: number;
  /** Operator-chosen region code (e.g. a UN M49 area code). */
  region?: number;
}

/** The least hardware a market admits. */
export interface ResourceClassInput {
  /** GPU model label; omit for any model. */
  gpuModel?: string;
  minGpuCount: number;
  minVramMb: number;
  minCpuCores: number;
  minMemoryMb: number;
}

/** A market's economic and timing rules. Amounts in base units, windows in slots. */
export interface MarketParamsInput {
  minStake: bigint;
  jobStakeLock: bigint;
  crankFee: bigint;
  bidWindowSlots: bigint;
  /** Sealed-bid jobs: slots after bidding closes for revealing bids. */
  revealWindowSlots: bigint;
  startWindowSlots: bigint;
  challengeWindowSlots: bigint;
  unbondingSlots: bigint;
  slashNoShowBps: number;
  slashTimeoutBps: number;
  slashConsumerShareBps: number;
  defaultReplication: number;
  /** Slots a paused service keeps its replicas' seats for a top-up (default about an hour). */
  servicePauseSlots?: bigint;
}

/** A market's pause time when its creator names none: 9,000 slots, about an hour at 400 ms. */
export const DEFAULT_SERVICE_PAUSE_SLOTS = 9_000n;

/** What a job needs from a provider's hardware. */
export interface JobRequirementsInput {
  gpuModel?: string;
  gpuCount?: number;
  vramMb?: number;
  cpuCores: number;
  memoryMb: number;
  diskGb?: number;
  /** Longest the job may run once started, in slots. */
  maxDurationSlots: bigint;
}

export function encodeHardwareSpec(spec: HardwareSpecInput) {
  return {
    gpuModel: label16(spec.gpuModel, "spec.gpuModel"),
    gpuCount: uint(spec.gpuCount, 8, "spec.gpuCount"),
    vramMb: uint(spec.vramMb, 32, "spec.vramMb"),
    cpuCores: uint(spec.cpuCores, 16, "spec.cpuCores"),
    memoryMb: uint(spec.memoryMb, 32, "spec.memoryMb"),
    diskGb: uint(spec.diskGb, 32, "spec.diskGb"),
    region: uint(spec.region ?? 0, 16, "spec.region"),
  };
}

export function encodeResourceClass(cls: ResourceClassInput) {
  return {
    gpuModel: label16(cls.gpuModel, "class.gpuModel"),
    minGpuCount: uint(cls.minGpuCount, 8, "class.minGpuCount"),
    minVramMb: uint(cls.minVramMb, 32, "class.minVramMb"),
    minCpuCores: uint(cls.minCpuCores, 16, "class.minCpuCores"),
    minMemoryMb: uint(cls.minMemoryMb, 32, "class.minMemoryMb"),
  };
}

export function encodeMarketParams(p: MarketParamsInput) {
  return {
    minStake: u64(p.minStake, "params.minStake"),
    jobStakeLock: u64(p.jobStakeLock, "params.jobStakeLock"),
    crankFee: u64(p.crankFee, "params.crankFee"),
    bidWindowSlots: u64(p.bidWindowSlots, "params.bidWindowSlots"),
    revealWindowSlots: u64(p.revealWindowSlots, "params.revealWindowSlots"),
    startWindowSlots: u64(p.startWindowSlots, "params.startWindowSlots"),
    challengeWindowSlots: u64(p.challengeWindowSlots, "params.challengeWindowSlots"),
    unbondingSlots: u64(p.unbondingSlots, "params.unbondingSlots"),
    slashNoShowBps: uint(p.slashNoShowBps, 16, "params.slashNoShowBps"),
    slashTimeoutBps: uint(p.slashTimeoutBps, 16, "params.slashTimeoutBps"),
    slashConsumerShareBps: uint(p.slashConsumerShareBps, 16, "params.slashConsumerShareBps"),
    defaultReplication: uint(p.defaultReplication, 8, "params.defaultReplication"),
    servicePauseSlots: u64(p.servicePauseSlots ?? DEFAULT_SERVICE_PAUSE_SLOTS, "params.servicePauseSlots"),
  };
}

export function encodeJobRequirements(r: JobRequirementsInput) {
  return {
    gpuModel: label16(r.gpuModel, "requirements.gpuModel"),
    gpuCount: uint(r.gpuCount ?? 0, 8, "requirements.gpuCount"),
    vramMb: uint(r.vramMb ?? 0, 32, "requirements.vramMb"),
    cpuCores: uint(r.cpuCores, 16, "requirements.cpuCores"),
    memoryMb: uint(r.memoryMb, 32, "requirements.memoryMb"),
    diskGb: uint(r.diskGb ?? 0, 32, "requirements.diskGb"),
    maxDurationSlots: u64(r.maxDurationSlots, "requirements.maxDurationSlots"),
  };
}

/** Anchor's encoding of a unit enum variant: `{ [name]: {} }`, one key per variant of a union. */
export type EnumVariant<N extends string> = N extends string ? { [K in N]: Record<string, never> } : never;

export function enumVariant<N extends string>(name: N): EnumVariant<N> {
  return { [name]: {} } as EnumVariant<N>;
}
