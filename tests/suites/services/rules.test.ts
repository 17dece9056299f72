// `rules.replicaCloseDue`, what the keeper's service cranker acts on, against close_replica: due
// exactly when the program closes the replica, on a real lease and on copies with one field changed.
// `rules.serviceClaim` against what claim_service pays (the fuzzer checks every accepted claim too).
// The seat round's verdicts (end_replica with a replacement, bid_seat, award_seat, start_seat,
// fail_no_show of a seat, and what they change in close_replica and withdraw_bid): on a real
// round, each abuse named as the program names it, the happy path null, and where cheap the
// program asked the same question.
import assert from "node:assert/strict";
import { Keypair, type PublicKey } from "@solana/web3.js";
import { awardSeatInstruction, rules, sendInstructions, signAcknowledgement, type BidAccount, type ConfigAccount, type JobAccount, type MarketAccount, type ProviderAccount, type ServiceAccount } from "@compute-market/sdk";
import { replicaCloseDue } from "@compute-market/keeper";
import { expectProgramError } from "../../support/assertions";
import { MARKET_PARAMS } from "../../support/fixtures";
import { bidOf, MAX_DURATION, minDeposit, PERIOD, RATE_CAP, running, type Lease } from "../../support/service-lease";

interface Accounts {
  job: JobAccount;
  service: ServiceAccount;
  bid: BidAccount;
}

async function accountsOf(lease: Lease): Promise<Accounts> {
  const client = lease.consumer.client;
  const [job, service, bid] = await Promise.all([client.fetchJob(lease.job), client.fetchService(lease.service), client.fetchBid(bidOf(lease, 0))]);
  assert.ok(job && service && bid);
  return { job, service, bid };
}

/** Pure copies with one thing changed (the chain is not touched). */
const withJob = (job: JobAccount, more: Record<string, unknown>): JobAccount => ({ ...job, ...more }) as unknown as JobAccount;
const withBid = (bid: BidAccount, more: Partial<BidAccount>): BidAccount => ({ ...bid, ...more });
const withService = (service: ServiceAccount, more: Partial<ServiceAccount>): ServiceAccount => ({ ...service, ...more });

