// fail_no_show and fail_timeout: anyone fails a winner that missed its start (no-show) or commit
// (timeout) deadline; its lock is slashed at that miss's rate to consumer, treasury and keeper,
// then the job reopens or refunds. One suite over both misses: what they share is tested on
// each, what tells them apart below.
import assert from "node:assert/strict";
import { getAssociatedTokenAddressSync } from "@solana/spl-token";
import { Keypair, PublicKey, type TransactionInstruction } from "@solana/web3.js";
import { failNoShowInstruction, failTimeoutInstruction, findBidPda, rules, sendInstructions, variantOf, type ComputeMarketClient, type FailWinnerAccounts } from "@compute-market/sdk";
import { assertNothingMoved, expectProgramError, snapshot } from "../../support/assertions";
import { assertLedgerInvariants, awarded, bid, endAuction, PROVIDER_STAKE, setupAuction, type AuctionSetup } from "../../support/auction";
import type { Actor } from "../../support/env";
import { eventsOf } from "../../support/events";
import { escrowFor, jobInput, MARKET_CLASS, MARKET_PARAMS } from "../../support/fixtures";
import { commitResults } from "../../support/results";

const LOCK = MARKET_PARAMS.jobStakeLock;
const RESULT = new Uint8Array(32).fill(0x11);

/** What tells the two misses apart. */
interface Miss {
  instruction: "fail_no_show" | "fail_timeout";
  /** The rate of the lock slashed (10 % for a no-show, 50 % for a timeout here). */
  slashBps: number;
  timedOut: boolean;
  /** The deadline whose passing makes the miss, and the winners that started by default. */
  deadline: "startDeadlineSlot" | "commitDeadlineSlot";
  startedByDefault: number[];
  crank(client: ComputeMarketClient, args: { job: PublicKey; provider: PublicKey }): Promise<string>;
  build(program: ComputeMarketClient["program"], accounts: FailWinnerAccounts): Promise<TransactionInstruction>;
}

const NO_SHOW: Miss = {
  instruction: "fail_no_show",
  slashBps: MARKET_PARAMS.slashNoShowBps,
  timedOut: false,
  deadline: "startDeadlineSlot",
  startedByDefault: [],
  crank: (client, args) => client.failNoShow(args),
  build: failNoShowInstruction,
};
const TIMEOUT: Miss = {
  instruction: "fail_timeout",
  slashBps: MARKET_PARAMS.slashTimeoutBps,
  timedOut: true,
  deadline: "commitDeadlineSlot",
  startedByDefault: [0],
  crank: (client, args) => client.failTimeout(args),
  build: failTimeoutInstruction,
};

/** The slash and its split: the consumer's share, the keeper's crank share out of the treasury's part, the rest to the treasury. */
function split(miss: Miss) {
  const slash = (LOCK * BigInt(miss.slashBps)) / 10_000n;
  const toConsumer = (slash * BigInt(MARKET_PARAMS.slashConsumerShareBps)) / 10_000n;
  const toKeeper = (slash * rules.FAIL_CRANK_SHARE_BPS) / 10_000n;
  return { slash, toConsumer, toKeeper, toTreasury: slash - toConsumer - toKeeper };
}

const bidOf = (setup: AuctionSetup, i: number) => findBidPda({ job: setup.job, provider: setup.providers[i].provider, programId: setup.env.programId })[0];
const stakeAta = (setup: AuctionSetup, owner: PublicKey) => getAssociatedTokenAddressSync(setup.env.stakeMint, owner, true);
const paymentAta = (setup: AuctionSetup, owner: PublicKey) => getAssociatedTokenAddressSync(setup.env.paymentMint, owner, true);

/**
 * A job awarded to the lowest of `prices`; the winners in `started` started and those in
 * `committed` committed; the clock at the miss's deadline plus `after` (1: just past it).
 */
