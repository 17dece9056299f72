// The program's rules as pure functions: for each instruction, the first check it makes (in the
// program's own order, programs/compute-market/src/instructions/<ix>.rs and state/*.rs) that the
// given accounts and arguments fail, or null when the program accepts. And the deadlines the
// daemons act on: when an auction ends, which crank is due for a job or a game at a slot.
// Browser-safe: decoded accounts (ComputeMarketClient.fetchX) and the slot in, no I/O.
//
// Accounts are passed as `Keyed<T>`: the address the instruction was given and what lives there
// (null when nothing does: a closed account belongs to the system program, which the program's
// loader refuses with InvalidAccountOwner). Token accounts are `TokenState | null`.
// Payout amounts (fee splits, reward shares) are not modelled here.
import type { PublicKey } from "@solana/web3.js";
import type { BidAccount, ConfigAccount, DisputeAccount, JobAccount, MarketAccount, ProviderAccount, ServiceAccount } from "./accounts";
import type { ProgramErrorName } from "./errors";
import { bidCommitment } from "./instructions/bids";
import { resultCommitment } from "./instructions/lifecycle";
import { variantOf } from "./native";

/** What the program answers: null (accepted) or the name of the error it fails with. */
export type Verdict = ProgramErrorName | null;

/** An account an instruction was given: its address and its decoded state, null if none lives there. */
export interface Keyed<T> {
  address: PublicKey;
  account: T | null;
}

/** The fields of an SPL token account the program reads. */
export interface TokenState {
  mint: PublicKey;
  owner: PublicKey;
  amount: bigint;
}

export type JobStateName = ReturnType<typeof variantOf<JobAccount["state"]>>;
export type BidStatusName = ReturnType<typeof variantOf<BidAccount["status"]>>;
export type DisputeStatusName = ReturnType<typeof variantOf<DisputeAccount["status"]>>;

const BPS = 10_000n;
/** The challenger reward a verifiable bid locks on top of the per-job lock (CHALLENGER_REWARD_BPS). */
export const CHALLENGER_REWARD_BPS = 5_000n;
/** The program's `FAIL_CRANK_SHARE_BPS`: a failure crank's keeper gets this share of the slash,
 * out of the treasury's part (the failed provider pays for the crank). */
export const FAIL_CRANK_SHARE_BPS = 1_000n;
/** A u64's bounds, where the program's checked arithmetic would overflow. */
const U64_MAX = (1n << 64n) - 1n;

// --- small readers -------------------------------------------------------------------

export const stateOf = (job: JobAccount): JobStateName => variantOf(job.state);
export const statusOf = (bid: BidAccount): BidStatusName => variantOf(bid.status);
export const bps = (amount: bigint, rate: bigint | number): bigint => (amount * BigInt(rate)) / BPS;

const isZero = (bytes: ArrayLike<number>): boolean => Array.from(bytes).every((b) => b === 0);
/** Byte-wise equality of two hashes or roots. */
export const sameBytes = (a: ArrayLike<number>, b: ArrayLike<number>): boolean => a.length === b.length && Array.from(a).every((v, i) => v === b[i]);
const hexOf = (bytes: ArrayLike<number>): string => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");

/** Whether the job runs on the machine (verifiable or refereed): its winners commit final states. */
export function isMachine(job: Pick<JobAccount, "mode">): boolean {
  const mode = variantOf(job.mode);
  return mode === "verifiable" || mode === "refereed";
}

/** Replicated jobs with several winners seal their results (`Job::sealed_results`). */
export function sealsResults(job: Pick<JobAccount, "mode" | "replication">): boolean {
  return variantOf(job.mode) === "replicated" && job.replication >= 2;
}

/** The slot after which the auction can be closed: the end of bidding, or of revealing. */
export function auctionEnd(job: JobAccount): bigint {
  return job.sealed ? job.revealDeadlineSlot : job.bidDeadlineSlot;
}

/** The ranked entries of the job's auction, best first. */
export function ranked(job: JobAccount): JobAccount["auction"]["ranking"] {
  return job.auction.ranking.slice(0, job.auction.rankedCount);
}

export function rankOf(job: JobAccount, provider: PublicKey): number {
  return ranked(job).findIndex((entry) => entry.provider.equals(provider));
}

/** An open-mode job with enough bids at or under its instant price is awarded at once. */
export function instantAwardReady(job: JobAccount): boolean {
  const last = ranked(job)[job.replication - 1];
  return !job.sealed && job.instantPrice > 0n && last !== undefined && last.price <= job.instantPrice;
}

/** The stake a bid locks: the market's per-job lock, plus the challenger reward on verifiable jobs. */
export function bidLock(job: Pick<JobAccount, "mode">, market: MarketAccount): bigint {
  const lock = market.params.jobStakeLock;
  return variantOf(job.mode) === "verifiable" ? lock + bps(lock, CHALLENGER_REWARD_BPS) : lock;
}

/** The budget a job escrows: replication × (max price + fee) + crank fee. */
export function escrowAmount(maxPrice: bigint, replication: number, feeBps: number, crankFee: bigint): bigint {
  return BigInt(replication) * (maxPrice + bps(maxPrice, feeBps)) + crankFee;
}

/** `Provider::bonded_stake`: staked and not unbonding (what the market's minimum is held against). */
export function bondedStake(provider: ProviderAccount): bigint {
  return provider.staked - provider.unbonding;
}

export function freeStake(provider: ProviderAccount): bigint {
  return provider.staked - provider.locked - provider.unbonding;
}

/** Whether the bid belongs to this incarnation of its job (not an earlier one at the same address). */
export function ofIncarnation(bid: BidAccount, job: JobAccount): boolean {
  return bid.jobIncarnation === job.incarnation;
}

/** `Bid::holds_award`: won, started or committed in the job's current round. A lease's seats
 * are awarded after its first round, each in its own (later) slot: they hold theirs. */
export function holdsAward(bid: BidAccount, job: JobAccount): boolean {
  const assigned = ["won", "started", "committed"].includes(statusOf(bid));
  const running = ["awarded", "running", "committed"].includes(stateOf(job));
  const round = job.progress.awardedSlot;
  const thisRound = bid.awardedSlot === round || (isService(job) && bid.awardedSlot > round);
  return assigned && running && ofIncarnation(bid, job) && thisRound;
}

/** `Job::awards_ranked`: the job can still award its ranked bids, which therefore may not leave:
 * an open auction, or a running lease (whose ranking is its seat round's). */
export function awardsRanked(job: JobAccount): boolean {
  const state = stateOf(job);
  return state === "open" || (state === "running" && isService(job));
}

/** `Job::is_seat_award`: `awardedSlot` is a seat's award on this running lease (after its first award). */
export function isSeatAward(job: JobAccount, awardedSlot: bigint): boolean {
  return isService(job) && stateOf(job) === "running" && awardedSlot > job.progress.awardedSlot;
}

/** `Job::seat_start_deadline`: the last slot a seat awarded at `awardedSlot` may start in, the
 * lease's own start window counted from the seat's award. */
export function seatStartDeadline(job: JobAccount, awardedSlot: bigint): bigint {
  return awardedSlot + (job.progress.startDeadlineSlot - job.progress.awardedSlot);
}

/** `Job::check_seat_start`. */
function checkSeatStart(job: JobAccount, awardedSlot: bigint, now: bigint): Verdict {
  if (!isSeatAward(job, awardedSlot)) return "NotASeat";
  return now <= seatStartDeadline(job, awardedSlot) ? null : "StartWindowClosed";
}

/** `Job::check_seat_no_show`. */
function checkSeatNoShow(job: JobAccount, awardedSlot: bigint, now: bigint): Verdict {
  if (!isSeatAward(job, awardedSlot)) return "NotASeat";
  return now > seatStartDeadline(job, awardedSlot) ? null : "DeadlineNotReached";
}

/** A seat won and not started yet: its winner's `start_seat` or a `fail_no_show` is to come. */
export function seatAwaitingStart(bid: BidAccount, job: JobAccount): boolean {
  return isSeatAward(job, bid.awardedSlot) && holdsAward(bid, job) && statusOf(bid) === "won";
}

/** `Bid::refuted_in`: refuted by a referee game of this round; bound to the job until finalize. */
export function refutedIn(bid: BidAccount, job: JobAccount): boolean {
  return statusOf(bid) === "refuted" && ofIncarnation(bid, job) && bid.awardedSlot === job.progress.awardedSlot;
}

/** `Bid::awaits_games_in`: the refuted result of a verifiable job whose games are still open
 * (the job failed at the first game won by its challenger); bound until the last one settles. */
export function awaitsGamesIn(bid: BidAccount, job: JobAccount): boolean {
  return stateOf(job) === "failed" && statusOf(bid) === "committed" && ofIncarnation(bid, job) && bid.awardedSlot === job.progress.awardedSlot;
}

/** Whether withdraw_bid refuses the bid as bound to its live job: a winner, a refuted bid, or
 * the refuted result of a verifiable job awaiting its games. */
export function boundToJob(bid: BidAccount, job: JobAccount): boolean {
  return holdsAward(bid, job) || refutedIn(bid, job) || awaitsGamesIn(bid, job);
}

/** Whether the provider's registered hardware meets the job's requirements (`Job::admits`). */
export function admits(job: JobAccount, provider: ProviderAccount): boolean {
  const r = job.requirements;
  const s = provider.spec;
  const modelOk = isZero(r.gpuModel) || sameBytes(r.gpuModel, s.gpuModel);
  return modelOk && s.gpuCount >= r.gpuCount && s.vramMb >= r.vramMb && s.cpuCores >= r.cpuCores && s.memoryMb >= r.memoryMb && s.diskGb >= r.diskGb;
}

// --- shared checks, each the program's helper of the same name ---------------------------

/** `expect_token_account`: an initialized token account of `mint` owned by `owner`. */
export function expectToken(token: TokenState | null, mint: PublicKey, owner: PublicKey): Verdict {
  if (!token) return "InvalidTokenAccount";
  if (!token.mint.equals(mint)) return "WrongMint";
  if (!token.owner.equals(owner)) return "TokenAccountOwnerMismatch";
  return null;
}

/** `Bid::check_job`: the bid is of this job's address and incarnation. */
function checkJob(bid: BidAccount, job: Keyed<JobAccount> & { account: JobAccount }): Verdict {
  if (!bid.job.equals(job.address)) return "BidMismatch";
  if (!ofIncarnation(bid, job.account)) return "StaleBid";
  return null;
}

