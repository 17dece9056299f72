// Replacing a lease's replica: end_replica with a replacement asked for opens a seat round on the
// lease's terms; bid_seat takes open bids until its deadline; award_seat (anyone) gives the seats
// to the best bids; start_seat makes a winner one of the lease's replicas, paid per acknowledged
// slot like the others; fail_no_show gives up a seat whose winner did not start. The happy
// path, the lease settling only once its seats are resolved, and each abuse failing with a named
// error and moving no token.
import assert from "node:assert/strict";
import { createAssociatedTokenAccountIdempotentInstruction, getAssociatedTokenAddressSync } from "@solana/spl-token";
import type { PublicKey } from "@solana/web3.js";
import { awardSeatInstruction, bidSeatInstruction, endReplicaInstruction, failNoShowInstruction, rules, sendInstructions, signAcknowledgement, startSeatInstruction, variantOf } from "@compute-market/sdk";
import { assertNothingMoved, expectProgramError, snapshot } from "../../support/assertions";
import { eventsOf } from "../../support/events";
import { MARKET_CLASS, MARKET_PARAMS, setupProvider } from "../../support/fixtures";
import { bidOf, consumerTokens, minDeposit, PERIOD, RATE_CAP, running, startedSlot, type Lease } from "../../support/service-lease";

/** Everything a seat action could move: the escrow, every party's tokens and every provider's vault. */
const moneyOf = (lease: Lease) => [lease.escrow, lease.consumer.paymentToken, lease.consumer.stakeToken, ...lease.providers.flatMap((p) => [p.owner.paymentToken, p.owner.stakeToken, p.vault, bidOf(lease, lease.providers.indexOf(p))])];

/** A running one-replica lease (provider 0) with providers 1 and 2 free, replica 0 ended by the
 * consumer with a replacement asked for: the seat round is open. */
async function seatOpen(rates: bigint[] = [80n]): Promise<Lease> {
  const lease = await running(rates, {}, rates.length + 2);
  await lease.consumer.client.endReplica({ job: lease.job, provider: lease.providers[0].provider, replace: true });
  return lease;
}

const terms = async (lease: Lease) => (await lease.consumer.client.fetchService(lease.service))!;
const jobOf = async (lease: Lease) => (await lease.consumer.client.fetchJob(lease.job))!;
const bidAt = async (lease: Lease, i: number) => lease.consumer.client.fetchBid(bidOf(lease, i));

/** Warps past the open round's deadline. */
async function pastRound(lease: Lease): Promise<void> {
  lease.env.ledger.warpToSlot((await terms(lease)).seatDeadlineSlot + 1n);
}

/** Opens a round, has provider 1 bid `price` and awards it: provider 1 won the seat, not started yet. */
async function seatWon(price = 70n): Promise<Lease> {
  const lease = await seatOpen();
  await lease.providers[1].owner.client.bidSeat({ job: lease.job, price });
  await pastRound(lease);
  await lease.consumer.client.awardSeat({ job: lease.job });
  return lease;
}

