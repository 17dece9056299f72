// What must hold after every step, whatever the program accepted or refused: tokens conserved
// per mint, escrows and vaults solvent, stake accounting consistent with the live bids, no game
// or escrow outliving its job. Each violation has a stable key (no addresses or amounts) so a
// shrink can look for the same one.
import { PublicKey } from "@solana/web3.js";
import { rules } from "@compute-market/sdk";
import type { View, World } from "./world";

export interface Violation {
  key: string;
  message: string;
}

const k = (p: PublicKey): string => p.toBase58();

export function checkInvariants(w: World, view: View, supply: Map<string, bigint>): Violation[] {
  const out: Violation[] = [];
  const bad = (key: string, message: string) => out.push({ key, message });
  if (view.undecodable > 0) bad("undecodable", `${view.undecodable} program accounts do not decode with the IDL`);

  // (1) Conservation: per mint, every token account together holds the supply minted at set-up.
  for (const mint of w.mints) {
    let held = 0n;
    for (const t of view.tokens.values()) if (t.mint.equals(mint)) held += t.amount;
    const minted = supply.get(k(mint)) ?? 0n;
    if (held !== minted || (view.supply.get(k(mint)) ?? 0n) !== minted) bad("conservation", `mint ${k(mint)}: accounts hold ${held}, minted ${minted}`);
  }

  // (2) Escrows: a live batch job's escrow holds at least its budget (nothing leaves before it
  // closes; a lease's deposit is drawn down by claims, see (6)); a refuted job (failed, games
  // still open) was already refunded.
  for (const [address, job] of view.jobs) {
    const needed = rules.escrowAmount(job.maxPrice, job.replication, job.protocolFeeBps, job.crankFee);
    if (!rules.isService(job) && job.escrowed < needed) bad("escrowed below budget", `job ${address}: escrowed ${job.escrowed} < ${needed}`);
    if (rules.stateOf(job) === "failed") continue;
    const escrow = view.tokens.get(k(job.escrow));
    if (!escrow) bad("live job without escrow", `job ${address} (${rules.stateOf(job)}) has no escrow`);
    else if (escrow.amount < job.escrowed) bad("escrow insolvent", `job ${address}: escrow ${escrow.amount} < escrowed ${job.escrowed}`);
  }

  // (3) Stake: vault ≥ staked; locked + unbonding ≤ staked; the live bids' locks sum to locked.
  const locks = new Map<string, bigint>();
  for (const bid of view.bids.values()) locks.set(k(bid.provider), (locks.get(k(bid.provider)) ?? 0n) + bid.locked);
  for (const [address, p] of view.providers) {
    const vault = view.tokens.get(k(p.vault))?.amount ?? 0n;
    if (vault < p.staked) bad("vault insolvent", `provider ${address}: vault ${vault} < staked ${p.staked}`);
    if (p.locked + p.unbonding > p.staked) bad("locked+unbonding above staked", `provider ${address}: locked ${p.locked} + unbonding ${p.unbonding} > staked ${p.staked}`);
    const sum = locks.get(address) ?? 0n;
    if (sum !== p.locked) bad("bid locks differ from provider.locked", `provider ${address}: live bids lock ${sum}, provider.locked ${p.locked}`);
  }

  // (4) Games: each against a live job, which counts exactly its live games; a bonded game's
  // vault holds its bond.
  const games = new Map<string, number>();
  for (const [address, game] of view.disputes) {
    games.set(k(game.job), (games.get(k(game.job)) ?? 0) + 1);
    if (!view.jobs.has(k(game.job))) bad("game without job", `game ${address} outlived job ${k(game.job)}`);
    if (!game.refereed) {
      const vault = PublicKey.findProgramAddressSync([Buffer.from("bond"), new PublicKey(address).toBuffer()], w.programId)[0];
      const held = view.tokens.get(k(vault))?.amount;
      if (held === undefined || held < game.bond) bad("bond vault short", `game ${address}: bond vault holds ${held ?? "nothing"} < ${game.bond}`);
    }
  }
  for (const [address, job] of view.jobs) {
    const live = games.get(address) ?? 0;
    if (live !== job.progress.openDisputes) bad("open game count", `job ${address}: ${live} live games, openDisputes ${job.progress.openDisputes}`);
  }

  // (5) Nothing of a closed job or game is left holding tokens.
  const liveJobs = new Set(view.jobs.keys());
  for (const rec of w.jobs) {
    if (!liveJobs.has(k(rec.address)) && view.tokens.has(k(rec.escrow))) bad("escrow without job", `escrow ${k(rec.escrow)} outlived job ${k(rec.address)}`);
  }
  for (const game of w.games.keys()) {
    if (view.disputes.has(game)) continue;
    const vault = PublicKey.findProgramAddressSync([Buffer.from("bond"), new PublicKey(game).toBuffer()], w.programId)[0];
    if (view.tokens.has(k(vault))) bad("bond vault without game", `bond vault ${k(vault)} outlived game ${game}`);
  }

  // (6) Leases: a live service job has its terms (of its incarnation, its consumer's); its escrow
  // keeps the settlement's crank fee, and holds exactly what went in less what claims took out,
  // claims never more than was put in; a pause has an end, not before it began; the replicas
  // of a running lease, open and closed, are its winners and the seats filled since; its seat
  // winners still to start are the ones counted, and only an open round's seat bids are ranked.
  for (const [address, job] of view.jobs) {
    if (!rules.isService(job)) continue;
    const terms = view.services.get(k(PublicKey.findProgramAddressSync([Buffer.from("service"), new PublicKey(address).toBuffer()], w.programId)[0]));
    if (!terms || !terms.job.equals(new PublicKey(address)) || terms.jobIncarnation !== job.incarnation) {
      bad("live service without its terms", `job ${address}: ${terms ? `terms of incarnation ${terms.jobIncarnation}, job ${job.incarnation}` : "no terms"}`);
      continue;
    }
    if (!terms.consumer.equals(job.consumer)) bad("terms of another consumer", `job ${address}: terms name ${k(terms.consumer)}`);
    const balance = view.tokens.get(k(job.escrow))?.amount ?? 0n;
    if (balance < job.crankFee) bad("service escrow below crank fee", `job ${address}: escrow ${balance} < crank fee ${job.crankFee}`);
    const rec = [...w.jobs].reverse().find((r) => r.address.equals(new PublicKey(address)));
    const flows = rec?.service && rec.service.incarnation === job.incarnation ? rec.service : undefined;
    if (flows) {
      if (flows.claimed + job.crankFee > flows.deposited + flows.donated) bad("claims exceed the deposit", `job ${address}: claims took ${flows.claimed}, deposited ${flows.deposited} + donated ${flows.donated}, crank fee ${job.crankFee}`);
      if (balance !== flows.deposited + flows.donated - flows.claimed) bad("service escrow differs from its flows", `job ${address}: escrow ${balance}, deposited ${flows.deposited} + donated ${flows.donated} − claimed ${flows.claimed}`);
      if (terms.paid > flows.claimed) bad("terms paid more than claims took", `job ${address}: paid ${terms.paid} > ${flows.claimed}`);
    }
    if (terms.pauseEndsSlot < terms.pausedSlot || (terms.pausedSlot === 0n) !== (terms.pauseEndsSlot === 0n)) bad("pause ends before it began", `job ${address}: paused ${terms.pausedSlot}, ends ${terms.pauseEndsSlot}`);
    const replicas = rules.leaseReplicas(job, terms);
    if (terms.closedReplicas > replicas) bad("more replicas closed than leased", `job ${address}: ${terms.closedReplicas} closed of ${replicas}`);
    if ((terms.openSeats > 0) !== (terms.seatDeadlineSlot > 0n)) bad("seat round without its deadline", `job ${address}: ${terms.openSeats} open seats, deadline ${terms.seatDeadlineSlot}`);
    if (rules.stateOf(job) === "running") {
      const jobKey = new PublicKey(address);
      const bids = [...view.bids.values()].filter((bid) => bid.job.equals(jobKey));
      const open = bids.filter((bid) => rules.holdsAward(bid, job) && rules.statusOf(bid) === "started").length;
      if (open + terms.closedReplicas !== replicas) bad("replica count", `job ${address}: ${open} replicas up + ${terms.closedReplicas} closed ≠ ${job.replication} + ${terms.seatsFilled} seats filled`);
      const starting = bids.filter((bid) => rules.seatAwaitingStart(bid, job)).length;
      if (starting !== terms.seatsStarting) bad("seats starting differ from their winners", `job ${address}: ${starting} seat winners to start, seatsStarting ${terms.seatsStarting}`);
      // A running lease ranks only its open round's seat bids: live, open bids of this incarnation.
      if (job.auction.rankedCount > 0 && terms.openSeats === 0) bad("ranked bids with no seat round", `job ${address}: ${job.auction.rankedCount} ranked, no round open`);
      for (const entry of rules.ranked(job)) {
        const bid = bids.find((b) => b.provider.equals(entry.provider) && rules.ofIncarnation(b, job));
        if (!bid || rules.statusOf(bid) !== "active") bad("a running lease ranks no open seat bid", `job ${address}: ranked ${k(entry.provider)} is ${bid ? rules.statusOf(bid) : "no bid"}`);
      }
    }
  }
  return out;
}
