// Catches wrong verifiable results: replays every committed `Verifiable` result in its challenge
// window (or a deterministic sample of them), opens a game with a bond against one whose final
// state differs, and plays its side to the end from its own replay — choosing the first segment
// it disputes and proving the last step. Its games are found on-chain, so a restarted keeper
// picks up any game it had opened; its verdicts are recomputed from the same chain state.
import { createHash } from "node:crypto";
import type { PublicKey } from "@solana/web3.js";
import type { BidAccount, ComputeMarketClient, DisputeAccount, JobAccount } from "@compute-market/sdk";
import { disputeStatus, playMove, turnBelongsTo, type ReplayCache } from "@compute-market/common";
import { challengeOpen } from "./schedule";
import type { Action, Bot, MarketView } from "./types";
import { verdictKey, type Verifier } from "../verification";

export interface ChallengerOptions {
  client: ComputeMarketClient;
  verifier: Verifier;
  replays: () => Promise<ReplayCache>;
  /** Share of results checked, 0..1: chosen by a hash of job and keeper, so the same after a restart. */
  sample: number;
}

/** Whether this keeper checks `job`: a fixed share of jobs, the same ones on every restart. */
export function sampled(job: PublicKey, keeper: PublicKey, share: number): boolean {
  if (share >= 1) return true;
  if (share <= 0) return false;
  const digest = createHash("sha256").update(job.toBuffer()).update(keeper.toBuffer()).digest();
  return digest.readUInt32LE(0) / 2 ** 32 < share;
}

export class Challenger implements Bot {
  readonly name = "challenger";
  // Another keeper's move or crank got there first, or the window closed while the replay ran.
  readonly lostRaceErrors = ["NotYourTurn", "InvalidJobState", "DisputeWindowClosed", "AccountAlreadyInitialized", "InvalidAccountOwner"] as const;

  constructor(private readonly options: ChallengerOptions) {}

  /** The open games this keeper challenges in: its bond is lost if it misses a move. */
  watched(view: MarketView): { kind: "dispute"; address: PublicKey }[] {
    const wallet = this.options.client.wallet;
    return [...view.disputes].filter(([, game]) => game.challenger.equals(wallet) && !game.refereed && disputeStatus(game) === "open").map(([address]) => ({ kind: "dispute", address }));
  }

  plan(view: MarketView): Action[] {
    const { client, verifier } = this.options;
    const wallet = client.wallet;
    const actions: Action[] = [];
    const open = new Set<string>();
    for (const [job, state] of view.jobs) {
      for (const [bidAddress, bid] of view.bidsOf(job)) {
        if (!challengeOpen(state, bid, view.slot) || bid.owner.equals(wallet) || !sampled(job, wallet, this.options.sample)) continue;
        open.add(verdictKey(bidAddress, bid));
        if (verifier.verdict(job, state, bidAddress, bid).kind !== "wrong") continue;
        // The game's address is derived only for a result found wrong (a PDA search per tick otherwise).
        const ours = client.disputeAddress(job);
        if (!view.disputesOf(job).some(([address]) => address.equals(ours))) {
          actions.push({ key: `open:${ours.toBase58()}`, kind: "open_dispute", job, stale: { kind: "job", address: job }, send: async () => (await client.openDispute({ job, provider: bid.provider })).signature });
        }
      }
    }
    verifier.retain(open);
    for (const [dispute, game] of view.disputes) {
      if (!game.challenger.equals(wallet) || game.refereed || disputeStatus(game) !== "open" || !turnBelongsTo(game, "challenger")) continue;
      const state = view.job(game.job);
      const bid = view.bidsOf(game.job).find(([address]) => address.equals(game.bid))?.[1];
      if (!state || !bid) continue;
      actions.push({
        key: `move:${dispute.toBase58()}:${game.moves}:${intervalKey(game)}`,
        kind: "dispute_move",
        job: game.job,
        stale: { kind: "dispute", address: dispute },
        send: () => this.move(dispute, game, state, bid),
      });
    }
    return actions;
  }

  private async move(dispute: PublicKey, game: DisputeAccount, job: JobAccount, bid: BidAccount): Promise<string> {
    const replays = await this.options.replays();
    const played = await replays.with(game.job.toBase58(), this.options.verifier.program(game.job, job, bid), (replay) => playMove(this.options.client, dispute, game, "challenger", replay));
    if (played.kind === "wait") throw new Error("no winning move: the replay agrees with the disputed step");
    return played.kind === "prove" ? played.signatures[played.signatures.length - 1] : played.signature;
  }
}

function intervalKey(game: DisputeAccount): string {
  return `${game.lo}-${game.hi}`;
}