describe("rules: close_replica", () => {
  it("is due one slot after an ended replica's claim period, and at once when it was paid through its end", async () => {
    const lease = await running([80n]);
    const start = (await accountsOf(lease)).bid.startedSlot;
    lease.env.ledger.warpToSlot(start + 40n);
    await lease.consumer.client.endReplica({ job: lease.job, provider: lease.providers[0].provider });
    const { job, service, bid } = await accountsOf(lease);
    const end = start + 40n;
    assert.equal(rules.replicaEnd(job, service, bid), end);
    assert.equal(replicaCloseDue(job, service, bid, end + PERIOD), false);
    assert.equal(replicaCloseDue(job, service, bid, end + PERIOD + 1n), true);
    assert.equal(replicaCloseDue(job, service, withBid(bid, { claimedSlot: end - 1n }), end), false);
    assert.equal(replicaCloseDue(job, service, withBid(bid, { claimedSlot: end }), end), true, "paid through the end");

    // The program agrees: refused within the claim period, closed once the owner claimed to the end.
    const keeper = await lease.env.actor();
    lease.env.ledger.warpToSlot(end + PERIOD);
    const close = () => keeper.client.closeReplica({ job: lease.job, provider: lease.providers[0].provider, keeperToken: keeper.paymentToken });
    await expectProgramError(close(), "ReplicaStillClaimable");
    const owner = lease.providers[0].owner;
    const ack = signAcknowledgement(lease.watchdog.secretKey, { job: lease.job, jobIncarnation: job.incarnation, provider: lease.providers[0].provider, upToSlot: end });
    await owner.client.claimService(ack, { ownerToken: owner.paymentToken });
    const claimed = await accountsOf(lease);
    assert.equal(rules.paidThrough(claimed.bid), end);
    assert.equal(replicaCloseDue(claimed.job, claimed.service, claimed.bid, lease.env.ledger.slot), true);
    await close();
    assert.equal(lease.env.exists(bidOf(lease, 0)), false);
  });

  it("is due past the lease's longest term, or a pause's end while paused, each plus a period", async () => {
    const lease = await running([80n]);
    const { job, service, bid } = await accountsOf(lease);
    const term = bid.startedSlot + MAX_DURATION;
    assert.equal(replicaCloseDue(job, service, bid, term + PERIOD), false);
    assert.equal(replicaCloseDue(job, service, bid, term + PERIOD + 1n), true);
    // A pause ends every replica at its end; a replica ended before keeps its own end.
    const pauseEnds = bid.startedSlot + 500n;
    const paused = withService(service, { pausedSlot: bid.startedSlot + 1n, pauseEndsSlot: pauseEnds });
    assert.equal(rules.replicaEnd(job, paused, bid), pauseEnds);
    assert.equal(replicaCloseDue(job, paused, bid, pauseEnds + PERIOD), false);
    assert.equal(replicaCloseDue(job, paused, bid, pauseEnds + PERIOD + 1n), true);
    const endedBefore = withBid(bid, { endedSlot: bid.startedSlot + 10n });
    assert.equal(rules.replicaEnd(job, paused, endedBefore), bid.startedSlot + 10n);
    assert.equal(replicaCloseDue(job, paused, endedBefore, bid.startedSlot + 10n + PERIOD + 1n), true);
  });

  it("is never due for a lease that is not running, a replica not started, another lease's terms or a batch job", async () => {
    const lease = await running([80n]);
    const { job, service, bid } = await accountsOf(lease);
    const late = bid.startedSlot + MAX_DURATION + PERIOD + 1n;
    assert.equal(replicaCloseDue(job, service, bid, late), true);
    const cases: [string, JobAccount, ServiceAccount, BidAccount][] = [
      ["an awarded lease", withJob(job, { state: { awarded: {} } }), service, bid],
      ["a batch job", withJob(job, { kind: { batch: {} } }), service, bid],
      ["a replica that did not start", job, service, withBid(bid, { status: { won: {} } } as unknown as Partial<BidAccount>)],
      ["a bid of an earlier award", job, service, withBid(bid, { awardedSlot: bid.awardedSlot - 1n })],
      ["a bid of another incarnation", job, service, withBid(bid, { jobIncarnation: job.incarnation + 1n })],
      ["terms of another incarnation", job, withService(service, { jobIncarnation: service.jobIncarnation + 1n }), bid],
      ["terms of another job", job, withService(service, { job: Keypair.generate().publicKey }), bid],
    ];
    for (const [what, j, s, b] of cases) assert.equal(replicaCloseDue(j, s, b, late), false, what);
  });
});

