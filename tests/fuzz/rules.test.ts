// The rules module against the program: real accounts of a small auction, each rule asked about
// the accounts as they are and with one field or account changed, and where cheap the program
// asked the same question. And the daemons' copies (keeper schedule, provider plan) agree with it
// on every state the tests produce.
import assert from "node:assert/strict";
import { getAssociatedTokenAddressSync } from "@solana/spl-token";
import { Keypair, PublicKey } from "@solana/web3.js";
import { awardDue, challengeOpen, expiryDue, finalizeDue, noShowDue, refereeDue, timeoutDue } from "@compute-market/keeper";
import { findBidPda, rules, type BidAccount, type DisputeAccount, type JobAccount, type MarketAccount, type ProviderAccount } from "@compute-market/sdk";
import { awarded, bid, setupAuction, type AuctionSetup } from "../support/auction";
import { expectProgramError } from "../support/assertions";
import { MARKET_PARAMS } from "../support/fixtures";

const keyed = <T>(address: PublicKey, account: T | null): rules.Keyed<T> => ({ address, account });
const tokenOf = (mint: PublicKey, owner: PublicKey, amount: bigint): rules.TokenState => ({ mint, owner, amount });

interface Loaded {
  job: JobAccount;
  market: MarketAccount;
  providers: ProviderAccount[];
}

async function load(setup: AuctionSetup): Promise<Loaded> {
  const client = setup.consumer.client;
  const job = await client.fetchJob(setup.job);
  const market = await client.fetchMarket(setup.market);
  assert.ok(job && market);
  const providers: ProviderAccount[] = [];
  for (const p of setup.providers) {
    const account = await client.fetchProvider(p.provider);
    assert.ok(account);
    providers.push(account);
  }
  return { job, market, providers };
}

async function bidOf(setup: AuctionSetup, i: number): Promise<{ address: PublicKey; account: BidAccount }> {
  const address = findBidPda({ job: setup.job, provider: setup.providers[i].provider, programId: setup.env.programId })[0];
  const account = await setup.consumer.client.fetchBid(address);
  assert.ok(account);
  return { address, account };
}

/** The job with one state and optional overrides (a pure copy; the chain is not touched). */
const withState = (job: JobAccount, state: string, progress: Partial<JobAccount["progress"]> = {}): JobAccount =>
  ({ ...job, state: { [state]: {} }, progress: { ...job.progress, ...progress } }) as unknown as JobAccount;
const withStatus = (bid: BidAccount, status: string, more: Partial<BidAccount> = {}): BidAccount => ({ ...bid, status: { [status]: {} }, ...more }) as unknown as BidAccount;

