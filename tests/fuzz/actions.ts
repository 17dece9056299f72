// Every action the fuzzer takes: each instruction of the program with plausible or hostile
// accounts and arguments, and the moves the program cannot prevent (dust, closing one's own token
// accounts, the clock). An action replays from its recorded random words, so a sequence can be
// shrunk by dropping steps. Each one returns what the rules module predicted and what happened.
import { createCloseAccountInstruction, createTransferInstruction, createAssociatedTokenAccountIdempotentInstruction } from "@solana/spl-token";
import { ComputeBudgetProgram, Keypair, PublicKey, TransactionInstruction } from "@solana/web3.js";
import {
  awardInstruction,
  bidCommitment,
  cancelJobInstruction,
  chooseSegmentInstruction,
  commitResultInstruction,
  commitSealedResultInstruction,
  commitVerifiableInstruction,
  ComputeMarketError,
  dissectInstruction,
  expireJobInstruction,
  failNoShowInstruction,
  failTimeoutInstruction,
  finalizeInstruction,
  findBidPda,
  findBondVaultPda,
  findDisputePda,
  findEscrowPda,
  findJobPda,
  openDisputeInstruction,
  placeBidInstruction,
  postJobInstruction,
  requestUnstakeInstruction,
  resultCommitment,
  revealBidInstruction,
  revealResultInstruction,
  rules,
  settleDisputeInstruction,
  stakeInstruction,
  timeoutDisputeInstruction,
  variantOf,
  withdrawBidInstruction,
  withdrawUnstakedInstruction,
  closeWitnessInstruction,
  findWitnessBufferPda,
  acknowledgementMessage,
  acknowledgementVerifyInstruction,
  claimServiceInstruction,
  closeReplicaInstruction,
  closeServiceInstruction,
  endReplicaInstruction,
  bidSeatInstruction,
  awardSeatInstruction,
  startSeatInstruction,
  findServicePda,
  fundServiceInstruction,
  pauseServiceInstruction,
  postServiceInstruction,
  type Acknowledgement,
  type ProviderAccount,
  type ServiceAccount,
  type BidAccount,
  type DisputeAccount,
  type FailWinnerAccounts,
  type JobAccount,
  type ProgramErrorName,
} from "@compute-market/sdk";
import { nextMove, type Trace } from "@compute-market/vm";
import { jobInput, SPEC_HASH } from "../support/fixtures";
import { gameView, LyingTrace, RandomChallenger } from "../support/verifiable";
import { Draws } from "./prng";
import { keyed, MINTED, signBytes, token, type Actor, type JobRecord, type Outcome, type ProviderInfo, type ServiceRecord, type View, type World } from "./world";
import type { Machine } from "./machine";

/** One step: what kind of action, and the random words it draws from. */
export interface Step {
  kind: ActionKind;
  words: number[];
}

/** What an action did: the instruction (or move) name, the model's prediction and the outcome. */
export interface Executed {
  name: string;
  /** null: accepted; a name: that error; "unknown": the model does not cover this; "move": not an instruction of the program. */
  predicted: ProgramErrorName | null | "unknown" | "move";
  outcome: Outcome;
  /** What a substitution swapped, to review an accepted one. */
  note?: string;
  /** Who acted (and on whose job), for reading a shrunk sequence. */
  who?: string;
  /** Refused whatever the model says: a signature the Ed25519 program cannot verify. */
  mustRefuse?: boolean;
  /** An accepted instruction did something else than the rules say (what it paid, ended, paused…). */
  check?: string;
}

export interface Context {
  w: World;
  view: View;
  d: Draws;
  machine: Machine;
  /** Rewrites the instruction before it is sent (a substitution; the model is then not asked). */
  mutate?: (ix: TransactionInstruction) => TransactionInstruction | null;
  /** The one job (address) the action picks its job, bids and games from (the `due` action). */
  focus?: string;
}

type Action = (c: Context) => Promise<Executed | null>;

const ROOT_HONEST = new Uint8Array(32).fill(0x11);
const ROOT_WRONG = new Uint8Array(32).fill(0x22);
const URI = new Uint8Array(32).fill(3);

const k = (p: PublicKey): string => p.toBase58();

/** The live record at each address (the latest post there), and all of them. */
function liveRecords(c: Context): JobRecord[] {
  const latest = new Map<string, JobRecord>();
  for (const rec of c.w.jobs) latest.set(k(rec.address), rec);
  return [...latest.values()].filter((rec) => c.view.jobs.has(k(rec.address)) && (!c.focus || k(rec.address) === c.focus));
}

/** Records of jobs the action may pick: the focused one's only, if any. */
function recordsInFocus(c: Context): JobRecord[] {
  return c.focus ? c.w.jobs.filter((rec) => k(rec.address) === c.focus) : c.w.jobs;
}

/** A job record: mostly a live one, sometimes any (closed jobs, earlier incarnations). */
function pickJob(c: Context, liveBias = 85): JobRecord | undefined {
  const live = liveRecords(c);
  if (live.length > 0 && (c.d.chance(liveBias) || c.focus)) return c.d.pick(live);
  return c.d.pick(recordsInFocus(c));
}

/** A live job for which `wanted` holds (mostly), else any job record: steps that can succeed
 * are drawn often enough that jobs go through their whole life. */
function pickJobWhere(c: Context, wanted: (job: JobAccount) => boolean, percent = 75): JobRecord | undefined {
  const fitting = liveRecords(c).filter((rec) => wanted(c.view.jobs.get(k(rec.address))!));
  if (fitting.length > 0 && c.d.chance(percent)) return c.d.pick(fitting);
  return pickJob(c);
}

/** A live bid for which `wanted` holds with its job (mostly), else any bid. */
function pickBidWhere(c: Context, wanted: (bid: BidAccount, job: JobAccount) => boolean, percent = 75): { rec: JobRecord; p: ProviderInfo; bid: PublicKey } | undefined {
  const fitting = [...c.view.bids.entries()].filter(([, bid]) => {
    if (c.focus && k(bid.job) !== c.focus) return false;
    const job = c.view.jobs.get(k(bid.job));
    return job !== undefined && wanted(bid, job);
  });
  if (fitting.length > 0 && c.d.chance(percent)) {
    const [address, bid] = c.d.pick(fitting)!;
    const recs = c.w.jobs.filter((r) => r.address.equals(bid.job));
    const p = providerByAddress(c.w, bid.provider);
    if (recs.length > 0 && p) return { rec: recs[recs.length - 1], p, bid: new PublicKey(address) };
  }
  // With nothing fitting, a hostile try at any bid only now and then: most would fail the same way.
  if (fitting.length === 0 && !c.d.chance(30)) return undefined;
  return pickBid(c);
}

function jobOf(c: Context, rec: JobRecord): JobAccount | null {
  return c.view.jobs.get(k(rec.address)) ?? null;
}

function bidsOn(view: View, job: PublicKey): { address: PublicKey; bid: BidAccount }[] {
  const out = [];
  for (const [address, bid] of view.bids) if (bid.job.equals(job)) out.push({ address: new PublicKey(address), bid });
  return out;
}

function providerByAddress(w: World, address: PublicKey): ProviderInfo | undefined {
  return w.providers.find((p) => p.address.equals(address));
}

function actorByKey(w: World, key: PublicKey): Actor | undefined {
  return w.actors.find((a) => a.publicKey.equals(key));
}

function marketIndex(w: World, market: PublicKey): number {
  return Math.max(0, w.markets.findIndex((m) => m.address.equals(market)));
}

/** Another market's address than `market` (a substitution). */
function otherMarket(w: World, market: PublicKey): PublicKey {
  return w.markets[(marketIndex(w, market) + 1) % w.markets.length].address;
}

function price(c: Context, max: bigint): bigint {
  if (c.d.chance(4)) return 0n;
  if (c.d.chance(4)) return max + 1n;
  return max / 4n + (BigInt(c.d.next()) % ((3n * max) / 4n + 1n));
}

/** Sends the instruction (substituted when the context says so) after `before` (an Ed25519 verification). */
async function sendIx(c: Context, payer: Actor, name: string, predicted: Executed["predicted"], ix: Promise<TransactionInstruction> | TransactionInstruction, signers: Keypair[] = [], before: TransactionInstruction[] = []): Promise<Executed> {
  const built = await ix;
  const mutated = c.mutate ? c.mutate(built) : built;
  if (mutated === null) return { name, predicted, outcome: c.w.send(payer.keypair, [...before, built], signers) };
  return { name, predicted: mutated === built ? predicted : "unknown", outcome: c.w.send(payer.keypair, [...before, mutated], signers) };
}

async function sendBy(who: string, done: Promise<Executed>): Promise<Executed> {
  return { ...(await done), who };
}

/** Runs an SDK call that may send several transactions (the model does not cover it). */
async function viaClient(name: string, call: () => Promise<unknown>): Promise<Executed> {
  try {
    await call();
    return { name, predicted: "unknown", outcome: { ok: true } };
  } catch (error) {
    const named = error instanceof ComputeMarketError ? error.errorName : `other: ${String(error).slice(0, 160)}`;
    return { name, predicted: "unknown", outcome: { ok: false, error: named } };
  }
}

// --- consumers ---------------------------------------------------------------------

const postJob: Action = async (c) => {
  const { w, d, view, machine } = c;
  const consumer = d.pick([...w.consumers, w.attacker])!;
  const m = d.below(w.markets.length);
  const market = w.markets[m];
  // Reusing the nonce of a closed job posts a new incarnation at the same address.
  const closed = w.jobs.filter((rec) => rec.consumer === consumer && !view.jobs.has(k(rec.address)));
  const reuse = closed.length > 0 && d.chance(35) ? d.pick(closed) : undefined;
  const nonce = reuse ? reuse.nonce : BigInt(d.next()) * 4_294_967_296n + BigInt(d.next());
  const modeRoll = d.below(100);
  const mode = modeRoll < 12 ? "verifiable" : modeRoll < 18 ? "refereed" : "replicated";
  const replication = mode === "verifiable" ? 1 : mode === "refereed" ? 2 : d.pick([0, 1, 1, 2, 3])!;
  const sealed = mode === "replicated" && d.chance(30);
  const maxPrice = d.pick([1_000_000n, 2_000_000n])!;
  const instantPrice = !sealed && d.chance(20) ? maxPrice / 2n : 0n;
  const hostile = d.below(100);
  const duration = BigInt(15 + d.below(40));
  const requirements = {
    gpuCount: hostile < 4 ? 8 : 1,
    vramMb: 16_384,
    cpuCores: 4,
    memoryMb: 16_384,
    diskGb: 10,
    maxDurationSlots: hostile >= 4 && hostile < 6 ? 0n : duration,
  };
  const program = mode === "replicated" ? undefined : { codeRoot: machine.codeRoot, inputRoot: machine.inputRoot, maxSteps: 1n << 32n };
  const input = jobInput(market.address, {
    mode,
    replication,
    sealed,
    maxPrice,
    instantPrice,
    onFailure: d.chance(50) ? "reopen" : "refund",
    bidWindowSlots: d.pick([0n, 0n, 10n, 25n])!,
    requirements,
    program,
  });
  const job = findJobPda({ consumer: consumer.publicKey, nonce, programId: w.programId })[0];
  const escrow = findEscrowPda({ job, programId: w.programId })[0];
  const consumerToken = w.ata(consumer.publicKey, market.paymentMint);
  const predicted = rules.postJob({
    config: view.config,
    market: keyed(view.markets, market.address),
    paymentMint: market.paymentMint,
    mode,
    replication,
    codeRoot: program?.codeRoot ?? new Uint8Array(32),
    inputRoot: program?.inputRoot ?? new Uint8Array(32),
    maxSteps: program?.maxSteps ?? 0n,
    requirementsValid: requirements.maxDurationSlots > 0n,
    maxPrice,
    instantPrice,
    sealed,
    bidWindowSlots: input.bidWindowSlots,
    consumer: consumer.publicKey,
    consumerToken: token(view, consumerToken),
    job: { address: job, expected: job, exists: view.jobs.has(k(job)) },
    escrow: { address: escrow, expected: escrow, exists: view.tokens.has(k(escrow)) },
  });
  const ix = postJobInstruction(w.client.program, { ...input, nonce }, {
    consumer: consumer.publicKey,
    config: w.config,
    market: market.address,
    job,
    escrow,
    consumerToken,
    paymentMint: market.paymentMint,
  });
  const done = { ...(await sendIx(c, consumer, "post_job", predicted, ix)), who: `${consumer.name}, market ${m}, ${mode} r=${replication}${sealed ? " sealed" : ""}` };
  if (done.outcome.ok) w.jobs.push({ address: job, escrow, consumer, market: m, nonce, bidSecrets: new Map(), resultSecrets: new Map() });
  return done;
};

const cancelJob: Action = async (c) => {
  const rec = pickJob(c);
  if (!rec) return null;
  const signer = c.d.chance(80) ? rec.consumer : c.w.attacker;
  const mint = c.w.markets[rec.market].paymentMint;
  const consumerToken = c.w.ata(signer.publicKey, mint);
  const predicted = rules.cancelJob({
    consumer: signer.publicKey,
    job: keyed(c.view.jobs, rec.address),
    escrow: rec.escrow,
    consumerToken: token(c.view, consumerToken),
    escrowToken: token(c.view, rec.escrow),
  });
  return sendIx(c, signer, "cancel_job", predicted, cancelJobInstruction(c.w.client.program, { consumer: signer.publicKey, job: rec.address, escrow: rec.escrow, consumerToken }));
};

