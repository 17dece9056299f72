// What every bot is: a pure planner from the market's state to the cranks due now. The runner
// owns the connection, the index, sending, races, health and shutdown.
import type { PublicKey, TransactionInstruction } from "@solana/web3.js";
import type { IndexedKind } from "@compute-market/common";
import type { BidAccount, DisputeAccount, JobAccount, ProgramErrorName, ProviderAccount, ServiceAccount } from "@compute-market/sdk";

/** What a bot sees: the indexed accounts and the cluster's current slot. */
export interface MarketView {
  slot: bigint;
  jobs: Iterable<[PublicKey, JobAccount]>;
  job(address: PublicKey): JobAccount | undefined;
  bidsOf(job: PublicKey): [PublicKey, BidAccount][];
  disputes: Iterable<[PublicKey, DisputeAccount]>;
  disputesOf(job: PublicKey): [PublicKey, DisputeAccount][];
  provider(address: PublicKey): ProviderAccount | undefined;
  /** A service job's terms (the account at ["service", job]), found by their `job` field. */
  service(job: PublicKey): ServiceAccount | undefined;
}

/** One crank a keeper can send. */
export interface Action {
  /** Identifies the crank, so the same one is never in flight twice from this keeper. */
  key: string;
  /** For logs and metrics, e.g. "award". */
  kind: string;
  job: PublicKey;
  /** The account a lost race makes stale, re-read from the chain then (default: the job, forgotten). */
  stale?: { kind: IndexedKind; address: PublicKey };
  /** Sends it; resolves to the signature. */
  send(): Promise<string>;
  /** Its instructions, when it can share a transaction with other cranks of its kind (packed by the runner). */
  instructions?(): Promise<TransactionInstruction[]>;
}

export interface Bot {
  readonly name: string;
  /** The cranks due in `view`. */
  plan(view: MarketView): Action[];
  /** Accounts this keeper has a stake in (its games): re-read from the chain every tick before
   * planning, so a move is never missed for want of a notification. */
  watched?(view: MarketView): { kind: IndexedKind; address: PublicKey }[];
  /** Program errors meaning another keeper got there first: normal, not failures. */
  readonly lostRaceErrors: readonly ProgramErrorName[];
}
