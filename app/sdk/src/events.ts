// Decodes the program's events (Anchor `Program data:` log lines) from a transaction's logs.
import { EventParser, type IdlEvents, type Program } from "@coral-xyz/anchor";
import type { ComputeMarket } from "./generated/compute_market";
import { toNative, type Native } from "./native";

type Events = IdlEvents<ComputeMarket>;

/** One decoded event: its name and its fields, u64s as bigint. */
export type ComputeMarketEvent = {
  [N in keyof Events]: { name: N; data: Native<Events[N]> };
}[keyof Events];

/** Every event the program emitted in these logs, in order; logs of other programs are skipped. */
export function parseEvents(program: Program<ComputeMarket>, logs: readonly string[]): ComputeMarketEvent[] {
  const parser = new EventParser(program.programId, program.coder);
  return Array.from(parser.parseLogs([...logs]), (e) => ({ name: e.name, data: toNative(e.data) }) as ComputeMarketEvent);
}