/** The loader's first refusal for a missing account, in load order. */
function missing(...accounts: { account: unknown }[]): Verdict {
  return accounts.some((a) => a.account === null) ? "InvalidAccountOwner" : null;
}

/** `Job::record_start`. */
function recordStart(job: JobAccount, now: bigint): Verdict {
  if (stateOf(job) !== "awarded") return "InvalidJobState";
  return now > job.progress.startDeadlineSlot ? "StartWindowClosed" : null;
}

/** `Job::record_commit`. */
function recordCommit(job: JobAccount, now: bigint): Verdict {
  if (stateOf(job) !== "running") return "InvalidJobState";
  return now > job.progress.commitDeadlineSlot ? "CommitWindowClosed" : null;
}

/** `Bid::advance`: the bid holds the current award at status `from`. */
function advance(bid: BidAccount, job: JobAccount, from: BidStatusName): Verdict {
  return holdsAward(bid, job) && statusOf(bid) === from ? null : "NotAssignedWinner";
}

const first = (...checks: (() => Verdict)[]): Verdict => {
  for (const check of checks) {
    const verdict = check();
    if (verdict) return verdict;
  }
  return null;
};

// --- posting -------------------------------------------------------------------------

/** The bid window bound (30 days of slots) and the job duration bound. */
export const MAX_WINDOW_SLOTS = 30n * 216_000n;

export interface PostJobInput {
  config: ConfigAccount;
  market: Keyed<MarketAccount>;
  paymentMint: PublicKey;
  mode: "replicated" | "verifiable" | "refereed";
  /** 0 selects the market's default. */
  replication: number;
  /** Whether the job names its program (code root non-zero) and an input root. */
  codeRoot: Uint8Array;
  inputRoot: Uint8Array;
  maxSteps: bigint;
  requirementsValid: boolean;
  maxPrice: bigint;
  instantPrice: bigint;
  sealed: boolean;
  bidWindowSlots: bigint;
  consumer: PublicKey;
  consumerToken: TokenState | null;
  /** The job address given, its PDA, and whether an account lives there; likewise the escrow. */
  job: { address: PublicKey; expected: PublicKey; exists: boolean };
  escrow: { address: PublicKey; expected: PublicKey; exists: boolean };
}

export function postJob(c: PostJobInput): Verdict {
  return posting(c, { kind: "budget" });
}

/** How the escrow is funded (`post_job::Funding`): a batch job's whole budget, or a service's deposit. */
type Funding = { kind: "budget" } | { kind: "deposit"; amount: bigint; period: bigint };

/** `post_job::post` up to the creation of the job and its escrow, shared with `post_service`. */
function posting(c: PostJobInput, funding: Funding): Verdict {
  const market = c.market.account;
  if (!market) return "InvalidAccountOwner";
  const replication = c.replication === 0 ? market.params.defaultReplication : c.replication;
  const machine = c.mode !== "replicated";
  const window = c.bidWindowSlots === 0n ? market.params.bidWindowSlots : c.bidWindowSlots;
  const floor = funding.kind === "deposit" ? minDeposit(c.maxPrice, replication, funding.period, c.config.protocolFeeBps, market.params.crankFee) : null;
  const escrowed = funding.kind === "deposit" ? funding.amount : escrowAmount(c.maxPrice, replication, c.config.protocolFeeBps, market.params.crankFee);
  return first(
    () => (c.config.paused ? "ProtocolPaused" : null),
    () => (c.paymentMint.equals(market.paymentMint) ? null : "WrongMint"),
    () => {
      const ok = c.mode === "replicated" ? replication >= 1 && replication <= 7 : c.mode === "verifiable" ? replication === 1 : replication === 2;
      return ok ? null : "InvalidReplication";
    },
    () => ((machine ? !isZero(c.codeRoot) : isZero(c.codeRoot) && isZero(c.inputRoot)) ? null : "InvalidProgramRoots"),
    () => ((c.maxSteps !== 0n) === machine ? null : "InvalidStepLimit"),
    () => (c.requirementsValid ? null : "InvalidJobRequirements"),
    () => (c.maxPrice > 0n && c.instantPrice <= c.maxPrice ? null : "InvalidPrice"),
    () => (c.sealed && c.instantPrice !== 0n ? "InvalidPrice" : null),
    () => (window > 0n && window <= MAX_WINDOW_SLOTS ? null : "InvalidBidWindow"),
    () => {
      if (funding.kind === "budget") return escrowed > U64_MAX ? "MathOverflow" : null;
      if (floor === null) return "MathOverflow";
      return escrowed >= floor ? null : "DepositTooSmall";
    },
    () => expectToken(c.consumerToken, market.paymentMint, c.consumer),
    () => (c.consumerToken!.amount >= escrowed ? null : "InsufficientFunds"),
    () => (c.job.address.equals(c.job.expected) && c.escrow.address.equals(c.escrow.expected) ? null : "InvalidPda"),
    () => (c.job.exists ? "AccountAlreadyInitialized" : null),
    () => (c.escrow.exists ? "AccountAlreadyInitialized" : null),
  );
}

// --- bidding -------------------------------------------------------------------------

export interface PlaceBidInput {
  now: bigint;
  owner: PublicKey;
  provider: Keyed<ProviderAccount>;
  market: Keyed<MarketAccount>;
  job: Keyed<JobAccount>;
  /** The bid address given, the PDA ["bid", job, provider], and whether an account lives there. */
  bid: { address: PublicKey; expected: PublicKey; exists: boolean };
  price: bigint;
  commitment: Uint8Array;
}

export function placeBid(c: PlaceBidInput): Verdict {
  const gone = missing(c.provider, c.market, c.job);
  if (gone) return gone;
  const provider = c.provider.account!;
  const market = c.market.account!;
  const job = c.job.account!;
  const hasCommitment = !isZero(c.commitment);
  return first(
    () => (c.owner.equals(provider.owner) ? null : "NotProviderOwner"),
    () => (provider.market.equals(c.market.address) && job.market.equals(c.market.address) ? null : "MarketMismatch"),
    () => (stateOf(job) !== "open" ? "InvalidJobState" : c.now > job.bidDeadlineSlot ? "BiddingClosed" : null),
    () => (admits(job, provider) ? null : "RequirementsNotMet"),
    () => (bondedStake(provider) >= market.params.minStake ? null : "BelowMinimumStake"),
    () => {
      if (job.sealed) return c.price === 0n && hasCommitment ? null : "InvalidBidCommitment";
      if (hasCommitment) return "InvalidBidCommitment";
      return c.price > 0n && c.price <= job.maxPrice ? null : "PriceAboveMax";
    },
    () => (c.bid.address.equals(c.bid.expected) ? null : "InvalidPda"),
    () => (c.bid.exists ? "AccountAlreadyInitialized" : null),
    () => (bidLock(job, market) <= freeStake(provider) ? null : "InsufficientFreeStake"),
  );
}

export interface RevealBidInput {
  now: bigint;
  owner: PublicKey;
  provider: Keyed<ProviderAccount>;
  job: Keyed<JobAccount>;
  bid: Keyed<BidAccount>;
  price: bigint;
  salt: Uint8Array;
}

export function revealBid(c: RevealBidInput): Verdict {
  const gone = missing(c.provider, c.job, c.bid);
  if (gone) return gone;
  const provider = c.provider.account!;
  const job = c.job.account!;
  const bid = c.bid.account!;
  return first(
    () => (c.owner.equals(bid.owner) && provider.owner.equals(bid.owner) ? null : "NotBidOwner"),
    () => checkJob(bid, { address: c.job.address, account: job }),
    () => (bid.provider.equals(c.provider.address) ? null : "BidMismatch"),
    () => (provider.market.equals(job.market) ? null : "MarketMismatch"),
    () => {
      if (stateOf(job) !== "open") return "InvalidJobState";
      if (!job.sealed) return "NotSealedAuction";
      return c.now > job.bidDeadlineSlot && c.now <= job.revealDeadlineSlot ? null : "RevealWindowClosed";
    },
    () => (c.price > 0n && c.price <= job.maxPrice ? null : "PriceAboveMax"),
    () => (statusOf(bid) === "sealed" ? null : "BidAlreadyRevealed"),
    () => (sameBytes(bidCommitment(c.price, c.salt, bid.provider), bid.commitment) ? null : "CommitmentMismatch"),
  );
}

export interface WithdrawBidInput {
  now: bigint;
  owner: PublicKey;
  provider: Keyed<ProviderAccount>;
  vault: PublicKey;
  config: Keyed<ConfigAccount>;
  market: Keyed<MarketAccount>;
  /** The job given; a closed one (null) is fine: the bid is withdrawn as of a job gone. */
  job: Keyed<JobAccount>;
  bid: Keyed<BidAccount>;
  treasuryStakeToken: TokenState | null;
}

/** Whether withdraw_bid counts the bid against the live job it names (same address and incarnation). */
function boundToLiveJob(bid: BidAccount, job: Keyed<JobAccount>): job is Keyed<JobAccount> & { account: JobAccount } {
  return job.account !== null && ofIncarnation(bid, job.account);
}

export function withdrawBid(c: WithdrawBidInput): Verdict {
  const gone = missing(c.provider, c.bid, c.config, c.market);
  if (gone) return gone;
  const provider = c.provider.account!;
  const bid = c.bid.account!;
  return first(
    () => (c.owner.equals(bid.owner) && provider.owner.equals(bid.owner) ? null : "NotBidOwner"),
    () => (bid.provider.equals(c.provider.address) && bid.job.equals(c.job.address) ? null : "BidMismatch"),
    () => (c.vault.equals(provider.vault) ? null : "InvalidVault"),
    () => (provider.market.equals(c.market.address) ? null : "MarketMismatch"),
    () => expectToken(c.treasuryStakeToken, provider.stakeMint, c.config.account!.treasury),
    () => {
      if (!boundToLiveJob(bid, c.job)) return null;
      const job = c.job.account;
      if (boundToJob(bid, job)) return "BidHoldsAward";
      return rankedAndBinding(bid, job) ? "BidIsRanked" : null;
    },
  );
}

/** What withdrawing the bid now forfeits to the treasury: the no-show rate of its lock for a
 * sealed bid still unrevealed once its live job's bidding closed, or after its reveal window. */
export function withdrawForfeit(bid: BidAccount, job: Keyed<JobAccount>, market: MarketAccount, now: bigint): bigint {
  if (statusOf(bid) !== "sealed") return 0n;
  const biddingClosed = boundToLiveJob(bid, job) && (stateOf(job.account) !== "open" || now > job.account.bidDeadlineSlot);
  return biddingClosed || now > bid.revealBySlot ? bps(bid.locked, market.params.slashNoShowBps) : 0n;
}