async function missed(
  miss: Miss,
  options: Parameters<typeof setupAuction>[0] = {},
  { prices = [1_500_000n, 1_700_000n], started = miss.startedByDefault, committed = [] as number[], after = 1n } = {},
) {
  const setup = await setupAuction(options);
  await awarded(setup, prices);
  for (const i of started) await setup.providers[i].owner.client.startJob({ job: setup.job });
  await commitResults(setup, committed.map(() => RESULT), undefined, committed);
  const job = await setup.consumer.client.fetchJob(setup.job);
  setup.env.ledger.warpToSlot(job!.progress[miss.deadline] + after);
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

/** Every balance and bid a refused crank on provider `i` could touch. */
const watched = (setup: AuctionSetup, i: number) => [setup.providers[i].vault, setup.escrow, setup.consumer.stakeToken, setup.consumer.paymentToken, setup.authority.stakeToken, bidOf(setup, i)];

const TAMPERED: [string, (a: FailWinnerAccounts, s: AuctionSetup, keeper: Actor) => Promise<void> | void, Parameters<typeof expectProgramError>[1]][] = [
  [
    "a market other than the job's",
    async (a, s) => {
      const other = await s.authority.client.createMarket({ class: MARKET_CLASS, params: MARKET_PARAMS, paymentMint: s.env.paymentMint, stakeMint: s.env.stakeMint });
      a.market = other.market;
    },
    "MarketMismatch",
  ],
  [
    "an escrow of another job",
    async (a, s) => {
      a.escrow = (await s.consumer.client.postJob(jobInput(s.market, { consumerToken: s.consumer.paymentToken }))).escrow;
    },
    "InvalidVault",
  ],
  ["a provider's vault as the escrow", (a, s) => void (a.escrow = s.providers[0].vault), "InvalidVault"],
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
  ["a treasury account of the payment mint", (a, s) => void (a.treasuryStakeToken = s.authority.paymentToken), "WrongMint"],
];

for (const miss of [NO_SHOW, TIMEOUT]) {
  const { slash, toConsumer, toKeeper, toTreasury } = split(miss);

  describe(`${miss.instruction}: what both misses share`, () => {
    it(`slashes the winner at the ${miss.slashBps / 100} % rate, pays consumer, treasury and keeper their shares and reopens bidding`, async () => {
      // Given provider 0 won at 1,500,000 (provider 1 bid 1,700,000) and missed the deadline
      const { setup, keeper } = await missed(miss);
      const { owner, vault } = setup.providers[0];
      const bidRent = setup.env.lamports(bidOf(setup, 0));
      const ownerLamports = setup.env.lamports(owner.publicKey);
      const now = setup.env.ledger.slot;

      // When a keeper fails it
      const signature = await miss.crank(keeper.client, { job: setup.job, provider: setup.providers[0].provider });

      // Then its lock is slashed at the miss's rate, split between consumer, treasury and keeper (stake mint)
      assert.equal(setup.env.tokenBalance(stakeAta(setup, setup.consumer.publicKey)), toConsumer);
      assert.equal(setup.env.tokenBalance(stakeAta(setup, setup.authority.publicKey)), toTreasury);
      assert.equal(setup.env.tokenBalance(stakeAta(setup, keeper.publicKey)), toKeeper);
      assert.equal(setup.env.tokenBalance(vault), PROVIDER_STAKE - slash);
      const state = await providerState(setup, 0);
      assert.equal(state.staked, PROVIDER_STAKE - slash);
      assert.equal(state.locked, 0n);
      assert.equal(state.reputation.failed, 1);
      assert.equal(state.reputation.slashed, 1);
      // And its bid is closed, the rent back to its owner
      assert.equal(setup.env.exists(bidOf(setup, 0)), false);
      assert.equal(setup.env.lamports(owner.publicKey), ownerLamports + bidRent);
      // And the job bids again for a full window, the other bid still ranked, the escrow untouched, no fee paid yet
      const job = await keeper.client.fetchJob(setup.job);
      assert.equal(variantOf(job!.state), "open");
      assert.equal(job?.bidDeadlineSlot, now + MARKET_PARAMS.bidWindowSlots);
      assert.equal(job?.auction.rankedCount, 1);
      assert.ok(job?.auction.ranking[0].provider.equals(setup.providers[1].provider));
      assert.equal(job?.progress.awardedSlot, 0n);
      assert.equal(setup.env.tokenBalance(setup.escrow), escrowFor(2_000_000n));
      assert.equal(setup.env.tokenBalance(paymentAta(setup, keeper.publicKey)), 0n);
      const events = eventsOf(setup.env, keeper.client.program, signature);
      assert.deepEqual(events.map((e) => e.name).sort(), ["jobReopened", "winnerFailed"]);
      const failed = events.find((e) => e.name === "winnerFailed");
      assert.ok(failed?.name === "winnerFailed");
      assert.deepEqual([failed.data.slashed, failed.data.toConsumer, failed.data.toTreasury, failed.data.toKeeper], [slash, toConsumer, toTreasury, toKeeper]);
      assert.equal(failed.data.timedOut, miss.timedOut);
      await assertLedgerInvariants(setup);
    });

    it("lets the next best bid win once the reopened bidding closes", async () => {
      const { setup, keeper } = await missed(miss);
      await miss.crank(keeper.client, { job: setup.job, provider: setup.providers[0].provider });

      await endAuction(setup);
      await keeper.client.award({ job: setup.job });

      const next = await keeper.client.fetchBid(bidOf(setup, 1));
      assert.equal(variantOf(next!.status), "won");
      assert.equal(next?.awardedPrice, 1_700_000n);
      assert.equal(variantOf((await keeper.client.fetchJob(setup.job))!.state), "awarded");
      await assertLedgerInvariants(setup);
    });

    it("refunds the whole escrow under the refund policy; the failed provider pays the keeper", async () => {
      const { setup, keeper } = await missed(miss, { job: { onFailure: "refund" } });
      const consumerLamports = setup.env.lamports(setup.consumer.publicKey);
      const rent = setup.env.lamports(setup.job) + setup.env.lamports(setup.escrow);

      const signature = await miss.crank(keeper.client, { job: setup.job, provider: setup.providers[0].provider });

      // Then the keeper has its share of the slash and the consumer (in its associated accounts,
      // the client's default) the whole escrow, its share of the slash and the rent
      const refund = escrowFor(2_000_000n);
      assert.equal(setup.env.tokenBalance(paymentAta(setup, keeper.publicKey)), 0n);
      assert.equal(setup.env.tokenBalance(stakeAta(setup, keeper.publicKey)), toKeeper);
      assert.equal(setup.env.tokenBalance(paymentAta(setup, setup.consumer.publicKey)), refund);
      assert.equal(setup.env.tokenBalance(stakeAta(setup, setup.consumer.publicKey)), toConsumer);
      for (const account of [setup.job, setup.escrow, bidOf(setup, 0)]) assert.equal(setup.env.exists(account), false);
      assert.equal(setup.env.lamports(setup.consumer.publicKey), consumerLamports + rent);
      const events = eventsOf(setup.env, keeper.client.program, signature);
      assert.deepEqual(events.map((e) => e.name), ["winnerFailed", "jobRefunded"]);
      assert.ok(events[1].name === "jobRefunded");
      assert.equal(events[1].data.refunded, refund);
      // And the losing bid keeps its lock until its owner withdraws it
      assert.equal((await providerState(setup, 1)).locked, LOCK);
      await assertLedgerInvariants(setup);
    });

    it("refunds into the consumer's account when the keeper passes it", async () => {
      const { setup, keeper } = await missed(miss, { job: { onFailure: "refund" } });
      const before = setup.env.tokenBalance(setup.consumer.paymentToken);
      await sendInstructions(keeper.provider, [await miss.build(keeper.client.program, accountsFor(setup, keeper, 0))]);
      assert.equal(setup.env.tokenBalance(setup.consumer.paymentToken), before + escrowFor(2_000_000n));
      assert.equal(setup.env.tokenBalance(keeper.paymentToken), 1_000_000_000n);
      assert.equal(setup.env.tokenBalance(keeper.stakeToken), 1_000_000_000n + toKeeper);
      assert.equal(setup.env.tokenBalance(setup.consumer.stakeToken), 1_000_000_000n + toConsumer);
      assert.equal(setup.env.tokenBalance(setup.authority.stakeToken), 1_000_000_000n + toTreasury);
    });

    it("applies the policy only once every winner is accounted for", async () => {
      // Given two winners of a replicated job, both of which missed
      const started = miss === TIMEOUT ? [0, 1] : [];
      const { setup, keeper } = await missed(miss, { job: { replication: 2, onFailure: "refund" } }, { started });

      // When the first is failed, the job waits for the second
      const stateBefore = variantOf((await keeper.client.fetchJob(setup.job))!.state);
      await miss.crank(keeper.client, { job: setup.job, provider: setup.providers[0].provider });
      const job = await keeper.client.fetchJob(setup.job);
      assert.equal(variantOf(job!.state), stateBefore);
      assert.equal(job?.progress.failed, 1);
      assert.equal(setup.env.tokenBalance(setup.escrow), escrowFor(2_000_000n, 2n));

      // Then failing the second refunds the consumer
      await miss.crank(keeper.client, { job: setup.job, provider: setup.providers[1].provider });
      assert.equal(setup.env.exists(setup.job), false);
      assert.equal(setup.env.tokenBalance(stakeAta(setup, setup.consumer.publicKey)), 2n * toConsumer);
      assert.equal(setup.env.tokenBalance(paymentAta(setup, setup.consumer.publicKey)), escrowFor(2_000_000n, 2n));
    });

    it("rejects a failure at the deadline itself", async () => {
      const { setup, keeper } = await missed(miss, {}, { after: 0n });
      const before = snapshot(setup.env, watched(setup, 0));
      await expectProgramError(sendInstructions(keeper.provider, [await miss.build(keeper.client.program, accountsFor(setup, keeper, 0))]), "DeadlineNotReached");
      assertNothingMoved(setup.env, before);
    });

    it("rejects a winner that did its part in time (started for a no-show, committed for a timeout)", async () => {
      // Given a replicated job still in progress: provider 0 did its part, provider 1 did not
      const { setup, keeper } = await missed(miss, { job: { replication: 2 } }, miss === NO_SHOW ? { started: [0] } : { started: [0, 1], committed: [0] });
      const before = snapshot(setup.env, watched(setup, 0));
      await expectProgramError(sendInstructions(keeper.provider, [await miss.build(keeper.client.program, accountsFor(setup, keeper, 0))]), "NotAssignedWinner");
      assertNothingMoved(setup.env, before);
    });

    it("rejects a job past the stage the miss belongs to (running for a no-show, all committed for a timeout)", async () => {
      const { setup, keeper } = await missed(miss, {}, miss === NO_SHOW ? { prices: [1_500_000n], started: [0] } : { committed: [0] });
      assert.equal(variantOf((await keeper.client.fetchJob(setup.job))!.state), miss === NO_SHOW ? "running" : "committed");
      const before = snapshot(setup.env, watched(setup, 0));
      await expectProgramError(sendInstructions(keeper.provider, [await miss.build(keeper.client.program, accountsFor(setup, keeper, 0))]), "InvalidJobState");
      assertNothingMoved(setup.env, before);
    });

    it("rejects a losing bid", async () => {
      const { setup, keeper } = await missed(miss);
      const before = snapshot(setup.env, watched(setup, 1));
      await expectProgramError(sendInstructions(keeper.provider, [await miss.build(keeper.client.program, accountsFor(setup, keeper, 1))]), "NotAssignedWinner");
      assertNothingMoved(setup.env, before);
    });

    for (const [what, tamper, error] of TAMPERED) {
      it(`rejects ${what}`, async () => {
        const { setup, keeper } = await missed(miss);
        const accounts = accountsFor(setup, keeper, 0);
        await tamper(accounts, setup, keeper);
        const before = snapshot(setup.env, [...watched(setup, 0), setup.providers[1].vault, keeper.stakeToken, keeper.paymentToken, bidOf(setup, 1)]);
        await expectProgramError(sendInstructions(keeper.provider, [await miss.build(keeper.client.program, accounts)]), error);
        assertNothingMoved(setup.env, before);
        assert.equal((await providerState(setup, 0)).locked, LOCK);
      });
    }

    it("slashes once: failing again finds no bid (replay)", async () => {
      // Given a winner already failed (the reopen policy keeps the job alive)
      const { setup, keeper } = await missed(miss);
      const accounts = accountsFor(setup, keeper, 0);
      await sendInstructions(keeper.provider, [await miss.build(keeper.client.program, accounts)]);
      const before = snapshot(setup.env, [setup.providers[0].vault, setup.consumer.stakeToken, setup.authority.stakeToken, setup.escrow]);
      await expectProgramError(sendInstructions(keeper.provider, [await miss.build(keeper.client.program, accounts)]), "InvalidAccountOwner");
      assertNothingMoved(setup.env, before);
      assert.equal((await providerState(setup, 0)).staked, PROVIDER_STAKE - slash);
    });
  });
}

describe("fail_no_show: what only a no-show has", () => {
  it("reopens with the winners that started still in the ranking", async () => {
    // Given two winners: provider 0 started, provider 1 did not
    const { setup, keeper } = await missed(NO_SHOW, { job: { replication: 2 } }, { prices: [1_500_000n, 1_700_000n, 1_900_000n], started: [0] });

    await keeper.client.failNoShow({ job: setup.job, provider: setup.providers[1].provider });

    // Then the job reopens with the started winner and the third bid ranked
    const job = await keeper.client.fetchJob(setup.job);
    assert.equal(variantOf(job!.state), "open");
    const ranked = job!.auction.ranking.slice(0, job!.auction.rankedCount).map((e) => e.provider.toBase58());
    assert.deepEqual(ranked, [setup.providers[0].provider, setup.providers[2].provider].map((p) => p.toBase58()));
    assert.equal((await providerState(setup, 0)).staked, PROVIDER_STAKE);
    await assertLedgerInvariants(setup);
  });

  it("rejects a bid on a job not yet awarded", async () => {
    const setup = await setupAuction();
    await bid(setup, [1_500_000n]);
    await endAuction(setup);
    const keeper = await setup.env.actor();
    const before = snapshot(setup.env, watched(setup, 0));
    await expectProgramError(sendInstructions(keeper.provider, [await failNoShowInstruction(keeper.client.program, accountsFor(setup, keeper, 0))]), "NotAssignedWinner");
    assertNothingMoved(setup.env, before);
    assert.equal((await providerState(setup, 0)).locked, LOCK);
  });
});

describe("fail_timeout: what only a timeout has", () => {
  it("leaves a winner that never started to fail_no_show, even past the commit deadline", async () => {
    // Given a winner nobody failed for its no-show before the commit deadline passed
    const { setup, keeper } = await missed(TIMEOUT, {}, { started: [] });
    assert.equal(variantOf((await keeper.client.fetchJob(setup.job))!.state), "awarded");
    const before = snapshot(setup.env, watched(setup, 0));

    // Then the timeout crank is refused (the job never ran) and the no-show crank applies
    await expectProgramError(keeper.client.failTimeout({ job: setup.job, provider: setup.providers[0].provider }), "InvalidJobState");
    assertNothingMoved(setup.env, before);
    await keeper.client.failNoShow({ job: setup.job, provider: setup.providers[0].provider });
    assert.equal(variantOf((await keeper.client.fetchJob(setup.job))!.state), "open");
  });

  it("refunds once the other winners committed; the committed bid keeps its lock until withdrawn", async () => {
    // Given two winners that started; provider 0 committed, provider 1 did not
    const { setup, keeper } = await missed(TIMEOUT, { job: { replication: 2, onFailure: "refund" } }, { started: [0, 1], committed: [0] });
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

  it("reopens when every running winner timed out", async () => {
    const { setup, keeper } = await missed(TIMEOUT, { job: { replication: 2 } }, { started: [0, 1] });
    const { toTreasury } = split(TIMEOUT);

    await keeper.client.failTimeout({ job: setup.job, provider: setup.providers[0].provider });
    await keeper.client.failTimeout({ job: setup.job, provider: setup.providers[1].provider });

    assert.equal(variantOf((await keeper.client.fetchJob(setup.job))!.state), "open");
    assert.equal(setup.env.tokenBalance(stakeAta(setup, setup.authority.publicKey)), 2n * toTreasury);
    await assertLedgerInvariants(setup);
  });
});