// --- bidding -----------------------------------------------------------------------

/** A provider: mostly one of the job's market, sometimes any (another market's). */
function pickProvider(c: Context, rec: JobRecord): ProviderInfo {
  const own = c.w.providers.filter((p) => p.market === rec.market);
  return (c.d.chance(90) ? c.d.pick(own) : c.d.pick(c.w.providers))!;
}

const placeBid: Action = async (c) => {
  const { w, d, view } = c;
  const rec = pickJobWhere(c, (job) => rules.canBid(job, view.slot));
  if (!rec) return null;
  const p = pickProvider(c, rec);
  const job = jobOf(c, rec);
  const market = d.chance(6) ? otherMarket(w, w.markets[rec.market].address) : (job?.market ?? w.markets[rec.market].address);
  const bid = findBidPda({ job: rec.address, provider: p.address, programId: w.programId })[0];
  const max = job?.maxPrice ?? 2_000_000n;
  let bidPrice = price(c, max);
  let commitment: Uint8Array = new Uint8Array(32);
  const secret = { price: bidPrice === 0n ? 1n : bidPrice, salt: d.bytes32() };
  const sealedShape = job?.sealed ? !d.chance(5) : d.chance(4);
  if (sealedShape) {
    commitment = bidCommitment(secret.price, secret.salt, p.address);
    bidPrice = 0n;
  }
  const predicted = rules.placeBid({
    now: view.slot,
    owner: p.owner.publicKey,
    provider: keyed(view.providers, p.address),
    market: keyed(view.markets, market),
    job: keyed(view.jobs, rec.address),
    bid: { address: bid, expected: bid, exists: view.bids.has(k(bid)) },
    price: bidPrice,
    commitment,
  });
  const done = await sendBy(`${p.owner.name} on ${rec.consumer.name}'s job`, sendIx(c, p.owner, "place_bid", predicted, placeBidInstruction(w.client.program, { price: bidPrice, commitment }, { owner: p.owner.publicKey, provider: p.address, market, job: rec.address, bid })));
  if (done.outcome.ok && sealedShape) rec.bidSecrets.set(k(p.address), secret);
  return done;
};

const revealBid: Action = async (c) => {
  const { w, d, view } = c;
  const sealed = recordsInFocus(c).filter((rec) => rec.bidSecrets.size > 0);
  const open = sealed.filter((rec) => view.jobs.get(k(rec.address))?.sealed);
  const rec = open.length > 0 && d.chance(85) ? d.pick(open) : d.pick(sealed);
  if (!rec) return null;
  const [providerKey, secret] = d.pick([...rec.bidSecrets.entries()])!;
  const p = providerByAddress(w, new PublicKey(providerKey))!;
  const salt = d.chance(10) ? d.bytes32() : secret.salt;
  const revealed = d.chance(8) ? secret.price + 1n : secret.price;
  // A hostile reveal names another provider account of the same owner (another market).
  const provider = d.chance(5) ? (w.providers.find((q) => q.owner === p.owner && q !== p)?.address ?? p.address) : p.address;
  const bid = findBidPda({ job: rec.address, provider: p.address, programId: w.programId })[0];
  const predicted = rules.revealBid({
    now: view.slot,
    owner: p.owner.publicKey,
    provider: keyed(view.providers, provider),
    job: keyed(view.jobs, rec.address),
    bid: keyed(view.bids, bid),
    price: revealed,
    salt,
  });
  return sendIx(c, p.owner, "reveal_bid", predicted, revealBidInstruction(w.client.program, { price: revealed, salt }, { owner: p.owner.publicKey, provider, job: rec.address, bid }));
};

/** A bid that exists (mostly) or might: its record, provider and address. */
function pickBid(c: Context): { rec: JobRecord; p: ProviderInfo; bid: PublicKey } | undefined {
  const { w, d, view } = c;
  const live = [...view.bids.entries()];
  if (live.length > 0 && d.chance(85)) {
    const [address, bid] = d.pick(live)!;
    const recs = w.jobs.filter((r) => r.address.equals(bid.job));
    const rec = recs[recs.length - 1];
    const p = providerByAddress(w, bid.provider);
    if (rec && p) return { rec, p, bid: new PublicKey(address) };
  }
  const rec = pickJob(c);
  if (!rec) return undefined;
  const p = pickProvider(c, rec);
  return { rec, p, bid: findBidPda({ job: rec.address, provider: p.address, programId: w.programId })[0] };
}

async function withdrawBidAs(c: Context, p: ProviderInfo, jobAddress: PublicKey, bid: PublicKey, market: PublicKey): Promise<Executed> {
  const { w, view } = c;
  const treasuryStakeToken = w.ata(view.config.treasury, w.markets[p.market].stakeMint);
  const predicted = rules.withdrawBid({
    now: view.slot,
    owner: p.owner.publicKey,
    provider: keyed(view.providers, p.address),
    vault: p.vault,
    config: keyed(new Map([[k(w.config), view.config]]), w.config),
    market: keyed(view.markets, market),
    job: keyed(view.jobs, jobAddress),
    bid: keyed(view.bids, bid),
    treasuryStakeToken: token(view, treasuryStakeToken),
  });
  const ix = withdrawBidInstruction(w.client.program, {
    owner: p.owner.publicKey,
    provider: p.address,
    vault: p.vault,
    config: w.config,
    market,
    job: jobAddress,
    bid,
    treasuryStakeToken,
  });
  return sendIx(c, p.owner, "withdraw_bid", predicted, ix);
}

const withdrawBid: Action = async (c) => {
  // Now and then a ranked seat bid of an open round (it binds until the award: BidIsRanked).
  const seatBound = (bid: BidAccount, job: JobAccount) => rules.isService(job) && rules.stateOf(job) === "running" && rules.rankedAndBinding(bid, job);
  const picked = (c.d.chance(15) ? pickBidWhere(c, seatBound, 100) : undefined) ?? pickBidWhere(c, (bid, job) => rules.withdrawable(bid, job, bid.job), 50);
  if (!picked) return null;
  const { p, rec, bid } = picked;
  const market = c.d.chance(6) ? otherMarket(c.w, c.w.markets[p.market].address) : c.w.markets[p.market].address;
  return withdrawBidAs(c, p, rec.address, bid, market);
};

// --- cranks ------------------------------------------------------------------------

const award: Action = async (c) => {
  const { w, d, view } = c;
  const rec = pickJobWhere(c, (job) => rules.awardDue(job, view.slot));
  if (!rec) return null;
  const job = jobOf(c, rec);
  const keeper = d.pick([...w.keepers, w.attacker])!;
  let winners = (job ? rules.ranked(job).slice(0, job.replication) : []).map((e) => findBidPda({ job: rec.address, provider: e.provider, programId: w.programId })[0]);
  const hostile = d.below(100);
  if (hostile < 8) winners = [...winners].reverse();
  else if (hostile < 14 && winners.length > 0) winners = [winners[0], winners[0], ...winners.slice(2)];
  else if (hostile < 20) {
    const foreign = d.pick([...view.bids.keys()]);
    if (foreign) winners = [new PublicKey(foreign), ...winners.slice(1)];
  } else if (hostile < 24) winners = winners.slice(1);
  const market = d.chance(6) ? otherMarket(w, w.markets[rec.market].address) : (job?.market ?? w.markets[rec.market].address);
  const predicted = rules.award({ now: view.slot, market: keyed(view.markets, market), job: keyed(view.jobs, rec.address), bids: winners.map((b) => keyed(view.bids, b)) });
  return sendIx(c, keeper, "award", predicted, awardInstruction(w.client.program, { cranker: keeper.publicKey, market, job: rec.address }, winners));
};

const expireJob: Action = async (c) => {
  const { w, d, view } = c;
  const rec = pickJobWhere(c, (job) => rules.expiryDue(job, view.slot), 60);
  if (!rec) return null;
  const keeper = d.pick([...w.keepers, w.attacker])!;
  const consumerToken = w.ata(rec.consumer.publicKey, w.markets[rec.market].paymentMint);
  const predicted = rules.expireJob({
    now: view.slot,
    job: keyed(view.jobs, rec.address),
    escrow: rec.escrow,
    consumer: rec.consumer.publicKey,
    consumerToken: token(view, consumerToken),
    escrowToken: token(view, rec.escrow),
  });
  return sendIx(c, keeper, "expire_job", predicted, expireJobInstruction(w.client.program, { cranker: keeper.publicKey, job: rec.address, escrow: rec.escrow, consumer: rec.consumer.publicKey, consumerToken }));
};

/** A winner of the job's current award if any (mostly; on a running lease mostly a seat winner
 * still to start), else any bid on it. */
function pickWinnerBid(c: Context, rec: JobRecord, job: JobAccount | null): { address: PublicKey; bid: BidAccount } | undefined {
  const bids = bidsOn(c.view, rec.address);
  const winners = job ? bids.filter((b) => rules.holdsAward(b.bid, job)) : [];
  const seats = job ? winners.filter((b) => rules.seatAwaitingStart(b.bid, job)) : [];
  if (seats.length > 0 && c.d.chance(75)) return c.d.pick(seats);
  return c.d.chance(85) && winners.length > 0 ? c.d.pick(winners) : c.d.pick(bids);
}

function hasSeatAwaitingStart(view: View, address: PublicKey): boolean {
  const job = view.jobs.get(k(address));
  return job !== undefined && bidsOn(view, address).some((b) => rules.seatAwaitingStart(b.bid, job));
}

/** The account after fail_no_show's fixed ones: a running lease's terms (mostly its own; hostile:
 * none, or another lease's), or none for a batch job. */
function seatTermsFor(c: Context, rec: JobRecord, job: JobAccount | null): { service?: PublicKey; what: string } {
  if (!job || !rules.isService(job) || rules.stateOf(job) !== "running") return { what: "" };
  const own = rec.service?.address ?? servicePda(c.w, rec.address);
  const h = c.d.below(100);
  if (h < 18) return { what: " (without the terms)" };
  if (h < 32) return { service: otherTerms(c, own), what: " (another lease's terms)" };
  return { service: own, what: "" };
}

async function failWinner(c: Context, which: "fail_no_show" | "fail_timeout"): Promise<Executed | null> {
  const { w, d, view } = c;
  const due = (job: JobAccount) => (which === "fail_no_show" ? rules.stateOf(job) === "awarded" : rules.stateOf(job) === "running");
  // A running lease's seat winner still to start is a no-show's target too.
  const seats = which === "fail_no_show" ? liveRecords(c).filter((r) => hasSeatAwaitingStart(view, r.address)) : [];
  const rec = seats.length > 0 && d.chance(70) ? d.pick(seats) : pickJobWhere(c, due, 70);
  if (!rec) return null;
  const job = jobOf(c, rec);
  const target = pickWinnerBid(c, rec, job);
  if (!target) return null;
  const p = providerByAddress(w, target.bid.provider)!;
  const keeper = d.pick([...w.keepers, w.attacker, rec.consumer])!;
  const market = w.markets[rec.market];
  const marketAddress = d.chance(5) ? otherMarket(w, market.address) : (job?.market ?? market.address);
  const accounts: FailWinnerAccounts = {
    keeper: keeper.publicKey,
    keeperToken: w.ata(keeper.publicKey, market.stakeMint),
    config: w.config,
    market: marketAddress,
    job: rec.address,
    escrow: rec.escrow,
    consumer: rec.consumer.publicKey,
    consumerToken: w.ata(rec.consumer.publicKey, market.paymentMint),
    consumerStakeToken: w.ata(rec.consumer.publicKey, market.stakeMint),
    treasuryStakeToken: w.ata(view.config.treasury, market.stakeMint),
    bid: target.address,
    provider: p.address,
    vault: d.chance(4) ? (d.pick(w.providers)!.vault) : p.vault,
    owner: target.bid.owner,
  };
  const input: rules.FailWinnerInput = {
    now: view.slot,
    keeper: keeper.publicKey,
    keeperToken: token(view, accounts.keeperToken),
    config: keyed(new Map([[k(w.config), view.config]]), w.config),
    market: keyed(view.markets, accounts.market),
    job: keyed(view.jobs, rec.address),
    escrow: rec.escrow,
    consumer: accounts.consumer,
    consumerToken: token(view, accounts.consumerToken),
    consumerStakeToken: token(view, accounts.consumerStakeToken),
    treasuryStakeToken: token(view, accounts.treasuryStakeToken),
    bid: keyed(view.bids, target.address),
    provider: keyed(view.providers, p.address),
    vault: accounts.vault,
    owner: accounts.owner,
  };
  const who = `${keeper.name} fails ${p.owner.name} on ${rec.consumer.name}'s job`;
  if (which === "fail_timeout") return sendBy(who, sendIx(c, keeper, which, rules.failTimeout(input), failTimeoutInstruction(w.client.program, accounts)));
  const { service, what } = seatTermsFor(c, rec, job);
  const predicted = rules.failNoShow({ ...input, service: service && keyed(view.services, service) });
  const seat = job && rules.seatAwaitingStart(target.bid, job) ? " (a seat)" : "";
  const done = await sendBy(who + seat + what, sendIx(c, keeper, which, predicted, failNoShowInstruction(w.client.program, accounts, service)));
  if (!done.outcome.ok || done.predicted === "unknown" || !job || !rules.seatAwaitingStart(target.bid, job)) return done;
  // A seat's no-show gives the seat up: the lease runs on, one seat fewer starting.
  const terms = termsOf(c, rec);
  const after = rec.service ? w.current<ServiceAccount>(rec.service.address) : null;
  const state = w.current<JobAccount>(rec.address);
  const problems = [];
  if (!state || rules.stateOf(state) !== "running") problems.push(`left the lease ${state ? rules.stateOf(state) : "closed"}`);
  if (terms && after && after.seatsStarting !== terms.seatsStarting - 1) problems.push(`seatsStarting ${terms.seatsStarting} → ${after.seatsStarting}`);
  if (w.current<BidAccount>(target.address)) problems.push("the seat's bid is still there");
  return problems.length > 0 ? { ...done, check: `fail_no_show of a seat ${problems.join("; ")}` } : done;
}

