// place_bid: a staked provider whose hardware fits offers a price; its stake lock is taken.
import assert from "node:assert/strict";
import BN from "bn.js";
import { Keypair } from "@solana/web3.js";
import { findBidPda, placeBidInstruction, sendInstructions, variantOf } from "@compute-market/sdk";
import { assertNothingMoved, expectProgramError, snapshot, withoutSignature } from "../../support/assertions";
import { assertLedgerInvariants, bid, endAuction, PROVIDER_STAKE, setupAuction } from "../../support/auction";
import { eventsOf } from "../../support/events";
import { forgeAccount } from "../../support/forge";
import { GPU_BOX, MARKET_CLASS, MARKET_PARAMS, setupProvider } from "../../support/fixtures";

describe("place_bid", () => {
  it("records the bid, locks the market's per-job stake and ranks it", async () => {
    const setup = await setupAuction();
    const [{ owner, provider }] = setup.providers;

    const { bid: bidAddress, signature } = await owner.client.placeBid({ job: setup.job, price: 1_200_000n });

    const state = await owner.client.fetchBid(bidAddress);
    assert.equal(state?.price, 1_200_000n);
    assert.equal(variantOf(state!.status), "active");
    assert.equal(state?.locked, MARKET_PARAMS.jobStakeLock);
    assert.equal((await owner.client.fetchProvider(provider))?.locked, MARKET_PARAMS.jobStakeLock);
    const job = await owner.client.fetchJob(setup.job);
    assert.equal(job?.auction.bidCount, 1);
    assert.equal(job?.auction.rankedCount, 1);
    assert.ok(job?.auction.ranking[0].provider.equals(provider));
    const [event] = eventsOf(setup.env, owner.client.program, signature);
    assert.equal(event.name, "bidPlaced");
    assert.equal(event.data.price, 1_200_000n);
    await assertLedgerInvariants(setup);
  });

  it("ranks by price, then reputation, then arrival", async () => {
    // Given provider 2 has a better record than provider 1: three completed jobs that paid fees
    const setup = await setupAuction({ providers: 4 });
    const [p0, p1, p2, p3] = setup.providers;
    await forgeAccount(setup.env, p2.owner.client.program, p2.provider, "provider", (p) => {
      (p.reputation as { completed: number }).completed = 3;
      p.feesPaid = new BN(75_000);
    });

    // When they bid 900, 1000, 1000 and 800
    await bid(setup, [900_000n, 1_000_000n, 1_000_000n, 800_000n]);

    // Then the order is 800 (p3), 900 (p0), 1000 with reputation (p2), 1000 (p1)
    const job = await p0.owner.client.fetchJob(setup.job);
    const order = job!.auction.ranking.slice(0, 4).map((e) => e.provider.toBase58());
    assert.deepEqual(order, [p3.provider, p0.provider, p2.provider, p1.provider].map((p) => p.toBase58()));
  });

  it("gives no tie-break to completions that paid no protocol fee (reputation is not free)", async () => {
    // Given provider 1 completed a thousand jobs that paid no fee (self-dealt at a price of 1)
    const setup = await setupAuction({ providers: 2 });
    const [p0, p1] = setup.providers;
    await forgeAccount(setup.env, p1.owner.client.program, p1.provider, "provider", (p) => {
      (p.reputation as { completed: number }).completed = 1_000;
      p.feesPaid = new BN(0);
    });

    // When both bid the same price, provider 0 first
    await bid(setup, [1_000_000n, 1_000_000n]);

    // Then the farmed record counts for nothing: arrival decides
    const job = await p0.owner.client.fetchJob(setup.job);
    assert.deepEqual(job!.auction.ranking.slice(0, 2).map((e) => e.score), [0n, 0n]);
    assert.deepEqual(job!.auction.ranking.slice(0, 2).map((e) => e.provider.toBase58()), [p0.provider.toBase58(), p1.provider.toBase58()]);
  });

  it("keeps the eight best bids ranked; a worse one stays valid but unranked", async () => {
    const setup = await setupAuction({ providers: 9 });
    await bid(setup, [10n, 20n, 30n, 40n, 50n, 60n, 70n, 80n, 90n].map((p) => p * 1_000n));
    const job = await setup.consumer.client.fetchJob(setup.job);
    assert.equal(job?.auction.rankedCount, 8);
    assert.equal(job?.auction.bidCount, 9);
    assert.ok(!job?.auction.ranking.some((e) => e.provider.equals(setup.providers[8].provider)));
  });

  it("rejects a bid after the bid deadline", async () => {
    const setup = await setupAuction();
    await endAuction(setup);
    const [{ owner, provider }] = setup.providers;
    const before = snapshot(setup.env, [findBidPda({ job: setup.job, provider, programId: setup.env.programId })[0]]);
    await expectProgramError(owner.client.placeBid({ job: setup.job, price: 1n }), "BiddingClosed");
    assertNothingMoved(setup.env, before);
  });

  it("rejects a price above the job's maximum, or zero", async () => {
    const setup = await setupAuction();
    const [{ owner }] = setup.providers;
    await expectProgramError(owner.client.placeBid({ job: setup.job, price: 2_000_001n }), "PriceAboveMax");
    await expectProgramError(owner.client.placeBid({ job: setup.job, price: 0n }), "PriceAboveMax");
  });

  it("rejects hardware that does not meet the job's requirements", async () => {
    // Given a job that needs 4 GPUs and a provider with 2
    const setup = await setupAuction({ job: { requirements: { gpuCount: 4, vramMb: 16_384, cpuCores: 4, memoryMb: 16_384, maxDurationSlots: 100n } } });
    await expectProgramError(setup.providers[0].owner.client.placeBid({ job: setup.job, price: 1n }), "RequirementsNotMet");
  });

  it("rejects a provider whose bonded stake is below the market's minimum", async () => {
    const setup = await setupAuction({ providers: 0 });
    const weak = await setupProvider(setup.env, setup.market, MARKET_PARAMS.minStake - 1n);
    await expectProgramError(weak.owner.client.placeBid({ job: setup.job, price: 1n }), "BelowMinimumStake");
  });

  it("rejects a bid the provider's free stake cannot back", async () => {
    // Given a provider whose stake is mostly locked already
    const setup = await setupAuction({ providers: 1 });
    const [{ owner, provider }] = setup.providers;
    await forgeAccount(setup.env, owner.client.program, provider, "provider", (p) => {
      p.locked = new BN((PROVIDER_STAKE - MARKET_PARAMS.jobStakeLock + 1n).toString());
    });
    await expectProgramError(owner.client.placeBid({ job: setup.job, price: 1n }), "InsufficientFreeStake");
  });

  it("rejects a commitment on an open-auction job", async () => {
    const setup = await setupAuction();
    const [{ owner, provider }] = setup.providers;
    const ix = await placeBidInstruction(owner.client.program, { price: 5n, commitment: new Uint8Array(32).fill(1) }, {
      owner: owner.publicKey,
      provider,
      market: setup.market,
      job: setup.job,
      bid: findBidPda({ job: setup.job, provider, programId: setup.env.programId })[0],
    });
    await expectProgramError(sendInstructions(owner.provider, [ix]), "InvalidBidCommitment");
  });

  it("rejects a signer who does not own the provider", async () => {
    const setup = await setupAuction();
    const [{ provider }] = setup.providers;
    const intruder = await setup.env.actor();
    const ix = await placeBidInstruction(intruder.client.program, { price: 5n }, {
      owner: intruder.publicKey,
      provider,
      market: setup.market,
      job: setup.job,
      bid: findBidPda({ job: setup.job, provider, programId: setup.env.programId })[0],
    });
    await expectProgramError(sendInstructions(intruder.provider, [ix]), "NotProviderOwner");
  });

  it("rejects the owner's key when it did not sign", async () => {
    const setup = await setupAuction();
    const [{ owner, provider }] = setup.providers;
    const payer = await setup.env.actor();
    const ix = withoutSignature(
      await placeBidInstruction(payer.client.program, { price: 5n }, {
        owner: owner.publicKey,
        provider,
        market: setup.market,
        job: setup.job,
        bid: findBidPda({ job: setup.job, provider, programId: setup.env.programId })[0],
      }),
      owner.publicKey,
    );
    await expectProgramError(sendInstructions(payer.provider, [ix]), "MissingSignature");
  });

  it("rejects a provider of another market", async () => {
    const setup = await setupAuction({ providers: 0 });
    const { market: other } = await setup.authority.client.createMarket({
      class: MARKET_CLASS,
      params: MARKET_PARAMS,
      paymentMint: setup.env.paymentMint,
      stakeMint: setup.env.stakeMint,
    });
    const stranger = await setupProvider(setup.env, other, PROVIDER_STAKE);
    const ix = await placeBidInstruction(stranger.owner.client.program, { price: 5n }, {
      owner: stranger.owner.publicKey,
      provider: stranger.provider,
      market: setup.market,
      job: setup.job,
      bid: findBidPda({ job: setup.job, provider: stranger.provider, programId: setup.env.programId })[0],
    });
    await expectProgramError(sendInstructions(stranger.owner.provider, [ix]), "MarketMismatch");
  });

  it("rejects a second bid by the same provider (replay)", async () => {
    const setup = await setupAuction();
    const [{ owner, provider }] = setup.providers;
    await owner.client.placeBid({ job: setup.job, price: 5n });
    await expectProgramError(owner.client.placeBid({ job: setup.job, price: 4n }), "AccountAlreadyInitialized");
    assert.equal((await owner.client.fetchProvider(provider))?.locked, MARKET_PARAMS.jobStakeLock);
  });

  it("rejects a bid address that is not the bid PDA of job and provider", async () => {
    const setup = await setupAuction();
    const [{ owner, provider }] = setup.providers;
    const ix = await placeBidInstruction(owner.client.program, { price: 5n }, {
      owner: owner.publicKey,
      provider,
      market: setup.market,
      job: setup.job,
      bid: Keypair.generate().publicKey,
    });
    await expectProgramError(sendInstructions(owner.provider, [ix]), "InvalidPda");
  });

  it("rejects a bid on a job that was awarded", async () => {
    const setup = await setupAuction({ job: { instantPrice: 1_000_000n } });
    await bid(setup, [900_000n]);
    await setup.consumer.client.award({ job: setup.job });
    await expectProgramError(setup.providers[1].owner.client.placeBid({ job: setup.job, price: 800_000n }), "InvalidJobState");
  });

  it("admits GPUs of the right model only when the job names one", async () => {
    const setup = await setupAuction({
      job: { requirements: { gpuModel: "A100", gpuCount: 1, vramMb: 16_384, cpuCores: 4, memoryMb: 16_384, maxDurationSlots: 100n } },
    });
    assert.equal(GPU_BOX.gpuModel, "H100");
    await expectProgramError(setup.providers[0].owner.client.placeBid({ job: setup.job, price: 5n }), "RequirementsNotMet");
  });
});
