// The consumer's side of a service lease, run off the main wallet: every pass it probes each
// started replica, signs an acknowledgement up to the current slot for each healthy one and hands
// it to the caller's delivery (the provider's endpoint, say), and ends a replica that stayed
// unhealthy past the lease's grace, asking for a replacement (a seat round other providers bid in). It reports a deposit that cannot pay one more period, so an
// app can top it up before the replicas stop being paid. Browser-safe: probes use `fetch`.
import type { Keypair, PublicKey } from "@solana/web3.js";
import type { ComputeMarketClient } from "./client";
import { variantOf } from "./native";
import { signAcknowledgement, type Acknowledgement } from "./services";
import { endReplicaInstruction } from "./instructions/services";

/** What a pass saw and did, for logs and consoles. */
export type WatchdogEvent =
  | { kind: "acknowledged"; provider: PublicKey; upToSlot: bigint }
  | { kind: "unhealthy"; provider: PublicKey; unhealthyForSlots: bigint }
  | { kind: "ended"; provider: PublicKey; signature: string; replaced: boolean }
  | { kind: "delivery-failed"; provider: PublicKey; error: unknown }
  | { kind: "low-balance"; escrowed: bigint; perPeriod: bigint }
  | { kind: "paused"; pausedSlot: bigint; pauseEndsSlot: bigint };

export interface WatchdogOptions {
  /** A client whose wallet pays the fees of `end_replica` (the watchdog key signs it too). */
  client: ComputeMarketClient;
  /** The watchdog key named at posting. */
  watchdog: Keypair;
  job: PublicKey;
  /** Whether the replica of `provider` answers its health check now. */
  probe(provider: PublicKey): Promise<boolean>;
  /** Hands an acknowledgement to the replica's provider. */
  deliver(ack: Acknowledgement): Promise<void>;
  onEvent?(event: WatchdogEvent): void;
  /** Ask for a replacement when ending a replica (default: yes). */
  replace?: boolean;
}

/** An HTTP health check: healthy when `url` answers `expectedStatus` within `timeoutMs`. */
export async function httpHealthy(url: string, expectedStatus = 200, timeoutMs = 2_000): Promise<boolean> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    return response.status === expectedStatus;
  } catch {
    return false;
  }
}

export class ServiceWatchdog {
  /** Per replica (provider, base 58): the last slot it was seen healthy. */
  private readonly lastHealthy = new Map<string, bigint>();

  constructor(private readonly options: WatchdogOptions) {}

  /** One pass over the lease's started replicas. */
  async tick(): Promise<void> {
    const { client, job: jobAddress } = this.options;
    const job = await client.fetchJob(jobAddress);
    if (!job || variantOf(job.state) !== "running") return;
    const service = await client.fetchService(client.serviceAddress(jobAddress));
    if (!service) return;
    // A paused lease still acknowledges (its seats are kept): the event says a top-up resumes it.
    if (service.pausedSlot > 0n) this.emit({ kind: "paused", pausedSlot: service.pausedSlot, pauseEndsSlot: service.pauseEndsSlot });
    const slot = BigInt(await client.provider.connection.getSlot("confirmed"));
    // The replicas are the lease's started bids: the first round's winners and the seats filled since.
    let ratePerSlot = 0n;
    for (const { account: bid } of await client.bidsOf(jobAddress)) {
      if (bid.jobIncarnation !== job.incarnation || variantOf(bid.status) !== "started" || bid.endedSlot !== 0n) continue;
      ratePerSlot += bid.awardedPrice;
      await this.watch(bid.provider, job.incarnation, bid.startedSlot, slot, service.graceSlots);
    }
    const perPeriod = ratePerSlot * service.ackPeriodSlots;
    if (ratePerSlot > 0n && job.escrowed < perPeriod + job.crankFee) this.emit({ kind: "low-balance", escrowed: job.escrowed, perPeriod });
  }

  private async watch(provider: PublicKey, jobIncarnation: bigint, startedSlot: bigint, slot: bigint, graceSlots: bigint): Promise<void> {
    const key = provider.toBase58();
    if (await this.options.probe(provider)) {
      this.lastHealthy.set(key, slot);
      const ack = signAcknowledgement(this.options.watchdog.secretKey, { job: this.options.job, jobIncarnation, provider, upToSlot: slot });
      try {
        await this.options.deliver(ack);
        this.emit({ kind: "acknowledged", provider, upToSlot: slot });
      } catch (error) {
        this.emit({ kind: "delivery-failed", provider, error });
      }
      return;
    }
    // A replica never seen healthy counts from its start.
    const since = slot - (this.lastHealthy.get(key) ?? startedSlot);
    this.emit({ kind: "unhealthy", provider, unhealthyForSlots: since });
    if (since > graceSlots) await this.end(provider);
  }

  private async end(provider: PublicKey): Promise<void> {
    const { client, watchdog, job } = this.options;
    const market = (await client.requireJob(job)).market;
    const replace = this.options.replace ?? true;
    const accounts = { signer: watchdog.publicKey, market, job, service: client.serviceAddress(job), bid: client.bidAddress(job, provider) };
    const signature = await client.send([await endReplicaInstruction(client.program, accounts, replace)], [watchdog]);
    this.lastHealthy.delete(provider.toBase58());
    this.emit({ kind: "ended", provider, signature, replaced: replace });
  }

  private emit(event: WatchdogEvent): void {
    this.options.onEvent?.(event);
  }
}