const failNoShow: Action = (c) => failWinner(c, "fail_no_show");
const failTimeout: Action = (c) => failWinner(c, "fail_timeout");

const finalize: Action = async (c) => {
  const { w, d, view } = c;
  const rec = pickJobWhere(c, (job) => rules.stateOf(job) === "committed", 80);
  if (!rec) return null;
  const job = jobOf(c, rec);
  if (!job) return null;
  const keeper = d.pick([...w.keepers, w.attacker, rec.consumer])!;
  const market = w.markets[rec.market];
  let entries = rules.ranked(job).slice(0, job.replication);
  const hostile = d.below(100);
  if (hostile < 5 && entries.length > 1) entries = [entries[0], entries[0], ...entries.slice(2)];
  else if (hostile < 9) entries = entries.slice(1);
  const winners = entries.map((e) => {
    const bid = findBidPda({ job: rec.address, provider: e.provider, programId: w.programId })[0];
    const owner = view.bids.get(k(bid))?.owner ?? e.provider;
    const vault = view.providers.get(k(e.provider))?.vault ?? e.provider;
    return { bid, provider: e.provider, ownerToken: w.ata(owner, market.paymentMint), owner, vault };
  });
  const slashMarket = d.chance(10) ? otherMarket(w, market.address) : market.address;
  const slashes = rules.sealsResults(job)
    ? { market: slashMarket, consumerStakeToken: w.ata(rec.consumer.publicKey, market.stakeMint), treasuryStakeToken: w.ata(view.config.treasury, market.stakeMint) }
    : undefined;
  const accounts = {
    keeper: keeper.publicKey,
    keeperToken: w.ata(keeper.publicKey, market.paymentMint),
    config: w.config,
    job: rec.address,
    escrow: rec.escrow,
    consumer: rec.consumer.publicKey,
    consumerToken: w.ata(rec.consumer.publicKey, market.paymentMint),
    treasuryToken: w.ata(view.config.treasury, market.paymentMint),
  };
  const predicted = rules.finalize({
    now: view.slot,
    keeper: keeper.publicKey,
    keeperToken: token(view, accounts.keeperToken),
    config: keyed(new Map([[k(w.config), view.config]]), w.config),
    job: keyed(view.jobs, rec.address),
    escrow: rec.escrow,
    consumer: accounts.consumer,
    consumerToken: token(view, accounts.consumerToken),
    treasuryToken: token(view, accounts.treasuryToken),
    winners: winners.map((x) => ({ bid: keyed(view.bids, x.bid), provider: keyed(view.providers, x.provider), ownerToken: token(view, x.ownerToken), owner: x.owner, vault: x.vault })),
    slashes: slashes && { market: keyed(view.markets, slashes.market), consumerStakeToken: token(view, slashes.consumerStakeToken), treasuryStakeToken: token(view, slashes.treasuryStakeToken) },
  });
  const slashNote = slashes && !slashes.market.equals(market.address) ? " with the other market" : "";
  return sendBy(`${keeper.name} on ${rec.consumer.name}'s job${slashNote}`, sendIx(c, keeper, "finalize", predicted, finalizeInstruction(w.client.program, accounts, winners, slashes)));
};

// --- winners -----------------------------------------------------------------------

/** A bid of a provider on a job, mostly one holding the award; its owner acts. */
function pickOwnBid(c: Context, wanted: (bid: BidAccount, job: JobAccount) => boolean): { rec: JobRecord; job: JobAccount | null; p: ProviderInfo; bid: PublicKey; account: BidAccount | null } | undefined {
  const picked = pickBidWhere(c, wanted, 92);
  if (!picked) return undefined;
  const job = jobOf(c, picked.rec);
  return { ...picked, job, account: c.view.bids.get(k(picked.bid)) ?? null };
}

const startJob: Action = async (c) => {
  const own = pickOwnBid(c, (bid, job) => rules.holdsAward(bid, job) && rules.statusOf(bid) === "won");
  if (!own) return null;
  // A no-show provider rarely starts.
  if (own.p.temperament === "noShow" && c.d.chance(85)) return null;
  const predicted = rules.startJob({ now: c.view.slot, owner: own.p.owner.publicKey, job: keyed(c.view.jobs, own.rec.address), bid: keyed(c.view.bids, own.bid) });
  return sendIx(c, own.p.owner, "start_job", predicted, c.w.client.program.methods.startJob().accountsPartial({ owner: own.p.owner.publicKey, job: own.rec.address, bid: own.bid }).instruction());
};

const commit: Action = async (c) => {
  const { w, d, view, machine } = c;
  const own = pickOwnBid(c, (bid, job) => rules.holdsAward(bid, job) && rules.statusOf(bid) === "started");
  if (!own) return null;
  if (own.p.temperament === "timeout" && d.chance(85)) return null;
  const honest = own.p.temperament !== "wrongRoot" && !d.chance(5);
  const marketAddress = d.chance(5) ? otherMarket(w, w.markets[own.rec.market].address) : w.markets[own.rec.market].address;
  const base: rules.CommitInput = { now: view.slot, owner: own.p.owner.publicKey, market: keyed(view.markets, marketAddress), job: keyed(view.jobs, own.rec.address), bid: keyed(view.bids, own.bid) };
  const accounts = { owner: own.p.owner.publicKey, market: marketAddress, job: own.rec.address, bid: own.bid };
  // Mostly the instruction the job's mode takes; sometimes another one.
  const natural = own.job ? (rules.isMachine(own.job) ? "verifiable" : rules.sealsResults(own.job) ? "sealed" : "plain") : "plain";
  const form = d.chance(10) ? d.pick(["verifiable", "sealed", "plain"] as const)! : natural;
  if (form === "verifiable") {
    const claim = honest ? machine.honest : machine.wrong;
    const predicted = rules.commitVerifiable({ ...base, finalState: claim.finalState, outputProven: true });
    return sendIx(c, own.p.owner, "commit_verifiable", predicted, commitVerifiableInstruction(w.client.program, { ...claim, resultUriHash: URI }, accounts));
  }
  if (form === "sealed") {
    const root = honest ? ROOT_HONEST : ROOT_WRONG;
    const salt = d.bytes32();
    const commitment = resultCommitment(root, salt, own.p.address);
    const predicted = rules.commitSealedResult({ ...base, commitment });
    const done = await sendIx(c, own.p.owner, "commit_sealed_result", predicted, commitSealedResultInstruction(w.client.program, { commitment, resultUriHash: URI }, accounts));
    if (done.outcome.ok) own.rec.resultSecrets.set(k(own.p.address), { root, salt });
    return done;
  }
  const outputRoot = d.chance(3) ? new Uint8Array(32) : honest ? ROOT_HONEST : ROOT_WRONG;
  const predicted = rules.commitResult({ ...base, outputRoot });
  return sendIx(c, own.p.owner, "commit_result", predicted, commitResultInstruction(w.client.program, { outputRoot, resultUriHash: URI }, accounts));
};

const revealResult: Action = async (c) => {
  const { w, d, view } = c;
  const sealedResults = recordsInFocus(c).filter((r) => r.resultSecrets.size > 0);
  const live = sealedResults.filter((r) => (view.jobs.get(k(r.address))?.progress.challengeDeadlineSlot ?? 0n) > view.slot);
  const rec = live.length > 0 && d.chance(85) ? d.pick(live) : d.pick(sealedResults);
  if (!rec) return null;
  const [providerKey, secret] = d.pick([...rec.resultSecrets.entries()])!;
  const p = providerByAddress(w, new PublicKey(providerKey))!;
  const bid = findBidPda({ job: rec.address, provider: p.address, programId: w.programId })[0];
  const salt = d.chance(8) ? d.bytes32() : secret.salt;
  const predicted = rules.revealResult({ now: view.slot, owner: p.owner.publicKey, job: keyed(view.jobs, rec.address), bid: keyed(view.bids, bid), outputRoot: secret.root, salt });
  return sendIx(c, p.owner, "reveal_result", predicted, revealResultInstruction(w.client.program, { outputRoot: secret.root, salt }, { owner: p.owner.publicKey, job: rec.address, bid }));
};

// --- disputes ----------------------------------------------------------------------

const openDispute: Action = async (c) => {
  const { w, d, view } = c;
  const candidates = liveRecords(c).filter((rec) => variantOf(view.jobs.get(k(rec.address))!.mode) !== "replicated");
  const rec = d.chance(90) ? d.pick(candidates) : pickJob(c);
  if (!rec) return null;
  const job = jobOf(c, rec);
  const target = pickWinnerBid(c, rec, job);
  if (!target) return null;
  const challenger = d.pick([w.attacker, ...w.keepers, ...w.providers.map((p) => p.owner), rec.consumer])!;
  const market = w.markets[rec.market];
  const dispute = findDisputePda({ job: rec.address, challenger: challenger.publicKey, programId: w.programId })[0];
  const bondVault = findBondVaultPda({ dispute, programId: w.programId })[0];
  const marketAddress = d.chance(5) ? otherMarket(w, market.address) : market.address;
  const challengerToken = w.ata(challenger.publicKey, market.stakeMint);
  const predicted = rules.openDispute({
    now: view.slot,
    challenger: challenger.publicKey,
    market: keyed(view.markets, marketAddress),
    job: keyed(view.jobs, rec.address),
    bid: keyed(view.bids, target.address),
    dispute: { address: dispute, expected: dispute, exists: view.disputes.has(k(dispute)) },
    bondVault: { address: bondVault, expected: bondVault, exists: view.tokens.has(k(bondVault)) },
    challengerToken: token(view, challengerToken),
    stakeMint: market.stakeMint,
  });
  const ix = openDisputeInstruction(w.client.program, { challenger: challenger.publicKey, market: marketAddress, job: rec.address, bid: target.address, dispute, bondVault, challengerToken, stakeMint: market.stakeMint });
  const done = await sendIx(c, challenger, "open_dispute", predicted, ix);
  if (done.outcome.ok) w.games.set(k(dispute), { challenger, job: rec, honestChallenger: d.chance(70) });
  return done;
};

/** A dispute (a live one mostly, or the address of a settled one). */
function pickDispute(c: Context): { address: PublicKey; account: DisputeAccount | null } | undefined {
  const live = [...c.view.disputes.entries()].filter(([, game]) => !c.focus || k(game.job) === c.focus);
  if (live.length > 0 && c.d.chance(90)) {
    const [address, account] = c.d.pick(live)!;
    return { address: new PublicKey(address), account };
  }
  const any = c.d.pick([...c.w.games.keys()]);
  return any ? { address: new PublicKey(any), account: c.view.disputes.get(any) ?? null } : undefined;
}

/** The trace a committed final state stands for: the honest run, or a lie from its last step. */
function traceFor(c: Context, finalStateHash: ArrayLike<number>, seed: number): Trace {
  const { machine } = c;
  const hash = Array.from(finalStateHash);
  if (hash.every((b, i) => b === machine.honestHash[i])) return machine.replay;
  if (seed % 3 === 0) return new RandomChallenger(machine.replay, seed);
  return new LyingTrace(machine.replay, machine.steps - 1n, machine.steps, Uint8Array.from(hash));
}