describe("end_replica with a replacement", () => {
  it("opens a seat round lasting the market's bid window; a second ended replica joins it", async () => {
    const lease = await running([80n, 90n], {}, 4);
    const now = lease.env.ledger.slot;
    const signature = await lease.consumer.client.endReplica({ job: lease.job, provider: lease.providers[0].provider, replace: true });
    let service = await terms(lease);
    assert.equal(service.openSeats, 1);
    assert.equal(service.seatDeadlineSlot, now + MARKET_PARAMS.bidWindowSlots);
    const seatEvent = eventsOf(lease.env, lease.consumer.client.program, signature).find((e) => e.name === "seatRequested");
    assert.ok(seatEvent && seatEvent.data.replaced.equals(lease.providers[0].provider) && seatEvent.data.bidDeadlineSlot === service.seatDeadlineSlot);
    lease.env.ledger.warpToSlot(now + 10n);
    // The watchdog's key may ask too; the round's deadline stays.
    const ix = await endReplicaInstruction(lease.consumer.client.program, { signer: lease.watchdog.publicKey, market: lease.market, job: lease.job, service: lease.service, bid: bidOf(lease, 1) }, true);
    await sendInstructions(lease.consumer.provider, [ix], [lease.watchdog]);
    service = await terms(lease);
    assert.equal(service.openSeats, 2);
    assert.equal(service.seatDeadlineSlot, now + MARKET_PARAMS.bidWindowSlots);
  });

  it("refuses a replacement asked by the replica's owner, and a market other than the lease's", async () => {
    const lease = await running([80n], {}, 3);
    const before = snapshot(lease.env, [...moneyOf(lease), lease.service]);
    await expectProgramError(lease.providers[0].owner.client.endReplica({ job: lease.job, provider: lease.providers[0].provider, replace: true }), "ReplacementByOwner");
    const other = await otherMarket(lease);
    const ix = await endReplicaInstruction(lease.consumer.client.program, { signer: lease.consumer.publicKey, market: other, job: lease.job, service: lease.service, bid: bidOf(lease, 0) }, true);
    await expectProgramError(sendInstructions(lease.consumer.provider, [ix]), "MarketMismatch");
    assertNothingMoved(lease.env, before);
    assert.equal((await bidAt(lease, 0))!.endedSlot, 0n);
    assert.equal((await terms(lease)).openSeats, 0);
  });
});

describe("a paused lease", () => {
  /** A lease at 1 token a slot funded with one period, claimed down below it: it may be paused. */
  async function shortLease(): Promise<Lease> {
    const lease = await running([1n, 1n], { deposit: minDeposit(2n) }, 4);
    const start = await startedSlot(lease, 0);
    lease.env.ledger.warpToSlot(start + 10n);
    const job = await jobOf(lease);
    const owner = lease.providers[0].owner;
    await owner.client.claimService(signAcknowledgement(lease.watchdog.secretKey, { job: lease.job, jobIncarnation: job.incarnation, provider: lease.providers[0].provider, upToSlot: start + 10n }), { ownerToken: owner.paymentToken });
    return lease;
  }

  it("asks for no replacement, and a round opened before the pause awards no seat", async () => {
    const lease = await shortLease();
    await lease.consumer.client.endReplica({ job: lease.job, provider: lease.providers[0].provider, replace: true });
    await lease.providers[2].owner.client.bidSeat({ job: lease.job, price: 1n });
    const keeper = await lease.env.actor();
    await keeper.client.pauseService({ job: lease.job });
    const before = snapshot(lease.env, [...moneyOf(lease), lease.service]);
    await expectProgramError(lease.consumer.client.endReplica({ job: lease.job, provider: lease.providers[1].provider, replace: true }), "ServicePaused");
    await expectProgramError(lease.providers[3].owner.client.bidSeat({ job: lease.job, price: 1n }), "ServicePaused");
    assertNothingMoved(lease.env, before);
    await pastRound(lease);
    const signature = await keeper.client.awardSeat({ job: lease.job });
    const event = eventsOf(lease.env, keeper.client.program, signature).find((e) => e.name === "seatsAwarded");
    assert.ok(event && event.data.awarded === 0 && event.data.dropped === 1);
    assert.equal(variantOf((await bidAt(lease, 2))!.status), "active", "the bid did not win");
    await lease.providers[2].owner.client.withdrawBid({ job: lease.job });
  });
});

