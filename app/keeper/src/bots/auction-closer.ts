// Closes auctions: awards a job whose bidding is over (or whose best bids meet its instant
// price), and refunds one that ended without enough bids.
import type { ComputeMarketClient } from "@compute-market/sdk";
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
        actions.push({ key: `award:${job.toBase58()}`, kind: "award", job, send: () => this.client.award({ job }) });
      } else if (expiryDue(state, view.slot)) {
        actions.push({ key: `expire:${job.toBase58()}`, kind: "expire", job, send: () => this.client.expireJob({ job }) });
      }
    }
    return actions;
  }
}