const gameMove: Action = async (c) => {
  const { w, d, view, machine } = c;
  const picked = pickDispute(c);
  if (!picked?.account || variantOf(picked.account.status) !== "open") return null;
  const game = picked.account;
  const defenderBid = view.bids.get(k(game.bid));
  if (!defenderBid) return null;
  const defender = actorByKey(w, game.owner);
  const challenger = actorByKey(w, game.challenger);
  if (!defender || !challenger) return null;
  const defenderTrace = traceFor(c, defenderBid.finalStateHash, 1);
  let challengerTrace: Trace;
  if (game.refereed) {
    const other = bidsOn(view, game.job).find((b) => b.bid.owner.equals(game.challenger));
    challengerTrace = other ? traceFor(c, other.bid.finalStateHash, 1) : machine.replay;
  } else {
    const meta = w.games.get(k(picked.address));
    challengerTrace = meta?.honestChallenger === false ? new RandomChallenger(machine.replay, d.next()) : machine.replay;
  }
  const gv = gameView(game);
  const moves = [
    { actor: defender, move: nextMove("defender", gv, defenderTrace) },
    { actor: challenger, move: nextMove("challenger", gv, challengerTrace) },
  ].filter((m) => m.move.kind !== "wait");
  const chosen = d.pick(moves);
  if (!chosen) return null;
  const { actor, move } = chosen;
  if (move.kind === "dissect") return sendIx(c, actor, "dissect", "unknown", dissectInstruction(w.client.program, move.hashes, { owner: actor.publicKey, dispute: picked.address }));
  if (move.kind === "choose") return sendIx(c, actor, "choose_segment", "unknown", chooseSegmentInstruction(w.client.program, move.segment, { challenger: actor.publicKey, dispute: picked.address }));
  if (move.kind === "prove") return viaClient("write_witness+prove_step", () => actor.client.submitProof({ dispute: picked.address, witness: move.witness }));
  return null;
};

const timeoutDispute: Action = async (c) => {
  const picked = pickDispute(c);
  if (!picked) return null;
  const keeper = c.d.pick([...c.w.keepers, c.w.attacker])!;
  const predicted = rules.timeoutDispute({ now: c.view.slot, dispute: { address: picked.address, account: picked.account } });
  return sendIx(c, keeper, "timeout_dispute", predicted, timeoutDisputeInstruction(c.w.client.program, { cranker: keeper.publicKey, dispute: picked.address }));
};

const settleDispute: Action = async (c) => {
  const { w, d, view } = c;
  const picked = pickDispute(c);
  if (!picked?.account) return null;
  const game = picked.account;
  const keeper = d.pick([...w.keepers, w.attacker])!;
  if (game.refereed) return viaClient("settle_referee", () => keeper.client.settleReferee({ dispute: picked.address }));
  const job = view.jobs.get(k(game.job));
  const p = providerByAddress(w, game.provider);
  if (!job || !p) return null;
  const market = w.markets[marketIndex(w, job.market)];
  const rec = w.jobs.filter((r) => r.address.equals(game.job)).pop()!;
  const bondVault = findBondVaultPda({ dispute: picked.address, programId: w.programId })[0];
  // A hostile crank names another token account the game owns? It cannot own one; it names the
  // bid's vault instead, or another game's bond vault.
  const givenVault = d.chance(5) ? (d.pick([...view.disputes.keys()].map((a) => findBondVaultPda({ dispute: new PublicKey(a), programId: w.programId })[0])) ?? bondVault) : bondVault;
  const accounts = {
    cranker: keeper.publicKey,
    config: w.config,
    market: market.address,
    job: game.job,
    escrow: rec.escrow,
    consumer: job.consumer,
    consumerToken: w.ata(job.consumer, market.paymentMint),
    bid: game.bid,
    provider: game.provider,
    vault: p.vault,
    owner: game.owner,
    ownerStakeToken: w.ata(game.owner, market.stakeMint),
    challenger: game.challenger,
    challengerStakeToken: w.ata(game.challenger, market.stakeMint),
    treasuryStakeToken: w.ata(view.config.treasury, market.stakeMint),
    dispute: picked.address,
    bondVault: givenVault,
  };
  const predicted = rules.settleDispute({
    config: keyed(new Map([[k(w.config), view.config]]), w.config),
    market: keyed(view.markets, accounts.market),
    job: keyed(view.jobs, accounts.job),
    escrow: accounts.escrow,
    consumer: accounts.consumer,
    consumerToken: token(view, accounts.consumerToken),
    bid: keyed(view.bids, accounts.bid),
    provider: keyed(view.providers, accounts.provider),
    vault: accounts.vault,
    owner: accounts.owner,
    ownerStakeToken: token(view, accounts.ownerStakeToken),
    challenger: accounts.challenger,
    challengerStakeToken: token(view, accounts.challengerStakeToken),
    treasuryStakeToken: token(view, accounts.treasuryStakeToken),
    dispute: { address: picked.address, account: game },
    bondVault: { address: givenVault, expected: bondVault, token: token(view, givenVault) },
  });
  return sendIx(c, keeper, "settle_dispute", predicted, settleDisputeInstruction(w.client.program, accounts));
};

const referee: Action = async (c) => {
  const rec = c.d.pick(liveRecords(c).filter((r) => variantOf(c.view.jobs.get(k(r.address))!.mode) === "refereed"));
  if (!rec) return null;
  const keeper = c.d.pick([...c.w.keepers, c.w.attacker])!;
  return viaClient("referee", () => keeper.client.referee({ job: rec.address }));
};

const closeWitness: Action = async (c) => {
  const entry = c.d.pick([...c.view.buffers.entries()]);
  if (!entry) return null;
  const [address, buffer] = entry;
  const writer = (c.d.chance(85) ? actorByKey(c.w, buffer.writer) : c.w.attacker) ?? c.w.attacker;
  const predicted = rules.closeWitness({ writer: writer.publicKey, buffer, dispute: keyed(c.view.disputes, buffer.dispute) });
  // The buffer PDA is per writer: another writer names its own (absent) buffer.
  const given = writer.publicKey.equals(buffer.writer) ? new PublicKey(address) : findWitnessBufferPda({ dispute: buffer.dispute, writer: writer.publicKey, programId: c.w.programId })[0];
  const model = given.toBase58() === address ? predicted : rules.closeWitness({ writer: writer.publicKey, buffer: null, dispute: keyed(c.view.disputes, buffer.dispute) });
  return sendIx(c, writer, "close_witness", model, closeWitnessInstruction(c.w.client.program, { writer: writer.publicKey, dispute: buffer.dispute, buffer: given }));
};

// --- services ----------------------------------------------------------------------

const servicePda = (w: World, job: PublicKey): PublicKey => findServicePda({ job, programId: w.programId })[0];

/** The record of the job living at `address` now (the latest post there), if any. */
function latestAt(w: World, address: PublicKey): JobRecord | undefined {
  for (let i = w.jobs.length - 1; i >= 0; i--) if (w.jobs[i].address.equals(address)) return w.jobs[i];
  return undefined;
}

/** The lease's record if the job at `address` is a live lease of that incarnation. */
function liveLease(w: World, view: View, address: PublicKey): (JobRecord & { service: ServiceRecord }) | undefined {
  const rec = latestAt(w, address);
  const job = view.jobs.get(k(address));
  return rec?.service && job && job.incarnation === rec.service.incarnation ? (rec as JobRecord & { service: ServiceRecord }) : undefined;
}

/** Live leases (the focused one only, if any). */
function liveServices(c: Context): (JobRecord & { service: ServiceRecord })[] {
  return liveRecords(c).filter((rec): rec is JobRecord & { service: ServiceRecord } => liveLease(c.w, c.view, rec.address) === rec);
}

function termsOf(c: Context, rec: JobRecord): ServiceAccount | null {
  return rec.service ? (c.view.services.get(k(rec.service.address)) ?? null) : null;
}

/** Some other lease's terms than `own` (ServiceMismatch), or `own` when there is none. */
function otherTerms(c: Context, own: PublicKey): PublicKey {
  const others = [...c.view.services.keys()].filter((a) => a !== k(own));
  const pick = c.d.pick(others);
  return pick ? new PublicKey(pick) : own;
}

/** Another live job's escrow than `own` (InvalidVault), or `own`. */
function otherEscrow(c: Context, own: PublicKey): PublicKey {
  const others = [...c.view.jobs.values()].map((job) => job.escrow).filter((e) => !e.equals(own));
  return c.d.pick(others) ?? own;
}

interface Replica {
  rec: JobRecord;
  job: JobAccount | null;
  terms: ServiceAccount | null;
  address: PublicKey;
  bid: BidAccount;
  p: ProviderInfo;
}

/** A bid on a lease for which `wanted` holds (mostly), else any bid on a service job (an ended
 * lease's, a loser's), and now and then a bid on a batch job (NotAService). */
function pickReplica(c: Context, wanted: (bid: BidAccount, job: JobAccount, terms: ServiceAccount) => boolean, percent = 80): Replica | undefined {
  const { w, view, d } = c;
  const all: Replica[] = [];
  const fitting: Replica[] = [];
  const batch: Replica[] = [];
  for (const [address, bid] of view.bids) {
    if (c.focus && k(bid.job) !== c.focus) continue;
    const rec = latestAt(w, bid.job);
    const p = providerByAddress(w, bid.provider);
    if (!rec || !p) continue;
    const job = view.jobs.get(k(bid.job)) ?? null;
    const replica = { rec, job, terms: termsOf(c, rec), address: new PublicKey(address), bid, p };
    if (!rec.service) {
      batch.push(replica);
      continue;
    }
    all.push(replica);
    if (job && replica.terms && liveLease(w, view, bid.job) === rec && wanted(bid, job, replica.terms)) fitting.push(replica);
  }
  if (fitting.length > 0 && d.chance(percent)) return d.pick(fitting);
  if (fitting.length === 0 && !d.chance(30)) return undefined;
  return d.chance(90) ? (d.pick(all) ?? d.pick(batch)) : (d.pick(batch) ?? d.pick(all));
}

const started = (bid: BidAccount, job: JobAccount): boolean => rules.holdsAward(bid, job) && rules.statusOf(bid) === "started";

const postService: Action = async (c) => {
  const { w, d, view } = c;
  const consumer = d.pick([...w.consumers, w.attacker])!;
  const m = d.below(w.markets.length);
  const market = w.markets[m];
  const marketAccount = view.markets.get(k(market.address))!;
  // A nonce of a closed job: a new incarnation at the address, refused while the dead job's terms are still there.
  const closed = w.jobs.filter((rec) => rec.consumer === consumer && !view.jobs.has(k(rec.address)));
  const reuse = closed.length > 0 && d.chance(35) ? d.pick(closed) : undefined;
  const nonce = reuse ? reuse.nonce : BigInt(d.next()) * 4_294_967_296n + BigInt(d.next());
  const replicas = d.pick([0, 1, 1, 2, 3])!;
  const sealed = d.chance(25);
  const maxRate = d.pick([2_000n, 5_000n])!;
  const hostile = d.below(100);
  const period = hostile < 3 ? 0n : hostile < 5 ? rules.MAX_ACK_PERIOD_SLOTS + 1n : BigInt(3 + d.below(12));
  const watchdog = Keypair.fromSeed(d.bytes32());
  const watchdogKey = hostile >= 5 && hostile < 7 ? PublicKey.default : watchdog.publicKey;
  const duration = hostile >= 7 && hostile < 9 ? 0n : BigInt(40 + d.below(100));
  const requirements = { gpuCount: hostile >= 9 && hostile < 11 ? 8 : 1, vramMb: 16_384, cpuCores: 4, memoryMb: 16_384, diskGb: 10, maxDurationSlots: duration };
  const effective = replicas === 0 ? marketAccount.params.defaultReplication : replicas;
  const floor = rules.minDeposit(maxRate, effective, period, view.config.protocolFeeBps, marketAccount.params.crankFee) ?? 0n;
  let deposit = floor * BigInt(d.pick([1, 1, 2, 3, 6])!) + BigInt(d.below(1_000));
  if (hostile >= 11 && hostile < 16) deposit = floor > 0n ? floor - 1n : 0n;
  else if (hostile >= 16 && hostile < 18) deposit = MINTED * 2n;
  const bidWindowSlots = d.pick([0n, 0n, 10n, 25n])!;
  const job = findJobPda({ consumer: consumer.publicKey, nonce, programId: w.programId })[0];
  const escrow = findEscrowPda({ job, programId: w.programId })[0];
  const expected = servicePda(w, job);
  // A hostile post names another PDA for the terms (InvalidPda).
  const service = hostile >= 18 && hostile < 20 ? servicePda(w, escrow) : expected;
  const consumerToken = w.ata(consumer.publicKey, market.paymentMint);
  const predicted = rules.postService({
    config: view.config,
    market: keyed(view.markets, market.address),
    paymentMint: market.paymentMint,
    replication: replicas,
    requirementsValid: duration > 0n,
    maxRate,
    sealed,
    bidWindowSlots,
    consumer: consumer.publicKey,
    consumerToken: token(view, consumerToken),
    job: { address: job, expected: job, exists: view.jobs.has(k(job)) },
    escrow: { address: escrow, expected: escrow, exists: view.tokens.has(k(escrow)) },
    watchdog: watchdogKey,
    ackPeriodSlots: period,
    deposit,
    service: { address: service, expected, exists: view.services.has(k(service)) },
  });
  const ix = postServiceInstruction(
    w.client.program,
    { nonce, specHash: SPEC_HASH, requirements, replicas, maxRate, bidWindowSlots, sealed, watchdog: watchdogKey, ackPeriodSlots: period, graceSlots: period, deposit },
    { consumer: consumer.publicKey, config: w.config, market: market.address, job, escrow, service, consumerToken, paymentMint: market.paymentMint },
  );
  const done = await sendBy(`${consumer.name}, market ${m}, r=${replicas}${sealed ? " sealed" : ""} period ${period}`, sendIx(c, consumer, "post_service", predicted, ix));
  if (done.outcome.ok) {
    const incarnation = w.current<JobAccount>(job)?.incarnation ?? 0n;
    w.jobs.push({
      address: job,
      escrow,
      consumer,
      market: m,
      nonce,
      bidSecrets: new Map(),
      resultSecrets: new Map(),
      service: { address: service, watchdog, period, incarnation, deposited: w.balance(escrow) ?? 0n, donated: 0n, claimed: 0n, acks: [] },
    });
  }
  return done;
};

