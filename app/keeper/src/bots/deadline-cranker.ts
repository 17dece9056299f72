// Enforces the winners' deadlines: fails (and so slashes) a winner that did not start, or did
// not commit, in time; the job then reopens or refunds as its consumer chose. A lease's seat
// winner that did not start is failed the same way; its seat is given up and the lease runs on.
import type { ComputeMarketClient } from "@compute-market/sdk";
import { noShowDue, seatNoShowDue, timeoutDue } from "./schedule";
import type { Action, Bot, MarketView } from "./types";

export class DeadlineCranker implements Bot {
  readonly name = "deadline-cranker";
  readonly lostRaceErrors = ["InvalidJobState", "InvalidAccountOwner", "NotAssignedWinner"] as const;

  constructor(private readonly client: ComputeMarketClient) {}

  plan(view: MarketView): Action[] {
    const actions: Action[] = [];
    for (const [job, state] of view.jobs) {
      for (const [, bid] of view.bidsOf(job)) {
        const provider = bid.provider;
        if (noShowDue(state, bid, view.slot) || seatNoShowDue(state, bid, view.slot)) {
          actions.push({ key: `no-show:${job.toBase58()}:${provider.toBase58()}`, kind: "fail_no_show", job, send: () => this.client.failNoShow({ job, provider }) });
        } else if (timeoutDue(state, bid, view.slot)) {
          actions.push({ key: `timeout:${job.toBase58()}:${provider.toBase58()}`, kind: "fail_timeout", job, send: () => this.client.failTimeout({ job, provider }) });
        }
      }
    }
    return actions;
  }
}
