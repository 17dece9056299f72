// Set-up for the service-lease suites: a market with staked providers and a service posted, or
// running with its replicas started.
import assert from "node:assert/strict";
import { getAssociatedTokenAddressSync } from "@solana/spl-token";
import { Keypair, PublicKey } from "@solana/web3.js";
import { findBidPda, variantOf, type PostServiceInput } from "@compute-market/sdk";
import type { Actor } from "./env";
import { TestEnv } from "./env";
import { MARKET_PARAMS, PROTOCOL_FEE_BPS, SPEC_HASH, setupMarket, setupProvider, type ProviderSetup } from "./fixtures";

export const RATE_CAP = 100n;
export const PERIOD = 100n;
export const MAX_DURATION = 9_000n;
export const fee = (amount: bigint) => (amount * BigInt(PROTOCOL_FEE_BPS)) / 10_000n;
/** One period of `replicas` replicas at the cap, its fee and the crank fee: the smallest deposit. */
export const minDeposit = (replicas: bigint) => RATE_CAP * PERIOD * replicas + fee(RATE_CAP * PERIOD * replicas) + MARKET_PARAMS.crankFee;

export interface Lease {
  env: TestEnv;
  authority: Actor;
  market: PublicKey;
  consumer: Actor;
  watchdog: Keypair;
  providers: ProviderSetup[];
  job: PublicKey;
  escrow: PublicKey;
  service: PublicKey;
}

export function serviceInput(market: PublicKey, watchdog: PublicKey, overrides: Partial<PostServiceInput> = {}): PostServiceInput {
  return {
    market,
    specHash: SPEC_HASH,
    requirements: { gpuCount: 1, vramMb: 16_384, cpuCores: 4, memoryMb: 16_384, diskGb: 10, maxDurationSlots: MAX_DURATION },
    replicas: 1,
    maxRate: RATE_CAP,
    watchdog,
    ackPeriodSlots: PERIOD,
    deposit: minDeposit(1n),
    ...overrides,
  };
}

/** A market, staked providers and a service posted (not yet bid on). */
export async function posted(overrides: Partial<PostServiceInput> = {}, providers = 2): Promise<Lease> {
  const env = await TestEnv.create();
  const { authority, market } = await setupMarket(env);
  const setups: ProviderSetup[] = [];
  for (let i = 0; i < providers; i++) setups.push(await setupProvider(env, market, 5_000_000n));
  const consumer = await env.actor();
  const watchdog = Keypair.generate();
  const { job, escrow, service } = await consumer.client.postService(serviceInput(market, watchdog.publicKey, { consumerToken: consumer.paymentToken, ...overrides }));
  return { env, authority, market, consumer, watchdog, providers: setups, job, escrow, service };
}

/** A service whose replicas bid `rates`, were awarded and started: the job runs. The providers
 * beyond the first `rates.length` (`providers` in all) are staked and free to bid for seats. */
export async function running(rates: bigint[] = [80n], overrides: Partial<PostServiceInput> = {}, providers = Math.max(2, rates.length)): Promise<Lease> {
  const lease = await posted({ replicas: rates.length, deposit: minDeposit(BigInt(rates.length)) * 10n, ...overrides }, providers);
  for (const [i, rate] of rates.entries()) await lease.providers[i].owner.client.placeBid({ job: lease.job, price: rate });
  const job = await lease.consumer.client.fetchJob(lease.job);
  lease.env.ledger.warpToSlot(job!.bidDeadlineSlot + 1n);
  await lease.consumer.client.award({ job: lease.job });
  for (let i = 0; i < rates.length; i++) await lease.providers[i].owner.client.startJob({ job: lease.job });
  assert.equal(variantOf((await lease.consumer.client.fetchJob(lease.job))!.state), "running");
  return lease;
}

/** The treasury's (the authority's) associated payment account, where the SDK sends the protocol fee. */
export const treasuryAta = (lease: Lease) => getAssociatedTokenAddressSync(lease.env.paymentMint, lease.authority.publicKey, true);
/** The consumer's payment tokens, in its own account and its associated one (the SDK's refund default). */
export const consumerTokens = (lease: Lease) => {
  const ata = getAssociatedTokenAddressSync(lease.env.paymentMint, lease.consumer.publicKey, true);
  return lease.env.tokenBalance(lease.consumer.paymentToken) + (lease.env.exists(ata) ? lease.env.tokenBalance(ata) : 0n);
};
export const bidOf = (lease: Lease, i: number) => findBidPda({ job: lease.job, provider: lease.providers[i].provider, programId: lease.env.programId })[0];

export async function startedSlot(lease: Lease, i: number): Promise<bigint> {
  return (await lease.consumer.client.fetchBid(bidOf(lease, i)))!.startedSlot;
}

