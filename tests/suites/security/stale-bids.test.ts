// Stale bids survived their job: bids stayed open after cancel_job/expire_job, and when the
// consumer posted again with the same nonce (the same job address, in any market) a stale sealed
// bid was revealed into the new job with no check of market, hardware, stake or window — a
// provider of another market won it and the escrow froze. Now every bid carries its job's
// incarnation (the market's job count at posting): a stale bid never counts in a new job and is
// withdrawn as if its job were gone.
import assert from "node:assert/strict";
import type { PublicKey } from "@solana/web3.js";
import { revealBidInstruction, sendInstructions } from "@compute-market/sdk";
import { assertNothingMoved, expectProgramError, snapshot } from "../../support/assertions";
import { PROVIDER_STAKE } from "../../support/auction";
import { TestEnv, type Actor } from "../../support/env";
import { jobInput, MARKET_CLASS, MARKET_PARAMS, setupMarket, setupProvider, type ProviderSetup } from "../../support/fixtures";

const NONCE = 42n;
const PRICE = 1_000_000n;

interface World {
  env: TestEnv;
  authority: Actor;
  marketA: PublicKey;
  marketB: PublicKey;
  consumer: Actor;
  bidder: ProviderSetup;
}

async function world(): Promise<World> {
  const env = await TestEnv.create();
  const { authority, market: marketA } = await setupMarket(env);
  const { market: marketB } = await authority.client.createMarket({ class: MARKET_CLASS, params: MARKET_PARAMS, paymentMint: env.paymentMint, stakeMint: env.stakeMint });
  return { env, authority, marketA, marketB, consumer: await env.actor(), bidder: await setupProvider(env, marketA, PROVIDER_STAKE) };
}

async function post(w: World, market: PublicKey, sealed: boolean): Promise<PublicKey> {
  const { job } = await w.consumer.client.postJob(jobInput(market, { consumerToken: w.consumer.paymentToken, nonce: NONCE, sealed }));
  return job;
}

/** A sealed bid by the bidder on a job of market A, which the consumer then cancels. */
async function staleSealedBid(w: World): Promise<{ job: PublicKey; salt: Uint8Array }> {
  const job = await post(w, w.marketA, true);
  const { salt } = await w.bidder.owner.client.placeSealedBid({ job, price: PRICE });
  await w.consumer.client.cancelJob({ job, consumerToken: w.consumer.paymentToken });
  return { job, salt };
}

async function intoRevealWindow(w: World, job: PublicKey): Promise<void> {
  const state = (await w.consumer.client.fetchJob(job))!;
  w.env.ledger.warpToSlot(state.bidDeadlineSlot + 1n);
}

describe("security: stale bids", () => {
  for (const where of ["the same market", "another market"] as const) {
    it(`refuses to reveal a stale sealed bid into a job posted again at the same address in ${where}`, async () => {
      const w = await world();
      const { job, salt } = await staleSealedBid(w);
      const again = await post(w, where === "the same market" ? w.marketA : w.marketB, true);
      assert.ok(again.equals(job), "the same consumer and nonce give the same address");
      await intoRevealWindow(w, job);
      const bid = w.bidder.owner.client.bidAddress(job, w.bidder.provider);
      const before = snapshot(w.env, [job, bid, w.bidder.provider]);
      // The SDK derives the provider from the job's market; the attacker names its own (market A).
      const ix = await revealBidInstruction(w.bidder.owner.client.program, { price: PRICE, salt }, { owner: w.bidder.owner.publicKey, provider: w.bidder.provider, job, bid });
      const reveal = sendInstructions(w.bidder.owner.provider, [ix]);
      // Incarnations count per market: in another market the number may repeat, and the provider's
      // market (A) is then what differs from the job's (B).
      await expectProgramError(reveal, where === "the same market" ? "StaleBid" : "MarketMismatch");
      assertNothingMoved(w.env, before, [w.bidder.owner.publicKey]);
      const fresh = (await w.consumer.client.fetchJob(job))!;
      assert.equal(fresh.auction.rankedCount, 0);
    });
  }

  it("withdraws a stale bid without touching the new job, which then cancels with a full refund", async () => {
    const w = await world();
    const { job } = await staleSealedBid(w);
    await post(w, w.marketA, true);
    const other = await setupProvider(w.env, w.marketA, PROVIDER_STAKE);
    await other.owner.client.placeSealedBid({ job, price: PRICE });
    const counted = (await w.consumer.client.fetchJob(job))!.auction.bidCount;
    assert.equal(counted, 1, "only the new job's own bid counts");

    await w.bidder.owner.client.withdrawBid({ job });
    const provider = (await w.bidder.owner.client.fetchProvider(w.bidder.provider))!;
    assert.equal(provider.locked, 0n, "the stale bid's lock is released");
    assert.equal(provider.staked, PROVIDER_STAKE, "and nothing forfeited: its job is gone");
    assert.equal((await w.consumer.client.fetchJob(job))!.auction.bidCount, counted, "the new job's count is untouched");

    const before = w.env.tokenBalance(w.consumer.paymentToken);
    const escrowed = (await w.consumer.client.fetchJob(job))!.escrowed;
    await w.consumer.client.cancelJob({ job, consumerToken: w.consumer.paymentToken });
    assert.equal(w.env.tokenBalance(w.consumer.paymentToken) - before, escrowed);
  });

  it("withdraws a stale open bid without touching the new job's ranking", async () => {
    const w = await world();
    const job = await post(w, w.marketA, false);
    await w.bidder.owner.client.placeBid({ job, price: PRICE });
    await w.consumer.client.cancelJob({ job, consumerToken: w.consumer.paymentToken });
    await post(w, w.marketA, false);
    const other = await setupProvider(w.env, w.marketA, PROVIDER_STAKE);
    await other.owner.client.placeBid({ job, price: PRICE });
    await w.bidder.owner.client.withdrawBid({ job });
    const fresh = (await w.consumer.client.fetchJob(job))!;
    assert.equal(fresh.auction.bidCount, 1);
    assert.equal(fresh.auction.rankedCount, 1);
    assert.ok(fresh.auction.ranking[0].provider.equals(other.provider));
    assert.equal(fresh.incarnation, 2n, "the second job posted in market A");
  });
});
