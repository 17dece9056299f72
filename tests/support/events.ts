// The program's events in a processed transaction, decoded through the SDK.
import type { Program } from "@coral-xyz/anchor";
import { parseEvents, type ComputeMarket, type ComputeMarketEvent } from "@compute-market/sdk";
import type { TestEnv } from "./env";

export function eventsOf(env: TestEnv, program: Program<ComputeMarket>, signature: string): ComputeMarketEvent[] {
  const processed = env.ledger.getTransaction(signature);
  if (!processed) throw new Error(`transaction ${signature} was not processed`);
  return parseEvents(program, processed.logs);
}