/** A ranked bid of a job that can still award it (an open auction, a lease's seat round): it binds. */
export function rankedAndBinding(bid: BidAccount, job: JobAccount): boolean {
  return awardsRanked(job) && rankOf(job, bid.provider) >= 0;
}

/** Whether withdraw_bid accepts the bid now (a bid of a closed or later job always is). */
export function withdrawable(bid: BidAccount, job: JobAccount | null, jobAddress: PublicKey): boolean {
  if (!job || !ofIncarnation(bid, job)) return true;
  if (boundToJob(bid, job)) return false;
  return !rankedAndBinding(bid, job) && bid.job.equals(jobAddress);
}

// --- auction end ---------------------------------------------------------------------

export interface AwardInput {
  now: bigint;
  market: Keyed<MarketAccount>;
  job: Keyed<JobAccount>;
  /** The remaining accounts: the bids given as winners, in order. */
  bids: Keyed<BidAccount>[];
}

export function award(c: AwardInput): Verdict {
  const gone = missing(c.market, c.job);
  if (gone) return gone;
  const job = c.job.account!;
  const verdict = first(
    () => (job.market.equals(c.market.address) ? null : "MarketMismatch"),
    () => checkAward(job, c.now),
    () => (c.bids.length >= job.replication ? null : "WinnersMissing"),
  );
  if (verdict) return verdict;
  for (let rank = 0; rank < job.replication; rank++) {
    const bid = c.bids[rank].account;
    if (!bid) return "InvalidAccountOwner";
    const expected = ranked(job)[rank].provider;
    if (!bid.job.equals(c.job.address) || !bid.provider.equals(expected)) return "WrongWinner";
    if (!ofIncarnation(bid, job)) return "StaleBid";
    if (statusOf(bid) === "sealed") return "WrongWinner";
  }
  return null;
}

/** `Job::check_award`. */
export function checkAward(job: JobAccount, now: bigint): Verdict {
  if (stateOf(job) !== "open") return "InvalidJobState";
  if (job.auction.rankedCount < job.replication) return "NotEnoughBids";
  return now > auctionEnd(job) || instantAwardReady(job) ? null : "AuctionStillOpen";
}

/** `Job::check_expiry`. */
export function checkExpiry(job: JobAccount, now: bigint): Verdict {
  if (stateOf(job) !== "open") return "InvalidJobState";
  if (now <= auctionEnd(job)) return "AuctionStillOpen";
  return job.auction.rankedCount < job.replication ? null : "AuctionHasWinners";
}

export interface ExpireJobInput {
  now: bigint;
  job: Keyed<JobAccount>;
  escrow: PublicKey;
  consumer: PublicKey;
  consumerToken: TokenState | null;
  escrowToken: TokenState | null;
}

export function expireJob(c: ExpireJobInput): Verdict {
  const job = c.job.account;
  if (!job) return "InvalidAccountOwner";
  return first(
    () => (c.escrow.equals(job.escrow) ? null : "InvalidVault"),
    () => (c.consumer.equals(job.consumer) ? null : "ConsumerMismatch"),
    () => expectToken(c.consumerToken, job.paymentMint, job.consumer),
    () => checkExpiry(job, c.now),
    () => expectToken(c.escrowToken, job.paymentMint, c.job.address),
  );
}

export interface CancelJobInput {
  consumer: PublicKey;
  job: Keyed<JobAccount>;
  escrow: PublicKey;
  consumerToken: TokenState | null;
  escrowToken: TokenState | null;
}

export function cancelJob(c: CancelJobInput): Verdict {
  const job = c.job.account;
  if (!job) return "InvalidAccountOwner";
  return first(
    () => (c.consumer.equals(job.consumer) ? null : "NotJobConsumer"),
    () => (c.escrow.equals(job.escrow) ? null : "InvalidVault"),
    () => expectToken(c.consumerToken, job.paymentMint, c.consumer),
    () => expectToken(c.escrowToken, job.paymentMint, c.job.address),
    () => (stateOf(job) === "open" ? null : "InvalidJobState"),
  );
}

// --- winners -------------------------------------------------------------------------

export interface WinnerInput {
  now: bigint;
  owner: PublicKey;
  job: Keyed<JobAccount>;
  bid: Keyed<BidAccount>;
}

export function startJob(c: WinnerInput): Verdict {
  const gone = missing(c.job, c.bid);
  if (gone) return gone;
  const job = c.job.account!;
  const bid = c.bid.account!;
  return first(
    () => (c.owner.equals(bid.owner) ? null : "NotBidOwner"),
    () => checkJob(bid, { address: c.job.address, account: job }),
    () => advance(bid, job, "won"),
    () => recordStart(job, c.now),
  );
}

export interface CommitInput extends WinnerInput {
  market: Keyed<MarketAccount>;
}

/** The checks commit_result, commit_sealed_result and commit_verifiable share up to their own. */
function commitPrefix(c: CommitInput): { verdict: Verdict; job?: JobAccount; bid?: BidAccount } {
  const gone = missing(c.market, c.job, c.bid);
  if (gone) return { verdict: gone };
  const job = c.job.account!;
  const bid = c.bid.account!;
  const verdict = first(
    () => (c.owner.equals(bid.owner) ? null : "NotBidOwner"),
    () => checkJob(bid, { address: c.job.address, account: job }),
    () => (job.market.equals(c.market.address) ? null : "MarketMismatch"),
    // `Job::require_batch`: a service is paid per acknowledged slot, it commits nothing.
    () => (isService(job) ? "ServiceHasNoResult" : null),
  );
  return { verdict, job, bid };
}

export function commitResult(c: CommitInput & { outputRoot: Uint8Array }): Verdict {
  const { verdict, job, bid } = commitPrefix(c);
  if (verdict || !job || !bid) return verdict;
  return first(
    () => (isZero(c.outputRoot) ? "InvalidOutputRoot" : null),
    () => (isMachine(job) || sealsResults(job) ? "WrongCommitInstruction" : null),
    () => advance(bid, job, "started"),
    () => recordCommit(job, c.now),
  );
}

export function commitSealedResult(c: CommitInput & { commitment: Uint8Array }): Verdict {
  const { verdict, job, bid } = commitPrefix(c);
  if (verdict || !job || !bid) return verdict;
  return first(
    () => (sealsResults(job) ? null : "WrongCommitInstruction"),
    () => (isZero(c.commitment) ? "InvalidResultCommitment" : null),
    () => advance(bid, job, "started"),
    () => recordCommit(job, c.now),
  );
}

/** STATE_BYTES offsets: steps (u64 LE) and status (0 running, 1 halted, 2..=5 stopped on an error). */
const STEPS_OFFSET = 160;
const STATUS_OFFSET = 168;

/** `check_final_state`'s structural half: stopped (or at the limit) after 1..=max_steps steps.
 * `outputProven` is the other half (the output root proves into the state's memory root). */
export function finalStateVerdict(finalState: Uint8Array, maxSteps: bigint, outputProven: boolean): Verdict {
  if (finalState.length !== 173) return "InvalidFinalState";
  const view = new DataView(finalState.buffer, finalState.byteOffset, finalState.byteLength);
  const steps = view.getBigUint64(STEPS_OFFSET, true);
  const status = finalState[STATUS_OFFSET];
  if (status > 5) return "InvalidFinalState";
  const ended = status !== 0 || steps === maxSteps;
  if (!ended || steps < 1n || steps > maxSteps) return "InvalidFinalState";
  return outputProven ? null : "OutputNotInFinalState";
}

export function commitVerifiable(c: CommitInput & { finalState: Uint8Array; outputProven: boolean }): Verdict {
  const { verdict, job, bid } = commitPrefix(c);
  if (verdict || !job || !bid) return verdict;
  return first(
    () => (isMachine(job) ? null : "WrongCommitInstruction"),
    () => finalStateVerdict(c.finalState, job.maxSteps, c.outputProven),
    () => advance(bid, job, "started"),
    () => recordCommit(job, c.now),
  );
}

export function revealResult(c: WinnerInput & { outputRoot: Uint8Array; salt: Uint8Array }): Verdict {
  const gone = missing(c.job, c.bid);
  if (gone) return gone;
  const job = c.job.account!;
  const bid = c.bid.account!;
  return first(
    () => (c.owner.equals(bid.owner) ? null : "NotBidOwner"),
    () => checkJob(bid, { address: c.job.address, account: job }),
    () => (sealsResults(job) ? null : "WrongCommitInstruction"),
    () => (stateOf(job) === "committed" && c.now < job.progress.challengeDeadlineSlot ? null : "RevealNotOpen"),
    () => (holdsAward(bid, job) && statusOf(bid) === "committed" ? null : "NotAssignedWinner"),
    () => (bid.revealed ? "ResultAlreadyRevealed" : null),
    () => (isZero(c.outputRoot) ? "InvalidOutputRoot" : null),
    () => (sameBytes(resultCommitment(c.outputRoot, c.salt, bid.provider), bid.resultCommitment) ? null : "ResultCommitmentMismatch"),
  );
}

// --- failure cranks ------------------------------------------------------------------

export interface FailWinnerInput {
  now: bigint;
  keeper: PublicKey;
  keeperToken: TokenState | null;
  config: Keyed<ConfigAccount>;
  market: Keyed<MarketAccount>;
  job: Keyed<JobAccount>;
  escrow: PublicKey;
  consumer: PublicKey;
  consumerToken: TokenState | null;
  consumerStakeToken: TokenState | null;
  treasuryStakeToken: TokenState | null;
  bid: Keyed<BidAccount>;
  provider: Keyed<ProviderAccount>;
  vault: PublicKey;
  owner: PublicKey;
  /** The remaining account after the fixed ones (absent: none given): a seat winner's no-show
   * gives its seat up on the lease's terms. */
  service?: Keyed<ServiceAccount>;
}

