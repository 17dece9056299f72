// Lamports moved before a later CPI: finalize (and a refund after a failed winner) closed bid
// accounts, crediting their owners, before a CPI that passes the consumer; when the consumer also
// owned a winning provider the runtime refused the unbalanced instruction and the job could never
// settle. Now program accounts close only after the last CPI.
import assert from "node:assert/strict";
import { getAssociatedTokenAddressSync } from "@solana/spl-token";
import type { PublicKey } from "@solana/web3.js";
import { rules } from "@compute-market/sdk";
import { PROVIDER_STAKE } from "../../support/auction";
import { TestEnv, type Actor } from "../../support/env";
import { escrowFor, GPU_BOX, jobInput, MARKET_PARAMS, PROTOCOL_FEE_BPS, setupMarket, setupProvider, type ProviderSetup } from "../../support/fixtures";
import { commitResults } from "../../support/results";

const ROOT = new Uint8Array(32).fill(0x11);
const MAX_PRICE = 2_000_000n;
const fee = (price: bigint) => (price * BigInt(PROTOCOL_FEE_BPS)) / 10_000n;

interface World {
  env: TestEnv;
  authority: Actor;
  market: PublicKey;
  consumer: Actor;
  /** The consumer's own provider. */
  own: ProviderSetup;
  others: ProviderSetup[];
}

async function world(others = 0): Promise<World> {
  const env = await TestEnv.create();
  const { authority, market } = await setupMarket(env);
  const consumer = await env.actor();
  const { provider, vault } = await consumer.client.registerProvider({ market, spec: GPU_BOX, endpoint: "https://own.example" });
  await consumer.client.stake({ provider, amount: PROVIDER_STAKE, ownerToken: consumer.stakeToken });
  const rest = [];
  for (let i = 0; i < others; i++) rest.push(await setupProvider(env, market, PROVIDER_STAKE));
  return { env, authority, market, consumer, own: { owner: consumer, provider, vault }, others: rest };
}

const paymentAta = (w: World, owner: PublicKey) => getAssociatedTokenAddressSync(w.env.paymentMint, owner, true);

