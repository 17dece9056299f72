// Stale bids survived their job: bids stayed open after cancel_job/expire_job, and when the
// consumer posted again with the same nonce (the same job address, in any market) a stale sealed
// bid was revealed into the new job with no check of market, hardware, stake or window — a
// provider of another market won it and the escrow froze. Now every bid carries its job's
// incarnation (the market's id and its job count at posting, unique across the program): a stale
// bid never counts in a new job and is
// withdrawn as if its job were gone — released in full, the new job's bid count and ranking
// untouched. A bid can only be placed by a provider of the job's market (place_bid), and reveal_bid
// checks the provider's market too (MarketMismatch). An incarnation numbered by the market's job
// count alone repeated from one market to the next: a stale bid of market A then counted in a job
// posted again in market B (a wrong forfeit, a stuck lock); the market id in it prevents that.
import assert from "node:assert/strict";
import type { PublicKey } from "@solana/web3.js";
import { bidCommitment, placeBidInstruction, revealBidInstruction, sendInstructions } from "@compute-market/sdk";
import { getAssociatedTokenAddressSync } from "@solana/spl-token";
import { assertNothingMoved, expectProgramError, snapshot } from "../../support/assertions";
import { PROVIDER_STAKE } from "../../support/auction";
import { TestEnv, type Actor } from "../../support/env";
import { escrowFor, jobInput, MARKET_CLASS, MARKET_PARAMS, setupMarket, setupProvider, type ProviderSetup } from "../../support/fixtures";

/** The low 40 bits of an incarnation: the market's job count (the market's id is above them). */
const JOB_COUNT_MASK = (1n << 40n) - 1n;
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

/** Posts an unrelated job in market B, so that B's job count runs one ahead of A's. */
async function busy(w: World): Promise<void> {
  const other = await w.env.actor();
  await other.client.postJob(jobInput(w.marketB, { consumerToken: other.paymentToken }));
}

const treasuryStake = (w: World) => getAssociatedTokenAddressSync(w.env.stakeMint, w.authority.publicKey, true);

/** Revealing the bidder's stale sealed bid into the job now at `job` fails with StaleBid, moves
 * nothing and ranks nothing (the job keeps `bidCount` bids). The SDK derives the provider from the
 * job's market; the attacker names its own (market A). Returns the stale bid's address. */
async function expectStaleRevealRefused(w: World, job: PublicKey, escrow: PublicKey, salt: Uint8Array, bidCount: number): Promise<PublicKey> {
  const bid = w.bidder.owner.client.bidAddress(job, w.bidder.provider);
  const before = snapshot(w.env, [job, escrow, bid, w.bidder.provider, w.bidder.vault]);
  const ix = await revealBidInstruction(w.bidder.owner.client.program, { price: PRICE, salt }, { owner: w.bidder.owner.publicKey, provider: w.bidder.provider, job, bid });
  await expectProgramError(sendInstructions(w.bidder.owner.provider, [ix]), "StaleBid");
  assertNothingMoved(w.env, before, [w.bidder.owner.publicKey]);
  const untouched = (await w.consumer.client.fetchJob(job))!;
  assert.equal(untouched.auction.rankedCount, 0, "no bid revealed into the new job");
  assert.equal(untouched.auction.bidCount, bidCount);
  return bid;
}

