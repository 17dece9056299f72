// The program's events as they land, from the cluster's log subscription: each job's timeline.
import type { Connection, PublicKey } from "@solana/web3.js";
import { parseEvents, type ComputeMarketClient, type ComputeMarketEvent } from "@compute-market/sdk";

export interface TimelineEntry {
  slot: number;
  name: ComputeMarketEvent["name"];
  data: Record<string, unknown>;
}

/** Follows the program's logs; calls `onEvent` with each event naming a job. Returns the unsubscribe. */
export function followEvents(client: ComputeMarketClient, onEvent: (job: string, entry: TimelineEntry) => void): () => void {
  const connection: Connection = client.provider.connection;
  const id = connection.onLogs(client.programId, (logs, context) => {
    if (logs.err) return;
    for (const event of parseEvents(client.program, logs.logs)) {
      const data = event.data as Record<string, unknown>;
      const job = data.job as PublicKey | undefined;
      if (job) onEvent(job.toBase58(), { slot: context.slot, name: event.name, data });
    }
  });
  return () => void connection.removeOnLogsListener(id);
}

/** One line of a timeline, for people. */
export function describe(entry: TimelineEntry): string {
  const data = entry.data as { provider?: PublicKey; price?: bigint; outputRoot?: number[]; refunded?: bigint };
  const who = data.provider ? ` ${data.provider.toBase58().slice(0, 6)}…` : "";
  const price = data.price !== undefined ? ` at ${data.price}` : "";
  return `${entry.name}${who}${price}`;
}
