// fail_timeout: anyone fails a winner that did not commit in time: its lock is slashed at the timeout rate, then the job reopens or refunds.
import assert from "node:assert/strict";
import { getAssociatedTokenAddressSync } from "@solana/spl-token";
import { Keypair, PublicKey } from "@solana/web3.js";
import { failTimeoutInstruction, findBidPda, rules, sendInstructions, variantOf, type FailWinnerAccounts } from "@compute-market/sdk";
import { commitResults } from "../../support/results";
import { assertNothingMoved, expectProgramError, snapshot } from "../../support/assertions";
import { assertLedgerInvariants, awarded, endAuction, PROVIDER_STAKE, setupAuction, type AuctionSetup } from "../../support/auction";
import type { Actor } from "../../support/env";
import { eventsOf } from "../../support/events";
import { escrowFor, MARKET_CLASS, MARKET_PARAMS } from "../../support/fixtures";

const LOCK = MARKET_PARAMS.jobStakeLock;
/** 50 % of the lock, shared half and half by the consumer and the treasury. */
const SLASH = (LOCK * BigInt(MARKET_PARAMS.slashTimeoutBps)) / 10_000n;
const TO_CONSUMER = (SLASH * BigInt(MARKET_PARAMS.slashConsumerShareBps)) / 10_000n;
/** The keeper's crank share of the slash (10 %), out of the treasury's part: the failed provider pays the crank. */
const TO_KEEPER = (SLASH * rules.FAIL_CRANK_SHARE_BPS) / 10_000n;
const TO_TREASURY = SLASH - TO_CONSUMER - TO_KEEPER;
const RESULT = { outputRoot: new Uint8Array(32).fill(0x11), resultUriHash: new Uint8Array(32) };

const bidOf = (setup: AuctionSetup, i: number) =>
  findBidPda({ job: setup.job, provider: setup.providers[i].provider, programId: setup.env.programId })[0];
const stakeAta = (setup: AuctionSetup, owner: PublicKey) => getAssociatedTokenAddressSync(setup.env.stakeMint, owner, true);
const paymentAta = (setup: AuctionSetup, owner: PublicKey) => getAssociatedTokenAddressSync(setup.env.paymentMint, owner, true);

/**
 * A job awarded to the lowest of `prices`; the winners in `started` started and those in
 * `committed` committed; the clock at the commit deadline plus `after` (1: just past it).
 */
