// fail_no_show: anyone fails a winner that did not start in time: its lock is slashed to consumer and treasury, then the job reopens or refunds.
import assert from "node:assert/strict";
import { getAssociatedTokenAddressSync } from "@solana/spl-token";
import { Keypair, PublicKey } from "@solana/web3.js";
import { failNoShowInstruction, findBidPda, rules, sendInstructions, variantOf, type FailWinnerAccounts } from "@compute-market/sdk";
import { assertNothingMoved, expectProgramError, snapshot } from "../../support/assertions";
import { assertLedgerInvariants, awarded, bid, endAuction, PROVIDER_STAKE, setupAuction, type AuctionSetup } from "../../support/auction";
import type { Actor } from "../../support/env";
import { eventsOf } from "../../support/events";
import { escrowFor, jobInput, MARKET_CLASS, MARKET_PARAMS } from "../../support/fixtures";

const LOCK = MARKET_PARAMS.jobStakeLock;
/** 10 % of the lock, shared half and half by the consumer and the treasury. */
const SLASH = (LOCK * BigInt(MARKET_PARAMS.slashNoShowBps)) / 10_000n;
const TO_CONSUMER = (SLASH * BigInt(MARKET_PARAMS.slashConsumerShareBps)) / 10_000n;
/** The keeper's crank share of the slash (10 %), out of the treasury's part: the failed provider pays the crank. */
const TO_KEEPER = (SLASH * rules.FAIL_CRANK_SHARE_BPS) / 10_000n;
const TO_TREASURY = SLASH - TO_CONSUMER - TO_KEEPER;

const bidOf = (setup: AuctionSetup, i: number) =>
  findBidPda({ job: setup.job, provider: setup.providers[i].provider, programId: setup.env.programId })[0];
const stakeAta = (setup: AuctionSetup, owner: PublicKey) => getAssociatedTokenAddressSync(setup.env.stakeMint, owner, true);
const paymentAta = (setup: AuctionSetup, owner: PublicKey) => getAssociatedTokenAddressSync(setup.env.paymentMint, owner, true);

/** A job awarded to the lowest of `prices` whose start deadline has just passed, and a keeper. */
async function noShow(options: Parameters<typeof setupAuction>[0] = {}, prices = [1_500_000n, 1_700_000n], started: number[] = []) {
  const setup = await setupAuction(options);
  await awarded(setup, prices);
  for (const i of started) await setup.providers[i].owner.client.startJob({ job: setup.job });
  const job = await setup.consumer.client.fetchJob(setup.job);
  setup.env.ledger.warpToSlot(job!.progress.startDeadlineSlot + 1n);
  return { setup, keeper: await setup.env.actor() };
}

async function providerState(setup: AuctionSetup, i: number) {
  const state = await setup.consumer.client.fetchProvider(setup.providers[i].provider);
  assert.ok(state, "provider exists");
  return state;
}

/** The accounts to fail provider `i`, with the plain token accounts of keeper, consumer and treasury. */
function accountsFor(setup: AuctionSetup, keeper: Actor, i: number): FailWinnerAccounts {
  const { owner, provider, vault } = setup.providers[i];
  return {
    keeper: keeper.publicKey,
    keeperToken: keeper.stakeToken,
    config: keeper.client.configAddress,
    market: setup.market,
    job: setup.job,
    escrow: setup.escrow,
    consumer: setup.consumer.publicKey,
    consumerToken: setup.consumer.paymentToken,
    consumerStakeToken: setup.consumer.stakeToken,
    treasuryStakeToken: setup.authority.stakeToken,
    bid: bidOf(setup, i),
    provider,
    vault,
    owner: owner.publicKey,
  };
}