describe("rules: claim_service", () => {
  it("settles a claim as the program pays it: to the slot, capped by what the deposit holds", async () => {
    const lease = await running([80n], { deposit: minDeposit(1n) });
    const owner = lease.providers[0].owner;
    const before = await accountsOf(lease);
    // Past one period: the deposit (one period at the cap) pays fewer slots at 80 than were acknowledged.
    lease.env.ledger.warpToSlot(before.bid.startedSlot + PERIOD + 50n);
    const upToSlot = lease.env.ledger.slot;
    const escrowBefore = lease.env.tokenBalance(lease.escrow);
    const predicted = rules.serviceClaim(before.job, before.service, before.bid, upToSlot, upToSlot, escrowBefore);
    assert.ok(typeof predicted !== "string", String(predicted));
    assert.ok(predicted.slots < upToSlot - before.bid.startedSlot, "the deposit caps the claim");
    const paidBefore = lease.env.tokenBalance(owner.paymentToken);
    const ack = signAcknowledgement(lease.watchdog.secretKey, { job: lease.job, jobIncarnation: before.job.incarnation, provider: lease.providers[0].provider, upToSlot });
    await owner.client.claimService(ack, { ownerToken: owner.paymentToken });
    const after = await accountsOf(lease);
    assert.equal(lease.env.tokenBalance(owner.paymentToken) - paidBefore, predicted.pay);
    assert.equal(escrowBefore - lease.env.tokenBalance(lease.escrow), predicted.pay + predicted.fee);
    assert.equal(after.bid.claimedSlot, rules.paidThrough(before.bid) + predicted.slots);
    // Nothing is left to pay: the rules and the program both say so.
    const again = rules.serviceClaim(after.job, after.service, after.bid, upToSlot, upToSlot, lease.env.tokenBalance(lease.escrow));
    assert.equal(again, "DepositExhausted");
    await expectProgramError(owner.client.claimService(ack, { ownerToken: owner.paymentToken }), "DepositExhausted");
  });

  it("names a replay, a future slot and another signer as the program does", async () => {
    const lease = await running([80n]);
    const { job, service, bid } = await accountsOf(lease);
    lease.env.ledger.warpToSlot(bid.startedSlot + 20n);
    const now = lease.env.ledger.slot;
    assert.equal(rules.serviceClaim(job, service, bid, now + 1n, now, 1_000_000n), "AcknowledgementAhead");
    assert.equal(rules.serviceClaim(job, service, withBid(bid, { claimedSlot: now }), now, now, 1_000_000n), "StaleAcknowledgement");
    const owner = lease.providers[0].owner;
    const forged = signAcknowledgement(Keypair.generate().secretKey, { job: lease.job, jobIncarnation: job.incarnation, provider: lease.providers[0].provider, upToSlot: now });
    await expectProgramError(owner.client.claimService(forged, { ownerToken: owner.paymentToken }), "InvalidAcknowledgement");
    const ahead = signAcknowledgement(lease.watchdog.secretKey, { job: lease.job, jobIncarnation: job.incarnation, provider: lease.providers[0].provider, upToSlot: now + 1n });
    await expectProgramError(owner.client.claimService(ahead, { ownerToken: owner.paymentToken }), "AcknowledgementAhead");
  });
});

const keyed = <T>(address: PublicKey, account: T | null): rules.Keyed<T> => ({ address, account });
const tokenOf = (mint: PublicKey, owner: PublicKey): rules.TokenState => ({ mint, owner, amount: 0n });
const withStatus = (bid: BidAccount, status: string, more: Partial<BidAccount> = {}): BidAccount => ({ ...bid, status: { [status]: {} }, ...more }) as unknown as BidAccount;

/** A one-replica lease (provider 0) whose replica the consumer ended asking for a replacement:
 * its seat round is open; providers 1 and 2 are free to bid. */
async function seatRound(): Promise<Lease> {
  const lease = await running([80n], {}, 3);
  await lease.consumer.client.endReplica({ job: lease.job, provider: lease.providers[0].provider, replace: true });
  return lease;
}

interface Round {
  job: JobAccount;
  service: ServiceAccount;
  market: MarketAccount;
  config: ConfigAccount;
  bids: (BidAccount | null)[];
  providers: ProviderAccount[];
}

async function roundOf(lease: Lease): Promise<Round> {
  const client = lease.consumer.client;
  const [job, service, market, config] = await Promise.all([client.fetchJob(lease.job), client.fetchService(lease.service), client.fetchMarket(lease.market), client.fetchConfig()]);
  assert.ok(job && service && market && config);
  const bids = await Promise.all(lease.providers.map((_, i) => client.fetchBid(bidOf(lease, i))));
  const providers = await Promise.all(lease.providers.map(async (p) => (await client.fetchProvider(p.provider))!));
  return { job, service, market, config, bids, providers };
}

