// Set-up for auction and lifecycle suites: a market, staked providers and a posted job, plus
// the checks every such test ends with.
import assert from "node:assert/strict";
import { PublicKey } from "@solana/web3.js";
import type { PostJobInput } from "@compute-market/sdk";
import { TestEnv, type Actor } from "./env";
import { jobInput, MARKET_PARAMS, setupMarket, setupProvider, type ProviderSetup } from "./fixtures";

/** Enough stake for several bids at once. */
export const PROVIDER_STAKE = 5_000_000n;

export interface AuctionSetup {
  env: TestEnv;
  authority: Actor;
  market: PublicKey;
  consumer: Actor;
  providers: ProviderSetup[];
  job: PublicKey;
  escrow: PublicKey;
}

/** A market, `providers` staked providers and one posted job (open auction unless overridden). */
export async function setupAuction(options: { providers?: number; job?: Partial<PostJobInput> } = {}): Promise<AuctionSetup> {
  const env = await TestEnv.create();
  const { authority, market } = await setupMarket(env);
  const providers: ProviderSetup[] = [];
  for (let i = 0; i < (options.providers ?? 3); i++) providers.push(await setupProvider(env, market, PROVIDER_STAKE));
  const consumer = await env.actor();
  const { job, escrow } = await consumer.client.postJob(jobInput(market, { consumerToken: consumer.paymentToken, ...options.job }));
  return { env, authority, market, consumer, providers, job, escrow };
}

/** Moves the clock past the job's auction (bidding, and revealing for a sealed job). */
export async function endAuction(setup: AuctionSetup): Promise<void> {
  const job = await setup.consumer.client.fetchJob(setup.job);
  assert.ok(job, "job exists");
  const end = job.sealed ? job.revealDeadlineSlot : job.bidDeadlineSlot;
  setup.env.ledger.warpToSlot(end + 1n);
}

/** Each provider bids its price, in order (an open auction). */
export async function bid(setup: AuctionSetup, prices: bigint[]): Promise<void> {
  for (const [i, price] of prices.entries()) await setup.providers[i].owner.client.placeBid({ job: setup.job, price });
}

/** The job awarded to the lowest of `prices` (provider 0 unless prices say otherwise). */
export async function awarded(setup: AuctionSetup, prices: bigint[] = [1_500_000n]): Promise<void> {
  await bid(setup, prices);
  await endAuction(setup);
  await setup.consumer.client.award({ job: setup.job });
}

/** Every provider's vault holds exactly its recorded stake, and locks stay within it; every open
 * job's escrow holds at least what it recorded. Checked at the end of each lifecycle test. */
export async function assertLedgerInvariants({ env, consumer }: AuctionSetup): Promise<void> {
  const program = consumer.client.program;
  for (const { publicKey, account } of await program.account.provider.all()) {
    assert.equal(env.tokenBalance(account.vault), BigInt(account.staked.toString()), `vault of ${publicKey.toBase58()} matches its stake`);
    assert.ok(BigInt(account.locked.toString()) + BigInt(account.unbonding.toString()) <= BigInt(account.staked.toString()));
  }
  for (const { publicKey, account } of await program.account.job.all()) {
    assert.ok(env.tokenBalance(account.escrow) >= BigInt(account.escrowed.toString()), `escrow of ${publicKey.toBase58()} covers its budget`);
  }
  for (const { account } of await program.account.bid.all()) {
    const provider = await program.account.provider.fetch(account.provider);
    assert.ok(BigInt(provider.locked.toString()) >= BigInt(account.locked.toString()), "a bid's lock is part of its provider's");
  }
}

export { MARKET_PARAMS };