function failWinner(c: FailWinnerInput, miss: "noShow" | "timeout"): Verdict {
  const gone = missing(c.config, c.market, c.job, c.provider, c.bid);
  if (gone) return gone;
  const job = c.job.account!;
  const bid = c.bid.account!;
  const provider = c.provider.account!;
  const config = c.config.account!;
  return first(
    () => (job.market.equals(c.market.address) && provider.market.equals(c.market.address) ? null : "MarketMismatch"),
    () => (c.escrow.equals(job.escrow) ? null : "InvalidVault"),
    () => (c.consumer.equals(job.consumer) ? null : "ConsumerMismatch"),
    () => checkJob(bid, { address: c.job.address, account: job }),
    () => (bid.provider.equals(c.provider.address) && c.owner.equals(bid.owner) ? null : "BidMismatch"),
    () => (c.vault.equals(provider.vault) ? null : "InvalidVault"),
    () => expectToken(c.keeperToken, provider.stakeMint, c.keeper),
    () => expectToken(c.consumerToken, job.paymentMint, job.consumer),
    () => expectToken(c.consumerStakeToken, provider.stakeMint, job.consumer),
    () => expectToken(c.treasuryStakeToken, provider.stakeMint, config.treasury),
    () => (holdsAward(bid, job) ? null : "NotAssignedWinner"),
    () => {
      if (miss === "noShow" && isSeatAward(job, bid.awardedSlot)) {
        return first(
          () => checkSeatNoShow(job, bid.awardedSlot, c.now),
          () => (statusOf(bid) === "won" ? null : "NotAssignedWinner"),
          () => giveUpSeat(c.service, { address: c.job.address, account: job }),
        );
      }
      if (miss === "noShow") {
        if (stateOf(job) !== "awarded") return "InvalidJobState";
        if (c.now <= job.progress.startDeadlineSlot) return "DeadlineNotReached";
        return statusOf(bid) === "won" ? null : "NotAssignedWinner";
      }
      // `Job::check_timeout` asks for a batch job first: a service has no commit deadline.
      if (isService(job)) return "ServiceHasNoResult";
      if (stateOf(job) !== "running") return "InvalidJobState";
      if (c.now <= job.progress.commitDeadlineSlot) return "DeadlineNotReached";
      return statusOf(bid) !== "committed" ? null : "NotAssignedWinner";
    },
  );
}

/** `fail_winner::give_up_seat`: the lease's terms, the one account after the fixed ones, count
 * the seat given up (after the slash, in the same transaction). */
function giveUpSeat(service: Keyed<ServiceAccount> | undefined, job: Keyed<JobAccount> & { account: JobAccount }): Verdict {
  if (!service) return "NotEnoughAccounts";
  if (!service.account) return "InvalidAccountOwner";
  return first(
    () => checkTerms(service.account!, job),
    () => (service.account!.seatsStarting > 0 ? null : "MathOverflow"),
  );
}

export const failNoShow = (c: FailWinnerInput): Verdict => failWinner(c, "noShow");
export const failTimeout = (c: FailWinnerInput): Verdict => failWinner(c, "timeout");

// --- settlement ----------------------------------------------------------------------

export interface FinalizeWinnerInput {
  bid: Keyed<BidAccount>;
  provider: Keyed<ProviderAccount>;
  ownerToken: TokenState | null;
  owner: PublicKey;
  vault: PublicKey;
}

export interface FinalizeInput {
  now: bigint;
  keeper: PublicKey;
  keeperToken: TokenState | null;
  config: Keyed<ConfigAccount>;
  job: Keyed<JobAccount>;
  escrow: PublicKey;
  consumer: PublicKey;
  consumerToken: TokenState | null;
  treasuryToken: TokenState | null;
  winners: FinalizeWinnerInput[];
  /** Sealed results: the market and the stake-mint accounts slashes go to (absent: not given). */
  slashes?: { market: Keyed<MarketAccount>; consumerStakeToken: TokenState | null; treasuryStakeToken: TokenState | null };
}

/** `Job::check_finalize`. */
export function checkFinalize(job: JobAccount, now: bigint): Verdict {
  if (stateOf(job) !== "committed") return "InvalidJobState";
  if (now < job.progress.challengeDeadlineSlot) return "ChallengeWindowOpen";
  return job.progress.openDisputes > 0 ? "DisputeOpen" : null;
}

type Outcome = "paid" | "unpaid" | "noMajority" | "minority" | "unrevealed";

/** Each winner's outcome at finalize (`verdicts`), or ResultsDiffer for disagreeing machine results. */
export function finalizeOutcomes(job: JobAccount, bids: BidAccount[]): Outcome[] | "ResultsDiffer" {
  const keyOf = (bid: BidAccount) => hexOf(isMachine(job) ? bid.finalStateHash : bid.outputRoot);
  if (sealsResults(job)) {
    const revealed = bids.filter((b) => b.revealed).map(keyOf);
    const majority = revealed.find((key) => 2 * revealed.filter((k) => k === key).length > bids.length);
    return bids.map((b) => (!b.revealed ? "unrevealed" : majority === undefined ? "noMajority" : keyOf(b) === majority ? "paid" : "minority"));
  }
  let agreed: string | undefined;
  const outcomes: Outcome[] = [];
  for (const bid of bids) {
    if (refutedIn(bid, job)) {
      outcomes.push("unpaid");
      continue;
    }
    agreed ??= keyOf(bid);
    if (agreed !== keyOf(bid)) return "ResultsDiffer";
    outcomes.push("paid");
  }
  return outcomes;
}

export function finalize(c: FinalizeInput): Verdict {
  const gone = missing(c.config, c.job);
  if (gone) return gone;
  const job = c.job.account!;
  const config = c.config.account!;
  const head = first(
    () => (c.escrow.equals(job.escrow) ? null : "InvalidVault"),
    () => (c.consumer.equals(job.consumer) ? null : "ConsumerMismatch"),
    () => expectToken(c.consumerToken, job.paymentMint, job.consumer),
    () => expectToken(c.treasuryToken, job.paymentMint, config.treasury),
    () => expectToken(c.keeperToken, job.paymentMint, c.keeper),
    () => checkFinalize(job, c.now),
    () => (c.winners.length >= job.replication ? null : "WinnersMissing"),
  );
  if (head) return head;
  const bids: BidAccount[] = [];
  for (const [i, winner] of c.winners.slice(0, job.replication).entries()) {
    if (c.winners.slice(0, i).some((w) => w.bid.address.equals(winner.bid.address))) return "WinnersMissing";
    const bid = winner.bid.account;
    if (!bid) return "InvalidAccountOwner";
    const verdict = first(
      () => checkJob(bid, { address: c.job.address, account: job }),
      () => (refutedIn(bid, job) || (holdsAward(bid, job) && statusOf(bid) === "committed") ? null : "NotAssignedWinner"),
      () => (winner.provider.address.equals(bid.provider) && winner.owner.equals(bid.owner) ? null : "BidMismatch"),
      () => expectToken(winner.ownerToken, job.paymentMint, bid.owner),
      () => (winner.provider.account ? null : "InvalidAccountOwner"),
      () => (winner.vault.equals(winner.provider.account!.vault) ? null : "InvalidVault"),
    );
    if (verdict) return verdict;
    bids.push(bid);
  }
  const outcomes = finalizeOutcomes(job, bids);
  if (outcomes === "ResultsDiffer") return outcomes;
  if (!sealsResults(job)) return null;
  const slashes = c.slashes;
  if (!slashes) return "WinnersMissing";
  if (!slashes.market.address.equals(job.market)) return "MarketMismatch";
  const market = slashes.market.account;
  if (!market) return "InvalidAccountOwner";
  if (outcomes.every((o) => o === "paid")) return null;
  return first(
    () => expectToken(slashes.consumerStakeToken, market.stakeMint, c.consumer),
    () => expectToken(slashes.treasuryStakeToken, market.stakeMint, config.treasury),
  );
}

// --- disputes ------------------------------------------------------------------------

export interface OpenDisputeInput {
  now: bigint;
  challenger: PublicKey;
  market: Keyed<MarketAccount>;
  job: Keyed<JobAccount>;
  bid: Keyed<BidAccount>;
  /** The game's address given, its PDA, and whether an account lives there; likewise its bond vault. */
  dispute: { address: PublicKey; expected: PublicKey; exists: boolean };
  bondVault: { address: PublicKey; expected: PublicKey; exists: boolean };
  challengerToken: TokenState | null;
  stakeMint: PublicKey;
}

export function openDispute(c: OpenDisputeInput): Verdict {
  const gone = missing(c.market, c.job, c.bid);
  if (gone) return gone;
  const market = c.market.account!;
  const job = c.job.account!;
  const bid = c.bid.account!;
  return first(
    () => (job.market.equals(c.market.address) ? null : "MarketMismatch"),
    () => (c.stakeMint.equals(market.stakeMint) ? null : "WrongMint"),
    () => (variantOf(job.mode) === "verifiable" ? null : "NotVerifiable"),
    () => (stateOf(job) === "committed" ? null : "InvalidJobState"),
    () => (c.now < job.progress.challengeDeadlineSlot ? null : "DisputeWindowClosed"),
    () => checkJob(bid, { address: c.job.address, account: job }),
    () => (holdsAward(bid, job) && statusOf(bid) === "committed" ? null : "NotAssignedWinner"),
    () => (c.challenger.equals(bid.owner) ? "SelfDispute" : null),
    () => expectToken(c.challengerToken, market.stakeMint, c.challenger),
    () => (c.challengerToken!.amount >= market.params.jobStakeLock ? null : "InsufficientFunds"),
    () => (c.dispute.address.equals(c.dispute.expected) && c.bondVault.address.equals(c.bondVault.expected) ? null : "InvalidPda"),
    () => (c.dispute.exists || c.bondVault.exists ? "AccountAlreadyInitialized" : null),
  );
}

/** The clock of the party to move, and the first slot at which `timeout_dispute` succeeds. */
export function disputeTimeoutSlot(dispute: DisputeAccount): bigint {
  const clock = variantOf(dispute.turn) === "challenger" ? dispute.challengerClock : dispute.providerClock;
  return dispute.turnStartedSlot + clock + 1n;
}

export function timeoutDispute(c: { now: bigint; dispute: Keyed<DisputeAccount> }): Verdict {
  const dispute = c.dispute.account;
  if (!dispute) return "InvalidAccountOwner";
  if (variantOf(dispute.status) !== "open") return "NotYourTurn";
  return c.now >= disputeTimeoutSlot(dispute) ? null : "ClockRunning";
}

export interface SettleDisputeInput {
  config: Keyed<ConfigAccount>;
  market: Keyed<MarketAccount>;
  job: Keyed<JobAccount>;
  escrow: PublicKey;
  consumer: PublicKey;
  consumerToken: TokenState | null;
  bid: Keyed<BidAccount>;
  provider: Keyed<ProviderAccount>;
  vault: PublicKey;
  owner: PublicKey;
  ownerStakeToken: TokenState | null;
  challenger: PublicKey;
  challengerStakeToken: TokenState | null;
  treasuryStakeToken: TokenState | null;
  dispute: Keyed<DisputeAccount>;
  /** The bond vault given and the game's own vault PDA. */
  bondVault: { address: PublicKey; expected: PublicKey; token: TokenState | null };
}