const fundService: Action = async (c) => {
  const { w, d, view } = c;
  const live = liveServices(c);
  const paused = live.filter((rec) => {
    const terms = termsOf(c, rec);
    return terms !== null && rules.isPaused(terms);
  });
  const rec = paused.length > 0 && d.chance(50) ? d.pick(paused) : live.length > 0 && d.chance(85) ? d.pick(live) : d.pick(recordsInFocus(c));
  if (!rec) return null;
  const job = jobOf(c, rec);
  const terms = termsOf(c, rec);
  const market = w.markets[rec.market];
  const funder = d.pick([rec.consumer, rec.consumer, w.attacker, w.keepers[1], ...w.consumers])!;
  const h = d.below(100);
  let amount: bigint;
  if (h < 5) amount = 0n;
  else if (h < 8) amount = MINTED * 2n;
  else if (d.chance(30)) amount = BigInt(1 + d.below(1_000));
  else amount = (job && terms ? rules.servicePeriodCost(job, terms) : 10_000n) * BigInt(1 + d.below(3));
  const service = h >= 8 && h < 13 ? otherTerms(c, rec.service?.address ?? servicePda(w, rec.address)) : (rec.service?.address ?? servicePda(w, rec.address));
  const escrow = h >= 13 && h < 16 ? otherEscrow(c, rec.escrow) : rec.escrow;
  const mint = h >= 16 && h < 19 ? w.markets[(rec.market + 1) % w.markets.length].paymentMint : market.paymentMint;
  const funderToken = w.ata(funder.publicKey, mint);
  const predicted = rules.fundService({
    now: view.slot,
    funder: funder.publicKey,
    funderToken: token(view, funderToken),
    job: keyed(view.jobs, rec.address),
    escrow,
    escrowToken: token(view, escrow),
    service: keyed(view.services, service),
    amount,
  });
  const before = w.balance(rec.escrow) ?? 0n;
  const ix = fundServiceInstruction(w.client.program, amount, { funder: funder.publicKey, funderToken, job: rec.address, escrow, service });
  const done = await sendBy(`${funder.name} tops up ${rec.consumer.name}'s lease by ${amount}`, sendIx(c, funder, "fund_service", predicted, ix));
  const lease = liveLease(w, view, rec.address);
  if (!done.outcome.ok || !lease || !job || !terms) return done;
  const delta = (w.balance(lease.escrow) ?? 0n) - before;
  lease.service.deposited += delta;
  if (done.predicted === "unknown") return done;
  const after = w.current<ServiceAccount>(lease.service.address);
  const escrowed = w.current<JobAccount>(rec.address)?.escrowed ?? 0n;
  const resumed = rules.resumes(job, terms, before, amount);
  const problems = [];
  if (delta !== amount || escrowed !== job.escrowed + amount) problems.push(`moved ${delta} (escrowed ${job.escrowed} → ${escrowed}) for a top-up of ${amount}`);
  if (after && rules.isPaused(terms) && rules.isPaused(after) === resumed) problems.push(`a paused lease ${resumed ? "not resumed" : "resumed"} by a top-up to ${before + amount}`);
  return problems.length > 0 ? { ...done, check: `fund_service ${problems.join("; ")}` } : done;
};

/** Signs an acknowledgement with `watchdog` (Node's native Ed25519). */
function acknowledge(watchdog: Keypair, job: PublicKey, jobIncarnation: bigint, provider: PublicKey, upToSlot: bigint): Acknowledgement {
  return { job, jobIncarnation, provider, upToSlot, watchdog: watchdog.publicKey, signature: signBytes(watchdog, acknowledgementMessage(job, jobIncarnation, provider, upToSlot)) };
}

const claimService: Action = async (c) => {
  const { w, d, view } = c;
  const picked = pickReplica(c, (bid, job) => started(bid, job), 90);
  if (!picked) return null;
  const { rec, job, terms, address: bidAddress, bid, p } = picked;
  const market = w.markets[rec.market];
  let owner = p.owner;
  let watchdog = rec.service?.watchdog ?? w.attacker.keypair;
  let ackJob = rec.address;
  let incarnation = job?.incarnation ?? rec.service?.incarnation ?? 1n;
  let ackProvider = bid.provider;
  const from = rules.paidThrough(bid);
  const end = job && terms ? rules.replicaEnd(job, terms, bid) : view.slot;
  const top = end < view.slot ? end : view.slot;
  // Honest: everything up to now, or a part of the time since the last claim.
  let upTo = top > from && d.chance(40) ? from + 1n + (BigInt(d.next()) % (top - from)) : view.slot;
  let layout: "verify" | "none" | "between" | "tampered" = "verify";
  let service = rec.service?.address ?? servicePda(w, rec.address);
  let escrow = rec.escrow;
  let what = "";
  const h = d.below(100);
  if (h < 6) {
    const earlier = rec.service?.acks.filter((a) => a.provider.equals(bid.provider)) ?? [];
    upTo = earlier.length > 0 ? d.pick(earlier)!.upToSlot : from;
    what = " (replayed)";
  } else if (h < 10) {
    upTo = view.slot + 1n + BigInt(d.below(5));
    what = " (future)";
  } else if (h < 14) {
    const other = d.pick(bidsOn(view, rec.address).filter((b) => !b.bid.provider.equals(bid.provider))) ?? undefined;
    ackProvider = other?.bid.provider ?? d.pick(w.providers)!.address;
    what = " (another replica's ack)";
  } else if (h < 18) {
    const other = d.pick(liveServices(c).filter((r) => !r.address.equals(rec.address)));
    if (other) {
      ackJob = other.address;
      incarnation = other.service.incarnation;
      if (d.chance(50)) watchdog = other.service.watchdog;
    } else ackJob = otherEscrow(c, rec.escrow);
    what = " (another job's ack)";
  } else if (h < 21) {
    watchdog = w.attacker.keypair;
    what = " (forged signer)";
  } else if (h < 24) {
    const older = w.jobs.filter((r) => r.address.equals(rec.address) && r.service && r.service.incarnation !== incarnation);
    incarnation = d.pick(older)?.service?.incarnation ?? incarnation - 1n;
    what = " (another incarnation's ack)";
  } else if (h < 30) {
    layout = h < 26 ? "none" : h < 28 ? "between" : "tampered";
    what = ` (${layout === "none" ? "no verification" : layout === "between" ? "an instruction between" : "tampered signature"})`;
  } else if (h < 34) {
    owner = d.pick([w.attacker, w.keepers[0], rec.consumer])!;
    what = " (signed by a stranger)";
  } else if (h < 37) {
    service = otherTerms(c, service);
    what = " (other terms)";
  } else if (h < 39) {
    escrow = otherEscrow(c, rec.escrow);
    what = " (other escrow)";
  }
  const ack = acknowledge(watchdog, ackJob, incarnation, ackProvider, upTo);
  // The claimed slot: the acknowledged one, or (hostile) one next to it.
  let claimed = upTo;
  if (h >= 39 && h < 42) {
    claimed = upTo + 1n;
    what = " (another slot than acknowledged)";
  }
  if (layout === "tampered") ack.signature = Uint8Array.from(ack.signature, (b, i) => (i === 5 ? b ^ 0x10 : b));
  const before: TransactionInstruction[] = [];
  if (layout !== "none") before.push(acknowledgementVerifyInstruction(ack));
  if (layout === "between") before.push(ComputeBudgetProgram.setComputeUnitLimit({ units: 400_000 }));
  const ownerToken = w.ata(owner.publicKey, market.paymentMint);
  const treasuryToken = w.ata(view.config.treasury, market.paymentMint);
  const predicted = rules.claimService({
    now: view.slot,
    owner: owner.publicKey,
    ownerToken: token(view, ownerToken),
    config: keyed(new Map([[k(w.config), view.config]]), w.config),
    job: keyed(view.jobs, rec.address),
    escrow,
    escrowToken: token(view, escrow),
    service: keyed(view.services, service),
    bid: keyed(view.bids, bidAddress),
    treasuryToken: token(view, treasuryToken),
    upToSlot: claimed,
    acknowledgement: layout === "verify" ? { signer: watchdog.publicKey, job: ackJob, jobIncarnation: incarnation, provider: ackProvider, upToSlot: upTo } : null,
  });
  const escrowBefore = w.balance(rec.escrow) ?? 0n;
  const ix = claimServiceInstruction(w.client.program, claimed, { owner: owner.publicKey, ownerToken, config: w.config, job: rec.address, escrow, service, bid: bidAddress, treasuryToken });
  const sent = await sendIx(c, owner, "claim_service", layout === "tampered" ? "unknown" : predicted, ix, [], before);
  const done: Executed = { ...sent, who: `${owner.name} claims ${p.owner.name}'s replica of ${rec.consumer.name}'s lease to ${claimed}${what}`, mustRefuse: layout === "tampered" || undefined };
  const lease = liveLease(w, view, rec.address);
  if (!done.outcome.ok || !lease) return done;
  const drawn = escrowBefore - (w.balance(lease.escrow) ?? 0n);
  lease.service.claimed += drawn;
  lease.service.acks.push({ provider: ackProvider, upToSlot: upTo });
  if (done.predicted === "unknown" || !job || !terms) return done;
  // What it paid: the rules' settlement, to the slot.
  const expectedClaim = rules.serviceClaim(job, terms, bid, claimed, view.slot, escrowBefore);
  const afterBid = w.current<BidAccount>(bidAddress);
  const afterTerms = w.current<ServiceAccount>(lease.service.address);
  const afterJob = w.current<JobAccount>(rec.address);
  if (typeof expectedClaim === "string" || !afterBid || !afterTerms || !afterJob) return { ...done, check: `claim_service accepted; the rules settle it as ${String(expectedClaim)}` };
  const { slots, pay, fee } = expectedClaim;
  const escrowed = job.escrowed > pay + fee ? job.escrowed - pay - fee : 0n;
  const problems = [];
  if (afterBid.claimedSlot !== from + slots) problems.push(`paid through ${afterBid.claimedSlot}, the rules say ${from + slots}`);
  if (drawn !== pay + fee) problems.push(`drew ${drawn} from the escrow, the rules say ${pay} + fee ${fee}`);
  if (afterTerms.paid !== terms.paid + pay) problems.push(`terms.paid ${terms.paid} → ${afterTerms.paid}, the rules add ${pay}`);
  if (afterJob.escrowed !== escrowed) problems.push(`escrowed ${afterJob.escrowed}, the rules say ${escrowed}`);
  return problems.length > 0 ? { ...done, check: `claim_service ${problems.join("; ")}` } : done;
};

const endReplica: Action = async (c) => {
  const { w, d, view } = c;
  const picked = pickReplica(c, (bid, job) => started(bid, job) && rules.stateOf(job) === "running" && bid.endedSlot === 0n, 85);
  if (!picked) return null;
  const { rec, job, terms, address: bidAddress, bid, p } = picked;
  const roll = d.below(100);
  // The signer: the consumer, its watchdog, the replica's owner, a stranger, another lease's watchdog.
  let payer = rec.consumer;
  let extra: Keypair | undefined;
  let signerName = rec.consumer.name;
  if (roll < 30) payer = rec.consumer;
  else if (roll < 55) {
    extra = rec.service?.watchdog;
    signerName = "the watchdog";
  } else if (roll < 80) {
    payer = p.owner;
    signerName = `${p.owner.name} (owner)`;
  } else if (roll < 92) {
    payer = d.pick([w.attacker, w.keepers[0]])!;
    signerName = payer.name;
  } else {
    extra = d.pick(liveServices(c).filter((r) => !r.address.equals(rec.address)))?.service.watchdog;
    payer = w.attacker;
    signerName = "another lease's watchdog";
  }
  const signer = extra ?? payer.keypair;
  const service = d.chance(5) ? otherTerms(c, rec.service?.address ?? servicePda(w, rec.address)) : (rec.service?.address ?? servicePda(w, rec.address));
  // A replacement asked for, mostly by the consumer's side (by the owner: an abuse), now and then
  // with another market's bid window.
  const consumerSide = signer.publicKey.equals(rec.consumer.publicKey) || (rec.service !== undefined && signer.publicKey.equals(rec.service.watchdog.publicKey));
  const replace = d.chance(consumerSide ? 75 : 30);
  const market = d.chance(5) ? otherMarket(w, w.markets[rec.market].address) : w.markets[rec.market].address;
  const predicted = rules.endReplica({ signer: signer.publicKey, market: keyed(view.markets, market), job: keyed(view.jobs, rec.address), service: keyed(view.services, service), bid: keyed(view.bids, bidAddress), replace });
  const ix = endReplicaInstruction(w.client.program, { signer: signer.publicKey, market, job: rec.address, service, bid: bidAddress }, replace);
  const done = await sendBy(`${signerName} ends ${p.owner.name}'s replica of ${rec.consumer.name}'s lease${replace ? " asking for a replacement" : ""}`, sendIx(c, payer, "end_replica", predicted, ix, extra ? [extra] : []));
  if (!done.outcome.ok || done.predicted === "unknown" || !job || !terms) return done;
  const problems = [];
  const ended = w.current<BidAccount>(bidAddress)?.endedSlot;
  const expected = rules.replicaEndedAt(job, terms, bid, signer.publicKey, view.slot);
  if (ended !== expected) problems.push(`ended the replica at ${ended}, the rules say ${expected}`);
  const after = w.current<ServiceAccount>(service);
  const round = replace ? rules.seatRequested(terms, view.slot, view.markets.get(k(market))!.params.bidWindowSlots) : { openSeats: terms.openSeats, seatDeadlineSlot: terms.seatDeadlineSlot };
  if (after && (after.openSeats !== round.openSeats || after.seatDeadlineSlot !== round.seatDeadlineSlot)) problems.push(`left ${after.openSeats} open seats until ${after.seatDeadlineSlot}, the rules say ${round.openSeats} until ${round.seatDeadlineSlot}`);
  return problems.length > 0 ? { ...done, check: `end_replica ${problems.join("; ")}` } : done;
};