async function overdue(
  options: Parameters<typeof setupAuction>[0] = {},
  { prices = [1_500_000n, 1_700_000n], started = [0], committed = [] as number[], after = 1n } = {},
) {
  const setup = await setupAuction(options);
  await awarded(setup, prices);
  for (const i of started) await setup.providers[i].owner.client.startJob({ job: setup.job });
  await commitResults(setup, committed.map(() => RESULT.outputRoot), undefined, committed);
  const job = await setup.consumer.client.fetchJob(setup.job);
  setup.env.ledger.warpToSlot(job!.progress.commitDeadlineSlot + after);
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

const watched = (setup: AuctionSetup, i: number) => [
  setup.providers[i].vault,
  setup.escrow,
  setup.consumer.stakeToken,
  setup.consumer.paymentToken,
  setup.authority.stakeToken,
  bidOf(setup, i),
];

describe("fail_timeout", () => {
  it("slashes the running winner at the timeout rate, pays the shares and reopens bidding", async () => {
    // Given provider 0 won, started, and did not commit by the commit deadline
    const { setup, keeper } = await overdue();
    const { owner, vault } = setup.providers[0];
    const bidRent = setup.env.lamports(bidOf(setup, 0));
    const ownerLamports = setup.env.lamports(owner.publicKey);
    const now = setup.env.ledger.slot;

    // When a keeper fails it
    const signature = await keeper.client.failTimeout({ job: setup.job, provider: setup.providers[0].provider });

    // Then half its lock is slashed: half of that to the consumer, half to the treasury
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
    // And the job bids again with the other bid ranked, its escrow untouched, no fee paid yet
    const job = await keeper.client.fetchJob(setup.job);
    assert.equal(variantOf(job!.state), "open");
    assert.equal(job?.bidDeadlineSlot, now + MARKET_PARAMS.bidWindowSlots);
    assert.equal(job?.auction.rankedCount, 1);
    assert.ok(job?.auction.ranking[0].provider.equals(setup.providers[1].provider));
    assert.equal(setup.env.tokenBalance(setup.escrow), escrowFor(2_000_000n));
    assert.equal(setup.env.tokenBalance(paymentAta(setup, keeper.publicKey)), 0n);
    const events = eventsOf(setup.env, keeper.client.program, signature);
    assert.deepEqual(events.map((e) => e.name).sort(), ["jobReopened", "winnerFailed"]);
    const failed = events.find((e) => e.name === "winnerFailed");
    assert.ok(failed?.name === "winnerFailed");
    assert.equal(failed.data.slashed, SLASH);
    assert.equal(failed.data.toConsumer, TO_CONSUMER);
    assert.equal(failed.data.toTreasury, TO_TREASURY);
    assert.equal(failed.data.toKeeper, TO_KEEPER);
    assert.equal(failed.data.timedOut, true);
    await assertLedgerInvariants(setup);
  });

  it("leaves a winner that never started to fail_no_show, even past the commit deadline", async () => {
    // Given a winner nobody failed for its no-show before the commit deadline passed
    const { setup, keeper } = await overdue({}, { started: [] });
    assert.equal(variantOf((await keeper.client.fetchJob(setup.job))!.state), "awarded");
    const before = snapshot(setup.env, [setup.providers[0].vault]);

    // Then the timeout crank is refused (the job never ran) and the no-show crank applies
    await expectProgramError(keeper.client.failTimeout({ job: setup.job, provider: setup.providers[0].provider }), "InvalidJobState");
    assertNothingMoved(setup.env, before);
    await keeper.client.failNoShow({ job: setup.job, provider: setup.providers[0].provider });
    assert.equal(variantOf((await keeper.client.fetchJob(setup.job))!.state), "open");
  });

  it("lets the next best bid win once the reopened bidding closes", async () => {
    const { setup, keeper } = await overdue();
    await keeper.client.failTimeout({ job: setup.job, provider: setup.providers[0].provider });
    await endAuction(setup);
    await keeper.client.award({ job: setup.job });
    const next = await keeper.client.fetchBid(bidOf(setup, 1));
    assert.equal(variantOf(next!.status), "won");
    assert.equal(next?.awardedPrice, 1_700_000n);
  });

  it("refunds the whole escrow under the refund policy; the failed provider pays the keeper", async () => {
    const { setup, keeper } = await overdue({ job: { onFailure: "refund" } });
    const consumerLamports = setup.env.lamports(setup.consumer.publicKey);
    const rent = setup.env.lamports(setup.job) + setup.env.lamports(setup.escrow);

    const signature = await keeper.client.failTimeout({ job: setup.job, provider: setup.providers[0].provider });

    const refund = escrowFor(2_000_000n);
    assert.equal(setup.env.tokenBalance(paymentAta(setup, keeper.publicKey)), 0n);
    assert.equal(setup.env.tokenBalance(stakeAta(setup, keeper.publicKey)), TO_KEEPER);
    assert.equal(setup.env.tokenBalance(paymentAta(setup, setup.consumer.publicKey)), refund);
    assert.equal(setup.env.tokenBalance(stakeAta(setup, setup.consumer.publicKey)), TO_CONSUMER);
    for (const account of [setup.job, setup.escrow, bidOf(setup, 0)]) assert.equal(setup.env.exists(account), false);
    assert.equal(setup.env.lamports(setup.consumer.publicKey), consumerLamports + rent);
    const events = eventsOf(setup.env, keeper.client.program, signature);
    assert.deepEqual(events.map((e) => e.name), ["winnerFailed", "jobRefunded"]);
    assert.ok(events[1].name === "jobRefunded");
    assert.equal(events[1].data.refunded, refund);
    assert.equal((await providerState(setup, 1)).locked, LOCK);
    await assertLedgerInvariants(setup);
  });

  it("applies the policy once the other winners committed; the committed bid keeps its lock until withdrawn", async () => {
    // Given two winners that started; provider 0 committed, provider 1 did not
    const { setup, keeper } = await overdue({ job: { replication: 2, onFailure: "refund" } }, { started: [0, 1], committed: [0] });
    assert.equal(variantOf((await keeper.client.fetchJob(setup.job))!.state), "running");

    await keeper.client.failTimeout({ job: setup.job, provider: setup.providers[1].provider });

    // Then the consumer is refunded (nobody is paid without a settled result)
    assert.equal(setup.env.exists(setup.job), false);
    assert.equal(setup.env.tokenBalance(paymentAta(setup, setup.consumer.publicKey)), escrowFor(2_000_000n, 2n));
    assert.equal((await providerState(setup, 0)).staked, PROVIDER_STAKE);
    assert.equal((await providerState(setup, 0)).locked, LOCK);
    await setup.providers[0].owner.client.withdrawBid({ job: setup.job, market: setup.market });
    assert.equal((await providerState(setup, 0)).locked, 0n);
  });

  it("waits for every winner when none committed", async () => {
    const { setup, keeper } = await overdue({ job: { replication: 2 } }, { started: [0, 1] });

    await keeper.client.failTimeout({ job: setup.job, provider: setup.providers[0].provider });
    const job = await keeper.client.fetchJob(setup.job);
    assert.equal(variantOf(job!.state), "running");
    assert.equal(job?.progress.failed, 1);

    await keeper.client.failTimeout({ job: setup.job, provider: setup.providers[1].provider });
    assert.equal(variantOf((await keeper.client.fetchJob(setup.job))!.state), "open");
    assert.equal(setup.env.tokenBalance(stakeAta(setup, setup.authority.publicKey)), 2n * TO_TREASURY);
    await assertLedgerInvariants(setup);
  });

  it("rejects a failure before the commit deadline has passed", async () => {
    const { setup, keeper } = await overdue({}, { after: 0n });
    const before = snapshot(setup.env, watched(setup, 0));
    const ix = await failTimeoutInstruction(keeper.client.program, accountsFor(setup, keeper, 0));
    await expectProgramError(sendInstructions(keeper.provider, [ix]), "DeadlineNotReached");
    assertNothingMoved(setup.env, before);
  });

  it("rejects a winner that committed", async () => {
    // Given a replicated job still running: provider 0 committed, provider 1 did not
    const { setup, keeper } = await overdue({ job: { replication: 2 } }, { started: [0, 1], committed: [0] });
    const before = snapshot(setup.env, watched(setup, 0));
    const ix = await failTimeoutInstruction(keeper.client.program, accountsFor(setup, keeper, 0));
    await expectProgramError(sendInstructions(keeper.provider, [ix]), "NotAssignedWinner");
    assertNothingMoved(setup.env, before);
  });

  it("rejects a job whose results are all committed", async () => {
    const { setup, keeper } = await overdue({}, { committed: [0] });
    assert.equal(variantOf((await keeper.client.fetchJob(setup.job))!.state), "committed");
    const before = snapshot(setup.env, watched(setup, 0));
    const ix = await failTimeoutInstruction(keeper.client.program, accountsFor(setup, keeper, 0));
    await expectProgramError(sendInstructions(keeper.provider, [ix]), "InvalidJobState");
    assertNothingMoved(setup.env, before);
  });

  it("rejects a losing bid", async () => {
    const { setup, keeper } = await overdue();
    const before = snapshot(setup.env, watched(setup, 1));
    const ix = await failTimeoutInstruction(keeper.client.program, accountsFor(setup, keeper, 1));
    await expectProgramError(sendInstructions(keeper.provider, [ix]), "NotAssignedWinner");
    assertNothingMoved(setup.env, before);
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
    ["an escrow other than the job's", (a, s) => void (a.escrow = s.providers[0].vault), "InvalidVault"],
    ["a consumer other than the job's", (a) => void (a.consumer = Keypair.generate().publicKey), "ConsumerMismatch"],
    ["another provider's bid", (a, s) => void (a.bid = bidOf(s, 1)), "BidMismatch"],
    ["a vault other than the provider's", (a, s) => void (a.vault = s.providers[1].vault), "InvalidVault"],
    ["a consumer share paid to someone else", (a, _s, k) => void (a.consumerStakeToken = k.stakeToken), "TokenAccountOwnerMismatch"],
    ["a treasury account not owned by the treasury", (a, s) => void (a.treasuryStakeToken = s.consumer.stakeToken), "TokenAccountOwnerMismatch"],
    ["a treasury account of the payment mint", (a, s) => void (a.treasuryStakeToken = s.authority.paymentToken), "WrongMint"],
  ];
  for (const [what, tamper, error] of tampered) {
    it(`rejects ${what}`, async () => {
      const { setup, keeper } = await overdue();
      const accounts = accountsFor(setup, keeper, 0);
      await tamper(accounts, setup, keeper);
      const before = snapshot(setup.env, [...watched(setup, 0), setup.providers[1].vault, keeper.stakeToken, bidOf(setup, 1)]);
      const ix = await failTimeoutInstruction(keeper.client.program, accounts);
      await expectProgramError(sendInstructions(keeper.provider, [ix]), error);
      assertNothingMoved(setup.env, before);
      assert.equal((await providerState(setup, 0)).locked, LOCK);
    });
  }

  it("slashes once: failing again finds no bid (replay)", async () => {
    const { setup, keeper } = await overdue();
    const accounts = accountsFor(setup, keeper, 0);
    await sendInstructions(keeper.provider, [await failTimeoutInstruction(keeper.client.program, accounts)]);
    const before = snapshot(setup.env, [setup.providers[0].vault, setup.consumer.stakeToken, setup.authority.stakeToken, setup.escrow]);
    const replay = await failTimeoutInstruction(keeper.client.program, accounts);
    await expectProgramError(sendInstructions(keeper.provider, [replay]), "InvalidAccountOwner");
    assertNothingMoved(setup.env, before);
    assert.equal((await providerState(setup, 0)).staked, PROVIDER_STAKE - SLASH);
  });
});
