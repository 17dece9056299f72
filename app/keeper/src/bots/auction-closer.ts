// Closes auctions: awards a job whose bidding is over (or whose best bids meet its instant
// price), and refunds one that ended without enough bids.
import type { PublicKey, TransactionInstruction } from "@solana/web3.js";
import { awardInstruction, type ComputeMarketClient, type JobAccount } from "@compute-market/sdk";
import { awardDue, expiryDue } from "./schedule";
import type { Action, Bot, MarketView } from "./types";

export class AuctionCloser implements Bot {
  readonly name = "auction-closer";
  readonly lostRaceErrors = ["InvalidJobState", "InvalidAccountOwner", "AuctionHasWinners", "NotEnoughBids"] as const;

  constructor(private readonly client: ComputeMarketClient) {}

  plan(view: MarketView): Action[] {
    const actions: Action[] = [];
    for (const [job, state] of view.jobs) {
      if (awardDue(state, view.slot)) {
        actions.push({ key: `award:${job.toBase58()}`, kind: "award", job, send: async () => this.client.send(await this.award(job, state)), instructions: () => this.award(job, state) });
      } else if (expiryDue(state, view.slot)) {
        actions.push({ key: `expire:${job.toBase58()}`, kind: "expire", job, send: () => this.client.expireJob({ job }) });
      }
    }
    return actions;
  }

  /** Awards from the indexed state: the winners are the ranking's head, no account to fetch first. */
  private async award(job: PublicKey, state: JobAccount): Promise<TransactionInstruction[]> {
    const winners = state.auction.ranking.slice(0, state.replication).map((entry) => this.client.bidAddress(job, entry.provider));
    return [await awardInstruction(this.client.program, { cranker: this.client.wallet, market: state.market, job }, winners)];
  }
}