const closeReplica: Action = async (c) => {
  const { w, d, view } = c;
  const picked = pickReplica(c, (bid, job, terms) => rules.replicaCloseDue(job, terms, bid, view.slot), 70);
  if (!picked) return null;
  const { rec, job, terms, address: bidAddress, bid, p } = picked;
  const market = w.markets[rec.market];
  const keeper = d.pick([...w.keepers, w.attacker, rec.consumer])!;
  const h = d.below(100);
  const provider = h < 5 ? (d.pick(w.providers.filter((q) => !q.address.equals(bid.provider)))?.address ?? bid.provider) : bid.provider;
  const owner = h >= 5 && h < 8 ? w.attacker.publicKey : bid.owner;
  const consumer = h >= 8 && h < 11 ? w.attacker.publicKey : (job?.consumer ?? rec.consumer.publicKey);
  const escrow = h >= 11 && h < 14 ? otherEscrow(c, rec.escrow) : rec.escrow;
  const service = h >= 14 && h < 18 ? otherTerms(c, rec.service?.address ?? servicePda(w, rec.address)) : (rec.service?.address ?? servicePda(w, rec.address));
  const keeperToken = w.ata(keeper.publicKey, market.paymentMint);
  const consumerToken = w.ata(job?.consumer ?? rec.consumer.publicKey, market.paymentMint);
  const predicted = rules.closeReplica({
    now: view.slot,
    keeper: keeper.publicKey,
    keeperToken: token(view, keeperToken),
    job: keyed(view.jobs, rec.address),
    escrow,
    service: keyed(view.services, service),
    bid: keyed(view.bids, bidAddress),
    provider: keyed(view.providers, provider),
    owner,
    consumer,
    consumerToken: token(view, consumerToken),
  });
  const ix = closeReplicaInstruction(w.client.program, { keeper: keeper.publicKey, keeperToken, job: rec.address, escrow, service, bid: bidAddress, provider, owner, consumer, consumerToken });
  const done = await sendBy(`${keeper.name} closes ${p.owner.name}'s replica of ${rec.consumer.name}'s lease`, sendIx(c, keeper, "close_replica", predicted, ix));
  if (!done.outcome.ok || done.predicted === "unknown" || !job || !terms) return done;
  const problems = [];
  const before = view.providers.get(k(bid.provider));
  const after = w.current<ProviderAccount>(bid.provider);
  if (before && after && after.locked !== before.locked - bid.locked) problems.push(`provider.locked ${before.locked} → ${after.locked}, the bid locked ${bid.locked}`);
  if (w.current<BidAccount>(bidAddress)) problems.push("the bid is still there");
  const settled = rules.settlesLease(job, terms);
  const gone = [rec.address, rec.escrow, rec.service!.address].filter((a) => !w.current(a) && w.balance(a) === null).length;
  if (settled && gone !== 3) problems.push("the last replica did not close the job, its escrow and its terms");
  if (!settled && (gone !== 0 || w.current<ServiceAccount>(rec.service!.address)?.closedReplicas !== terms.closedReplicas + 1)) problems.push("a replica but the last closed something else or miscounted");
  return problems.length > 0 ? { ...done, check: `close_replica ${problems.join("; ")}` } : done;
};

const pauseService: Action = async (c) => {
  const { w, d, view } = c;
  const live = liveServices(c);
  const due = live.filter((rec) => {
    const job = jobOf(c, rec);
    const terms = termsOf(c, rec);
    return job !== null && terms !== null && rules.pauseDue(job, terms, token(view, rec.escrow)?.amount ?? 0n);
  });
  const rec = due.length > 0 && d.chance(75) ? d.pick(due) : live.length > 0 && d.chance(85) ? d.pick(live) : d.pick(recordsInFocus(c));
  if (!rec) return null;
  const cranker = d.pick([...w.keepers, w.attacker, rec.consumer])!;
  const h = d.below(100);
  const marketAddress = h < 5 ? otherMarket(w, w.markets[rec.market].address) : w.markets[rec.market].address;
  const escrow = h >= 5 && h < 9 ? otherEscrow(c, rec.escrow) : rec.escrow;
  const own = rec.service?.address ?? servicePda(w, rec.address);
  const service = h >= 9 && h < 13 ? otherTerms(c, own) : own;
  const predicted = rules.pauseService({ market: keyed(view.markets, marketAddress), job: keyed(view.jobs, rec.address), escrow, escrowToken: token(view, escrow), service: keyed(view.services, service) });
  const ix = pauseServiceInstruction(w.client.program, { cranker: cranker.publicKey, market: marketAddress, job: rec.address, escrow, service });
  const done = await sendBy(`${cranker.name} pauses ${rec.consumer.name}'s lease`, sendIx(c, cranker, "pause_service", predicted, ix));
  if (!done.outcome.ok || done.predicted === "unknown") return done;
  const after = w.current<ServiceAccount>(own);
  const ends = view.slot + view.markets.get(k(marketAddress))!.params.servicePauseSlots;
  const at = view.slot > 1n ? view.slot : 1n;
  return after && after.pausedSlot === at && after.pauseEndsSlot === ends ? done : { ...done, check: `pause_service paused at ${after?.pausedSlot} until ${after?.pauseEndsSlot}, the rules say ${at} until ${ends}` };
};

const closeService: Action = async (c) => {
  const { w, d, view } = c;
  const all = [...view.services.entries()].filter(([, terms]) => !c.focus || k(terms.job) === c.focus);
  const dead = all.filter(([, terms]) => rules.serviceTermsDead(terms, view.jobs.get(k(terms.job)) ?? null));
  let entry = dead.length > 0 && d.chance(75) ? d.pick(dead) : all.length > 0 && d.chance(85) ? d.pick(all) : undefined;
  if (!entry) {
    // Terms already closed: nothing lives at the address.
    const rec = d.pick(recordsInFocus(c).filter((r) => r.service && !view.services.has(k(r.service.address))));
    if (!rec) return null;
    entry = [k(rec.service!.address), { job: rec.address, consumer: rec.consumer.publicKey } as ServiceAccount];
  }
  const [address, terms] = entry;
  const keeper = d.pick([...w.keepers, w.attacker])!;
  const h = d.below(100);
  const job = h < 8 ? (d.pick(w.jobs.filter((r) => !r.address.equals(terms.job)))?.address ?? terms.job) : terms.job;
  const consumer = h >= 8 && h < 16 ? w.attacker.publicKey : terms.consumer;
  const service = new PublicKey(address);
  const predicted = rules.closeService({ service: keyed(view.services, service), job: keyed(view.jobs, job), consumer });
  return sendBy(`${keeper.name} closes the terms of a lease`, sendIx(c, keeper, "close_service", predicted, closeServiceInstruction(w.client.program, { service, job, consumer })));
};

// --- seat rounds -------------------------------------------------------------------

const bidPda = (w: World, job: PublicKey, provider: PublicKey): PublicKey => findBidPda({ job, provider, programId: w.programId })[0];

/** A live lease for which `wanted` holds (mostly); else, now and then (a hostile or early try),
 * a running lease, any live one or any record. */
function pickSeatRound(c: Context, wanted: (job: JobAccount, terms: ServiceAccount) => boolean): JobRecord | undefined {
  const { d } = c;
  const live = liveServices(c);
  const fits = (rec: JobRecord, test: (job: JobAccount, terms: ServiceAccount) => boolean) => {
    const job = jobOf(c, rec);
    const terms = termsOf(c, rec);
    return job !== null && terms !== null && test(job, terms);
  };
  const fitting = live.filter((rec) => fits(rec, wanted));
  if (fitting.length > 0 && d.chance(80)) return d.pick(fitting);
  // With nothing fitting, most tries would fail the same way: only some are made.
  if (fitting.length === 0 && !d.chance(35)) return undefined;
  const running = live.filter((rec) => fits(rec, (job) => rules.stateOf(job) === "running"));
  if (running.length > 0 && d.chance(70)) return d.pick(running);
  return live.length > 0 && d.chance(85) ? d.pick(live) : d.pick(recordsInFocus(c));
}

const bidSeat: Action = async (c) => {
  const { w, d, view } = c;
  const rec = pickSeatRound(c, (job, terms) => rules.stateOf(job) === "running" && rules.checkSeatBidding(terms, view.slot) === null);
  if (!rec) return null;
  const job = jobOf(c, rec);
  const own = w.providers.filter((p) => p.market === rec.market);
  const free = own.filter((p) => !view.bids.has(k(bidPda(w, rec.address, p.address))));
  const onLease = own.filter((p) => view.bids.has(k(bidPda(w, rec.address, p.address))));
  const h = d.below(100);
  // Mostly a provider of the lease's market with no bid on it; hostile: one already on the lease
  // (its bid's address is taken), another market's provider, a stranger signing, another market or terms.
  let p = d.pick(free) ?? d.pick(own)!;
  let what = "";
  if (h < 8 && onLease.length > 0) {
    p = d.pick(onLease)!;
    what = " (already on the lease)";
  } else if (h >= 8 && h < 14) {
    p = d.pick(w.providers.filter((q) => q.market !== rec.market)) ?? p;
    what = " (another market's provider)";
  }
  let signer = p.owner;
  if (h >= 14 && h < 19) {
    signer = d.pick([w.attacker, rec.consumer, w.keepers[0]].filter((a) => a !== p.owner))!;
    what = " (signed by a stranger)";
  }
  const ownMarket = job?.market ?? w.markets[rec.market].address;
  const market = h >= 19 && h < 24 ? otherMarket(w, ownMarket) : ownMarket;
  const ownTerms = rec.service?.address ?? servicePda(w, rec.address);
  const service = h >= 24 && h < 28 ? otherTerms(c, ownTerms) : ownTerms;
  if (h >= 19 && h < 28) what = market.equals(ownMarket) ? " (other terms)" : " (another market)";
  const bidPrice = price(c, job?.maxPrice ?? 5_000n);
  const bid = bidPda(w, rec.address, p.address);
  const predicted = rules.bidSeat({
    now: view.slot,
    owner: signer.publicKey,
    provider: keyed(view.providers, p.address),
    market: keyed(view.markets, market),
    job: keyed(view.jobs, rec.address),
    service: keyed(view.services, service),
    bid: { address: bid, expected: bid, exists: view.bids.has(k(bid)) },
    price: bidPrice,
  });
  const ix = bidSeatInstruction(w.client.program, bidPrice, { owner: signer.publicKey, provider: p.address, market, job: rec.address, service, bid });
  const done = await sendBy(`${signer.name} bids ${bidPrice} for a seat of ${rec.consumer.name}'s lease as ${p.owner.name}${what}`, sendIx(c, signer, "bid_seat", predicted, ix));
  if (!done.outcome.ok || done.predicted === "unknown" || !job) return done;
  // What it did: an open bid at its price, locking the bid's stake, ranked when the ranking has room.
  const problems = [];
  const placed = w.current<BidAccount>(bid);
  const before = view.providers.get(k(p.address))!;
  const after = w.current<ProviderAccount>(p.address);
  const afterJob = w.current<JobAccount>(rec.address);
  const lock = rules.bidLock(job, view.markets.get(k(market))!);
  if (!placed || rules.statusOf(placed) !== "active" || placed.price !== bidPrice) problems.push(`placed ${placed ? `${rules.statusOf(placed)} at ${placed.price}` : "nothing"}, the rules say active at ${bidPrice}`);
  if (after && after.locked !== before.locked + lock) problems.push(`provider.locked ${before.locked} → ${after.locked}, the bid locks ${lock}`);
  if (afterJob && job.auction.rankedCount < afterJob.auction.ranking.length && rules.rankOf(afterJob, p.address) < 0) problems.push("the seat bid is not ranked though the ranking had room");
  return problems.length > 0 ? { ...done, check: `bid_seat ${problems.join("; ")}` } : done;
};