export function settleDispute(c: SettleDisputeInput): Verdict {
  const gone = missing(c.config, c.market, c.dispute, c.job, c.bid, c.provider);
  if (gone) return gone;
  const dispute = c.dispute.account!;
  const job = c.job.account!;
  const provider = c.provider.account!;
  const config = c.config.account!;
  return first(
    () => (dispute.refereed ? "DisputeMismatch" : null),
    () => {
      const own = dispute.job.equals(c.job.address) && dispute.bid.equals(c.bid.address) && dispute.provider.equals(c.provider.address);
      return own && dispute.owner.equals(c.owner) && dispute.challenger.equals(c.challenger) ? null : "DisputeMismatch";
    },
    () => (job.market.equals(c.market.address) && provider.market.equals(c.market.address) ? null : "MarketMismatch"),
    () => (c.escrow.equals(job.escrow) && c.vault.equals(provider.vault) ? null : "InvalidVault"),
    () => (c.consumer.equals(job.consumer) ? null : "ConsumerMismatch"),
    () => (c.bondVault.address.equals(c.bondVault.expected) ? null : "InvalidVault"),
    () => expectToken(c.bondVault.token, provider.stakeMint, c.dispute.address),
    () => expectToken(c.consumerToken, job.paymentMint, job.consumer),
    () => expectToken(c.ownerStakeToken, provider.stakeMint, dispute.owner),
    () => expectToken(c.challengerStakeToken, provider.stakeMint, dispute.challenger),
    () => expectToken(c.treasuryStakeToken, provider.stakeMint, config.treasury),
    () => (variantOf(dispute.status) === "open" ? "DisputeUndecided" : null),
  );
}

/** close_witness: the buffer's writer, once its game is decided or closed. */
export function closeWitness(c: { writer: PublicKey; buffer: { dispute: PublicKey; writer: PublicKey } | null; dispute: Keyed<DisputeAccount> }): Verdict {
  if (!c.buffer) return "InvalidAccountOwner";
  if (!c.buffer.dispute.equals(c.dispute.address)) return "DisputeMismatch";
  if (!c.buffer.writer.equals(c.writer)) return "NotWitnessWriter";
  return c.dispute.account && variantOf(c.dispute.account.status) === "open" ? "DisputeUndecided" : null;
}

// --- services ------------------------------------------------------------------------

/** The longest acknowledgement period a service may ask for (`MAX_ACK_PERIOD_SLOTS`). */
export const MAX_ACK_PERIOD_SLOTS = 216_000n;

/** `bps_of` with the program's overflow check. */
function bpsChecked(amount: bigint, rate: number): bigint | null {
  const result = bps(amount, rate);
  return result > U64_MAX ? null : result;
}

/** `service::min_deposit`: one period of every replica at `maxRate`, its fee and the crank fee;
 * null where the program's checked arithmetic overflows (MathOverflow). */
export function minDeposit(maxRate: bigint, replicas: number, period: bigint, feeBps: number, crankFee: bigint): bigint | null {
  const perReplica = maxRate * period;
  const all = perReplica * BigInt(replicas);
  if (perReplica > U64_MAX || all > U64_MAX) return null;
  const fee = bpsChecked(all, feeBps);
  if (fee === null || all + fee > U64_MAX || all + fee + crankFee > U64_MAX) return null;
  return all + fee + crankFee;
}

/** `Service::is_paused` and `Service::pause_expired`. */
export const isPaused = (service: ServiceAccount): boolean => service.pausedSlot > 0n;
export const pauseExpired = (service: ServiceAccount, now: bigint): boolean => isPaused(service) && now > service.pauseEndsSlot;

/** The terms are this job's as it is now: its address and incarnation (`ServiceMismatch`). */
function checkTerms(service: ServiceAccount, job: Keyed<JobAccount> & { account: JobAccount }): Verdict {
  return service.job.equals(job.address) && service.jobIncarnation === job.account.incarnation ? null : "ServiceMismatch";
}

/** A byte's largest value: the seat counts stay below it (`u8::MAX`). */
const U8_MAX = 255;

/** `Service::replicas`: every replica the lease ever started, the first round's and the seats' that started. */
export function leaseReplicas(job: JobAccount, service: ServiceAccount): number {
  return job.replication + service.seatsFilled;
}

/** `Service::replicas_to_pay`: the replicas started and not closed, and the seats about to start. */
export function replicasToPay(job: JobAccount, service: ServiceAccount): number {
  const open = Math.max(0, leaseReplicas(job, service) - service.closedReplicas) + service.seatsStarting;
  return Math.min(open, U8_MAX);
}

/** Whether a seat is being filled: a round open, or a winner still to start (or be failed). */
export function seatBeingFilled(service: ServiceAccount): boolean {
  return service.openSeats > 0 || service.seatsStarting > 0;
}

/** `Service::request_seat`'s checks: a paused lease fills no seat, and the counts stay within a byte. */
function requestSeat(job: JobAccount, service: ServiceAccount): Verdict {
  if (isPaused(service)) return "ServicePaused";
  const assigned = leaseReplicas(job, service) + service.seatsStarting + service.openSeats;
  return assigned < U8_MAX ? null : "TooManyReplacements";
}

/** The seat round after `end_replica` asked for a replacement at `now`: the seat joins the open
 * round (its deadline stays) or opens one lasting the market's bid window. */
export function seatRequested(service: ServiceAccount, now: bigint, bidWindowSlots: bigint): { openSeats: number; seatDeadlineSlot: bigint } {
  const seatDeadlineSlot = service.openSeats === 0 ? now + bidWindowSlots : service.seatDeadlineSlot;
  return { openSeats: service.openSeats + 1, seatDeadlineSlot };
}

/** `Service::check_seat_bidding`: a round open, the lease live, up to the round's deadline. */
export function checkSeatBidding(service: ServiceAccount, now: bigint): Verdict {
  if (service.openSeats === 0) return "NoSeatRound";
  if (isPaused(service)) return "ServicePaused";
  return now <= service.seatDeadlineSlot ? null : "BiddingClosed";
}

/** `Service::award_seats`' checks: a round open and its bidding over. */
export function checkSeatAward(service: ServiceAccount, now: bigint): Verdict {
  if (service.openSeats === 0) return "NoSeatRound";
  return now > service.seatDeadlineSlot ? null : "AuctionStillOpen";
}

/** How many seats `award_seat` awards: one per ranked bid up to the open seats, none while paused. */
export function seatsToAward(job: JobAccount, service: ServiceAccount): number {
  return isPaused(service) ? 0 : Math.min(service.openSeats, job.auction.rankedCount);
}

/** The round's winners, best first: the ranked providers `award_seat` takes as its remaining accounts. */
export function seatWinners(job: JobAccount, service: ServiceAccount): PublicKey[] {
  return ranked(job)
    .slice(0, seatsToAward(job, service))
    .map((entry) => entry.provider);
}

/** A running lease's seat round that `award_seat` closes now (its terms of the job as it is). */
export function seatAwardDue(job: JobAccount, service: ServiceAccount, now: bigint): boolean {
  const ofLease = isService(job) && service.jobIncarnation === job.incarnation && stateOf(job) === "running";
  return ofLease && checkSeatAward(service, now) === null;
}

/** The terms after `award_seat`: the round closed, its winners counted as starting. */
export function seatsAwarded(job: JobAccount, service: ServiceAccount): { openSeats: number; seatsStarting: number; seatDeadlineSlot: bigint } {
  return { openSeats: 0, seatsStarting: service.seatsStarting + seatsToAward(job, service), seatDeadlineSlot: 0n };
}

export interface PostServiceInput extends Omit<PostJobInput, "mode" | "codeRoot" | "inputRoot" | "maxSteps" | "instantPrice" | "maxPrice"> {
  /** The rate cap per slot per replica (the job's max price). */
  maxRate: bigint;
  watchdog: PublicKey;
  ackPeriodSlots: bigint;
  deposit: bigint;
  /** The terms' address given, the PDA ["service", job], and whether an account lives there. */
  service: { address: PublicKey; expected: PublicKey; exists: boolean };
}

/** post_service: its own terms first, then post_job's checks with the deposit for the budget,
 * then the terms' account (created after the job and its escrow). */
export function postService(c: PostServiceInput): Verdict {
  return first(
    () => (c.ackPeriodSlots > 0n && c.ackPeriodSlots <= MAX_ACK_PERIOD_SLOTS && !isZero(c.watchdog.toBytes()) ? null : "InvalidServiceTerms"),
    () =>
      posting(
        { ...c, mode: "replicated", codeRoot: new Uint8Array(32), inputRoot: new Uint8Array(32), maxSteps: 0n, instantPrice: 0n, maxPrice: c.maxRate },
        { kind: "deposit", amount: c.deposit, period: c.ackPeriodSlots },
      ),
    () => (c.service.address.equals(c.service.expected) ? null : "InvalidPda"),
    () => (c.service.exists ? "AccountAlreadyInitialized" : null),
  );
}

export interface FundServiceInput {
  now: bigint;
  funder: PublicKey;
  funderToken: TokenState | null;
  job: Keyed<JobAccount>;
  escrow: PublicKey;
  escrowToken: TokenState | null;
  service: Keyed<ServiceAccount>;
  amount: bigint;
}

export function fundService(c: FundServiceInput): Verdict {
  const job = c.job.account;
  if (!job) return "InvalidAccountOwner";
  // The kind before the terms are read: a batch job has none.
  if (!isService(job)) return "NotAService";
  const service = c.service.account;
  if (!service) return "InvalidAccountOwner";
  return first(
    () => (["open", "awarded", "running"].includes(stateOf(job)) ? null : "InvalidJobState"),
    () => checkTerms(service, { address: c.job.address, account: job }),
    () => (pauseExpired(service, c.now) ? "PauseExpired" : null),
    () => (c.escrow.equals(job.escrow) ? null : "InvalidVault"),
    () => (c.amount > 0n ? null : "ZeroAmount"),
    () => expectToken(c.funderToken, job.paymentMint, c.funder),
    () => (c.funderToken!.amount >= c.amount ? null : "InsufficientFunds"),
    () => expectToken(c.escrowToken, job.paymentMint, c.job.address),
    () => (job.escrowed + c.amount > U64_MAX || c.escrowToken!.amount + c.amount > U64_MAX ? "MathOverflow" : null),
  );
}

