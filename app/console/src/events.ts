// The program's events as they land, from the cluster's log subscription: each job's timeline.
import type { Connection, PublicKey } from "@solana/web3.js";
import { parseEvents, variantOf, type ComputeMarketClient, type ComputeMarketEvent } from "@compute-market/sdk";

export interface TimelineEntry {
  slot: number;
  name: ComputeMarketEvent["name"];
  data: Record<string, unknown>;
}

/**
 * Follows the program's logs; calls `onEvent` with each event of a job. A game's moves and its
 * decision name only the game: they go to the game's job, known from its `DisputeOpened` or, for
 * a game opened before the page followed, read from the game's account. Returns the unsubscribe.
 */
export function followEvents(client: ComputeMarketClient, onEvent: (job: string, entry: TimelineEntry) => void): () => void {
  const connection: Connection = client.provider.connection;
  const jobOfGame = new Map<string, Promise<string | null>>();
  const gameJob = (dispute: PublicKey): Promise<string | null> => {
    const key = dispute.toBase58();
    let known = jobOfGame.get(key);
    if (!known) {
      known = client.fetchDispute(dispute).then((game) => game?.job.toBase58() ?? null, () => null);
      jobOfGame.set(key, known);
    }
    return known;
  };
  const id = connection.onLogs(client.programId, (logs, context) => {
    if (logs.err) return;
    for (const event of parseEvents(client.program, logs.logs)) {
      const data = event.data as Record<string, unknown>;
      const entry = { slot: context.slot, name: event.name, data };
      const job = data.job as PublicKey | undefined;
      const dispute = data.dispute as PublicKey | undefined;
      if (job && dispute) jobOfGame.set(dispute.toBase58(), Promise.resolve(job.toBase58()));
      if (job) onEvent(job.toBase58(), entry);
      else if (dispute) void gameJob(dispute).then((gameOf) => gameOf && onEvent(gameOf, entry));
    }
  });
  return () => void connection.removeOnLogsListener(id);
}

/** One line of a timeline, for people. */
export function describe(entry: TimelineEntry): string {
  const data = entry.data as { provider?: PublicKey; price?: bigint; lo?: bigint; hi?: bigint; steps?: bigint; status?: object; turn?: object };
  const who = data.provider ? ` ${data.provider.toBase58().slice(0, 6)}…` : "";
  const price = data.price !== undefined ? ` at ${data.price}` : "";
  return `${entry.name}${who}${price}${gameDetail(entry.name, data)}`;
}

/** A game's round for people: the disputed steps, the interval a move left and whose turn it is, the outcome. */
function gameDetail(name: TimelineEntry["name"], data: { lo?: bigint; hi?: bigint; steps?: bigint; status?: object; turn?: object }): string {
  const variant = (value?: object) => (value ? variantOf(value) : "");
  if (name === "disputeOpened") return `: ${data.steps} steps disputed, ${variant(data.turn)} to move`;
  if (name === "disputeMoved") return `: steps ${data.lo}–${data.hi} left, ${variant(data.turn)} to move`;
  if (name === "disputeDecided" || name === "disputeSettled") return `: ${variant(data.status)}`;
  return "";
}
