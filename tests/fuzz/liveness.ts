// The liveness drain at the end of a case: only the clock, permissionless cranks (award,
// expire_job, fail_no_show, fail_timeout, finalize, referee, timeout_dispute, settle_dispute,
// settle_referee, and for leases pause_service, award_seat, close_replica, close_service) and
// each party's own exits (reopening its token accounts, withdraw_bid, close_witness,
// request_unstake, withdraw_unstaked) act, until nothing changes; and a seat winner starts its
// seat unless it is a no-show (then fail_no_show gives the seat up). Nobody claims or ends a
// replica: every lease must settle by the clock alone (its replicas, the seats' too, end at
// their longest term, or a pause's end), its seat rounds awarded and its seats resolved first.
// Then every job, bid, game, lease's terms and proof buffer must be closed and every stake
// withdrawn.
import { PublicKey } from "@solana/web3.js";
import { ComputeMarketError, findServicePda, rules, type BidAccount } from "@compute-market/sdk";
import { reopenTokenAccount } from "./actions";
import type { Violation } from "./invariants";
import type { Actor, View, World } from "./world";

const k = (p: PublicKey): string => p.toBase58();

async function attempt(call: () => Promise<unknown>): Promise<string | null> {
  try {
    await call();
    return null;
  } catch (error) {
    if (error instanceof ComputeMarketError) return error.errorName;
    // A runtime refusal (not the program's error): its name, without the signature and logs.
    const runtime = /Error processing Instruction \d+: ([^.\n]+)/.exec(String(error));
    return runtime ? runtime[1] : String(error).slice(0, 200);
  }
}

function bidsOf(view: View, job: string): BidAccount[] {
  return [...view.bids.values()].filter((bid) => k(bid.job) === job);
}

/** The owner of a seat winner's provider that starts it in the drain: any but a no-show's. */
function seatStarter(w: World, bid: BidAccount): Actor | undefined {
  const p = w.providers.find((q) => q.address.equals(bid.provider));
  return p && p.temperament !== "noShow" ? p.owner : undefined;
}

export interface DrainReport {
  failures: Violation[];
  /** Tokens left in stake vaults after every provider withdrew all its stake: dust sent there. */
  stranded: bigint;
  cranks: number;
  /** The cranks (and seat starts) the drain sent that the program accepted, by instruction. */
  accepted: Map<string, number>;
}