/** Whether a top-up of `amount` resumes a paused lease (`fund_service`: the escrow then pays a period). */
export function resumes(job: JobAccount, service: ServiceAccount, escrowBalance: bigint, amount: bigint): boolean {
  return isPaused(service) && escrowBalance + amount >= servicePeriodCost(job, service);
}

export interface PauseServiceInput {
  market: Keyed<MarketAccount>;
  job: Keyed<JobAccount>;
  escrow: PublicKey;
  escrowToken: TokenState | null;
  service: Keyed<ServiceAccount>;
}

export function pauseService(c: PauseServiceInput): Verdict {
  const gone = missing(c.market, c.job);
  if (gone) return gone;
  const job = c.job.account!;
  if (!isService(job)) return "NotAService";
  const service = c.service.account;
  if (!service) return "InvalidAccountOwner";
  return first(
    () => (job.market.equals(c.market.address) ? null : "MarketMismatch"),
    () => checkTerms(service, { address: c.job.address, account: job }),
    () => (c.escrow.equals(job.escrow) ? null : "InvalidVault"),
    () => (stateOf(job) === "running" ? null : "InvalidJobState"),
    () => (isPaused(service) ? "ServicePaused" : null),
    () => expectToken(c.escrowToken, job.paymentMint, c.job.address),
    () => {
      const needed = minDeposit(job.maxPrice, replicasToPay(job, service), service.ackPeriodSlots, job.protocolFeeBps, job.crankFee);
      if (needed === null) return "MathOverflow";
      return c.escrowToken!.amount >= needed ? "DepositCoversPeriod" : null;
    },
  );
}

/** What a claim settles: the slots paid, the owner's pay and the protocol's fee. */
export interface ServiceClaim {
  slots: bigint;
  pay: bigint;
  fee: bigint;
}

/** `service::affordable_slots`: the most whole slots `available` pays at `rate`, the fee charged on the whole pay. */
export function affordableSlots(rate: bigint, feeBps: number, available: bigint): bigint {
  const cost = (slots: bigint) => rate * slots + bps(rate * slots, feeBps);
  const fitting = ((available / rate) * 10_000n) / (10_000n + BigInt(feeBps));
  for (const more of [2n, 1n]) if (cost(fitting + more) <= available) return fitting + more;
  return fitting;
}

/** `Service::claimable_slots` then `settle_claim` over the escrow less the crank fee: what an
 * acknowledgement up to `upToSlot` pays `bid` now, or the error the claim fails with. */
export function serviceClaim(job: JobAccount, service: ServiceAccount, bid: BidAccount, upToSlot: bigint, now: bigint, escrowBalance: bigint): ServiceClaim | ProgramErrorName {
  if (upToSlot > now) return "AcknowledgementAhead";
  if (bid.startedSlot + job.requirements.maxDurationSlots > U64_MAX) return "MathOverflow";
  const end = replicaEnd(job, service, bid);
  const until = upToSlot < end ? upToSlot : end;
  const from = paidThrough(bid);
  if (until <= from) return "StaleAcknowledgement";
  const rate = bid.awardedPrice;
  if (rate === 0n) return "InvalidPrice";
  const available = escrowBalance > job.crankFee ? escrowBalance - job.crankFee : 0n;
  const affordable = affordableSlots(rate, job.protocolFeeBps, available);
  const slots = until - from < affordable ? until - from : affordable;
  if (slots === 0n) return "DepositExhausted";
  const pay = rate * slots;
  return { slots, pay, fee: bps(pay, job.protocolFeeBps) };
}

/** What the Ed25519 program instruction right before a claim verified (its signature sound). */
export interface VerifiedAcknowledgement {
  signer: PublicKey;
  job: PublicKey;
  jobIncarnation: bigint;
  provider: PublicKey;
  upToSlot: bigint;
}

export interface ClaimServiceInput {
  now: bigint;
  owner: PublicKey;
  ownerToken: TokenState | null;
  config: Keyed<ConfigAccount>;
  job: Keyed<JobAccount>;
  escrow: PublicKey;
  escrowToken: TokenState | null;
  service: Keyed<ServiceAccount>;
  bid: Keyed<BidAccount>;
  treasuryToken: TokenState | null;
  /** The claim's argument. */
  upToSlot: bigint;
  /** The acknowledgement verified by the instruction just before; null when that is not a
   * verification of exactly one signature held in its own data (or there is none). A signature
   * that does not verify fails the transaction in the Ed25519 program, before any check here. */
  acknowledgement: VerifiedAcknowledgement | null;
}

export function claimService(c: ClaimServiceInput): Verdict {
  const gone = missing(c.config, c.job, c.service, c.bid);
  if (gone) return gone;
  const config = c.config.account!;
  const job = c.job.account!;
  const service = c.service.account!;
  const bid = c.bid.account!;
  return first(
    () => (isService(job) ? null : "NotAService"),
    () => checkTerms(service, { address: c.job.address, account: job }),
    () => (c.escrow.equals(job.escrow) ? null : "InvalidVault"),
    () => checkJob(bid, { address: c.job.address, account: job }),
    () => (c.owner.equals(bid.owner) ? null : "NotBidOwner"),
    () => (holdsAward(bid, job) ? null : "NotAssignedWinner"),
    () => (statusOf(bid) === "started" ? null : "ReplicaNotStarted"),
    () => expectToken(c.ownerToken, job.paymentMint, bid.owner),
    () => expectToken(c.treasuryToken, job.paymentMint, config.treasury),
    () => {
      const ack = c.acknowledgement;
      const signed = ack !== null && ack.signer.equals(service.watchdog) && ack.job.equals(c.job.address) && ack.jobIncarnation === job.incarnation;
      return signed && ack.provider.equals(bid.provider) && ack.upToSlot === c.upToSlot ? null : "InvalidAcknowledgement";
    },
    () => {
      // The escrow was checked against the job's; it is the job's token account. serviceClaim
      // refuses an acknowledgement ahead of the clock first, as the program does.
      const settled = serviceClaim(job, service, bid, c.upToSlot, c.now, c.escrowToken?.amount ?? 0n);
      return typeof settled === "string" ? settled : null;
    },
  );
}

export interface EndReplicaInput {
  signer: PublicKey;
  /** The lease's market: its bid window is the seat round's. */
  market: Keyed<MarketAccount>;
  job: Keyed<JobAccount>;
  service: Keyed<ServiceAccount>;
  bid: Keyed<BidAccount>;
  /** Put the seat up for a replacement (the consumer or its watchdog only). */
  replace: boolean;
}

export function endReplica(c: EndReplicaInput): Verdict {
  // Loaded in this order: job, market, terms, bid.
  const gone = missing(c.job, c.market, c.service, c.bid);
  if (gone) return gone;
  const job = c.job.account!;
  const service = c.service.account!;
  const bid = c.bid.account!;
  return first(
    () => (isService(job) ? null : "NotAService"),
    () => (job.market.equals(c.market.address) ? null : "MarketMismatch"),
    () => checkTerms(service, { address: c.job.address, account: job }),
    () => checkJob(bid, { address: c.job.address, account: job }),
    () => (stateOf(job) === "running" ? null : "InvalidJobState"),
    () => (holdsAward(bid, job) && statusOf(bid) === "started" ? null : "NotAssignedWinner"),
    () => (bid.endedSlot !== 0n ? "ReplicaEnded" : null),
    () => {
      // The consumer's side first: a consumer that owns the replica may still ask for a replacement.
      if (c.signer.equals(job.consumer) || c.signer.equals(service.watchdog)) return null;
      if (c.signer.equals(bid.owner)) return c.replace ? "ReplacementByOwner" : null;
      return "NotServiceParty";
    },
    () => (c.replace ? requestSeat(job, service) : null),
  );
}

/** The `ended_slot` end_replica writes: now for the consumer or its watchdog (checked first, so a
 * consumer that owns the replica ends it at once), one period on for the owner's notice. */
export function replicaEndedAt(job: JobAccount, service: ServiceAccount, bid: BidAccount, signer: PublicKey, now: bigint): bigint {
  const byConsumer = signer.equals(job.consumer) || signer.equals(service.watchdog);
  const ended = byConsumer || !signer.equals(bid.owner) ? now : now + service.ackPeriodSlots;
  return ended > 1n ? ended : 1n;
}

export interface BidSeatInput {
  now: bigint;
  owner: PublicKey;
  provider: Keyed<ProviderAccount>;
  market: Keyed<MarketAccount>;
  job: Keyed<JobAccount>;
  service: Keyed<ServiceAccount>;
  /** The bid address given, the PDA ["bid", job, provider], and whether an account lives there. */
  bid: { address: PublicKey; expected: PublicKey; exists: boolean };
  price: bigint;
}

/** bid_seat: its own checks, then the bid's creation shared with place_bid (`NewBid::create`). */
export function bidSeat(c: BidSeatInput): Verdict {
  // Loaded in this order: provider, market, job, terms.
  const gone = missing(c.provider, c.market, c.job, c.service);
  if (gone) return gone;
  const provider = c.provider.account!;
  const market = c.market.account!;
  const job = c.job.account!;
  const service = c.service.account!;
  return first(
    () => (c.owner.equals(provider.owner) ? null : "NotProviderOwner"),
    () => (provider.market.equals(c.market.address) && job.market.equals(c.market.address) ? null : "MarketMismatch"),
    () => (isService(job) ? null : "NotAService"),
    () => checkTerms(service, { address: c.job.address, account: job }),
    () => (stateOf(job) === "running" ? null : "InvalidJobState"),
    () => checkSeatBidding(service, c.now),
    () => (admits(job, provider) ? null : "RequirementsNotMet"),
    () => (bondedStake(provider) >= market.params.minStake ? null : "BelowMinimumStake"),
    () => (c.price > 0n && c.price <= job.maxPrice ? null : "PriceAboveMax"),
    () => (c.bid.address.equals(c.bid.expected) ? null : "InvalidPda"),
    () => (c.bid.exists ? "AccountAlreadyInitialized" : null),
    () => (bidLock(job, market) <= freeStake(provider) ? null : "InsufficientFreeStake"),
  );
}

export interface AwardSeatInput {
  now: bigint;
  market: Keyed<MarketAccount>;
  job: Keyed<JobAccount>;
  service: Keyed<ServiceAccount>;
  /** The remaining accounts: the bids given as the round's winners, in order. */
  bids: Keyed<BidAccount>[];
}