describe("bid_seat", () => {
  it("takes an open bid while the round is open, locking the provider's stake; it binds until the award", async () => {
    const lease = await seatOpen();
    const bidder = lease.providers[1];
    const lockedBefore = (await bidder.owner.client.fetchProvider(bidder.provider))!.locked;
    await bidder.owner.client.bidSeat({ job: lease.job, price: 70n });
    const bid = (await bidAt(lease, 1))!;
    assert.equal(variantOf(bid.status), "active");
    assert.equal(bid.price, 70n);
    assert.equal((await bidder.owner.client.fetchProvider(bidder.provider))!.locked, lockedBefore + MARKET_PARAMS.jobStakeLock);
    const job = await jobOf(lease);
    assert.equal(job.auction.rankedCount, 1, "the round ranks only its own bids");
    assert.ok(job.auction.ranking[0].provider.equals(bidder.provider));
    const before = snapshot(lease.env, moneyOf(lease));
    await expectProgramError(bidder.owner.client.withdrawBid({ job: lease.job }), "BidIsRanked");
    assertNothingMoved(lease.env, before);
  });

  it("refuses a bid with no round open, after the deadline, above the rate cap, or from a provider already on the lease", async () => {
    const lease = await running([80n], {}, 3);
    const [serving, free] = [lease.providers[0], lease.providers[1]];
    const before = snapshot(lease.env, moneyOf(lease));
    await expectProgramError(free.owner.client.bidSeat({ job: lease.job, price: 70n }), "NoSeatRound");
    await lease.consumer.client.endReplica({ job: lease.job, provider: serving.provider, replace: true });
    await expectProgramError(free.owner.client.bidSeat({ job: lease.job, price: RATE_CAP + 1n }), "PriceAboveMax");
    await expectProgramError(free.owner.client.bidSeat({ job: lease.job, price: 0n }), "PriceAboveMax");
    // The ended replica's own bid still exists at the seat bid's address.
    await assert.rejects(serving.owner.client.bidSeat({ job: lease.job, price: 70n }));
    await pastRound(lease);
    await expectProgramError(free.owner.client.bidSeat({ job: lease.job, price: 70n }), "BiddingClosed");
    assertNothingMoved(lease.env, before);
  });

  it("refuses a provider of another market and a job that is not a running lease", async () => {
    const lease = await seatOpen();
    const stranger = await setupProvider(lease.env, await otherMarket(lease), 5_000_000n);
    const before = snapshot(lease.env, [stranger.vault, ...moneyOf(lease)]);
    const strangerIx = await bidSeatInstruction(stranger.owner.client.program, 70n, { owner: stranger.owner.publicKey, provider: stranger.provider, market: lease.market, job: lease.job, service: lease.service, bid: stranger.owner.client.bidAddress(lease.job, stranger.provider) });
    await expectProgramError(sendInstructions(stranger.owner.provider, [strangerIx]), "MarketMismatch");
    assertNothingMoved(lease.env, before);
    const batch = await lease.consumer.client.postJob({ market: lease.market, specHash: new Uint8Array(32).fill(3), requirements: { gpuCount: 1, vramMb: 16_384, cpuCores: 4, memoryMb: 16_384, diskGb: 10, maxDurationSlots: 100n }, mode: "replicated", replication: 1, onFailure: "refund", maxPrice: 10n, instantPrice: 0n, bidWindowSlots: 0n, consumerToken: lease.consumer.paymentToken });
    // Another job's terms (this lease's) do not make a batch job a lease.
    const free = lease.providers[2];
    const ix = await bidSeatInstruction(free.owner.client.program, 5n, { owner: free.owner.publicKey, provider: free.provider, market: lease.market, job: batch.job, service: lease.service, bid: free.owner.client.bidAddress(batch.job, free.provider) });
    await expectProgramError(sendInstructions(free.owner.provider, [ix]), "NotAService");
  });
});

