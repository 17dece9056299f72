// Settles committed jobs once their challenge window has passed with no dispute open.
import type { ComputeMarketClient } from "@compute-market/sdk";
import { finalizeDue } from "./schedule";
import type { Action, Bot, MarketView } from "./types";

export class Finalizer implements Bot {
  readonly name = "finalizer";
  readonly lostRaceErrors = ["InvalidJobState", "InvalidAccountOwner"] as const;

  constructor(private readonly client: ComputeMarketClient) {}

  plan(view: MarketView): Action[] {
    const actions: Action[] = [];
    for (const [job, state] of view.jobs) {
      if (finalizeDue(state, view.slot, view.bidsOf(job).map(([, bid]) => bid))) {
        actions.push({ key: `finalize:${job.toBase58()}`, kind: "finalize", job, send: () => this.client.finalize({ job }) });
      }
    }
    return actions;
  }
}