const awardSeat: Action = async (c) => {
  const { w, d, view } = c;
  const rec = pickSeatRound(c, (job, terms) => rules.seatAwardDue(job, terms, view.slot) || terms.openSeats > 0);
  if (!rec) return null;
  const job = jobOf(c, rec);
  const terms = termsOf(c, rec);
  const keeper = d.pick([...w.keepers, w.attacker, rec.consumer])!;
  const ranked = job ? rules.ranked(job).map((e) => bidPda(w, rec.address, e.provider)) : [];
  let winners = job && terms ? rules.seatWinners(job, terms).map((provider) => bidPda(w, rec.address, provider)) : [];
  const h = d.below(100);
  let what = "";
  if (h < 8 && winners.length > 0) {
    winners = [...ranked].reverse().slice(0, Math.max(1, winners.length));
    what = " (worst first)";
  } else if (h >= 8 && h < 14 && winners.length > 0) {
    winners = [winners[0], winners[0], ...winners.slice(2)];
    what = " (one passed twice)";
  } else if (h >= 14 && h < 20) {
    const foreign = d.pick([...view.bids.keys()]);
    if (foreign) winners = [new PublicKey(foreign), ...winners.slice(1)];
    what = " (a foreign bid)";
  } else if (h >= 20 && h < 25) {
    winners = winners.slice(1);
    what = " (too few)";
  } else if (h >= 25 && h < 30) {
    winners = ranked;
    what = " (every ranked bid)";
  }
  const ownMarket = job?.market ?? w.markets[rec.market].address;
  const market = h >= 30 && h < 35 ? otherMarket(w, ownMarket) : ownMarket;
  const ownTerms = rec.service?.address ?? servicePda(w, rec.address);
  const service = h >= 35 && h < 39 ? otherTerms(c, ownTerms) : ownTerms;
  const predicted = rules.awardSeat({ now: view.slot, market: keyed(view.markets, market), job: keyed(view.jobs, rec.address), service: keyed(view.services, service), bids: winners.map((b) => keyed(view.bids, b)) });
  const ix = awardSeatInstruction(w.client.program, { cranker: keeper.publicKey, market, job: rec.address, service }, winners);
  const done = await sendBy(`${keeper.name} awards the seat round of ${rec.consumer.name}'s lease${what}`, sendIx(c, keeper, "award_seat", predicted, ix));
  if (!done.outcome.ok || done.predicted === "unknown" || !job || !terms) return done;
  // What it did: the round's best bids won at their own price in this slot, the round closed.
  const problems = [];
  const awarded = rules.seatsToAward(job, terms);
  for (const address of winners.slice(0, awarded)) {
    const before = view.bids.get(k(address));
    const after = w.current<BidAccount>(address);
    if (!before || !after || rules.statusOf(after) !== "won" || after.awardedSlot !== view.slot || after.awardedPrice !== before.price) problems.push(`winner ${after ? `${rules.statusOf(after)} at ${after.awardedPrice} in ${after.awardedSlot}` : "gone"}, the rules say won at its price in ${view.slot}`);
  }
  const expected = rules.seatsAwarded(job, terms);
  const after = w.current<ServiceAccount>(ownTerms);
  if (after && (after.openSeats !== expected.openSeats || after.seatsStarting !== expected.seatsStarting || after.seatDeadlineSlot !== expected.seatDeadlineSlot)) problems.push(`terms at ${after.openSeats} open, ${after.seatsStarting} starting, deadline ${after.seatDeadlineSlot}; the rules say ${expected.openSeats}, ${expected.seatsStarting}, ${expected.seatDeadlineSlot}`);
  if ((w.current<JobAccount>(rec.address)?.auction.rankedCount ?? 0) !== 0) problems.push("the round's ranking was not emptied");
  return problems.length > 0 ? { ...done, check: `award_seat ${problems.join("; ")}` } : done;
};

const startSeat: Action = async (c) => {
  const { w, d, view } = c;
  const picked = pickReplica(c, (bid, job) => rules.seatAwaitingStart(bid, job), 85);
  if (!picked) return null;
  const { rec, job, terms, address: bidAddress, bid, p } = picked;
  // A no-show provider rarely starts its seat.
  if (p.temperament === "noShow" && d.chance(85)) return null;
  const h = d.below(100);
  const signer = h < 8 ? d.pick([w.attacker, rec.consumer, w.keepers[1]].filter((a) => !a.publicKey.equals(bid.owner)))! : (actorByKey(w, bid.owner) ?? p.owner);
  const ownTerms = rec.service?.address ?? servicePda(w, rec.address);
  const service = h >= 8 && h < 12 ? otherTerms(c, ownTerms) : ownTerms;
  const what = h < 8 ? " (signed by a stranger)" : h < 12 ? " (other terms)" : "";
  const predicted = rules.startSeat({ now: view.slot, owner: signer.publicKey, job: keyed(view.jobs, rec.address), service: keyed(view.services, service), bid: keyed(view.bids, bidAddress) });
  const ix = startSeatInstruction(w.client.program, { owner: signer.publicKey, job: rec.address, service, bid: bidAddress });
  const done = await sendBy(`${signer.name} starts ${p.owner.name}'s seat of ${rec.consumer.name}'s lease${what}`, sendIx(c, signer, "start_seat", predicted, ix));
  if (!done.outcome.ok || done.predicted === "unknown" || !job || !terms) return done;
  const problems = [];
  const after = w.current<BidAccount>(bidAddress);
  const afterTerms = w.current<ServiceAccount>(ownTerms);
  if (!after || rules.statusOf(after) !== "started" || after.startedSlot !== view.slot) problems.push(`the seat is ${after ? `${rules.statusOf(after)} since ${after.startedSlot}` : "gone"}, the rules say started in ${view.slot}`);
  if (afterTerms && (afterTerms.seatsStarting !== terms.seatsStarting - 1 || afterTerms.seatsFilled !== terms.seatsFilled + 1)) problems.push(`terms at ${afterTerms.seatsStarting} starting, ${afterTerms.seatsFilled} filled; the rules say ${terms.seatsStarting - 1}, ${terms.seatsFilled + 1}`);
  return problems.length > 0 ? { ...done, check: `start_seat ${problems.join("; ")}` } : done;
};

/** What moves a running lease on, as its parties would: the pause or a close when due, a top-up
 * of a paused lease, the owners' claims, now and then an end; else the clock. */
function serviceDue(c: Context, rec: JobRecord, job: JobAccount): ActionKind | undefined {
  if (rules.stateOf(job) !== "running") return undefined;
  const { view, d } = c;
  const terms = termsOf(c, rec);
  if (!terms) return "warp";
  const balance = token(view, rec.escrow)?.amount ?? 0n;
  if (rules.pauseDue(job, terms, balance)) return "pauseService";
  const bids = bidsOn(view, rec.address);
  const replicas = bids.filter((b) => started(b.bid, job));
  if (replicas.some((b) => rules.replicaCloseDue(job, terms, b.bid, view.slot))) return "closeReplica";
  // A seat round: awarded once its bidding is over, its winners start (or are failed, the crank
  // due above), and providers bid while it is open.
  if (rules.seatAwardDue(job, terms, view.slot)) return "awardSeat";
  if (bids.some((b) => rules.seatStartOpen(job, b.bid, view.slot)) && d.chance(70)) return "startSeat";
  if (rules.checkSeatBidding(terms, view.slot) === null && d.chance(50)) return "bidSeat";
  if (rules.isPaused(terms) && !rules.pauseExpired(terms, view.slot) && d.chance(50)) return "fundService";
  const claimable = replicas.some((b) => typeof rules.serviceClaim(job, terms, b.bid, view.slot, view.slot, balance) !== "string");
  if (claimable && d.chance(70)) return "claimService";
  return d.chance(20) ? "endReplica" : "warp";
}

// --- stake -------------------------------------------------------------------------

const stake: Action = async (c) => {
  const p = c.d.pick(c.w.providers)!;
  const amount = c.d.chance(5) ? 0n : c.d.chance(5) ? 10n * 1_000_000_000n : BigInt(1 + c.d.below(2_000_000));
  const ownerToken = c.w.ata(p.owner.publicKey, c.w.markets[p.market].stakeMint);
  const vault = c.d.chance(5) ? c.d.pick(c.w.providers)!.vault : p.vault;
  const predicted = rules.stake({ owner: p.owner.publicKey, provider: keyed(c.view.providers, p.address), vault, ownerToken: token(c.view, ownerToken), amount });
  return sendIx(c, p.owner, "stake", predicted, stakeInstruction(c.w.client.program, { amount }, { owner: p.owner.publicKey, provider: p.address, vault, ownerToken }));
};

const requestUnstake: Action = async (c) => {
  const p = c.d.pick(c.w.providers)!;
  const state = c.view.providers.get(k(p.address));
  const free = state ? rules.freeStake(state) : 0n;
  const amount = c.d.chance(10) ? free + 1n : c.d.chance(5) ? 0n : free === 0n ? 1n : 1n + (BigInt(c.d.next()) % free);
  const market = c.d.chance(5) ? otherMarket(c.w, c.w.markets[p.market].address) : c.w.markets[p.market].address;
  const predicted = rules.requestUnstake({ owner: p.owner.publicKey, provider: keyed(c.view.providers, p.address), market: keyed(c.view.markets, market), amount });
  return sendIx(c, p.owner, "request_unstake", predicted, requestUnstakeInstruction(c.w.client.program, { amount }, { owner: p.owner.publicKey, provider: p.address, market }));
};

const withdrawUnstaked: Action = async (c) => {
  const p = c.d.pick(c.w.providers)!;
  const ownerToken = c.w.ata(p.owner.publicKey, c.w.markets[p.market].stakeMint);
  const predicted = rules.withdrawUnstaked({ now: c.view.slot, owner: p.owner.publicKey, provider: keyed(c.view.providers, p.address), vault: p.vault, ownerToken: token(c.view, ownerToken) });
  return sendIx(c, p.owner, "withdraw_unstaked", predicted, withdrawUnstakedInstruction(c.w.client.program, { owner: p.owner.publicKey, provider: p.address, vault: p.vault, ownerToken }));
};

// --- out-of-band moves ---------------------------------------------------------------

/** 1 token sent to a token account the program holds (an escrow, a stake vault, a bond vault). */
const dust: Action = async (c) => {
  const { w, d, view } = c;
  const people = new Set(w.actors.map((a) => k(a.publicKey)));
  const held = [...view.tokens.entries()].filter(([, t]) => !people.has(k(t.owner)));
  const target = d.pick(held);
  if (!target) return null;
  const [address, t] = target;
  const source = w.ata(w.attacker.publicKey, t.mint);
  if ((view.tokens.get(k(source))?.amount ?? 0n) < 1n) return null;
  const outcome = w.send(w.attacker.keypair, [createTransferInstruction(source, new PublicKey(address), w.attacker.publicKey, 1n)]);
  if (outcome.ok) w.dust.set(address, (w.dust.get(address) ?? 0n) + 1n);
  // A donation to a lease's escrow counts in what it can pay.
  const lease = outcome.ok ? w.jobs.find((rec) => k(rec.escrow) === address && liveLease(w, view, rec.address) === rec) : undefined;
  if (lease?.service) lease.service.donated += 1n;
  return { name: "dust", predicted: "move", outcome };
};

/** An actor parks an associated token account's balance in its spare account and closes it. */
const closeTokenAccount: Action = async (c) => {
  const { w, d, view } = c;
  const actor = d.pick(w.actors)!;
  const mint = d.pick(w.mints)!;
  const ata = w.ata(actor.publicKey, mint);
  const state = view.tokens.get(k(ata));
  const spare = w.spare(view, actor.publicKey, mint);
  if (!state || !spare) return null;
  const ixs = [];
  if (state.amount > 0n) ixs.push(createTransferInstruction(ata, spare, actor.publicKey, state.amount));
  ixs.push(createCloseAccountInstruction(ata, actor.publicKey, actor.publicKey));
  return { name: "close_token_account", predicted: "move", outcome: w.send(actor.keypair, ixs) };
};

/** Opens an actor's associated token account again and moves the parked tokens back. */
export function reopenTokenAccount(w: World, view: View, actor: Actor, mint: PublicKey): Outcome | null {
  const ata = w.ata(actor.publicKey, mint);
  if (view.tokens.has(k(ata))) return null;
  const spare = w.spare(view, actor.publicKey, mint);
  const ixs = [createAssociatedTokenAccountIdempotentInstruction(actor.publicKey, ata, actor.publicKey, mint)];
  const parked = spare ? (view.tokens.get(k(spare))?.amount ?? 0n) : 0n;
  if (spare && parked > 0n) ixs.push(createTransferInstruction(spare, ata, actor.publicKey, parked));
  return w.send(actor.keypair, ixs);
}

const reopenAccount: Action = async (c) => {
  const actor = c.d.pick(c.w.actors)!;
  const mint = c.d.pick(c.w.mints)!;
  const outcome = reopenTokenAccount(c.w, c.view, actor, mint);
  return outcome && { name: "reopen_token_account", predicted: "move", outcome };
};

