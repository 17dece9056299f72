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

  // (2) Escrows: a live job's escrow holds at least its budget (nothing leaves before it closes);
  // a refuted job (failed, games still open) was already refunded.
  for (const [address, job] of view.jobs) {
    const needed = rules.escrowAmount(job.maxPrice, job.replication, job.protocolFeeBps, job.crankFee);
    if (job.escrowed < needed) bad("escrowed below budget", `job ${address}: escrowed ${job.escrowed} < ${needed}`);
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
  return out;
}
