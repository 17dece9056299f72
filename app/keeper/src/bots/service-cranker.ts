// Moves service leases on: pauses a running lease whose deposit fell short of a period (its seats
// then run out unless topped up), and closes replicas once they ended (by end_replica, a pause
// that ran out, or the lease's longest term) and their owner was paid through the end or had a
// period after it to claim: close_replica frees the owner's stake lock, and the lease's last one
// settles it (the crank fee to this keeper, the rest of the deposit back to the consumer); and
// awards a seat round once its bidding is over, so a replacement is never left waiting.
// Nobody else is bound to.
import type { ComputeMarketClient } from "@compute-market/sdk";
import { isService, pauseDue, replicaCloseDue, seatAwardDue } from "./schedule";
import type { Action, Bot, MarketView } from "./types";

export class ServiceCranker implements Bot {
  readonly name = "service-cranker";
  // Another keeper closed the replica (its bid, or after the last one the job, is gone) or the
  // job moved on since the index saw it.
  // A pause: another keeper paused it first, or a donation straight into the escrow (which the
  // index does not see: it plans with the job's accounted deposit) still covers a period.
  // A seat round: another keeper awarded it first (NoSeatRound).
  readonly lostRaceErrors = ["InvalidAccountOwner", "NotAssignedWinner", "InvalidJobState", "ServicePaused", "DepositCoversPeriod", "NoSeatRound"] as const;

  constructor(private readonly client: ComputeMarketClient) {}

  plan(view: MarketView): Action[] {
    const actions: Action[] = [];
    for (const [job, state] of view.jobs) {
      if (!isService(state)) continue;
      const service = view.service(job);
      if (!service) continue;
      if (pauseDue(state, service, state.escrowed)) {
        actions.push({ key: `pause-service:${job.toBase58()}`, kind: "pause_service", job, send: () => this.client.pauseService({ job }) });
      }
      if (seatAwardDue(state, service, view.slot)) {
        actions.push({ key: `award-seat:${job.toBase58()}`, kind: "award_seat", job, send: () => this.client.awardSeat({ job }) });
      }
      for (const [bidAddress, bid] of view.bidsOf(job)) {
        if (!replicaCloseDue(state, service, bid, view.slot)) continue;
        const provider = bid.provider;
        actions.push({
          key: `close-replica:${job.toBase58()}:${provider.toBase58()}`,
          kind: "close_replica",
          job,
          // A lost race re-reads the bid, not the whole job: the lease's other replicas stay planned.
          stale: { kind: "bid", address: bidAddress },
          send: () => this.client.closeReplica({ job, provider }),
        });
      }
    }
    return actions;
  }
}