/** Every deadline of live jobs and games, so the clock can be put just before, at or after one. */
function deadlines(view: View, focus?: string): bigint[] {
  const out: bigint[] = [];
  for (const [address, job] of view.jobs) {
    if (focus && address !== focus) continue;
    out.push(job.bidDeadlineSlot, job.revealDeadlineSlot);
    if (job.progress.awardedSlot > 0n) out.push(job.progress.startDeadlineSlot, job.progress.commitDeadlineSlot);
    if (job.progress.challengeDeadlineSlot > 0n) out.push(job.progress.challengeDeadlineSlot);
  }
  for (const game of view.disputes.values()) if (!focus || k(game.job) === focus) out.push(rules.disputeTimeoutSlot(game) - 1n);
  // Leases: each replica's end and the slot its claim period is over, a pause's end.
  for (const terms of view.services.values()) {
    const job = view.jobs.get(k(terms.job));
    if (!job || (focus && k(terms.job) !== focus) || terms.jobIncarnation !== job.incarnation || rules.stateOf(job) !== "running") continue;
    if (rules.isPaused(terms)) out.push(terms.pauseEndsSlot + 1n);
    // A seat round's last bidding slot, and each seat winner's last slot to start.
    if (terms.openSeats > 0) out.push(terms.seatDeadlineSlot);
    for (const { bid } of bidsOn(view, terms.job)) {
      if (rules.seatAwaitingStart(bid, job)) out.push(rules.seatStartDeadline(job, bid.awardedSlot));
      if (!started(bid, job)) continue;
      const end = rules.replicaEnd(job, terms, bid);
      out.push(end, end + terms.ackPeriodSlots + 1n);
    }
  }
  if (!focus) for (const p of view.providers.values()) if (p.unbonding > 0n) out.push(p.unlockSlot);
  return out;
}

const warp: Action = async (c) => {
  const { w, d, view } = c;
  const ahead = deadlines(view, c.focus).filter((s) => s + 1n >= view.slot);
  let to = view.slot + BigInt(1 + d.below(10));
  // Mostly to the next deadline (−1, 0, +1), so jobs and games reach every phase.
  const sorted = ahead.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const deadline = d.chance(60) ? (d.chance(60) ? sorted[0] : d.pick(sorted)) : undefined;
  if (deadline !== undefined) to = deadline + BigInt(d.below(3)) - 1n;
  if (to <= view.slot) to = view.slot + 1n;
  w.ledger.warpToSlot(to);
  return { name: "warp", predicted: "move", outcome: { ok: true } };
};

/** What kind of account an address is in the view, so it is only swapped for one of its kind. */
function kindOf(view: View, address: string): string | undefined {
  if (view.jobs.has(address)) return "job";
  if (view.bids.has(address)) return "bid";
  if (view.disputes.has(address)) return "dispute";
  if (view.providers.has(address)) return "provider";
  if (view.markets.has(address)) return "market";
  if (view.buffers.has(address)) return "buffer";
  if (view.services.has(address)) return "service";
  const t = view.tokens.get(address);
  return t ? `token:${k(t.mint)}` : undefined;
}

/** Every address of a kind, live ones and (for jobs, bids, games) ones that once lived. */
function ofKind(c: Context, kind: string): string[] {
  const { w, view } = c;
  if (kind === "job") return [...new Set([...view.jobs.keys(), ...w.jobs.map((r) => k(r.address))])];
  if (kind === "bid") return [...view.bids.keys()];
  if (kind === "dispute") return [...new Set([...view.disputes.keys(), ...w.games.keys()])];
  if (kind === "provider") return [...view.providers.keys()];
  if (kind === "market") return [...view.markets.keys()];
  if (kind === "buffer") return [...view.buffers.keys()];
  if (kind === "service") return [...new Set([...view.services.keys(), ...w.jobs.filter((r) => r.service).map((r) => k(r.service!.address))])];
  // Token accounts in an order that does not depend on the mints' (random) addresses: by owner
  // (seeded keypairs and PDAs), then associated account first, so a case replays exactly.
  const label = (address: string, t: rules.TokenState) => `${k(t.owner)}:${w.ata(t.owner, t.mint).toBase58() === address ? 0 : 1}`;
  return [...view.tokens.entries()]
    .filter(([, t]) => kind === `token:${k(t.mint)}`)
    .map(([a, t]) => ({ a, key: label(a, t) }))
    .sort((x, y) => (x.key < y.key ? -1 : x.key > y.key ? 1 : 0))
    .map(({ a }) => a);
}

/** "account #i: kind A → B", with the token accounts' owners (same owner: an equivalent swap). */
function describeSwap(view: View, index: number, from: PublicKey, to: PublicKey, twice: boolean): string {
  const kind = kindOf(view, k(from)) ?? "?";
  const owners = kind.startsWith("token:") ? ` (owner ${view.tokens.get(k(from))!.owner.equals(view.tokens.get(k(to))?.owner ?? PublicKey.default) ? "same" : "differs"})` : "";
  return `account #${index} ${kind.split(":")[0]} ${k(from).slice(0, 6)}→${k(to).slice(0, 6)}${twice ? " (passed twice)" : ""}${owners}`;
}

/**
 * Which action moves a job on now, as an honest party would take it: the crank due (the rules
 * module's), else the parties' next step (reveal, start, commit, reveal a result, challenge a
 * wrong result, play or settle a game), else the clock to the job's next deadline.
 */
function dueAction(c: Context, rec: JobRecord, job: JobAccount): ActionKind {
  const { view } = c;
  const slot = view.slot;
  const bids = bidsOn(view, rec.address).map((b) => b.bid).filter((bid) => rules.ofIncarnation(bid, job));
  const games = [...view.disputes.values()].filter((game) => game.job.equals(rec.address));
  const crank = rules.dueCrank(job, bids, slot, games.some((game) => game.refereed));
  if (crank.kind === "award") return "award";
  if (crank.kind === "expire") return "expireJob";
  if (crank.kind === "failNoShow") return "failNoShow";
  if (crank.kind === "failTimeout") return "failTimeout";
  if (crank.kind === "finalize") return "finalize";
  if (crank.kind === "referee") return "referee";
  const lease = rules.isService(job) ? serviceDue(c, rec, job) : undefined;
  if (lease) return lease;
  const has = (status: rules.BidStatusName) => bids.some((bid) => rules.holdsAward(bid, job) && rules.statusOf(bid) === status);
  switch (rules.stateOf(job)) {
    case "open":
      if (bids.some((bid) => rules.revealDue(job, bid, slot)) && rec.bidSecrets.size > 0) return "revealBid";
      return rules.canBid(job, slot) ? "placeBid" : "warp";
    case "awarded":
      return has("won") ? "startJob" : "warp";
    case "running":
      return has("started") ? "commit" : "warp";
    case "committed":
    case "challenged": {
      if (games.some((game) => variantOf(game.status) !== "open")) return "settleDispute";
      if (games.some((game) => slot >= rules.disputeTimeoutSlot(game))) return "timeoutDispute";
      if (games.length > 0) return "gameMove";
      if (bids.some((bid) => rules.resultRevealDue(job, bid, slot)) && rec.resultSecrets.size > 0) return "revealResult";
      const wrong = bids.some((bid) => rules.challengeOpen(job, bid, slot) && !rules.sameBytes(bid.finalStateHash, c.machine.honestHash));
      return wrong ? "openDispute" : "warp";
    }
    default:
      return "warp";
  }
}

/** The people a job's cranks pay or refund, and its mints: a closed token account of theirs
 * refuses every crank, so the `due` action opens it again first. */
function missingAccount(c: Context, rec: JobRecord): { actor: Actor; mint: PublicKey } | undefined {
  const { w, view } = c;
  const market = w.markets[rec.market];
  const owners = new Set([rec.consumer, w.authority, w.attacker, ...w.keepers]);
  for (const { bid } of bidsOn(view, rec.address)) {
    const owner = actorByKey(w, bid.owner);
    if (owner) owners.add(owner);
  }
  for (const actor of owners) for (const mint of [market.paymentMint, market.stakeMint]) if (!view.tokens.has(k(w.ata(actor.publicKey, mint)))) return { actor, mint };
  return undefined;
}

/** A live job moved on by what is due for it (so jobs reach finalize and games reach settlement). */
const due: Action = async (c) => {
  // Now and then a lease filling a seat first, or a running one, so its rounds reach their award
  // and their winners' start within a case.
  const filling = liveServices(c).filter((r) => {
    const terms = termsOf(c, r);
    return terms !== null && rules.seatBeingFilled(terms);
  });
  const running = liveServices(c).filter((r) => rules.stateOf(jobOf(c, r)!) === "running");
  const roll = c.d.below(100);
  const rec = filling.length > 0 && roll < 30 ? c.d.pick(filling) : running.length > 0 && roll < 45 ? c.d.pick(running) : c.d.pick(liveRecords(c));
  if (!rec) return null;
  const missing = missingAccount(c, rec);
  if (missing) {
    const outcome = reopenTokenAccount(c.w, c.view, missing.actor, missing.mint);
    return outcome && { name: "reopen_token_account", predicted: "move", outcome };
  }
  const job = jobOf(c, rec)!;
  return ACTIONS[dueAction(c, rec, job)]({ ...c, focus: k(rec.address) });
};

const SUBSTITUTABLE: ActionKind[] = [
  "placeBid",
  "revealBid",
  "withdrawBid",
  "award",
  "expireJob",
  "cancelJob",
  "startJob",
  "commit",
  "revealResult",
  "failNoShow",
  "failTimeout",
  "finalize",
  "openDispute",
  "timeoutDispute",
  "settleDispute",
  "closeWitness",
  "stake",
  "requestUnstake",
  "withdrawUnstaked",
  "fundService",
  "claimService",
  "endReplica",
  "closeReplica",
  "pauseService",
  "closeService",
  "bidSeat",
  "awardSeat",
  "startSeat",
];

/** Another action's instruction with one account (of the view's kinds) replaced by another of
 * the same kind: another job, incarnation, bid, game, provider, market or token account. Or one
 * account passed twice: the replacement is another account of the same instruction. */
const substitute: Action = async (c) => {
  const kind = c.d.pick(SUBSTITUTABLE)!;
  const twice = c.d.chance(25);
  const pick = c.d.next();
  const mutate = (ix: TransactionInstruction): TransactionInstruction | null => {
    const positions = ix.keys.map((key, i) => ({ key, i })).filter(({ key }) => !key.isSigner && kindOf(c.view, k(key.pubkey)) !== undefined);
    if (positions.length === 0) return null;
    const at = positions[pick % positions.length];
    const from = at.key.pubkey;
    const candidates = twice ? positions.map((p) => k(p.key.pubkey)) : ofKind(c, kindOf(c.view, k(from))!);
    const others = candidates.filter((a) => a !== k(from));
    if (others.length === 0) return null;
    const to = new PublicKey(others[(pick >>> 8) % others.length]);
    note = describeSwap(c.view, at.i, from, to, twice);
    return new TransactionInstruction({ programId: ix.programId, data: ix.data, keys: ix.keys.map((key, i) => (i === at.i ? { ...key, pubkey: to } : key)) });
  };
  let note: string | undefined;
  const done = await ACTIONS[kind]({ ...c, mutate });
  return done && (note ? { ...done, name: `${done.name} (substituted)`, note } : done);
};

export const ACTIONS = {
  postJob,
  cancelJob,
  placeBid,
  revealBid,
  withdrawBid,
  award,
  expireJob,
  startJob,
  commit,
  revealResult,
  failNoShow,
  failTimeout,
  finalize,
  openDispute,
  gameMove,
  timeoutDispute,
  settleDispute,
  referee,
  closeWitness,
  postService,
  fundService,
  claimService,
  endReplica,
  closeReplica,
  pauseService,
  closeService,
  bidSeat,
  awardSeat,
  startSeat,
  stake,
  requestUnstake,
  withdrawUnstaked,
  dust,
  closeTokenAccount,
  reopenAccount,
  warp,
  substitute,
  due,
} satisfies Record<string, Action>;

export type ActionKind = keyof typeof ACTIONS;

/** How often each action is drawn (relative weights). */
export const WEIGHTS: Record<ActionKind, number> = {
  postJob: 4,
  cancelJob: 1,
  placeBid: 18,
  revealBid: 7,
  withdrawBid: 6,
  award: 10,
  expireJob: 3,
  startJob: 14,
  commit: 14,
  revealResult: 6,
  failNoShow: 4,
  failTimeout: 3,
  finalize: 6,
  openDispute: 5,
  gameMove: 10,
  timeoutDispute: 2,
  settleDispute: 3,
  referee: 2,
  closeWitness: 1,
  postService: 6,
  fundService: 3,
  claimService: 8,
  endReplica: 7,
  closeReplica: 4,
  pauseService: 2,
  closeService: 2,
  bidSeat: 5,
  awardSeat: 3,
  startSeat: 3,
  stake: 2,
  requestUnstake: 2,
  withdrawUnstaked: 2,
  dust: 3,
  closeTokenAccount: 1,
  reopenAccount: 2,
  warp: 14,
  substitute: 8,
  due: 30,
};