describe("rules: end_replica with a replacement", () => {
  it("opens a round for the consumer's side, refuses the owner's ask and a paused or full lease, as the program does", async () => {
    const lease = await running([80n], {}, 3);
    const r = await roundOf(lease);
    const serving = lease.providers[0];
    const ask = (over: Partial<rules.EndReplicaInput> = {}): rules.Verdict =>
      rules.endReplica({
        signer: lease.consumer.publicKey,
        market: keyed(lease.market, r.market),
        job: keyed(lease.job, r.job),
        service: keyed(lease.service, r.service),
        bid: keyed(bidOf(lease, 0), r.bids[0]),
        replace: true,
        ...over,
      });
    assert.equal(ask(), null);
    assert.equal(ask({ signer: lease.watchdog.publicKey }), null);
    assert.equal(ask({ signer: serving.owner.publicKey }), "ReplacementByOwner");
    assert.equal(ask({ signer: serving.owner.publicKey, replace: false }), null, "the owner still ends its own with notice");
    assert.equal(ask({ signer: Keypair.generate().publicKey }), "NotServiceParty");
    assert.equal(ask({ market: keyed(Keypair.generate().publicKey, r.market) }), "MarketMismatch");
    assert.equal(ask({ market: keyed<MarketAccount>(lease.market, null) }), "InvalidAccountOwner");
    const paused = { ...r.service, pausedSlot: 5n, pauseEndsSlot: 50n };
    assert.equal(ask({ service: keyed(lease.service, paused) }), "ServicePaused");
    assert.equal(ask({ service: keyed(lease.service, paused), replace: false }), null, "a paused lease still ends a replica");
    // The counts stay within a byte: replicas started, seats starting and open seats below 255.
    const full = { ...r.service, seatsFilled: 250, seatsStarting: 3, openSeats: 1 };
    assert.equal(ask({ service: keyed(lease.service, full) }), "TooManyReplacements");
    assert.equal(ask({ service: keyed(lease.service, { ...full, openSeats: 0 }) }), null);

    await expectProgramError(serving.owner.client.endReplica({ job: lease.job, provider: serving.provider, replace: true }), "ReplacementByOwner");
    const now = lease.env.ledger.slot;
    const predicted = rules.seatRequested(r.service, now, r.market.params.bidWindowSlots);
    await lease.consumer.client.endReplica({ job: lease.job, provider: serving.provider, replace: true });
    const after = await roundOf(lease);
    assert.deepEqual({ openSeats: after.service.openSeats, seatDeadlineSlot: after.service.seatDeadlineSlot }, predicted);
    // A second seat joins the open round: its deadline stays.
    assert.deepEqual(rules.seatRequested(after.service, now + 7n, r.market.params.bidWindowSlots), { openSeats: 2, seatDeadlineSlot: predicted.seatDeadlineSlot });
    assert.equal(ask({ bid: keyed(bidOf(lease, 0), after.bids[0]), service: keyed(lease.service, after.service) }), "ReplicaEnded");
  });
});