export function awardSeat(c: AwardSeatInput): Verdict {
  // Loaded in this order: market, job, terms.
  const gone = missing(c.market, c.job, c.service);
  if (gone) return gone;
  const job = c.job.account!;
  const service = c.service.account!;
  const head = first(
    () => (job.market.equals(c.market.address) ? null : "MarketMismatch"),
    () => (isService(job) ? null : "NotAService"),
    () => checkTerms(service, { address: c.job.address, account: job }),
    () => (stateOf(job) === "running" ? null : "InvalidJobState"),
    () => checkSeatAward(service, c.now),
    () => (c.bids.length >= seatsToAward(job, service) ? null : "WinnersMissing"),
  );
  if (head) return head;
  for (const [rank, expected] of seatWinners(job, service).entries()) {
    const bid = c.bids[rank].account;
    if (!bid) return "InvalidAccountOwner";
    if (!bid.job.equals(c.job.address) || !bid.provider.equals(expected)) return "WrongWinner";
    if (!ofIncarnation(bid, job)) return "StaleBid";
    if (statusOf(bid) !== "active") return "WrongWinner";
  }
  return null;
}

export interface StartSeatInput {
  now: bigint;
  owner: PublicKey;
  job: Keyed<JobAccount>;
  service: Keyed<ServiceAccount>;
  bid: Keyed<BidAccount>;
}

export function startSeat(c: StartSeatInput): Verdict {
  // Loaded in this order: job, terms, bid.
  const gone = missing(c.job, c.service, c.bid);
  if (gone) return gone;
  const job = c.job.account!;
  const service = c.service.account!;
  const bid = c.bid.account!;
  return first(
    () => (c.owner.equals(bid.owner) ? null : "NotBidOwner"),
    () => (isService(job) ? null : "NotAService"),
    () => checkTerms(service, { address: c.job.address, account: job }),
    () => checkJob(bid, { address: c.job.address, account: job }),
    () => checkSeatStart(job, bid.awardedSlot, c.now),
    () => advance(bid, job, "won"),
    // `Service::record_seat_start`: a won seat is counted as starting (never zero here).
    () => (service.seatsStarting > 0 ? null : "MathOverflow"),
  );
}

/** A seat won on a running lease that its winner may start now. */
export function seatStartOpen(job: JobAccount, bid: BidAccount, slot: bigint): boolean {
  return seatAwaitingStart(bid, job) && slot <= seatStartDeadline(job, bid.awardedSlot);
}

export interface CloseReplicaInput {
  now: bigint;
  keeper: PublicKey;
  keeperToken: TokenState | null;
  job: Keyed<JobAccount>;
  escrow: PublicKey;
  service: Keyed<ServiceAccount>;
  bid: Keyed<BidAccount>;
  provider: Keyed<ProviderAccount>;
  owner: PublicKey;
  consumer: PublicKey;
  consumerToken: TokenState | null;
}

export function closeReplica(c: CloseReplicaInput): Verdict {
  // Loaded in this order: job, terms, provider, bid.
  const gone = missing(c.job, c.service, c.provider, c.bid);
  if (gone) return gone;
  const job = c.job.account!;
  const service = c.service.account!;
  const bid = c.bid.account!;
  return first(
    () => (isService(job) ? null : "NotAService"),
    () => checkTerms(service, { address: c.job.address, account: job }),
    () => (c.escrow.equals(job.escrow) ? null : "InvalidVault"),
    () => (c.consumer.equals(job.consumer) ? null : "ConsumerMismatch"),
    () => checkJob(bid, { address: c.job.address, account: job }),
    () => (bid.provider.equals(c.provider.address) && c.owner.equals(bid.owner) ? null : "BidMismatch"),
    () => (stateOf(job) === "running" ? null : "InvalidJobState"),
    () => (holdsAward(bid, job) && statusOf(bid) === "started" ? null : "NotAssignedWinner"),
    () => {
      if (bid.startedSlot + job.requirements.maxDurationSlots > U64_MAX) return "MathOverflow";
      const end = replicaEnd(job, service, bid);
      if (end + service.ackPeriodSlots > U64_MAX) return "MathOverflow";
      return paidThrough(bid) >= end || c.now > end + service.ackPeriodSlots ? null : "ReplicaStillClaimable";
    },
    () => expectToken(c.keeperToken, job.paymentMint, c.keeper),
    () => expectToken(c.consumerToken, job.paymentMint, job.consumer),
    () => (closeWaitsForSeat(job, service) ? "ReplacementPending" : null),
  );
}

/** Whether closing this replica settles the lease (`Service::closing_settles`: it is the last of
 * every replica the lease started, the first round's and the seats'). */
export function settlesLease(job: JobAccount, service: ServiceAccount): boolean {
  return service.closedReplicas + 1 >= leaseReplicas(job, service);
}


export interface CloseServiceInput {
  service: Keyed<ServiceAccount>;
  /** The job address given and the live Job there, if any. */
  job: Keyed<JobAccount>;
  consumer: PublicKey;
}

export function closeService(c: CloseServiceInput): Verdict {
  const service = c.service.account;
  if (!service) return "InvalidAccountOwner";
  return first(
    () => (service.job.equals(c.job.address) ? null : "ServiceMismatch"),
    () => (c.consumer.equals(service.consumer) ? null : "ConsumerMismatch"),
    () => (c.job.account && service.jobIncarnation === c.job.account.incarnation ? "ServiceStillOpen" : null),
  );
}

/** Terms whose job is gone or was posted again since: close_service returns their rent. */
export function serviceTermsDead(service: ServiceAccount, job: JobAccount | null): boolean {
  return job === null || service.jobIncarnation !== job.incarnation;
}

// --- stake ---------------------------------------------------------------------------

export function stake(c: { owner: PublicKey; provider: Keyed<ProviderAccount>; vault: PublicKey; ownerToken: TokenState | null; amount: bigint }): Verdict {
  const provider = c.provider.account;
  if (!provider) return "InvalidAccountOwner";
  return first(
    () => (c.owner.equals(provider.owner) ? null : "NotProviderOwner"),
    () => (c.vault.equals(provider.vault) ? null : "InvalidVault"),
    () => (c.amount > 0n ? null : "ZeroAmount"),
    () => expectToken(c.ownerToken, provider.stakeMint, c.owner),
    () => (c.ownerToken!.amount >= c.amount ? null : "InsufficientFunds"),
    () => (provider.staked + c.amount > U64_MAX ? "MathOverflow" : null),
  );
}

export function requestUnstake(c: { owner: PublicKey; provider: Keyed<ProviderAccount>; market: Keyed<MarketAccount>; amount: bigint }): Verdict {
  const provider = c.provider.account;
  if (!provider) return "InvalidAccountOwner";
  return first(
    () => (c.owner.equals(provider.owner) ? null : "NotProviderOwner"),
    () => (c.market.address.equals(provider.market) ? null : "MarketMismatch"),
    () => (c.market.account ? null : "InvalidAccountOwner"),
    () => (c.amount > 0n ? null : "ZeroAmount"),
    () => (c.amount <= freeStake(provider) ? null : "InsufficientFreeStake"),
  );
}

export function withdrawUnstaked(c: { now: bigint; owner: PublicKey; provider: Keyed<ProviderAccount>; vault: PublicKey; ownerToken: TokenState | null }): Verdict {
  const provider = c.provider.account;
  if (!provider) return "InvalidAccountOwner";
  return first(
    () => (c.owner.equals(provider.owner) ? null : "NotProviderOwner"),
    () => (c.vault.equals(provider.vault) ? null : "InvalidVault"),
    () => expectToken(c.ownerToken, provider.stakeMint, c.owner),
    () => (provider.unbonding > 0n ? null : "NothingToWithdraw"),
    () => (c.now >= provider.unlockSlot ? null : "UnbondingNotElapsed"),
  );
}

// --- deadlines: what is due, for keepers and provider nodes ------------------------------

export const awardDue = (job: JobAccount, slot: bigint): boolean => checkAward(job, slot) === null;
export const expiryDue = (job: JobAccount, slot: bigint): boolean => checkExpiry(job, slot) === null;

/** A winner that has not started by the start deadline (a lease's seat: `seatNoShowDue`). */
export function noShowDue(job: JobAccount, bid: BidAccount, slot: bigint): boolean {
  return stateOf(job) === "awarded" && slot > job.progress.startDeadlineSlot && holdsAward(bid, job) && statusOf(bid) === "won";
}

/** A service lease (paid per acknowledged slot), not a batch job with a result. */
export function isService(job: JobAccount): boolean {
  return variantOf(job.kind) === "service";
}

/** One more period of every replica still to be paid (started and not closed, and the seats
 * about to start) at the lease's highest rate, with fees and the settlement's crank fee: what a
 * live lease's escrow must hold (program: `covers_a_period`). */
export function servicePeriodCost(job: JobAccount, service: ServiceAccount): bigint {
  const open = BigInt(replicasToPay(job, service));
  const all = job.maxPrice * service.ackPeriodSlots * open;
  return all + (all * BigInt(job.protocolFeeBps)) / 10_000n + job.crankFee;
}

/** A running lease, not paused, whose escrow holds less than a period (program: `pause_service`). */
export function pauseDue(job: JobAccount, service: ServiceAccount, escrowBalance: bigint): boolean {
  return isService(job) && stateOf(job) === "running" && service.pausedSlot === 0n && escrowBalance < servicePeriodCost(job, service);
}

/** A batch winner that missed its commit deadline; a service has none (program: `check_timeout`). */
export function timeoutDue(job: JobAccount, bid: BidAccount, slot: bigint): boolean {
  return !isService(job) && stateOf(job) === "running" && slot > job.progress.commitDeadlineSlot && holdsAward(bid, job) && statusOf(bid) !== "committed";
}

/** `Service::paid_through`: the slot a replica is paid up to, its last claim or its start. */
export function paidThrough(bid: BidAccount): bigint {
  return bid.claimedSlot > bid.startedSlot ? bid.claimedSlot : bid.startedSlot;
}

/** `Service::replica_end`: a replica's last paid slot: its end when set, the pause's end while
 * paused, never past the lease's longest term from its start. */
export function replicaEnd(job: JobAccount, service: ServiceAccount, bid: BidAccount): bigint {
  let end = bid.startedSlot + job.requirements.maxDurationSlots;
  if (bid.endedSlot > 0n && bid.endedSlot < end) end = bid.endedSlot;
  if (service.pausedSlot > 0n && service.pauseEndsSlot < end) end = service.pauseEndsSlot;
  return end;
}

/** An ended replica (or one past its term) paid through its end, or whose owner had a period
 * after it to claim: nobody else frees its stake lock or settles the lease (program:
 * `close_replica`'s validate; the job's address is the bid's, as `check_job` requires). */