describe("rules: place_bid", () => {
  let setup: AuctionSetup;
  let loaded: Loaded;
  const input = (i: number, over: Partial<rules.PlaceBidInput> = {}): rules.PlaceBidInput => {
    const p = setup.providers[i];
    const bidAddress = findBidPda({ job: setup.job, provider: p.provider, programId: setup.env.programId })[0];
    return {
      now: loaded.job.postedSlot,
      owner: p.owner.publicKey,
      provider: keyed(p.provider, loaded.providers[i]),
      market: keyed(setup.market, loaded.market),
      job: keyed(setup.job, loaded.job),
      bid: { address: bidAddress, expected: bidAddress, exists: false },
      price: 1_000_000n,
      commitment: new Uint8Array(32),
      ...over,
    };
  };

  before(async () => {
    setup = await setupAuction({ providers: 2 });
    loaded = await load(setup);
  });

  it("accepts a bid up to the bidding deadline, refuses it one slot later", () => {
    assert.equal(rules.placeBid(input(0, { now: loaded.job.bidDeadlineSlot })), null);
    assert.equal(rules.placeBid(input(0, { now: loaded.job.bidDeadlineSlot + 1n })), "BiddingClosed");
  });

  it("names the first failing check in the program's order", () => {
    const stranger = Keypair.generate().publicKey;
    assert.equal(rules.placeBid(input(0, { owner: stranger })), "NotProviderOwner");
    // Owner is checked before the market: a stranger with another market still reads NotProviderOwner.
    assert.equal(rules.placeBid(input(0, { owner: stranger, market: keyed(stranger, loaded.market) })), "NotProviderOwner");
    assert.equal(rules.placeBid(input(0, { market: keyed(stranger, loaded.market) })), "MarketMismatch");
    assert.equal(rules.placeBid(input(0, { price: loaded.job.maxPrice + 1n })), "PriceAboveMax");
    assert.equal(rules.placeBid(input(0, { price: loaded.job.maxPrice })), null);
    assert.equal(rules.placeBid(input(0, { price: 0n })), "PriceAboveMax");
    assert.equal(rules.placeBid(input(0, { commitment: new Uint8Array(32).fill(1) })), "InvalidBidCommitment");
    assert.equal(rules.placeBid(input(0, { job: keyed<JobAccount>(setup.job, null) })), "InvalidAccountOwner");
    assert.equal(rules.placeBid(input(0, { bid: { ...input(0).bid, exists: true } })), "AccountAlreadyInitialized");
    const locked = { ...loaded.providers[0], locked: loaded.providers[0].staked };
    assert.equal(rules.placeBid(input(0, { provider: keyed(setup.providers[0].provider, locked) })), "InsufficientFreeStake");
    const unbonding = { ...loaded.providers[0], unbonding: loaded.providers[0].staked };
    assert.equal(rules.placeBid(input(0, { provider: keyed(setup.providers[0].provider, unbonding) })), "BelowMinimumStake");
    assert.equal(rules.placeBid(input(0, { job: keyed(setup.job, withState(loaded.job, "awarded")) })), "InvalidJobState");
  });

  it("agrees with the program on a price above the maximum and on a fine bid", async () => {
    const p = setup.providers[1];
    await expectProgramError(p.owner.client.placeBid({ job: setup.job, price: loaded.job.maxPrice + 1n }), "PriceAboveMax");
    assert.equal(rules.placeBid(input(1, { price: 1_200_000n })), null);
    await p.owner.client.placeBid({ job: setup.job, price: 1_200_000n });
    const after = await load(setup);
    const address = input(1).bid.address;
    assert.equal(rules.placeBid({ ...input(1), job: keyed(setup.job, after.job), bid: { address, expected: address, exists: true } }), "AccountAlreadyInitialized");
    await expectProgramError(p.owner.client.placeBid({ job: setup.job, price: 1_100_000n }), "AccountAlreadyInitialized");
  });
});