describe("award_seat", () => {
  it("gives the seat to the best bid at its own price once bidding is over, freeing the losers", async () => {
    const lease = await seatOpen();
    await lease.providers[1].owner.client.bidSeat({ job: lease.job, price: 70n });
    await lease.providers[2].owner.client.bidSeat({ job: lease.job, price: 60n });
    const keeper = await lease.env.actor();
    await expectProgramError(keeper.client.awardSeat({ job: lease.job }), "AuctionStillOpen");
    await pastRound(lease);
    const now = lease.env.ledger.slot;
    const signature = await keeper.client.awardSeat({ job: lease.job });
    const winner = (await bidAt(lease, 2))!;
    assert.equal(variantOf(winner.status), "won");
    assert.equal(winner.awardedPrice, 60n);
    assert.equal(winner.awardedSlot, now);
    const service = await terms(lease);
    assert.deepEqual([service.openSeats, service.seatsStarting, service.seatDeadlineSlot], [0, 1, 0n]);
    assert.equal((await jobOf(lease)).auction.rankedCount, 0);
    const job = await jobOf(lease);
    const event = eventsOf(lease.env, keeper.client.program, signature).find((e) => e.name === "seatsAwarded");
    assert.ok(event && event.data.awarded === 1 && event.data.dropped === 0 && event.data.startDeadlineSlot === now + (job.progress.startDeadlineSlot - job.progress.awardedSlot));
    // The loser's bid no longer binds.
    await lease.providers[1].owner.client.withdrawBid({ job: lease.job });
    assert.equal(await bidAt(lease, 1), null);
    await expectProgramError(keeper.client.awardSeat({ job: lease.job }), "NoSeatRound");
  });

  it("refuses the wrong winner or too few of them, and moves nothing", async () => {
    const lease = await seatOpen();
    await lease.providers[1].owner.client.bidSeat({ job: lease.job, price: 70n });
    await lease.providers[2].owner.client.bidSeat({ job: lease.job, price: 60n });
    await pastRound(lease);
    const keeper = await lease.env.actor();
    const accounts = { cranker: keeper.publicKey, market: lease.market, job: lease.job, service: lease.service };
    const before = snapshot(lease.env, [...moneyOf(lease), lease.service]);
    await expectProgramError(sendInstructions(keeper.provider, [await awardSeatInstruction(keeper.client.program, accounts, [bidOf(lease, 1)])]), "WrongWinner");
    await expectProgramError(sendInstructions(keeper.provider, [await awardSeatInstruction(keeper.client.program, accounts, [])]), "WinnersMissing");
    // A serving replica's bid is no seat bid.
    await expectProgramError(sendInstructions(keeper.provider, [await awardSeatInstruction(keeper.client.program, accounts, [bidOf(lease, 0)])]), "WrongWinner");
    assertNothingMoved(lease.env, before);
  });

  it("gives the seat up when no bid came, and the lease settles as before", async () => {
    const lease = await seatOpen();
    await pastRound(lease);
    const keeper = await lease.env.actor();
    const signature = await keeper.client.awardSeat({ job: lease.job });
    const event = eventsOf(lease.env, keeper.client.program, signature).find((e) => e.name === "seatsAwarded");
    assert.ok(event && event.data.awarded === 0 && event.data.dropped === 1);
    assert.deepEqual([(await terms(lease)).openSeats, (await terms(lease)).seatsStarting], [0, 0]);
    assert.ok(lease.env.ledger.slot > (await bidAt(lease, 0))!.endedSlot + PERIOD, "the round outlasted the ended replica's claim time");
    await keeper.client.closeReplica({ job: lease.job, provider: lease.providers[0].provider });
    assert.equal(await lease.consumer.client.fetchJob(lease.job), null, "the lease settled");
  });
});

describe("start_seat", () => {
  it("makes the winner a replica, paid for the time the watchdog acknowledges", async () => {
    const lease = await seatWon(70n);
    const winner = lease.providers[1];
    const now = lease.env.ledger.slot;
    await winner.owner.client.startSeat({ job: lease.job });
    const bid = (await bidAt(lease, 1))!;
    assert.equal(variantOf(bid.status), "started");
    assert.equal(bid.startedSlot, now);
    const service = await terms(lease);
    assert.deepEqual([service.seatsStarting, service.seatsFilled], [0, 1]);
    lease.env.ledger.warpToSlot(now + 30n);
    const job = await jobOf(lease);
    const ack = signAcknowledgement(lease.watchdog.secretKey, { job: lease.job, jobIncarnation: job.incarnation, provider: winner.provider, upToSlot: now + 30n });
    const paidBefore = lease.env.tokenBalance(winner.owner.paymentToken);
    await winner.owner.client.claimService(ack, { ownerToken: winner.owner.paymentToken });
    assert.equal(lease.env.tokenBalance(winner.owner.paymentToken) - paidBefore, 30n * 70n, "30 slots at the seat's own price");
  });

  it("refuses a stranger, a late start, a first-round replica and start_job for a seat", async () => {
    const lease = await seatWon();
    const [winner, serving] = [lease.providers[1], lease.providers[0]];
    const before = snapshot(lease.env, [...moneyOf(lease), lease.service]);
    const stranger = lease.providers[2].owner;
    const strangerIx = await startSeatInstruction(stranger.client.program, { owner: stranger.publicKey, job: lease.job, service: lease.service, bid: bidOf(lease, 1) });
    await expectProgramError(sendInstructions(stranger.provider, [strangerIx]), "NotBidOwner");
    await expectProgramError(serving.owner.client.startSeat({ job: lease.job }), "NotASeat");
    await expectProgramError(winner.owner.client.startJob({ job: lease.job }), "InvalidJobState");
    const job = await jobOf(lease);
    const won = (await bidAt(lease, 1))!;
    lease.env.ledger.warpToSlot(won.awardedSlot + (job.progress.startDeadlineSlot - job.progress.awardedSlot) + 1n);
    await expectProgramError(winner.owner.client.startSeat({ job: lease.job }), "StartWindowClosed");
    assertNothingMoved(lease.env, before);
  });
});