describe("rules: bid_seat", () => {
  it("takes a bid while the round is open and names every refusal in the program's order", async () => {
    const lease = await seatRound();
    const r = await roundOf(lease);
    const bidder = lease.providers[1];
    const address = bidOf(lease, 1);
    const ask = (over: Partial<rules.BidSeatInput> = {}): rules.Verdict =>
      rules.bidSeat({
        now: lease.env.ledger.slot,
        owner: bidder.owner.publicKey,
        provider: keyed(bidder.provider, r.providers[1]),
        market: keyed(lease.market, r.market),
        job: keyed(lease.job, r.job),
        service: keyed(lease.service, r.service),
        bid: { address, expected: address, exists: false },
        price: 70n,
        ...over,
      });
    assert.equal(ask(), null);
    assert.equal(ask({ now: r.service.seatDeadlineSlot }), null, "up to the round's deadline");
    assert.equal(ask({ now: r.service.seatDeadlineSlot + 1n }), "BiddingClosed");
    assert.equal(ask({ owner: lease.consumer.publicKey }), "NotProviderOwner");
    assert.equal(ask({ market: keyed(Keypair.generate().publicKey, r.market) }), "MarketMismatch");
    assert.equal(ask({ job: keyed(lease.job, { ...r.job, kind: { batch: {} } } as unknown as JobAccount) }), "NotAService");
    assert.equal(ask({ service: keyed(lease.service, { ...r.service, jobIncarnation: r.service.jobIncarnation + 1n }) }), "ServiceMismatch");
    assert.equal(ask({ job: keyed(lease.job, { ...r.job, state: { awarded: {} } } as unknown as JobAccount) }), "InvalidJobState");
    assert.equal(ask({ service: keyed(lease.service, { ...r.service, openSeats: 0, seatDeadlineSlot: 0n }) }), "NoSeatRound");
    assert.equal(ask({ service: keyed(lease.service, { ...r.service, pausedSlot: 5n, pauseEndsSlot: 50n }) }), "ServicePaused");
    assert.equal(ask({ price: 0n }), "PriceAboveMax");
    assert.equal(ask({ price: RATE_CAP + 1n }), "PriceAboveMax");
    assert.equal(ask({ price: RATE_CAP }), null);
    assert.equal(ask({ provider: keyed(bidder.provider, { ...r.providers[1], unbonding: r.providers[1].staked }) }), "BelowMinimumStake");
    assert.equal(ask({ provider: keyed(bidder.provider, { ...r.providers[1], locked: r.providers[1].staked }) }), "InsufficientFreeStake");
    assert.equal(ask({ bid: { address, expected: bidOf(lease, 2), exists: false } }), "InvalidPda");
    // The ended replica's own bid still lives at the seat bid's address.
    const serving = bidOf(lease, 0);
    assert.equal(ask({ owner: lease.providers[0].owner.publicKey, provider: keyed(lease.providers[0].provider, r.providers[0]), bid: { address: serving, expected: serving, exists: true } }), "AccountAlreadyInitialized");
    await expectProgramError(lease.providers[0].owner.client.bidSeat({ job: lease.job, price: 70n }), "AccountAlreadyInitialized");

    // The program takes the bid the rules accept, and ranks it on the job.
    await bidder.owner.client.bidSeat({ job: lease.job, price: 70n });
    const after = await roundOf(lease);
    assert.equal(rules.rankOf(after.job, bidder.provider), 0);
    assert.equal(after.providers[1].locked, r.providers[1].locked + rules.bidLock(r.job, r.market));
  });
});

