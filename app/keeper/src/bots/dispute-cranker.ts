// Keeps dissection games moving for everyone: opens the game between a refereed job's two
// winners when their final states differ, ends a game whose party to move ran out of clock, and
// pays out decided games (the challenger's bond back or split, the slash, the refund).
import type { ComputeMarketClient } from "@compute-market/sdk";
import { disputeStatus, timeoutDue } from "@compute-market/common";
import { refereeDue } from "./schedule";
import type { Action, Bot, MarketView } from "./types";

export class DisputeCranker implements Bot {
  readonly name = "dispute-cranker";
  // A game another keeper just decided, settled or opened, or a job that moved on.
  readonly lostRaceErrors = ["NotYourTurn", "ClockRunning", "InvalidAccountOwner", "DisputeUndecided", "InvalidJobState", "AccountAlreadyInitialized", "ResultsAgree"] as const;

  constructor(private readonly client: ComputeMarketClient) {}

  plan(view: MarketView): Action[] {
    const actions: Action[] = [];
    for (const [dispute, game] of view.disputes) {
      const stale = { kind: "dispute" as const, address: dispute };
      if (timeoutDue(game, view.slot)) {
        actions.push({ key: `timeout:${dispute.toBase58()}`, kind: "timeout_dispute", job: game.job, stale, send: () => this.client.timeoutDispute({ dispute }) });
      } else if (disputeStatus(game) !== "open") {
        const kind = game.refereed ? "settle_referee" : "settle_dispute";
        actions.push({ key: `settle:${dispute.toBase58()}`, kind, job: game.job, stale, send: () => (game.refereed ? this.client.settleReferee({ dispute }) : this.client.settleDispute({ dispute })) });
      }
    }
    for (const [job, state] of view.jobs) {
      const bids = view.bidsOf(job).map(([, bid]) => bid);
      if (refereeDue(state, bids, view.disputesOf(job).length > 0)) {
        actions.push({ key: `referee:${job.toBase58()}`, kind: "referee", job, stale: { kind: "job", address: job }, send: async () => (await this.client.referee({ job })).signature });
      }
    }
    return actions;
  }
}