describe("rules: award, expiry and the cranks due", () => {
  it("awards only after the auction, only the ranked winners, and expires only without enough bids", async () => {
    const setup = await setupAuction({ providers: 2 });
    await bid(setup, [1_500_000n, 1_200_000n]);
    const { job, market } = await load(setup);
    const [a, b] = [await bidOf(setup, 0), await bidOf(setup, 1)];
    const end = rules.auctionEnd(job);
    const ask = (now: bigint, bids: rules.Keyed<BidAccount>[]) => rules.award({ now, market: keyed(setup.market, market), job: keyed(setup.job, job), bids });
    assert.equal(ask(end, [keyed(b.address, b.account)]), "AuctionStillOpen");
    // The cheaper bid (provider 1) ranks first: naming the other one is the wrong winner.
    assert.equal(ask(end + 1n, [keyed(a.address, a.account)]), "WrongWinner");
    assert.equal(ask(end + 1n, []), "WinnersMissing");
    assert.equal(ask(end + 1n, [keyed(b.address, b.account)]), null);
    assert.equal(rules.checkExpiry(job, end + 1n), "AuctionHasWinners");
    assert.deepEqual(rules.dueCrank(job, [a.account, b.account], end), { kind: "wait", slot: end + 1n });
    assert.deepEqual(rules.dueCrank(job, [a.account, b.account], end + 1n), { kind: "award" });
    assert.equal(rules.nextCrankSlot(job, [a.account, b.account], end - 5n), end + 1n);
    const twoNeeded = { ...job, replication: 3 };
    assert.equal(rules.checkAward(twoNeeded, end + 1n), "NotEnoughBids");
    assert.deepEqual(rules.dueCrank(twoNeeded, [], end + 1n), { kind: "expire" });
    // The keeper's schedule says the same.
    for (const slot of [end - 1n, end, end + 1n]) {
      assert.equal(awardDue(job, slot), rules.awardDue(job, slot));
      assert.equal(expiryDue(twoNeeded, slot), rules.expiryDue(twoNeeded, slot));
    }
  });

  it("dues a no-show one slot after the start deadline and a timeout one after the commit deadline", async () => {
    const setup = await setupAuction({ providers: 1 });
    await awarded(setup);
    const { job } = await load(setup);
    const winner = await bidOf(setup, 0);
    const start = job.progress.startDeadlineSlot;
    assert.deepEqual(rules.dueCrank(job, [winner.account], start), { kind: "wait", slot: start + 1n });
    const due = rules.dueCrank(job, [winner.account], start + 1n);
    assert.equal(due.kind, "failNoShow");
    const running = withState(job, "running");
    const started = withStatus(winner.account, "started");
    const commit = job.progress.commitDeadlineSlot;
    assert.deepEqual(rules.dueCrank(running, [started], commit), { kind: "wait", slot: commit + 1n });
    assert.equal(rules.dueCrank(running, [started], commit + 1n).kind, "failTimeout");
    for (const slot of [start, start + 1n, commit, commit + 1n]) {
      assert.equal(noShowDue(job, winner.account, slot), rules.noShowDue(job, winner.account, slot));
      assert.equal(timeoutDue(running, started, slot), rules.timeoutDue(running, started, slot));
    }
    // start_job: the winner before the deadline; the program refuses the stranger by name.
    const startInput = { now: start, owner: setup.providers[0].owner.publicKey, job: keyed(setup.job, job), bid: keyed(winner.address, winner.account) };
    assert.equal(rules.startJob(startInput), null);
    assert.equal(rules.startJob({ ...startInput, now: start + 1n }), "StartWindowClosed");
    assert.equal(rules.startJob({ ...startInput, owner: setup.consumer.publicKey }), "NotBidOwner");
    await assert.rejects(setup.consumer.client.program.methods.startJob().accountsPartial({ owner: setup.consumer.publicKey, job: setup.job, bid: winner.address }).rpc(), /NotBidOwner/);
    // A bid of an earlier incarnation of the job at the same address is stale.
    assert.equal(rules.startJob({ ...startInput, bid: keyed(winner.address, { ...winner.account, jobIncarnation: job.incarnation + 1n }) }), "StaleBid");
  });

  it("finalizes a committed job from its challenge deadline, with no game open", async () => {
    const setup = await setupAuction({ providers: 1 });
    await awarded(setup);
    const { job } = await load(setup);
    const winner = await bidOf(setup, 0);
    const deadline = job.progress.awardedSlot + 100n;
    const committed = withState(job, "committed", { challengeDeadlineSlot: deadline });
    const done = withStatus(winner.account, "committed");
    assert.equal(rules.checkFinalize(committed, deadline - 1n), "ChallengeWindowOpen");
    assert.equal(rules.checkFinalize(committed, deadline), null);
    const disputed = withState(job, "committed", { challengeDeadlineSlot: deadline, openDisputes: 1 });
    assert.equal(rules.checkFinalize(disputed, deadline), "DisputeOpen");
    assert.deepEqual(rules.dueCrank(disputed, [done], deadline), { kind: "wait", slot: null });
    assert.deepEqual(rules.dueCrank(committed, [done], deadline - 1n), { kind: "wait", slot: deadline });
    assert.deepEqual(rules.dueCrank(committed, [done], deadline), { kind: "finalize" });
    for (const slot of [deadline - 1n, deadline]) {
      assert.equal(finalizeDue(committed, slot, [done]), rules.finalizeDue(committed, slot, [done]));
      assert.equal(challengeOpen(committed, done, slot), rules.challengeOpen(committed, done, slot));
    }
    assert.equal(refereeDue(committed, [done], false), rules.refereeDue(committed, [done], false));
  });
});