describe("rules: award_seat and the ranked seat bids", () => {
  it("awards the best bids up to the open seats, binds them until then, and names a wrong or missing winner", async () => {
    const lease = await seatRound();
    await lease.providers[1].owner.client.bidSeat({ job: lease.job, price: 70n });
    await lease.providers[2].owner.client.bidSeat({ job: lease.job, price: 60n });
    const r = await roundOf(lease);
    const [best, worse] = [bidOf(lease, 2), bidOf(lease, 1)];

    // A ranked seat bid binds while the round is open.
    const p = lease.providers[1];
    const configAddress = lease.consumer.client.configAddress;
    const withdraw = (job: JobAccount, bid: BidAccount | null) =>
      rules.withdrawBid({
        now: lease.env.ledger.slot,
        owner: p.owner.publicKey,
        provider: keyed(p.provider, r.providers[1]),
        vault: p.vault,
        config: keyed(configAddress, r.config),
        market: keyed(lease.market, r.market),
        job: keyed(lease.job, job),
        bid: keyed(worse, bid),
        treasuryStakeToken: tokenOf(lease.env.stakeMint, r.config.treasury),
      });
    assert.equal(withdraw(r.job, r.bids[1]), "BidIsRanked");
    assert.equal(rules.withdrawable(r.bids[1]!, r.job, lease.job), false);
    assert.equal(rules.withdrawWorthwhile(r.job, r.bids[1]!, lease.env.ledger.slot), false);
    await expectProgramError(p.owner.client.withdrawBid({ job: lease.job }), "BidIsRanked");

    const deadline = r.service.seatDeadlineSlot;
    const ask = (over: Partial<rules.AwardSeatInput> = {}): rules.Verdict =>
      rules.awardSeat({ now: deadline + 1n, market: keyed(lease.market, r.market), job: keyed(lease.job, r.job), service: keyed(lease.service, r.service), bids: [keyed(best, r.bids[2])], ...over });
    assert.equal(rules.seatsToAward(r.job, r.service), 1, "one open seat, two ranked bids");
    assert.deepEqual(rules.seatWinners(r.job, r.service), [lease.providers[2].provider]);
    assert.equal(ask(), null);
    assert.equal(ask({ bids: [keyed(best, r.bids[2]), keyed(worse, r.bids[1])] }), null, "bids past the awarded seats are not read");
    assert.equal(ask({ now: deadline }), "AuctionStillOpen");
    assert.equal(rules.seatAwardDue(r.job, r.service, deadline), false);
    assert.equal(rules.seatAwardDue(r.job, r.service, deadline + 1n), true);
    assert.equal(ask({ bids: [keyed(worse, r.bids[1])] }), "WrongWinner");
    assert.equal(ask({ bids: [keyed(bidOf(lease, 0), r.bids[0])] }), "WrongWinner", "a serving replica's bid is no seat bid");
    assert.equal(ask({ bids: [] }), "WinnersMissing");
    assert.equal(ask({ bids: [keyed<BidAccount>(best, null)] }), "InvalidAccountOwner");
    assert.equal(ask({ bids: [keyed(best, { ...r.bids[2]!, jobIncarnation: r.job.incarnation + 1n })] }), "StaleBid");
    assert.equal(ask({ market: keyed(Keypair.generate().publicKey, r.market) }), "MarketMismatch");
    assert.equal(ask({ service: keyed(lease.service, { ...r.service, openSeats: 0, seatDeadlineSlot: 0n }) }), "NoSeatRound");
    // A lease paused meanwhile gives every seat up: nothing to name.
    const paused = { ...r.service, pausedSlot: deadline, pauseEndsSlot: deadline + 50n };
    assert.equal(rules.seatsToAward(r.job, paused), 0);
    assert.equal(ask({ service: keyed(lease.service, paused), bids: [] }), null);

    lease.env.ledger.warpToSlot(deadline + 1n);
    const now = lease.env.ledger.slot;
    const keeper = await lease.env.actor();
    const noWinners = await awardSeatInstruction(keeper.client.program, { cranker: keeper.publicKey, market: lease.market, job: lease.job, service: lease.service }, []);
    await expectProgramError(sendInstructions(keeper.provider, [noWinners]), "WinnersMissing");
    await keeper.client.awardSeat({ job: lease.job });
    const after = await roundOf(lease);
    const expected = rules.seatsAwarded(r.job, r.service);
    assert.deepEqual({ openSeats: after.service.openSeats, seatsStarting: after.service.seatsStarting, seatDeadlineSlot: after.service.seatDeadlineSlot }, expected);
    assert.equal(rules.statusOf(after.bids[2]!), "won");
    assert.equal(after.bids[2]!.awardedSlot, now);
    assert.equal(rules.isSeatAward(after.job, now), true);
    // The round closed: its loser is free to leave.
    assert.equal(withdraw(after.job, after.bids[1]), null);
    assert.equal(rules.withdrawWorthwhile(after.job, after.bids[1]!, now), true);
  });
});