describe("security: stale bids", () => {
  const places = [
    ["the same market", false],
    ["another market (whose job count differs)", true],
  ] as const;
  for (const [where, elsewhere] of places) {
    it(`refuses with StaleBid to reveal a stale sealed bid into a job posted again at the same address in ${where}, and withdraws it without touching the new job`, async () => {
      const w = await world();
      if (elsewhere) await busy(w);
      const { job, salt } = await staleSealedBid(w);
      const market = elsewhere ? w.marketB : w.marketA;
      const again = await post(w, market, true);
      assert.ok(again.equals(job), "the same consumer and nonce give the same address");
      const fresh = (await w.consumer.client.fetchJob(job))!;
      assert.ok(fresh.market.equals(market));
      // An honest provider of the new job's market bids on it.
      const honest = await setupProvider(w.env, market, PROVIDER_STAKE);
      await honest.owner.client.placeSealedBid({ job, price: PRICE + 1n });
      const counted = (await w.consumer.client.fetchJob(job))!.auction.bidCount;
      assert.equal(counted, 1, "only the new job's own bid counts");
      await intoRevealWindow(w, job);

      const bid = await expectStaleRevealRefused(w, job, fresh.escrow, salt, counted);

      // The stale bid is withdrawn as if its job were gone: its lock released, nothing forfeited
      // (its own reveal deadline has not passed).
      const treasury = w.env.tokenBalance(treasuryStake(w));
      await w.bidder.owner.client.withdrawBid({ job, market: w.marketA });
      assert.equal(w.env.exists(bid), false, "the stale bid is closed");
      const provider = (await w.bidder.owner.client.fetchProvider(w.bidder.provider))!;
      assert.equal(provider.locked, 0n, "the stale bid's lock is released");
      assert.equal(provider.staked, PROVIDER_STAKE, "and nothing forfeited");
      assert.equal(w.env.tokenBalance(w.bidder.vault), PROVIDER_STAKE);
      assert.equal(w.env.tokenBalance(treasuryStake(w)), treasury);
      assert.equal((await w.consumer.client.fetchJob(job))!.auction.bidCount, counted, "the new job's count is untouched");

      // The new job cancels normally, with its whole escrow back.
      const refund = w.env.tokenBalance(fresh.escrow);
      assert.equal(refund, escrowFor(fresh.maxPrice));
      const balance = w.env.tokenBalance(w.consumer.paymentToken);
      await w.consumer.client.cancelJob({ job, consumerToken: w.consumer.paymentToken });
      assert.equal(w.env.tokenBalance(w.consumer.paymentToken) - balance, refund);
      assert.equal(w.env.exists(job), false);
      assert.equal(w.env.exists(fresh.escrow), false);
      assert.equal(fresh.incarnation & JOB_COUNT_MASK, 2n, "the new job was its market's second");
    });
  }

  it("refuses with StaleBid to reveal a stale bid of market A into a job posted again in market B whose job count is the same", async () => {
    // Both markets' first job: the same count, different markets, so different incarnations.
    const w = await world();
    const { job, salt } = await staleSealedBid(w);
    await post(w, w.marketB, true);
    const fresh = (await w.consumer.client.fetchJob(job))!;
    await intoRevealWindow(w, job);
    const bid = await expectStaleRevealRefused(w, job, fresh.escrow, salt, 0);
    assert.equal(fresh.incarnation & JOB_COUNT_MASK, 1n, "each market's first job: the same count");
    assert.notEqual(fresh.incarnation, (await w.bidder.owner.client.fetchBid(bid))!.jobIncarnation, "but not the same incarnation");
  });

  it("refuses with MarketMismatch a sealed bid by a provider of market B on a job of market A (so no current bid crosses markets)", async () => {
    const w = await world();
    const job = await post(w, w.marketA, true);
    const outsider = await setupProvider(w.env, w.marketB, PROVIDER_STAKE);
    const client = outsider.owner.client;
    const bid = client.bidAddress(job, outsider.provider);
    const commitment = bidCommitment(PRICE, new Uint8Array(32).fill(9), outsider.provider);
    const before = snapshot(w.env, [job, bid, outsider.provider, outsider.vault]);
    for (const market of [w.marketA, w.marketB]) {
      const ix = await placeBidInstruction(client.program, { price: 0n, commitment }, { owner: outsider.owner.publicKey, provider: outsider.provider, market, job, bid });
      await expectProgramError(sendInstructions(outsider.owner.provider, [ix]), "MarketMismatch");
    }
    assertNothingMoved(w.env, before, [outsider.owner.publicKey]);
  });

  it("withdraws a stale sealed bid without touching the new job, which then cancels with a full refund", async () => {
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
    assert.equal(escrowed, escrowFor(2_000_000n));
    await w.consumer.client.cancelJob({ job, consumerToken: w.consumer.paymentToken });
    assert.equal(w.env.tokenBalance(w.consumer.paymentToken) - before, escrowed);
  });

  for (const [where, elsewhere] of places) {
    it(`withdraws a stale open bid without touching the new job's ranking, the job posted again in ${where}`, async () => {
      const w = await world();
      if (elsewhere) await busy(w);
      const market = elsewhere ? w.marketB : w.marketA;
      const job = await post(w, w.marketA, false);
      await w.bidder.owner.client.placeBid({ job, price: PRICE });
      await w.consumer.client.cancelJob({ job, consumerToken: w.consumer.paymentToken });
      await post(w, market, false);
      const other = await setupProvider(w.env, market, PROVIDER_STAKE);
      await other.owner.client.placeBid({ job, price: PRICE });
      const treasury = w.env.tokenBalance(treasuryStake(w));
      await w.bidder.owner.client.withdrawBid({ job, market: w.marketA });
      const provider = (await w.bidder.owner.client.fetchProvider(w.bidder.provider))!;
      assert.equal(provider.locked, 0n, "the stale bid's lock is released");
      assert.equal(provider.staked, PROVIDER_STAKE);
      assert.equal(w.env.tokenBalance(treasuryStake(w)), treasury, "nothing forfeited");
      const fresh = (await w.consumer.client.fetchJob(job))!;
      assert.equal(fresh.auction.bidCount, 1);
      assert.equal(fresh.auction.rankedCount, 1);
      assert.ok(fresh.auction.ranking[0].provider.equals(other.provider));
      assert.equal(fresh.incarnation & JOB_COUNT_MASK, 2n, "the new job was its market's second");
    });
  }
});