describe("rules: withdraw_bid", () => {
  it("keeps a ranked bid while the auction is open, frees an outbid one, and binds a winner", async () => {
    const setup = await setupAuction({ providers: 2 });
    await bid(setup, [1_500_000n]);
    const { job, market, providers } = await load(setup);
    const mine = await bidOf(setup, 0);
    const { config } = await (async () => ({ config: await setup.consumer.client.fetchConfig() }))();
    assert.ok(config);
    const configAddress = PublicKey.findProgramAddressSync([Buffer.from("config")], setup.env.programId)[0];
    const p = setup.providers[0];
    const ask = (jobAccount: JobAccount | null, over: Partial<rules.WithdrawBidInput> = {}) =>
      rules.withdrawBid({
        now: job.postedSlot,
        owner: p.owner.publicKey,
        provider: keyed(p.provider, providers[0]),
        vault: p.vault,
        config: keyed(configAddress, config),
        market: keyed(setup.market, market),
        job: keyed(setup.job, jobAccount),
        bid: keyed(mine.address, mine.account),
        treasuryStakeToken: tokenOf(market.stakeMint, config.treasury, 0n),
        ...over,
      });
    assert.equal(ask(job), "BidIsRanked");
    await expectProgramError(p.owner.client.withdrawBid({ job: setup.job }), "BidIsRanked");
    assert.equal(ask(null), null, "a bid of a closed job is always withdrawn");
    assert.equal(ask({ ...job, incarnation: job.incarnation + 1n }), null, "and one of an earlier incarnation");
    assert.equal(ask(job, { vault: setup.providers[1].vault }), "InvalidVault");
    assert.equal(ask(job, { treasuryStakeToken: null }), "InvalidTokenAccount");
    assert.equal(ask(job, { owner: setup.consumer.publicKey }), "NotBidOwner");
    const won = withStatus(mine.account, "won", { awardedSlot: job.postedSlot + 3n });
    const awardedJob = withState(job, "awarded", { awardedSlot: job.postedSlot + 3n });
    assert.equal(ask(awardedJob, { bid: keyed(mine.address, won) }), "BidHoldsAward");
    assert.equal(rules.withdrawable(won, awardedJob, setup.job), false);
    assert.equal(rules.withdrawWorthwhile(awardedJob, won, job.postedSlot), false);
    // A sealed bid unrevealed once bidding closed forfeits the no-show rate of its lock.
    const sealed = withStatus(mine.account, "sealed");
    assert.equal(rules.withdrawForfeit(sealed, keyed(setup.job, job), market, job.bidDeadlineSlot), 0n);
    assert.equal(rules.withdrawForfeit(sealed, keyed(setup.job, job), market, job.bidDeadlineSlot + 1n), rules.bps(sealed.locked, market.params.slashNoShowBps));
  });
});