describe("rules: start_seat and fail_no_show of a seat", () => {
  /** A round whose one seat provider 1 won at 70. */
  async function seatWon(): Promise<Lease> {
    const lease = await seatRound();
    await lease.providers[1].owner.client.bidSeat({ job: lease.job, price: 70n });
    const { service } = await roundOf(lease);
    lease.env.ledger.warpToSlot(service.seatDeadlineSlot + 1n);
    await lease.consumer.client.awardSeat({ job: lease.job });
    return lease;
  }

  it("starts a seat within its own start window, and refuses a stranger, a late start, a first-round replica and start_job", async () => {
    const lease = await seatWon();
    const r = await roundOf(lease);
    const won = r.bids[1]!;
    const deadline = rules.seatStartDeadline(r.job, won.awardedSlot);
    assert.equal(deadline, won.awardedSlot + MARKET_PARAMS.startWindowSlots);
    const ask = (over: Partial<rules.StartSeatInput> = {}): rules.Verdict =>
      rules.startSeat({ now: won.awardedSlot, owner: lease.providers[1].owner.publicKey, job: keyed(lease.job, r.job), service: keyed(lease.service, r.service), bid: keyed(bidOf(lease, 1), won), ...over });
    assert.equal(ask(), null);
    assert.equal(ask({ now: deadline }), null);
    assert.equal(rules.seatStartOpen(r.job, won, deadline), true);
    assert.equal(ask({ now: deadline + 1n }), "StartWindowClosed");
    assert.equal(ask({ owner: lease.consumer.publicKey }), "NotBidOwner");
    assert.equal(ask({ service: keyed(lease.service, { ...r.service, job: Keypair.generate().publicKey }) }), "ServiceMismatch");
    assert.equal(ask({ owner: lease.providers[0].owner.publicKey, bid: keyed(bidOf(lease, 0), r.bids[0]) }), "NotASeat");
    assert.equal(ask({ bid: keyed(bidOf(lease, 1), withStatus(won, "started")) }), "NotAssignedWinner");
    assert.equal(ask({ bid: keyed(bidOf(lease, 1), { ...won, jobIncarnation: r.job.incarnation + 1n }) }), "StaleBid");
    // start_job holds the seat's award (advance passes) but the lease is not awaiting its first round.
    const startJob = { now: won.awardedSlot, owner: lease.providers[1].owner.publicKey, job: keyed(lease.job, r.job), bid: keyed(bidOf(lease, 1), won) };
    assert.equal(rules.holdsAward(won, r.job), true);
    assert.equal(rules.startJob(startJob), "InvalidJobState");
    await expectProgramError(lease.providers[1].owner.client.startJob({ job: lease.job }), "InvalidJobState");

    await lease.providers[1].owner.client.startSeat({ job: lease.job });
    const after = await roundOf(lease);
    assert.deepEqual([after.service.seatsStarting, after.service.seatsFilled], [0, 1]);
    assert.equal(rules.leaseReplicas(after.job, after.service), 2);
    // The seat's replica is one more to pay (the ended one counts until it closes): pause_service's test.
    assert.equal(rules.replicasToPay(after.job, after.service), 2);
  });

  it("fails a seat winner past its deadline with the lease's terms after the accounts, and names each wrong remaining account", async () => {
    const lease = await seatWon();
    const r = await roundOf(lease);
    const won = r.bids[1]!;
    const winner = lease.providers[1];
    const deadline = rules.seatStartDeadline(r.job, won.awardedSlot);
    const keeper = Keypair.generate().publicKey;
    const { stakeMint, paymentMint } = lease.env;
    const ask = (over: Partial<rules.FailWinnerInput> = {}): rules.Verdict =>
      rules.failNoShow({
        now: deadline + 1n,
        keeper,
        keeperToken: tokenOf(stakeMint, keeper),
        config: keyed(lease.consumer.client.configAddress, r.config),
        market: keyed(lease.market, r.market),
        job: keyed(lease.job, r.job),
        escrow: lease.escrow,
        consumer: lease.consumer.publicKey,
        consumerToken: tokenOf(paymentMint, lease.consumer.publicKey),
        consumerStakeToken: tokenOf(stakeMint, lease.consumer.publicKey),
        treasuryStakeToken: tokenOf(stakeMint, r.config.treasury),
        bid: keyed(bidOf(lease, 1), won),
        provider: keyed(winner.provider, r.providers[1]),
        vault: winner.vault,
        owner: winner.owner.publicKey,
        service: keyed(lease.service, r.service),
        ...over,
      });
    assert.equal(ask(), null);
    assert.equal(ask({ now: deadline }), "DeadlineNotReached");
    assert.equal(ask({ service: undefined }), "NotEnoughAccounts");
    assert.equal(ask({ service: keyed<ServiceAccount>(lease.service, null) }), "InvalidAccountOwner");
    assert.equal(ask({ service: keyed(lease.service, { ...r.service, job: Keypair.generate().publicKey }) }), "ServiceMismatch");
    assert.equal(ask({ bid: keyed(bidOf(lease, 1), withStatus(won, "started")) }), "NotAssignedWinner");
    // The first round's replica is no seat: the batch rule asks for an awarded job.
    assert.equal(ask({ bid: keyed(bidOf(lease, 0), r.bids[0]), provider: keyed(lease.providers[0].provider, r.providers[0]), vault: lease.providers[0].vault, owner: lease.providers[0].owner.publicKey }), "InvalidJobState");
    // Due for the keepers one slot past the deadline, and the lease waits on it until then.
    assert.equal(rules.seatNoShowDue(r.job, won, deadline), false);
    assert.equal(rules.seatNoShowDue(r.job, won, deadline + 1n), true);
    assert.deepEqual(rules.dueCrank(r.job, [r.bids[0]!, won], deadline), { kind: "wait", slot: deadline + 1n });
    assert.deepEqual(rules.dueCrank(r.job, [r.bids[0]!, won], deadline + 1n), { kind: "failNoShow", provider: winner.provider });

    const crank = await lease.env.actor();
    await expectProgramError(crank.client.failNoShow({ job: lease.job, provider: winner.provider }), "DeadlineNotReached");
    lease.env.ledger.warpToSlot(deadline + 1n);
    await crank.client.failNoShow({ job: lease.job, provider: winner.provider });
    const after = await roundOf(lease);
    assert.equal(after.bids[1], null);
    assert.equal(after.service.seatsStarting, 0);
    assert.equal(rules.stateOf(after.job), "running");
  });
});

