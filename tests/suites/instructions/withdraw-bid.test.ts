// withdraw_bid: a provider takes back a bid that can no longer win or whose job ended; an unrevealed sealed bid forfeits part of its lock.
import assert from "node:assert/strict";
import { getAssociatedTokenAddressSync } from "@solana/spl-token";
import { findBidPda, sendInstructions, variantOf, withdrawBidInstruction, type WithdrawBidAccounts } from "@compute-market/sdk";
import { assertNothingMoved, expectProgramError, snapshot, withoutSignature } from "../../support/assertions";
import { assertLedgerInvariants, awarded, bid, endAuction, PROVIDER_STAKE, setupAuction, type AuctionSetup } from "../../support/auction";
import { eventsOf } from "../../support/events";
import { jobInput, MARKET_CLASS, MARKET_PARAMS } from "../../support/fixtures";

const LOCK = MARKET_PARAMS.jobStakeLock;
/** What an unrevealed sealed bid forfeits: its lock × the market's no-show rate (10 %). */
const FORFEIT = (LOCK * BigInt(MARKET_PARAMS.slashNoShowBps)) / 10_000n;
const TX_FEE = 5_000n;
const RESULT = { outputRoot: new Uint8Array(32).fill(0x11), resultUriHash: new Uint8Array(32) };

const bidOf = (setup: AuctionSetup, i: number) =>
  findBidPda({ job: setup.job, provider: setup.providers[i].provider, programId: setup.env.programId })[0];

/** The treasury's (the authority's) associated token account of the stake mint. */
const treasuryStake = (setup: AuctionSetup) => getAssociatedTokenAddressSync(setup.env.stakeMint, setup.authority.publicKey, true);

async function providerState(setup: AuctionSetup, i: number) {
  const state = await setup.consumer.client.fetchProvider(setup.providers[i].provider);
  assert.ok(state, "provider exists");
  return state;
}

/** The accounts `withdraw_bid` takes for provider `i`'s bid, the treasury's account a plain one. */
function accountsFor(setup: AuctionSetup, i: number): WithdrawBidAccounts {
  const { owner, provider, vault } = setup.providers[i];
  return {
    owner: owner.publicKey,
    provider,
    vault,
    config: owner.client.configAddress,
    market: setup.market,
    job: setup.job,
    bid: bidOf(setup, i),
    treasuryStakeToken: setup.authority.stakeToken,
  };
}

/** Sealed bids by providers `0..prices.length`; the clock left just after bidding closed. */
async function sealedBids(setup: AuctionSetup, prices: bigint[]): Promise<Uint8Array[]> {
  const salts: Uint8Array[] = [];
  for (const [i, price] of prices.entries()) salts.push((await setup.providers[i].owner.client.placeSealedBid({ job: setup.job, price })).salt);
  const job = await setup.consumer.client.fetchJob(setup.job);
  setup.env.ledger.warpToSlot(job!.bidDeadlineSlot + 1n);
  return salts;
}