export function replicaCloseDue(job: JobAccount, service: ServiceAccount, bid: BidAccount, slot: bigint): boolean {
  const ofLease = isService(job) && service.job.equals(bid.job) && service.jobIncarnation === job.incarnation;
  if (!ofLease || stateOf(job) !== "running" || !holdsAward(bid, job) || statusOf(bid) !== "started") return false;
  const end = replicaEnd(job, service, bid);
  const claimUntil = end + service.ackPeriodSlots;
  // The program's checked additions fail past u64 (out of reach with its duration bound).
  if (bid.startedSlot + job.requirements.maxDurationSlots > U64_MAX || claimUntil > U64_MAX) return false;
  return (paidThrough(bid) >= end || slot > claimUntil) && !closeWaitsForSeat(job, service);
}

/** The winners' bids that count at finalize: the ranked winners holding the award or refuted in it. */
export function currentWinners(job: JobAccount, bids: readonly BidAccount[]): BidAccount[] {
  return ranked(job)
    .slice(0, job.replication)
    .map((entry) => bids.find((bid) => bid.provider.equals(entry.provider) && ofIncarnation(bid, job)))
    .filter((bid): bid is BidAccount => bid !== undefined && (holdsAward(bid, job) || refutedIn(bid, job)));
}

/** The challenge window passed with no game open, and a machine job's standing winners agree. */
export function finalizeDue(job: JobAccount, slot: bigint, bids: readonly BidAccount[] = []): boolean {
  if (checkFinalize(job, slot) !== null) return false;
  if (!isMachine(job)) return true;
  return finalizeOutcomes(job, currentWinners(job, bids)) !== "ResultsDiffer";
}

/** A refereed job whose two committed winners differ, with no game yet: its two bids, ranking order. */
export function refereeDue(job: JobAccount, bids: readonly BidAccount[], hasGame: boolean): [BidAccount, BidAccount] | null {
  if (variantOf(job.mode) !== "refereed" || stateOf(job) !== "committed" || hasGame || job.auction.rankedCount < 2) return null;
  const [a, b] = ranked(job)
    .slice(0, 2)
    .map((entry) => bids.find((bid) => bid.provider.equals(entry.provider) && ofIncarnation(bid, job)));
  if (!a || !b) return null;
  const committed = (bid: BidAccount) => holdsAward(bid, job) && statusOf(bid) === "committed";
  if (!committed(a) || !committed(b) || sameBytes(a.finalStateHash, b.finalStateHash)) return null;
  return [a, b];
}

/** A committed verifiable result still open to challenge at `slot`. */
export function challengeOpen(job: JobAccount, bid: BidAccount, slot: bigint): boolean {
  return variantOf(job.mode) === "verifiable" && stateOf(job) === "committed" && slot < job.progress.challengeDeadlineSlot && holdsAward(bid, job) && statusOf(bid) === "committed";
}

/** Bids are accepted now. */
export const canBid = (job: JobAccount, slot: bigint): boolean => stateOf(job) === "open" && slot <= job.bidDeadlineSlot;

/** A sealed bid can be revealed now. */
export function revealDue(job: JobAccount, bid: BidAccount, slot: bigint): boolean {
  return stateOf(job) === "open" && job.sealed && statusOf(bid) === "sealed" && slot > job.bidDeadlineSlot && slot <= job.revealDeadlineSlot;
}

/** A sealed result can be revealed now. */
export function resultRevealDue(job: JobAccount, bid: BidAccount, slot: bigint): boolean {
  return sealsResults(job) && stateOf(job) === "committed" && statusOf(bid) === "committed" && !bid.revealed && slot < job.progress.challengeDeadlineSlot;
}

/** What a permissionless crank can do for a job at `slot`, or the slot something becomes due. */
export type DueCrank =
  | { kind: "award" }
  | { kind: "expire" }
  | { kind: "failNoShow"; provider: PublicKey }
  | { kind: "failTimeout"; provider: PublicKey }
  | { kind: "finalize" }
  | { kind: "referee"; bids: [BidAccount, BidAccount] }
  /** Nothing now; something may be due at `slot` (null: only a game or a party's move ends it). */
  | { kind: "wait"; slot: bigint | null };

/** The crank due for `job` at `slot` (its bids: every live bid on its address). */
export function dueCrank(job: JobAccount, bids: readonly BidAccount[], slot: bigint, hasRefereeGame = false): DueCrank {
  switch (stateOf(job)) {
    case "open":
      if (awardDue(job, slot)) return { kind: "award" };
      if (expiryDue(job, slot)) return { kind: "expire" };
      return { kind: "wait", slot: auctionEnd(job) + 1n };
    case "awarded": {
      const late = bids.find((bid) => noShowDue(job, bid, slot));
      if (late) return { kind: "failNoShow", provider: late.provider };
      return { kind: "wait", slot: job.progress.startDeadlineSlot + 1n };
    }
    case "running": {
      const seat = bids.find((bid) => seatNoShowDue(job, bid, slot));
      if (seat) return { kind: "failNoShow", provider: seat.provider };
      const late = bids.find((bid) => timeoutDue(job, bid, slot));
      if (late) return { kind: "failTimeout", provider: late.provider };
      // A lease's seat winners are due at their own start deadlines.
      const seats = bids.filter((bid) => seatAwaitingStart(bid, job)).map((bid) => seatStartDeadline(job, bid.awardedSlot) + 1n);
      const next = seats.length > 0 ? seats.reduce((a, b) => (a < b ? a : b)) : job.progress.commitDeadlineSlot + 1n;
      return { kind: "wait", slot: next };
    }
    case "committed": {
      const referee = refereeDue(job, bids, hasRefereeGame);
      if (referee) return { kind: "referee", bids: referee };
      if (finalizeDue(job, slot, bids)) return { kind: "finalize" };
      if (job.progress.openDisputes > 0) return { kind: "wait", slot: null };
      return { kind: "wait", slot: slot < job.progress.challengeDeadlineSlot ? job.progress.challengeDeadlineSlot : null };
    }
    default:
      // A refuted job waits for its games; other end states are closed accounts.
      return { kind: "wait", slot: null };
  }
}

/** What a game needs at `slot`: a timeout, settlement, or nothing until `slot`. */
export type DueGameCrank = { kind: "timeout" } | { kind: "settle" } | { kind: "wait"; slot: bigint };

export function dueGameCrank(dispute: DisputeAccount, slot: bigint): DueGameCrank {
  if (variantOf(dispute.status) !== "open") return { kind: "settle" };
  const at = disputeTimeoutSlot(dispute);
  return slot >= at ? { kind: "timeout" } : { kind: "wait", slot: at };
}

// --- for the daemons: the node's and dashboards' readings of the same rules -----------------

/**
 * Whether a provider node should withdraw its bid now (plan.ts's rule): the program accepts it
 * (`withdrawable`), and withdrawing gives nothing up: an open bid only once its auction ended
 * without it, an unrevealed sealed bid only after its reveal window (it forfeits either way then,
 * and waiting keeps the chance to reveal).
 */
export function withdrawWorthwhile(job: JobAccount | null, bid: BidAccount, slot: bigint): boolean {
  if (!job || !ofIncarnation(bid, job)) return true;
  if (boundToJob(bid, job)) return false;
  // A running lease's ranked seat bid binds until the round's award; an unranked one cannot win.
  if (stateOf(job) !== "open") return !rankedAndBinding(bid, job);
  if (statusOf(bid) === "sealed") return slot > job.revealDeadlineSlot;
  return slot > auctionEnd(job) && rankOf(job, bid.provider) < 0;
}

/** A dispute's standing at `slot`, for people and dashboards (the SDK exports it as `disputeStanding` too). */
export interface DisputeStanding {
  status: "open" | "providerWon" | "challengerWon";
  /** Whose move it is while open: the provider dissects, the challenger chooses, or the proof is due. */
  turn: "provider" | "challenger" | "proof";
  interval: [bigint, bigint];
  /** Slots left to the party to move (0 once it may be timed out). */
  slotsLeft: bigint;
  /** First slot in which `timeout_dispute` succeeds if the party to move stays silent. */
  timeoutSlot: bigint;
  /** Dissection rounds left at most: 16-way splits, the last segment taking the remainder. */
  roundsLeft: number;
}

/** Rounds of 16-way dissection left over [lo, hi] (the last segment takes the remainder). */
export function roundsLeft(lo: bigint, hi: bigint): number {
  let rounds = 0;
  for (let span = hi - lo; span > 1n; span = span < 16n ? 1n : span - 15n * (span / 16n)) rounds++;
  return rounds;
}

export function disputeStanding(dispute: DisputeAccount, slot: bigint): DisputeStanding {
  const timeoutSlot = disputeTimeoutSlot(dispute);
  return {
    status: variantOf(dispute.status) as DisputeStanding["status"],
    turn: variantOf(dispute.turn) as DisputeStanding["turn"],
    interval: [dispute.lo, dispute.hi],
    slotsLeft: slot >= timeoutSlot ? 0n : timeoutSlot - slot - 1n,
    timeoutSlot,
    roundsLeft: roundsLeft(dispute.lo, dispute.hi),
  };
}

/** The first slot at or after `slot` at which some permissionless crank of the job is due, or
 * null when only a party's move or a game can end its wait. */
export function nextCrankSlot(job: JobAccount, bids: readonly BidAccount[], slot: bigint, hasRefereeGame = false): bigint | null {
  const due = dueCrank(job, bids, slot, hasRefereeGame);
  return due.kind === "wait" ? due.slot : slot;
}

// --- seat rounds (keepers' and providers' planning) ----------------------------------

/** The lease's seat round takes bids now (`Service::check_seat_bidding` on a running lease). */
export function seatBiddingOpen(job: JobAccount, service: ServiceAccount, slot: bigint): boolean {
  return isService(job) && stateOf(job) === "running" && checkSeatBidding(service, slot) === null;
}

/** A seat winner that did not start by its deadline (`fail_no_show` with the lease's terms). */
export function seatNoShowDue(job: JobAccount, bid: BidAccount, slot: bigint): boolean {
  return seatAwaitingStart(bid, job) && slot > seatStartDeadline(job, bid.awardedSlot);
}

/** `Service::closing_settles` refuses: the close would be the lease's last replica's while a seat
 * is being filled (a round open, or a winner yet to start). */
export function closeWaitsForSeat(job: JobAccount, service: ServiceAccount): boolean {
  return settlesLease(job, service) && seatBeingFilled(service);
}