describe("rules: stake, unstake, withdraw", () => {
  it("checks amounts, free stake and the unbonding clock", async () => {
    const setup = await setupAuction({ providers: 1 });
    const { market, providers } = await load(setup);
    const p = setup.providers[0];
    const provider = providers[0];
    const ownerToken = getAssociatedTokenAddressSync(market.stakeMint, p.owner.publicKey);
    const balance = tokenOf(market.stakeMint, p.owner.publicKey, 10n);
    assert.equal(rules.stake({ owner: p.owner.publicKey, provider: keyed(p.provider, provider), vault: p.vault, ownerToken: balance, amount: 10n }), null);
    assert.equal(rules.stake({ owner: p.owner.publicKey, provider: keyed(p.provider, provider), vault: p.vault, ownerToken: balance, amount: 11n }), "InsufficientFunds");
    assert.equal(rules.stake({ owner: p.owner.publicKey, provider: keyed(p.provider, provider), vault: p.vault, ownerToken: balance, amount: 0n }), "ZeroAmount");
    assert.equal(rules.stake({ owner: p.owner.publicKey, provider: keyed(p.provider, provider), vault: ownerToken, ownerToken: balance, amount: 1n }), "InvalidVault");
    const free = rules.freeStake(provider);
    const unstake = (amount: bigint, prov = provider) => rules.requestUnstake({ owner: p.owner.publicKey, provider: keyed(p.provider, prov), market: keyed(setup.market, market), amount });
    assert.equal(unstake(free), null);
    assert.equal(unstake(free + 1n), "InsufficientFreeStake");
    await expectProgramError(p.owner.client.requestUnstake({ provider: p.provider, amount: free + 1n }), "InsufficientFreeStake");
    await p.owner.client.requestUnstake({ provider: p.provider, amount: free });
    const after = await setup.consumer.client.fetchProvider(p.provider);
    assert.ok(after);
    const withdraw = (now: bigint) => rules.withdrawUnstaked({ now, owner: p.owner.publicKey, provider: keyed(p.provider, after), vault: p.vault, ownerToken: tokenOf(market.stakeMint, p.owner.publicKey, 0n) });
    assert.equal(withdraw(after.unlockSlot - 1n), "UnbondingNotElapsed");
    assert.equal(withdraw(after.unlockSlot), null);
    await expectProgramError(p.owner.client.withdrawUnstaked({ provider: p.provider, ownerToken: p.owner.stakeToken }), "UnbondingNotElapsed");
    // The SDK's default (associated) account does not exist for this owner: refused before the clock.
    assert.equal(rules.withdrawUnstaked({ now: after.unlockSlot, owner: p.owner.publicKey, provider: keyed(p.provider, after), vault: p.vault, ownerToken: null }), "InvalidTokenAccount");
    await expectProgramError(p.owner.client.withdrawUnstaked({ provider: p.provider, ownerToken }), "InvalidTokenAccount");
    assert.equal(rules.withdrawUnstaked({ now: after.unlockSlot, owner: p.owner.publicKey, provider: keyed(p.provider, provider), vault: p.vault, ownerToken: balance }), "NothingToWithdraw");
  });
});

describe("rules: disputes and amounts", () => {
  const game = (over: Record<string, unknown>): DisputeAccount =>
    ({ status: { open: {} }, turn: { provider: {} }, lo: 0n, hi: 379n, turnStartedSlot: 100n, providerClock: 40n, challengerClock: 20n, ...over }) as unknown as DisputeAccount;

  it("times a game out one slot past its mover's clock, as the SDK's standing says", () => {
    const cases = [game({}), game({ turn: { challenger: {} } }), game({ turn: { proof: {} }, lo: 5n, hi: 6n }), game({ lo: 17n, hi: 5_200_000n })];
    for (const g of cases) {
      const at = rules.disputeTimeoutSlot(g);
      assert.equal(rules.timeoutDispute({ now: at - 1n, dispute: keyed(PublicKey.default, g) }), "ClockRunning");
      assert.equal(rules.timeoutDispute({ now: at, dispute: keyed(PublicKey.default, g) }), null);
      for (const slot of [at - 2n, at - 1n, at, at + 1n]) {
        const standing = rules.disputeStanding(g, slot);
        assert.equal(standing.timeoutSlot, at);
        assert.equal(standing.slotsLeft, slot >= at - 1n ? 0n : at - 1n - slot, "no slot left once the next one may time it out");
        assert.deepEqual(standing.interval, [g.lo, g.hi]);
      }
    }
    assert.equal(rules.timeoutDispute({ now: 10_000n, dispute: keyed(PublicKey.default, game({ status: { providerWon: {} } })) }), "NotYourTurn");
    assert.equal(rules.roundsLeft(0n, 5_200_000n), 6);
    assert.equal(rules.roundsLeft(0n, 1n), 0);
  });

  it("escrows replication × (price + fee) + crank fee, and locks the challenger reward on verifiable bids", () => {
    assert.equal(rules.escrowAmount(2_000_000n, 3, 250, 10_000n), 3n * (2_000_000n + 50_000n) + 10_000n);
    const market = { params: { ...MARKET_PARAMS, jobStakeLock: 300_000n } } as unknown as MarketAccount;
    assert.equal(rules.bidLock({ mode: { verifiable: {} } } as unknown as JobAccount, market), 450_000n);
    assert.equal(rules.bidLock({ mode: { replicated: {} } } as unknown as JobAccount, market), 300_000n);
  });
});