describe("withdraw_bid", () => {
  it("releases a losing bid's lock after the award and returns its rent to the owner", async () => {
    // Given provider 0 won and provider 1 lost
    const setup = await setupAuction();
    await awarded(setup, [1_500_000n, 1_700_000n]);
    const { owner, vault } = setup.providers[1];
    const loser = bidOf(setup, 1);
    const rent = setup.env.lamports(loser);
    const lamportsBefore = setup.env.lamports(owner.publicKey);

    // When the loser withdraws (its client creates the treasury's stake account on the way)
    const signature = await owner.client.withdrawBid({ job: setup.job });

    // Then its lock is released, nothing is forfeited and the bid's rent is back
    const state = await providerState(setup, 1);
    assert.equal(state.locked, 0n);
    assert.equal(state.staked, PROVIDER_STAKE);
    assert.equal(setup.env.tokenBalance(vault), PROVIDER_STAKE);
    assert.equal(setup.env.tokenBalance(treasuryStake(setup)), 0n);
    assert.equal(setup.env.exists(loser), false);
    const ataRent = setup.env.lamports(treasuryStake(setup));
    assert.equal(setup.env.lamports(owner.publicKey), lamportsBefore + rent - TX_FEE - ataRent);
    // And the winner keeps its assignment and lock
    assert.equal((await providerState(setup, 0)).locked, LOCK);
    assert.equal((await setup.consumer.client.fetchJob(setup.job))?.auction.bidCount, 1);
    const [event] = eventsOf(setup.env, owner.client.program, signature);
    assert.equal(event.name, "bidWithdrawn");
    assert.equal(event.data.released, LOCK);
    assert.equal(event.data.forfeited, 0n);
    await assertLedgerInvariants(setup);
  });

  it("releases a bid that fell out of the ranking while bidding is still open", async () => {
    // Given nine bids: the worst is valid but not among the eight ranked
    const setup = await setupAuction({ providers: 9 });
    await bid(setup, [10n, 20n, 30n, 40n, 50n, 60n, 70n, 80n, 90n].map((p) => p * 1_000n));

    await setup.providers[8].owner.client.withdrawBid({ job: setup.job });

    assert.equal((await providerState(setup, 8)).locked, 0n);
    assert.equal(setup.env.exists(bidOf(setup, 8)), false);
    const job = await setup.consumer.client.fetchJob(setup.job);
    assert.equal(job?.auction.bidCount, 8);
    assert.equal(job?.auction.rankedCount, 8);
    await assertLedgerInvariants(setup);
  });

  it("releases a bid on a job the consumer cancelled, given the market", async () => {
    const setup = await setupAuction();
    await bid(setup, [1_500_000n]);
    await setup.consumer.client.cancelJob({ job: setup.job, consumerToken: setup.consumer.paymentToken });
    assert.equal(setup.env.exists(setup.job), false);

    await setup.providers[0].owner.client.withdrawBid({ job: setup.job, market: setup.market });

    assert.equal((await providerState(setup, 0)).locked, 0n);
    assert.equal((await providerState(setup, 0)).staked, PROVIDER_STAKE);
    assert.equal(setup.env.exists(bidOf(setup, 0)), false);
  });

  it("releases a ranked bid once its job expired short of bids", async () => {
    // Given a job for two providers that got one bid, expired by a keeper
    const setup = await setupAuction({ job: { replication: 2 } });
    await bid(setup, [1_500_000n]);
    await endAuction(setup);
    const keeper = await setup.env.actor();
    await keeper.client.expireJob({ job: setup.job, consumerToken: setup.consumer.paymentToken });

    await setup.providers[0].owner.client.withdrawBid({ job: setup.job, market: setup.market });

    assert.equal((await providerState(setup, 0)).locked, 0n);
    assert.equal(setup.env.tokenBalance(setup.providers[0].vault), PROVIDER_STAKE);
  });

  it("releases a losing bid after the job was finalized", async () => {
    const setup = await setupAuction();
    await awarded(setup, [1_500_000n, 1_700_000n]);
    await setup.providers[0].owner.client.startJob({ job: setup.job });
    await setup.providers[0].owner.client.commitResult({ job: setup.job, ...RESULT });
    setup.env.ledger.advanceSlots(MARKET_PARAMS.challengeWindowSlots);
    await (await setup.env.actor()).client.finalize({ job: setup.job });

    await setup.providers[1].owner.client.withdrawBid({ job: setup.job, market: setup.market });

    assert.equal((await providerState(setup, 1)).locked, 0n);
    assert.equal(setup.env.exists(bidOf(setup, 1)), false);
    await assertLedgerInvariants(setup);
  });

  it("releases a losing bid after the consumer was refunded on a no-show", async () => {
    const setup = await setupAuction({ job: { onFailure: "refund" } });
    await awarded(setup, [1_500_000n, 1_700_000n]);
    setup.env.ledger.warpToSlot((await setup.consumer.client.fetchJob(setup.job))!.progress.startDeadlineSlot + 1n);
    await (await setup.env.actor()).client.failNoShow({ job: setup.job, provider: setup.providers[0].provider });
    assert.equal(setup.env.exists(setup.job), false);

    await setup.providers[1].owner.client.withdrawBid({ job: setup.job, market: setup.market });

    assert.equal((await providerState(setup, 1)).locked, 0n);
    assert.equal((await providerState(setup, 1)).staked, PROVIDER_STAKE);
  });

  it("forfeits the no-show share of an unrevealed sealed bid's lock to the treasury", async () => {
    // Given a sealed job: provider 1 reveals, provider 0 never does
    const setup = await setupAuction({ job: { sealed: true } });
    const salts = await sealedBids(setup, [900_000n, 1_000_000n]);
    await setup.providers[1].owner.client.revealBid({ job: setup.job, price: 1_000_000n, salt: salts[1] });
    await endAuction(setup);
    assert.equal(setup.env.exists(treasuryStake(setup)), false);

    // When provider 0 withdraws after its reveal window
    const signature = await setup.providers[0].owner.client.withdrawBid({ job: setup.job });

    // Then 10 % of its lock leaves its stake for the treasury's (newly created) account
    assert.equal(setup.env.tokenBalance(treasuryStake(setup)), FORFEIT);
    const state = await providerState(setup, 0);
    assert.equal(state.staked, PROVIDER_STAKE - FORFEIT);
    assert.equal(state.locked, 0n);
    assert.equal(setup.env.tokenBalance(setup.providers[0].vault), PROVIDER_STAKE - FORFEIT);
    const [event] = eventsOf(setup.env, setup.providers[0].owner.client.program, signature);
    assert.equal(event.name, "bidWithdrawn");
    assert.equal(event.data.released, LOCK - FORFEIT);
    assert.equal(event.data.forfeited, FORFEIT);
    await assertLedgerInvariants(setup);
  });

  it("forfeits on an unrevealed sealed bid even once the job is closed", async () => {
    // Given a sealed job that expired with its only bid never revealed
    const setup = await setupAuction({ job: { sealed: true } });
    await sealedBids(setup, [900_000n]);
    await endAuction(setup);
    await setup.consumer.client.expireJob({ job: setup.job, consumerToken: setup.consumer.paymentToken });

    await setup.providers[0].owner.client.withdrawBid({ job: setup.job, market: setup.market });

    assert.equal(setup.env.tokenBalance(treasuryStake(setup)), FORFEIT);
    assert.equal((await providerState(setup, 0)).staked, PROVIDER_STAKE - FORFEIT);
    assert.equal((await providerState(setup, 0)).locked, 0n);
  });

  it("forfeits nothing for a sealed bid withdrawn before its reveal window ends", async () => {
    // Given a sealed bid, withdrawn while bidding is still open (sealed bids are never ranked)
    const setup = await setupAuction({ job: { sealed: true } });
    await setup.providers[0].owner.client.placeSealedBid({ job: setup.job, price: 900_000n });

    await setup.providers[0].owner.client.withdrawBid({ job: setup.job });

    const state = await providerState(setup, 0);
    assert.equal(state.staked, PROVIDER_STAKE);
    assert.equal(state.locked, 0n);
    assert.equal(setup.env.tokenBalance(treasuryStake(setup)), 0n);
    assert.equal((await setup.consumer.client.fetchJob(setup.job))?.auction.bidCount, 0);
  });

  it("forfeits nothing for a revealed sealed bid that lost", async () => {
    const setup = await setupAuction({ job: { sealed: true } });
    const salts = await sealedBids(setup, [900_000n, 1_000_000n]);
    for (const [i, price] of [900_000n, 1_000_000n].entries()) {
      await setup.providers[i].owner.client.revealBid({ job: setup.job, price, salt: salts[i] });
    }
    await endAuction(setup);
    await setup.consumer.client.award({ job: setup.job });

    await setup.providers[1].owner.client.withdrawBid({ job: setup.job });

    assert.equal((await providerState(setup, 1)).staked, PROVIDER_STAKE);
    assert.equal((await providerState(setup, 1)).locked, 0n);
    assert.equal(setup.env.tokenBalance(treasuryStake(setup)), 0n);
  });

  it("rejects a bid ranked on a job whose bidding is open", async () => {
    const setup = await setupAuction();
    await bid(setup, [1_500_000n]);
    const before = snapshot(setup.env, [bidOf(setup, 0), setup.providers[0].vault, setup.authority.stakeToken]);
    const ix = await withdrawBidInstruction(setup.providers[0].owner.client.program, accountsFor(setup, 0));
    await expectProgramError(sendInstructions(setup.providers[0].owner.provider, [ix]), "BidIsRanked");
    assertNothingMoved(setup.env, before);
    assert.equal((await providerState(setup, 0)).locked, LOCK);
  });

  it("rejects a ranked bid after bidding closed, until the job is awarded or expired", async () => {
    // Given a job for two providers with one ranked bid and its auction over
    const setup = await setupAuction({ job: { replication: 2 } });
    await bid(setup, [1_500_000n]);
    await endAuction(setup);
    const before = snapshot(setup.env, [bidOf(setup, 0), setup.providers[0].vault]);
    await expectProgramError(setup.providers[0].owner.client.withdrawBid({ job: setup.job }), "BidIsRanked");
    assertNothingMoved(setup.env, before);
  });

  const assigned: [string, (setup: AuctionSetup) => Promise<void>][] = [
    ["awarded", async () => {}],
    ["running", async (s) => void (await s.providers[0].owner.client.startJob({ job: s.job }))],
    [
      "committed",
      async (s) => {
        await s.providers[0].owner.client.startJob({ job: s.job });
        await s.providers[0].owner.client.commitResult({ job: s.job, ...RESULT });
      },
    ],
  ];
  for (const [state, reach] of assigned) {
    it(`rejects the winner's bid while the job is ${state}`, async () => {
      const setup = await setupAuction();
      await awarded(setup, [1_500_000n]);
      await reach(setup);
      assert.equal(variantOf((await setup.consumer.client.fetchJob(setup.job))!.state), state);
      const before = snapshot(setup.env, [bidOf(setup, 0), setup.providers[0].vault]);
      const ix = await withdrawBidInstruction(setup.providers[0].owner.client.program, accountsFor(setup, 0));
      await expectProgramError(sendInstructions(setup.providers[0].owner.provider, [ix]), "BidHoldsAward");
      assertNothingMoved(setup.env, before, [setup.providers[0].owner.publicKey]);
      assert.equal((await providerState(setup, 0)).locked, LOCK);
    });
  }

  it("rejects a signer who does not own the bid", async () => {
    const setup = await setupAuction();
    await awarded(setup, [1_500_000n, 1_700_000n]);
    const intruder = setup.providers[2].owner;
    const ix = await withdrawBidInstruction(intruder.client.program, { ...accountsFor(setup, 1), owner: intruder.publicKey });
    const before = snapshot(setup.env, [bidOf(setup, 1), setup.providers[1].vault, intruder.publicKey]);
    await expectProgramError(sendInstructions(intruder.provider, [ix]), "NotBidOwner");
    assertNothingMoved(setup.env, before, [intruder.publicKey]);
  });

  it("rejects the owner's key when it did not sign", async () => {
    const setup = await setupAuction();
    await awarded(setup, [1_500_000n, 1_700_000n]);
    const payer = await setup.env.actor();
    const owner = setup.providers[1].owner.publicKey;
    const ix = withoutSignature(await withdrawBidInstruction(payer.client.program, accountsFor(setup, 1)), owner);
    const before = snapshot(setup.env, [bidOf(setup, 1), setup.providers[1].vault, owner]);
    await expectProgramError(sendInstructions(payer.provider, [ix]), "MissingSignature");
    assertNothingMoved(setup.env, before);
  });

  const tampered: [string, (a: WithdrawBidAccounts, s: AuctionSetup) => Promise<void> | void, Parameters<typeof expectProgramError>[1]][] = [
    [
      "a job other than the bid's",
      async (a, s) => {
        a.job = (await s.consumer.client.postJob(jobInput(s.market, { consumerToken: s.consumer.paymentToken }))).job;
      },
      "BidMismatch",
    ],
    ["a vault other than the provider's", (a, s) => void (a.vault = s.providers[2].vault), "InvalidVault"],
    [
      "a market other than the provider's",
      async (a, s) => {
        const other = await s.authority.client.createMarket({ class: MARKET_CLASS, params: MARKET_PARAMS, paymentMint: s.env.paymentMint, stakeMint: s.env.stakeMint });
        a.market = other.market;
      },
      "MarketMismatch",
    ],
    ["a treasury account not owned by the treasury", (a, s) => void (a.treasuryStakeToken = s.providers[1].owner.stakeToken), "TokenAccountOwnerMismatch"],
    ["a treasury account of the payment mint", (a, s) => void (a.treasuryStakeToken = s.authority.paymentToken), "WrongMint"],
  ];
  for (const [what, tamper, error] of tampered) {
    it(`rejects ${what}`, async () => {
      // Given a losing bid its owner may withdraw, and one account swapped
      const setup = await setupAuction();
      await awarded(setup, [1_500_000n, 1_700_000n]);
      const accounts = accountsFor(setup, 1);
      await tamper(accounts, setup);
      const { owner, vault } = setup.providers[1];
      const before = snapshot(setup.env, [bidOf(setup, 1), vault, setup.authority.stakeToken, owner.stakeToken, owner.publicKey]);
      const ix = await withdrawBidInstruction(owner.client.program, accounts);
      await expectProgramError(sendInstructions(owner.provider, [ix]), error);
      assertNothingMoved(setup.env, before, [owner.publicKey]);
      assert.equal((await providerState(setup, 1)).locked, LOCK);
    });
  }

  it("releases once: withdrawing again finds no bid (replay)", async () => {
    const setup = await setupAuction();
    await awarded(setup, [1_500_000n, 1_700_000n]);
    const { owner, vault } = setup.providers[1];
    const ix = await withdrawBidInstruction(owner.client.program, accountsFor(setup, 1));
    await sendInstructions(owner.provider, [ix]);
    const before = snapshot(setup.env, [vault, setup.authority.stakeToken]);
    const replay = await withdrawBidInstruction(owner.client.program, accountsFor(setup, 1));
    await expectProgramError(sendInstructions(owner.provider, [replay]), "InvalidAccountOwner");
    assertNothingMoved(setup.env, before);
    assert.equal((await providerState(setup, 1)).locked, 0n);
  });

  // Regression: a losing bid withdrawn after the award leaves the ranking, so a reopened job
  // can still be awarded or expired by cranks alone.
  it("keeps a reopened job awardable or expirable after a losing bid was withdrawn during the award", async () => {
    // Given provider 1 lost, withdrew its bid, and the winner then failed to start
    const setup = await setupAuction();
    await awarded(setup, [1_000_000n, 1_500_000n]);
    await setup.providers[1].owner.client.withdrawBid({ job: setup.job });
    setup.env.ledger.warpToSlot((await setup.consumer.client.fetchJob(setup.job))!.progress.startDeadlineSlot + 1n);
    const keeper = await setup.env.actor();
    await keeper.client.failNoShow({ job: setup.job, provider: setup.providers[0].provider });

    // Then the reopened job ranks no withdrawn bid
    const job = await keeper.client.fetchJob(setup.job);
    assert.equal(variantOf(job!.state), "open");
    assert.equal(job?.auction.rankedCount, 0, "the withdrawn bid is still ranked");

    // And, its new auction over with no bid, a keeper can expire it
    await endAuction(setup);
    await keeper.client.expireJob({ job: setup.job, consumerToken: setup.consumer.paymentToken });
    assert.equal(setup.env.exists(setup.job), false);
  });
});