describe("rules: close_replica while a seat is being filled", () => {
  it("waits for the round's award (ReplacementPending), then settles the lease", async () => {
    const lease = await seatRound();
    const r = await roundOf(lease);
    const ended = r.bids[0]!;
    const late = ended.endedSlot + PERIOD + 1n;
    assert.equal(rules.settlesLease(r.job, r.service), true);
    assert.equal(rules.closeWaitsForSeat(r.job, r.service), true);
    assert.equal(replicaCloseDue(r.job, r.service, ended, late), false, "the keeper waits for the seat");
    const keeper = await lease.env.actor();
    const ask = (service: ServiceAccount): rules.Verdict =>
      rules.closeReplica({
        now: late,
        keeper: keeper.publicKey,
        keeperToken: tokenOf(lease.env.paymentMint, keeper.publicKey),
        job: keyed(lease.job, r.job),
        escrow: lease.escrow,
        service: keyed(lease.service, service),
        bid: keyed(bidOf(lease, 0), ended),
        provider: keyed(lease.providers[0].provider, r.providers[0]),
        owner: ended.owner,
        consumer: lease.consumer.publicKey,
        consumerToken: tokenOf(lease.env.paymentMint, lease.consumer.publicKey),
      });
    assert.equal(ask(r.service), "ReplacementPending");
    assert.equal(ask({ ...r.service, openSeats: 0, seatDeadlineSlot: 0n, seatsStarting: 1 }), "ReplacementPending", "a winner yet to start");
    assert.equal(ask({ ...r.service, openSeats: 0, seatDeadlineSlot: 0n }), null);
    // With a seat filled the ended replica is not the last: it closes, the lease runs on.
    const filled = { ...r.service, openSeats: 0, seatDeadlineSlot: 0n, seatsFilled: 1 };
    assert.equal(rules.settlesLease(r.job, filled), false);
    assert.equal(ask(filled), null);
    assert.equal(rules.replicasToPay(r.job, { ...filled, seatsStarting: 2 }), 4, "two started and not closed, two about to start");

    lease.env.ledger.warpToSlot(r.service.seatDeadlineSlot > late ? r.service.seatDeadlineSlot : late);
    await expectProgramError(keeper.client.closeReplica({ job: lease.job, provider: lease.providers[0].provider, keeperToken: keeper.paymentToken }), "ReplacementPending");
    lease.env.ledger.warpToSlot(lease.env.ledger.slot + 1n);
    await keeper.client.awardSeat({ job: lease.job });
    const awarded = await roundOf(lease);
    assert.equal(replicaCloseDue(awarded.job, awarded.service, awarded.bids[0]!, lease.env.ledger.slot), true);
    await keeper.client.closeReplica({ job: lease.job, provider: lease.providers[0].provider, keeperToken: keeper.paymentToken });
    assert.equal(await lease.consumer.client.fetchJob(lease.job), null, "the lease settled");
  });
});
