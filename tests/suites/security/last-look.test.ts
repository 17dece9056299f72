// Last look: a sealed bidder could wait for the others' reveals and then withdraw its own
// unrevealed bid during the reveal window without any forfeit, steering the clearing price for
// free. Now a sealed bid still unrevealed once bidding has closed forfeits the market's no-show
// rate of its lock.
import assert from "node:assert/strict";
import { getAssociatedTokenAddressSync } from "@solana/spl-token";
import type { PublicKey } from "@solana/web3.js";
import { PROVIDER_STAKE, setupAuction, type AuctionSetup } from "../../support/auction";
import { MARKET_PARAMS } from "../../support/fixtures";

const FORFEIT = (MARKET_PARAMS.jobStakeLock * BigInt(MARKET_PARAMS.slashNoShowBps)) / 10_000n;

/** Provider `i`'s withdrawn bid is closed, its whole lock released, nothing forfeited. */
async function assertReleasedWhole(setup: AuctionSetup, i: number, bid: PublicKey, treasury: PublicKey, treasuryBefore: bigint): Promise<void> {
  const { owner, provider, vault } = setup.providers[i];
  assert.equal(setup.env.exists(bid), false);
  const state = (await owner.client.fetchProvider(provider))!;
  assert.equal(state.staked, PROVIDER_STAKE);
  assert.equal(state.locked, 0n);
  assert.equal(setup.env.tokenBalance(vault), PROVIDER_STAKE);
  assert.equal(setup.env.tokenBalance(treasury), treasuryBefore, "nothing to the treasury");
}

describe("security: last look at sealed reveals", () => {
  it("costs a sealed bidder that withdraws unrevealed after bidding closed the no-show rate of its lock", async () => {
    const setup = await setupAuction({ providers: 3, job: { sealed: true } });
    const salts = [];
    for (const [i, price] of [1_000_000n, 1_100_000n, 900_000n].entries()) salts.push((await setup.providers[i].owner.client.placeSealedBid({ job: setup.job, price })).salt);
    const job = (await setup.consumer.client.fetchJob(setup.job))!;
    setup.env.ledger.warpToSlot(job.bidDeadlineSlot + 1n);
    await setup.providers[0].owner.client.revealBid({ job: setup.job, price: 1_000_000n, salt: salts[0] });
    await setup.providers[1].owner.client.revealBid({ job: setup.job, price: 1_100_000n, salt: salts[1] });

    const treasury = getAssociatedTokenAddressSync(setup.env.stakeMint, setup.authority.publicKey, true);
    const before = setup.env.tokenBalance(treasury);
    const looker = setup.providers[2];
    await looker.owner.client.withdrawBid({ job: setup.job });
    assert.equal(setup.env.tokenBalance(treasury) - before, FORFEIT);
    const provider = (await looker.owner.client.fetchProvider(looker.provider))!;
    assert.equal(provider.staked, PROVIDER_STAKE - FORFEIT);
    assert.equal(provider.locked, 0n);
    assert.equal(setup.env.tokenBalance(looker.vault), PROVIDER_STAKE - FORFEIT);
  });

  it("costs nothing for a sealed bid withdrawn while bidding is still open", async () => {
    const setup = await setupAuction({ providers: 2, job: { sealed: true } });
    for (const p of setup.providers) await p.owner.client.placeSealedBid({ job: setup.job, price: 1_000_000n });
    const treasury = getAssociatedTokenAddressSync(setup.env.stakeMint, setup.authority.publicKey, true);
    const before = setup.env.tokenBalance(treasury);
    const job = (await setup.consumer.client.fetchJob(setup.job))!;
    assert.ok(setup.env.ledger.slot <= job.bidDeadlineSlot, "bidding is still open");
    const { owner, provider } = setup.providers[0];
    const bid = owner.client.bidAddress(setup.job, provider);
    await owner.client.withdrawBid({ job: setup.job });
    await assertReleasedWhole(setup, 0, bid, treasury, before);
    assert.equal((await setup.consumer.client.fetchJob(setup.job))!.auction.bidCount, 1);
  });

  it("costs nothing for a sealed bid withdrawn after its job was cancelled, before its reveal deadline", async () => {
    const setup = await setupAuction({ providers: 1, job: { sealed: true } });
    const { owner } = setup.providers[0];
    const { bid } = await owner.client.placeSealedBid({ job: setup.job, price: 1_000_000n });
    await setup.consumer.client.cancelJob({ job: setup.job, consumerToken: setup.consumer.paymentToken });
    assert.equal(setup.env.exists(setup.job), false);
    const treasury = getAssociatedTokenAddressSync(setup.env.stakeMint, setup.authority.publicKey, true);
    const before = setup.env.tokenBalance(treasury);
    await owner.client.withdrawBid({ job: setup.job, market: setup.market });
    await assertReleasedWhole(setup, 0, bid, treasury, before);
  });
});