describe("fail_no_show of a seat", () => {
  it("slashes a seat winner that did not start and gives its seat up; the lease runs on", async () => {
    const lease = await seatWon();
    const winner = lease.providers[1];
    const keeper = await lease.env.actor();
    await expectProgramError(keeper.client.failNoShow({ job: lease.job, provider: winner.provider }), "DeadlineNotReached");
    const job = await jobOf(lease);
    const won = (await bidAt(lease, 1))!;
    lease.env.ledger.warpToSlot(won.awardedSlot + (job.progress.startDeadlineSlot - job.progress.awardedSlot) + 1n);
    const vaultBefore = lease.env.tokenBalance(winner.vault);
    await keeper.client.failNoShow({ job: lease.job, provider: winner.provider });
    assert.equal(vaultBefore - lease.env.tokenBalance(winner.vault), (MARKET_PARAMS.jobStakeLock * BigInt(MARKET_PARAMS.slashNoShowBps)) / 10_000n);
    assert.equal(await bidAt(lease, 1), null);
    const service = await terms(lease);
    assert.deepEqual([service.seatsStarting, service.seatsFilled], [0, 0]);
    assert.equal(variantOf((await jobOf(lease)).state), "running", "no failure policy applies to a seat");
  });

  it("needs the lease's own terms after the accounts", async () => {
    const lease = await seatWon();
    const winner = lease.providers[1];
    const job = await jobOf(lease);
    const won = (await bidAt(lease, 1))!;
    lease.env.ledger.warpToSlot(won.awardedSlot + (job.progress.startDeadlineSlot - job.progress.awardedSlot) + 1n);
    const keeper = await lease.env.actor();
    // The SDK's accounts, then without the terms and with another lease's.
    const other = await running([80n]);
    const { accounts, create } = await failAccountsOf(lease, keeper, winner.provider);
    const before = snapshot(lease.env, [...moneyOf(lease), lease.service]);
    await expectProgramError(sendInstructions(keeper.provider, [...create, await failNoShowInstruction(keeper.client.program, accounts)]), "NotEnoughAccounts");
    // Another ledger's lease: its terms' address holds nothing here.
    await expectProgramError(sendInstructions(keeper.provider, [...create, await failNoShowInstruction(keeper.client.program, accounts, other.service)]), "InvalidAccountOwner");
    assertNothingMoved(lease.env, before);
    assert.ok(rules.stateOf(job) === "running");
  });
});