export async function drain(w: World, supply: Map<string, bigint>): Promise<DrainReport> {
  const failures: Violation[] = [];
  const fail = (key: string, message: string) => failures.push({ key, message });
  const keeper: Actor = w.keepers[0];
  let cranks = 0;
  // Each party opens again the token accounts it closed (its own move).
  for (const actor of w.actors) for (const mint of w.mints) reopenTokenAccount(w, w.view(), actor, mint);

  const refused = new Map<string, number>();
  const accepted = new Map<string, number>();
  for (let round = 0; round < 400; round++) {
    const view = w.view();
    const waits: bigint[] = [];
    let acted = false;
    const run = async (what: string, call: () => Promise<unknown>) => {
      const error = await attempt(call);
      cranks++;
      if (error === null) {
        acted = true;
        accepted.set(what, (accepted.get(what) ?? 0) + 1);
        return;
      }
      const key = `${what}: ${error}`;
      refused.set(key, (refused.get(key) ?? 0) + 1);
    };
    for (const [address, game] of view.disputes) {
      const due = rules.dueGameCrank(game, view.slot);
      const dispute = new PublicKey(address);
      if (due.kind === "timeout") await run("timeout_dispute", () => keeper.client.timeoutDispute({ dispute }));
      else if (due.kind === "settle") await run(game.refereed ? "settle_referee" : "settle_dispute", () => keeper.client.settleDispute({ dispute }));
      else waits.push(due.slot);
    }
    // Leases: pause when short of a period, close each replica once due, return dead terms' rent.
    for (const [address, job] of view.jobs) {
      if (!rules.isService(job) || rules.stateOf(job) !== "running") continue;
      const jobKey = new PublicKey(address);
      const terms = view.services.get(k(findServicePda({ job: jobKey, programId: w.programId })[0]));
      if (!terms || terms.jobIncarnation !== job.incarnation) continue;
      if (rules.pauseDue(job, terms, view.tokens.get(k(job.escrow))?.amount ?? 0n)) await run("pause_service", () => keeper.client.pauseService({ job: jobKey }));
      // A seat round is awarded once its bidding is over (anyone may).
      if (rules.seatAwardDue(job, terms, view.slot)) await run("award_seat", () => keeper.client.awardSeat({ job: jobKey }));
      else if (terms.openSeats > 0) waits.push(terms.seatDeadlineSlot + 1n);
      for (const bid of bidsOf(view, address)) {
        // A seat winner starts (its own move) unless it is a no-show, whose seat the crank below gives up.
        const winner = seatStarter(w, bid);
        if (winner && rules.seatStartOpen(job, bid, view.slot)) await run("start_seat", () => winner.client.startSeat({ job: jobKey }));
        if (!rules.holdsAward(bid, job) || rules.statusOf(bid) !== "started") continue;
        if (rules.replicaCloseDue(job, terms, bid, view.slot)) await run("close_replica", () => keeper.client.closeReplica({ job: jobKey, provider: bid.provider }));
        else waits.push(rules.replicaEnd(job, terms, bid) + terms.ackPeriodSlots + 1n);
      }
    }
    for (const terms of view.services.values()) {
      if (rules.serviceTermsDead(terms, view.jobs.get(k(terms.job)) ?? null)) await run("close_service", () => keeper.client.closeService({ job: terms.job }));
    }
    for (const [address, job] of view.jobs) {
      const hasGame = [...view.disputes.values()].some((g) => k(g.job) === address);
      const due = rules.dueCrank(job, bidsOf(view, address), view.slot, hasGame);
      const jobKey = new PublicKey(address);
      if (due.kind === "award") await run("award", () => keeper.client.award({ job: jobKey }));
      else if (due.kind === "expire") await run("expire_job", () => keeper.client.expireJob({ job: jobKey }));
      else if (due.kind === "failNoShow") await run("fail_no_show", () => keeper.client.failNoShow({ job: jobKey, provider: due.provider }));
      else if (due.kind === "failTimeout") await run("fail_timeout", () => keeper.client.failTimeout({ job: jobKey, provider: due.provider }));
      else if (due.kind === "finalize") await run("finalize", () => keeper.client.finalize({ job: jobKey }));
      else if (due.kind === "referee") await run("referee", () => keeper.client.referee({ job: jobKey }));
      else if (due.slot !== null) waits.push(due.slot);
    }
    if (acted) continue;
    const next = waits.filter((s) => s > view.slot).sort((a, b) => (a < b ? -1 : 1))[0];
    if (next === undefined) break;
    w.ledger.warpToSlot(next);
  }
  const stuck = w.view();
  for (const [key, count] of refused) fail(`crank refused: ${key.split(":")[0]}: ${key.split(": ")[1]}`, `a due crank was refused ${count} times: ${key}`);
  for (const [address, job] of stuck.jobs) {
    fail(`job left ${rules.stateOf(job)}`, `job ${address} is still ${rules.stateOf(job)} after the cranks (${job.progress.openDisputes} games open)`);
  }
  for (const address of stuck.disputes.keys()) fail("game left open", `game ${address} is still live after the cranks`);
  for (const [address, terms] of stuck.services) fail("lease terms outlived their job", `terms ${address} of job ${k(terms.job)} are still there after the cranks`);

  // Providers take back every bid, every proof buffer's rent, and all their stake.
  for (const [address, bid] of stuck.bids) {
    const p = w.providers.find((q) => q.address.equals(bid.provider));
    if (!p) continue;
    const error = await attempt(() => p.owner.client.withdrawBid({ job: bid.job, market: w.markets[p.market].address }));
    if (error) fail(`bid not withdrawable: ${error}`, `bid ${address} (${rules.statusOf(bid)}) cannot be withdrawn: ${error}`);
  }
  for (const [address, buffer] of stuck.buffers) {
    const writer = w.actors.find((a) => a.publicKey.equals(buffer.writer));
    const error = writer ? await attempt(() => writer.client.closeWitness({ dispute: buffer.dispute })) : "no writer";
    if (error) fail(`proof buffer not closable: ${error}`, `buffer ${address}: ${error}`);
  }
  let longest = 0n;
  for (const p of w.providers) {
    const state = w.view().providers.get(k(p.address));
    if (!state) continue;
    if (state.locked > 0n) fail("stake locked with no bid", `provider ${k(p.address)} has ${state.locked} locked and no bid left`);
    const free = rules.freeStake(state);
    if (free > 0n) {
      const error = await attempt(() => p.owner.client.requestUnstake({ provider: p.address, amount: free }));
      if (error) fail(`unstake refused: ${error}`, `provider ${k(p.address)}: ${error}`);
    }
    const market = w.markets[p.market].params.unbondingSlots;
    if (market > longest) longest = market;
  }
  w.ledger.advanceSlots(longest + 1n);
  for (const p of w.providers) {
    const state = w.view().providers.get(k(p.address));
    if (!state || state.unbonding === 0n) continue;
    const error = await attempt(() => p.owner.client.withdrawUnstaked({ provider: p.address, ownerToken: w.ata(p.owner.publicKey, w.markets[p.market].stakeMint) }));
    if (error) fail(`withdraw_unstaked refused: ${error}`, `provider ${k(p.address)}: ${error}`);
  }

  // The end state: nothing live, nothing held but the dust sent to stake vaults.
  const end = w.view();
  if (end.bids.size > 0) fail("bids left", `${end.bids.size} bids left`);
  if (end.buffers.size > 0) fail("proof buffers left", `${end.buffers.size} proof buffers left`);
  let stranded = 0n;
  const vaults = new Set(w.providers.map((p) => k(p.vault)));
  const people = new Set(w.actors.map((a) => k(a.publicKey)));
  for (const p of w.providers) {
    const state = end.providers.get(k(p.address));
    if (state && state.staked > 0n) fail("stake left", `provider ${k(p.address)} still has ${state.staked} staked`);
    const held = end.tokens.get(k(p.vault))?.amount ?? 0n;
    const dust = w.dust.get(k(p.vault)) ?? 0n;
    if (held !== dust) fail("vault not emptied", `vault ${k(p.vault)} holds ${held} after a full unstake (dust sent: ${dust})`);
    stranded += held;
  }
  for (const [address, t] of end.tokens) {
    if (!people.has(k(t.owner)) && !vaults.has(address)) fail("program token account left", `${address} (owner ${k(t.owner)}) holds ${t.amount} and was not closed`);
  }
  for (const mint of w.mints) {
    let held = 0n;
    for (const t of end.tokens.values()) if (t.mint.equals(mint)) held += t.amount;
    if (held !== supply.get(k(mint))) fail("conservation at the end", `mint ${k(mint)}: ${held} of ${supply.get(k(mint))}`);
  }
  return { failures, stranded, cranks, accepted };
}