describe("fail_no_show", () => {
  it("slashes the winner, pays the consumer and the treasury their shares and reopens bidding", async () => {
    // Given provider 0 won at 1,500,000 (provider 1 bid 1,700,000) and did not start in time
    const { setup, keeper } = await noShow();
    const { owner, vault } = setup.providers[0];
    const bidRent = setup.env.lamports(bidOf(setup, 0));
    const ownerLamports = setup.env.lamports(owner.publicKey);
    const now = setup.env.ledger.slot;

    // When a keeper fails it
    const signature = await keeper.client.failNoShow({ job: setup.job, provider: setup.providers[0].provider });

    // Then 10 % of its lock is slashed: half to the consumer, half to the treasury (stake mint)
    assert.equal(setup.env.tokenBalance(stakeAta(setup, setup.consumer.publicKey)), TO_CONSUMER);
    assert.equal(setup.env.tokenBalance(stakeAta(setup, setup.authority.publicKey)), TO_TREASURY);
    assert.equal(setup.env.tokenBalance(vault), PROVIDER_STAKE - SLASH);
    const state = await providerState(setup, 0);
    assert.equal(state.staked, PROVIDER_STAKE - SLASH);
    assert.equal(state.locked, 0n);
    assert.equal(state.reputation.failed, 1);
    assert.equal(state.reputation.slashed, 1);
    // And its bid is closed, the rent back to its owner
    assert.equal(setup.env.exists(bidOf(setup, 0)), false);
    assert.equal(setup.env.lamports(owner.publicKey), ownerLamports + bidRent);
    // And the job bids again for a full window, the other bid still ranked, the escrow untouched
    const job = await keeper.client.fetchJob(setup.job);
    assert.equal(variantOf(job!.state), "open");
    assert.equal(job?.bidDeadlineSlot, now + MARKET_PARAMS.bidWindowSlots);
    assert.equal(job?.auction.rankedCount, 1);
    assert.ok(job?.auction.ranking[0].provider.equals(setup.providers[1].provider));
    assert.equal(job?.progress.awardedSlot, 0n);
    assert.equal(setup.env.tokenBalance(setup.escrow), escrowFor(2_000_000n));
    // And the keeper earns its share of the slash; the crank fee stays for the job's settlement
    assert.equal(setup.env.tokenBalance(paymentAta(setup, keeper.publicKey)), 0n);
    assert.equal(setup.env.tokenBalance(stakeAta(setup, keeper.publicKey)), TO_KEEPER);
    const events = eventsOf(setup.env, keeper.client.program, signature);
    assert.deepEqual(events.map((e) => e.name).sort(), ["jobReopened", "winnerFailed"]);
    const failed = events.find((e) => e.name === "winnerFailed");
    assert.ok(failed?.name === "winnerFailed");
    assert.equal(failed.data.slashed, SLASH);
    assert.equal(failed.data.toConsumer, TO_CONSUMER);
    assert.equal(failed.data.toTreasury, TO_TREASURY);
    assert.equal(failed.data.toKeeper, TO_KEEPER);
    assert.equal(failed.data.timedOut, false);
    await assertLedgerInvariants(setup);
  });

  it("lets the next best bid win once the reopened bidding closes", async () => {
    const { setup, keeper } = await noShow();
    await keeper.client.failNoShow({ job: setup.job, provider: setup.providers[0].provider });

    await endAuction(setup);
    await keeper.client.award({ job: setup.job });

    const next = await keeper.client.fetchBid(bidOf(setup, 1));
    assert.equal(variantOf(next!.status), "won");
    assert.equal(next?.awardedPrice, 1_700_000n);
    assert.equal(variantOf((await keeper.client.fetchJob(setup.job))!.state), "awarded");
    await assertLedgerInvariants(setup);
  });

  it("refunds the whole escrow under the refund policy; the failed provider pays the keeper", async () => {
    const { setup, keeper } = await noShow({ job: { onFailure: "refund" } });
    const consumerLamports = setup.env.lamports(setup.consumer.publicKey);
    const rent = setup.env.lamports(setup.job) + setup.env.lamports(setup.escrow);

    const signature = await keeper.client.failNoShow({ job: setup.job, provider: setup.providers[0].provider });

    // Then the keeper has its share of the slash and the consumer (in its associated accounts,
    // the client's default) the whole escrow, its share of the slash and the rent
    const refund = escrowFor(2_000_000n);
    assert.equal(setup.env.tokenBalance(paymentAta(setup, keeper.publicKey)), 0n);
    assert.equal(setup.env.tokenBalance(stakeAta(setup, keeper.publicKey)), TO_KEEPER);
    assert.equal(setup.env.tokenBalance(paymentAta(setup, setup.consumer.publicKey)), refund);
    assert.equal(setup.env.tokenBalance(stakeAta(setup, setup.consumer.publicKey)), TO_CONSUMER);
    for (const account of [setup.job, setup.escrow, bidOf(setup, 0)]) assert.equal(setup.env.exists(account), false);
    assert.equal(setup.env.lamports(setup.consumer.publicKey), consumerLamports + rent);
    const events = eventsOf(setup.env, keeper.client.program, signature);
    assert.deepEqual(events.map((e) => e.name), ["winnerFailed", "jobRefunded"]);
    const refunded = events[1];
    assert.ok(refunded.name === "jobRefunded");
    assert.equal(refunded.data.refunded, refund);
    // And the losing bid keeps its lock until its owner withdraws it
    assert.equal((await providerState(setup, 1)).locked, LOCK);
    await assertLedgerInvariants(setup);
  });

  it("refunds into the consumer's account when the keeper passes it", async () => {
    const { setup, keeper } = await noShow({ job: { onFailure: "refund" } });
    const accounts = accountsFor(setup, keeper, 0);
    const before = setup.env.tokenBalance(setup.consumer.paymentToken);
    await sendInstructions(keeper.provider, [await failNoShowInstruction(keeper.client.program, accounts)]);
    assert.equal(setup.env.tokenBalance(setup.consumer.paymentToken), before + escrowFor(2_000_000n));
    assert.equal(setup.env.tokenBalance(keeper.paymentToken), 1_000_000_000n);
    assert.equal(setup.env.tokenBalance(keeper.stakeToken), 1_000_000_000n + TO_KEEPER);
    assert.equal(setup.env.tokenBalance(setup.consumer.stakeToken), 1_000_000_000n + TO_CONSUMER);
    assert.equal(setup.env.tokenBalance(setup.authority.stakeToken), 1_000_000_000n + TO_TREASURY);
  });

  it("applies the policy only once every winner is accounted for", async () => {
    // Given two winners of a replicated job, neither of which started
    const { setup, keeper } = await noShow({ job: { replication: 2, onFailure: "refund" } });

    // When the first is failed, the job waits for the second
    await keeper.client.failNoShow({ job: setup.job, provider: setup.providers[0].provider });
    const job = await keeper.client.fetchJob(setup.job);
    assert.equal(variantOf(job!.state), "awarded");
    assert.equal(job?.progress.failed, 1);
    assert.equal(setup.env.tokenBalance(setup.escrow), escrowFor(2_000_000n, 2n));

    // Then failing the second refunds the consumer
    await keeper.client.failNoShow({ job: setup.job, provider: setup.providers[1].provider });
    assert.equal(setup.env.exists(setup.job), false);
    assert.equal(setup.env.tokenBalance(stakeAta(setup, setup.consumer.publicKey)), 2n * TO_CONSUMER);
    assert.equal(setup.env.tokenBalance(paymentAta(setup, setup.consumer.publicKey)), escrowFor(2_000_000n, 2n));
  });

  it("applies the policy when the other winners started", async () => {
    // Given two winners: provider 0 started, provider 1 did not
    const { setup, keeper } = await noShow({ job: { replication: 2 } }, [1_500_000n, 1_700_000n, 1_900_000n], [0]);

    await keeper.client.failNoShow({ job: setup.job, provider: setup.providers[1].provider });

    // Then the job reopens with the started winner and the third bid ranked
    const job = await keeper.client.fetchJob(setup.job);
    assert.equal(variantOf(job!.state), "open");
    const ranked = job!.auction.ranking.slice(0, job!.auction.rankedCount).map((e) => e.provider.toBase58());
    assert.deepEqual(ranked, [setup.providers[0].provider, setup.providers[2].provider].map((p) => p.toBase58()));
    assert.equal((await providerState(setup, 0)).staked, PROVIDER_STAKE);
    await assertLedgerInvariants(setup);
  });

  it("rejects a failure before the start deadline has passed", async () => {
    const setup = await setupAuction();
    await awarded(setup, [1_500_000n]);
    setup.env.ledger.warpToSlot((await setup.consumer.client.fetchJob(setup.job))!.progress.startDeadlineSlot);
    const keeper = await setup.env.actor();
    const accounts = accountsFor(setup, keeper, 0);
    const before = snapshot(setup.env, [setup.providers[0].vault, setup.consumer.stakeToken, setup.authority.stakeToken, bidOf(setup, 0)]);
    await expectProgramError(sendInstructions(keeper.provider, [await failNoShowInstruction(keeper.client.program, accounts)]), "DeadlineNotReached");
    assertNothingMoved(setup.env, before);
  });

  it("rejects a winner that started", async () => {
    // Given a replicated job still awarded: provider 0 started, provider 1 did not
    const { setup, keeper } = await noShow({ job: { replication: 2 } }, undefined, [0]);
    const before = snapshot(setup.env, [setup.providers[0].vault, setup.consumer.stakeToken, bidOf(setup, 0)]);
    const ix = await failNoShowInstruction(keeper.client.program, accountsFor(setup, keeper, 0));
    await expectProgramError(sendInstructions(keeper.provider, [ix]), "NotAssignedWinner");
    assertNothingMoved(setup.env, before);
  });

  it("rejects a losing bid", async () => {
    const { setup, keeper } = await noShow();
    const before = snapshot(setup.env, [setup.providers[1].vault, setup.consumer.stakeToken, bidOf(setup, 1)]);
    const ix = await failNoShowInstruction(keeper.client.program, accountsFor(setup, keeper, 1));
    await expectProgramError(sendInstructions(keeper.provider, [ix]), "NotAssignedWinner");
    assertNothingMoved(setup.env, before);
  });

  it("rejects a job that is running", async () => {
    const { setup, keeper } = await noShow({}, [1_500_000n], [0]);
    assert.equal(variantOf((await keeper.client.fetchJob(setup.job))!.state), "running");
    const before = snapshot(setup.env, [setup.providers[0].vault, setup.consumer.stakeToken, bidOf(setup, 0)]);
    const ix = await failNoShowInstruction(keeper.client.program, accountsFor(setup, keeper, 0));
    await expectProgramError(sendInstructions(keeper.provider, [ix]), "InvalidJobState");
    assertNothingMoved(setup.env, before);
  });

  it("rejects a bid on a job not yet awarded", async () => {
    const setup = await setupAuction();
    await bid(setup, [1_500_000n]);
    await endAuction(setup);
    const keeper = await setup.env.actor();
    const ix = await failNoShowInstruction(keeper.client.program, accountsFor(setup, keeper, 0));
    await expectProgramError(sendInstructions(keeper.provider, [ix]), "NotAssignedWinner");
    assert.equal((await providerState(setup, 0)).locked, LOCK);
  });

  const tampered: [string, (a: FailWinnerAccounts, s: AuctionSetup, keeper: Actor) => Promise<void> | void, Parameters<typeof expectProgramError>[1]][] = [
    [
      "a market other than the job's",
      async (a, s) => {
        const other = await s.authority.client.createMarket({ class: MARKET_CLASS, params: MARKET_PARAMS, paymentMint: s.env.paymentMint, stakeMint: s.env.stakeMint });
        a.market = other.market;
      },
      "MarketMismatch",
    ],
    [
      "an escrow other than the job's",
      async (a, s) => {
        a.escrow = (await s.consumer.client.postJob(jobInput(s.market, { consumerToken: s.consumer.paymentToken }))).escrow;
      },
      "InvalidVault",
    ],
    ["a consumer other than the job's", (a) => void (a.consumer = Keypair.generate().publicKey), "ConsumerMismatch"],
    ["another provider's bid", (a, s) => void (a.bid = bidOf(s, 1)), "BidMismatch"],
    ["an owner other than the bid's", (a, s) => void (a.owner = s.providers[1].owner.publicKey), "BidMismatch"],
    ["a vault other than the provider's", (a, s) => void (a.vault = s.providers[1].vault), "InvalidVault"],
    ["a keeper account not owned by the keeper", (a, s) => void (a.keeperToken = s.consumer.stakeToken), "TokenAccountOwnerMismatch"],
    ["a keeper share paid in the payment mint", (a, _s, k) => void (a.keeperToken = k.paymentToken), "WrongMint"],
    ["a refund account not owned by the consumer", (a, _s, k) => void (a.consumerToken = k.paymentToken), "TokenAccountOwnerMismatch"],
    ["a consumer share paid in the payment mint", (a, s) => void (a.consumerStakeToken = s.consumer.paymentToken), "WrongMint"],
    ["a consumer share paid to someone else", (a, _s, k) => void (a.consumerStakeToken = k.stakeToken), "TokenAccountOwnerMismatch"],
    ["a treasury account not owned by the treasury", (a, _s, k) => void (a.treasuryStakeToken = k.stakeToken), "TokenAccountOwnerMismatch"],
  ];
  for (const [what, tamper, error] of tampered) {
    it(`rejects ${what}`, async () => {
      const { setup, keeper } = await noShow();
      const accounts = accountsFor(setup, keeper, 0);
      await tamper(accounts, setup, keeper);
      const watched = [setup.providers[0].vault, setup.providers[1].vault, setup.escrow, setup.consumer.stakeToken, setup.authority.stakeToken];
      const before = snapshot(setup.env, [...watched, keeper.stakeToken, keeper.paymentToken, bidOf(setup, 0), bidOf(setup, 1)]);
      const ix = await failNoShowInstruction(keeper.client.program, accounts);
      await expectProgramError(sendInstructions(keeper.provider, [ix]), error);
      assertNothingMoved(setup.env, before);
      assert.equal((await providerState(setup, 0)).locked, LOCK);
    });
  }

  it("slashes once: failing again finds no bid (replay)", async () => {
    // Given a winner already failed (the reopen policy keeps the job alive)
    const { setup, keeper } = await noShow();
    const accounts = accountsFor(setup, keeper, 0);
    await sendInstructions(keeper.provider, [await failNoShowInstruction(keeper.client.program, accounts)]);
    const before = snapshot(setup.env, [setup.providers[0].vault, setup.consumer.stakeToken, setup.authority.stakeToken, setup.escrow]);
    const replay = await failNoShowInstruction(keeper.client.program, accounts);
    await expectProgramError(sendInstructions(keeper.provider, [replay]), "InvalidAccountOwner");
    assertNothingMoved(setup.env, before);
    assert.equal((await providerState(setup, 0)).staked, PROVIDER_STAKE - SLASH);
  });
});