describe("security: accounts closed after the last CPI", () => {
  it("finalizes a job won by its consumer's own provider, with exact payouts", async () => {
    const w = await world();
    const { job, escrow } = await w.consumer.client.postJob(jobInput(w.market, { consumerToken: w.consumer.paymentToken, maxPrice: MAX_PRICE }));
    await w.consumer.client.placeBid({ job, price: 1_500_000n });
    w.env.ledger.warpToSlot((await w.consumer.client.fetchJob(job))!.bidDeadlineSlot + 1n);
    await w.consumer.client.award({ job });
    await w.consumer.client.startJob({ job });
    await w.consumer.client.commitResult({ job, outputRoot: ROOT, resultUriHash: new Uint8Array(32) });
    w.env.ledger.advanceSlots(MARKET_PARAMS.challengeWindowSlots);

    const keeper = await w.env.actor();
    const before = w.env.tokenBalance(w.consumer.paymentToken);
    const bid = w.consumer.client.bidAddress(job, w.own.provider);
    const rents = w.env.lamports(job) + w.env.lamports(escrow) + w.env.lamports(bid);
    const lamports = w.env.lamports(w.consumer.publicKey);
    await keeper.client.finalize({ job, consumerToken: w.consumer.paymentToken });
    assert.equal(w.env.lamports(w.consumer.publicKey) - lamports, rents, "the job's, the escrow's and the bid's rent back to the consumer, who owns the bid too");
    assert.equal(w.env.tokenBalance(paymentAta(w, w.consumer.publicKey)), 1_500_000n, "the price to the owner");
    assert.equal(w.env.tokenBalance(paymentAta(w, keeper.publicKey)), MARKET_PARAMS.crankFee);
    assert.equal(w.env.tokenBalance(paymentAta(w, w.authority.publicKey)), fee(1_500_000n));
    assert.equal(w.env.tokenBalance(w.consumer.paymentToken) - before, escrowFor(MAX_PRICE) - 1_500_000n - fee(1_500_000n) - MARKET_PARAMS.crankFee);
    for (const closed of [job, escrow, w.consumer.client.bidAddress(job, w.own.provider)]) assert.equal(w.env.exists(closed), false);
  });

  it("finalizes a replicated job where the consumer owns one of two agreeing winners", async () => {
    const w = await world(1);
    const { job } = await w.consumer.client.postJob(jobInput(w.market, { consumerToken: w.consumer.paymentToken, maxPrice: MAX_PRICE, replication: 2 }));
    await w.consumer.client.placeBid({ job, price: 1_000_000n });
    await w.others[0].owner.client.placeBid({ job, price: 1_200_000n });
    w.env.ledger.warpToSlot((await w.consumer.client.fetchJob(job))!.bidDeadlineSlot + 1n);
    await w.consumer.client.award({ job });
    const setup = { env: w.env, authority: w.authority, market: w.market, consumer: w.consumer, providers: [w.own, w.others[0]], job, escrow: (await w.consumer.client.fetchJob(job))!.escrow };
    for (const p of setup.providers) await p.owner.client.startJob({ job });
    await commitResults(setup, [ROOT, ROOT]);
    w.env.ledger.advanceSlots(MARKET_PARAMS.challengeWindowSlots);
    const treasury = w.env.tokenBalance(paymentAta(w, w.authority.publicKey));
    await w.authority.client.finalize({ job });
    // The authority is both the treasury and the cranking keeper here.
    assert.equal(w.env.tokenBalance(paymentAta(w, w.authority.publicKey)) - treasury, fee(1_000_000n) + fee(1_200_000n) + MARKET_PARAMS.crankFee);
    for (const p of setup.providers) assert.equal(w.env.tokenBalance(p.vault), PROVIDER_STAKE, "nobody slashed");
    // The consumer's associated account takes its provider's price and the escrow's refund.
    const refund = escrowFor(MAX_PRICE, 2n) - 2_200_000n - fee(1_000_000n) - fee(1_200_000n) - MARKET_PARAMS.crankFee;
    assert.equal(w.env.tokenBalance(paymentAta(w, w.consumer.publicKey)), 1_000_000n + refund);
    assert.equal(w.env.tokenBalance(paymentAta(w, w.others[0].owner.publicKey)), 1_200_000n);
    assert.equal(w.env.exists(job), false);
  });

  it("refunds a job whose only winner, the consumer's own provider, never started", async () => {
    const w = await world();
    const { job, escrow } = await w.consumer.client.postJob(jobInput(w.market, { consumerToken: w.consumer.paymentToken, maxPrice: MAX_PRICE, onFailure: "refund" }));
    await w.consumer.client.placeBid({ job, price: 1_500_000n });
    w.env.ledger.warpToSlot((await w.consumer.client.fetchJob(job))!.bidDeadlineSlot + 1n);
    await w.consumer.client.award({ job });
    w.env.ledger.warpToSlot((await w.consumer.client.fetchJob(job))!.progress.startDeadlineSlot + 1n);
    const keeper = await w.env.actor();
    const before = w.env.tokenBalance(paymentAta(w, w.consumer.publicKey));
    await keeper.client.failNoShow({ job, provider: w.own.provider });
    assert.equal(w.env.tokenBalance(paymentAta(w, w.consumer.publicKey)) - before, escrowFor(MAX_PRICE), "the whole escrow back: the failed provider pays the keeper");
    const slash = (MARKET_PARAMS.jobStakeLock * BigInt(MARKET_PARAMS.slashNoShowBps)) / 10_000n;
    assert.equal(w.env.tokenBalance(w.own.vault), PROVIDER_STAKE - slash);
    const share = (slash * BigInt(MARKET_PARAMS.slashConsumerShareBps)) / 10_000n;
    const stakeAta = (owner: PublicKey) => getAssociatedTokenAddressSync(w.env.stakeMint, owner, true);
    assert.equal(w.env.tokenBalance(stakeAta(w.consumer.publicKey)), share, "the consumer's share of the slash (to itself)");
    const keeperShare = (slash * rules.FAIL_CRANK_SHARE_BPS) / 10_000n;
    assert.equal(w.env.tokenBalance(stakeAta(keeper.publicKey)), keeperShare, "the keeper's crank share of the slash");
    assert.equal(w.env.tokenBalance(stakeAta(w.authority.publicKey)), slash - share - keeperShare, "the rest to the treasury");
    assert.equal(w.env.tokenBalance(paymentAta(w, keeper.publicKey)), 0n, "no crank fee from the escrow");
    assert.equal((await w.consumer.client.fetchProvider(w.own.provider))!.locked, 0n);
    for (const closed of [job, escrow, w.consumer.client.bidAddress(job, w.own.provider)]) assert.equal(w.env.exists(closed), false);
  });
});