describe("a lease with a replacement settles", () => {
  it("only once its seat is resolved, paying each replica for its acknowledged time", async () => {
    const lease = await seatOpen([80n]);
    const keeper = await lease.env.actor();
    const ended = (await bidAt(lease, 0))!;
    // The ended replica's claim time passes while the round is open: it may not close yet.
    lease.env.ledger.warpToSlot(ended.endedSlot + PERIOD + 1n);
    await lease.providers[1].owner.client.bidSeat({ job: lease.job, price: 50n });
    const before = snapshot(lease.env, [...moneyOf(lease), lease.service]);
    await expectProgramError(keeper.client.closeReplica({ job: lease.job, provider: lease.providers[0].provider }), "ReplacementPending");
    assertNothingMoved(lease.env, before);
    await pastRound(lease);
    await keeper.client.awardSeat({ job: lease.job });
    assert.equal(variantOf((await bidAt(lease, 1))!.status), "won");
    // Still pending: the winner has not started.
    await expectProgramError(keeper.client.closeReplica({ job: lease.job, provider: lease.providers[0].provider }), "ReplacementPending");
    await lease.providers[1].owner.client.startSeat({ job: lease.job });
    await keeper.client.closeReplica({ job: lease.job, provider: lease.providers[0].provider });
    assert.ok(await jobOf(lease), "the seat's replica keeps the lease alive");
    const start = await startedSlot(lease, 1);
    lease.env.ledger.warpToSlot(start + 40n);
    const job = await jobOf(lease);
    const ack = signAcknowledgement(lease.watchdog.secretKey, { job: lease.job, jobIncarnation: job.incarnation, provider: lease.providers[1].provider, upToSlot: start + 40n });
    const seatOwner = lease.providers[1].owner;
    const earnedBefore = lease.env.tokenBalance(seatOwner.paymentToken);
    await seatOwner.client.claimService(ack, { ownerToken: seatOwner.paymentToken });
    assert.equal(lease.env.tokenBalance(seatOwner.paymentToken) - earnedBefore, 40n * 50n, "the seat is paid its own rate for its acknowledged slots");
    await lease.consumer.client.endReplica({ job: lease.job, provider: lease.providers[1].provider });
    const escrowLeft = lease.env.tokenBalance(lease.escrow);
    const consumerBefore = consumerTokens(lease);
    await keeper.client.closeReplica({ job: lease.job, provider: lease.providers[1].provider });
    assert.equal(await lease.consumer.client.fetchJob(lease.job), null, "the last replica settled the lease");
    assert.equal(consumerTokens(lease) - consumerBefore, escrowLeft - MARKET_PARAMS.crankFee, "the consumer gets the rest, the keeper the crank fee");
  });
});

/** fail_no_show's fixed accounts as the SDK builds them, with the token accounts to create, for
 * tampering with what follows them. */
async function failAccountsOf(lease: Lease, keeper: { client: Lease["consumer"]["client"]; publicKey: PublicKey }, provider: PublicKey) {
  const job = await jobOf(lease);
  const providerAccount = (await keeper.client.fetchProvider(provider))!;
  const bid = (await keeper.client.fetchBid(keeper.client.bidAddress(lease.job, provider)))!;
  const config = (await keeper.client.fetchConfig())!;
  const ata = (owner: PublicKey, mint: PublicKey) => getAssociatedTokenAddressSync(mint, owner, true);
  const tokens: [PublicKey, PublicKey][] = [
    [keeper.publicKey, providerAccount.stakeMint],
    [job.consumer, job.paymentMint],
    [job.consumer, providerAccount.stakeMint],
    [config.treasury, providerAccount.stakeMint],
  ];
  const create = tokens.map(([owner, mint]) => createAssociatedTokenAccountIdempotentInstruction(keeper.publicKey, ata(owner, mint), owner, mint));
  const [keeperToken, consumerToken, consumerStakeToken, treasuryStakeToken] = tokens.map(([owner, mint]) => ata(owner, mint));
  const accounts = {
    keeper: keeper.publicKey,
    keeperToken,
    config: keeper.client.configAddress,
    market: job.market,
    job: lease.job,
    escrow: job.escrow,
    consumer: job.consumer,
    consumerToken,
    consumerStakeToken,
    treasuryStakeToken,
    bid: keeper.client.bidAddress(lease.job, provider),
    provider,
    vault: providerAccount.vault,
    owner: bid.owner,
  };
  return { accounts, create };
}

/** A second market beside the lease's, made by the same authority. */
async function otherMarket(lease: Lease): Promise<PublicKey> {
  const { market } = await lease.authority.client.createMarket({ class: MARKET_CLASS, params: MARKET_PARAMS, paymentMint: lease.env.paymentMint, stakeMint: lease.env.stakeMint });
  return market;
}
