// Fetches and decodes the program's accounts, with u64 fields as bigint.
import type { IdlAccounts, Program } from "@coral-xyz/anchor";
import type { PublicKey } from "@solana/web3.js";
import type { ComputeMarket } from "./generated/compute_market";
import { toNative, type Native } from "./native";

type Accounts = IdlAccounts<ComputeMarket>;

export type ConfigAccount = Native<Accounts["config"]>;
export type MarketAccount = Native<Accounts["market"]>;
export type ProviderAccount = Native<Accounts["provider"]>;
export type JobAccount = Native<Accounts["job"]>;
export type BidAccount = Native<Accounts["bid"]>;
export type DisputeAccount = Native<Accounts["dispute"]>;
export type WitnessBufferAccount = Native<Accounts["witnessBuffer"]>;

type AccountName = keyof Accounts;

async function fetchDecoded<N extends AccountName>(
  program: Program<ComputeMarket>,
  name: N,
  address: PublicKey,
): Promise<Native<Accounts[N]> | null> {
  // The account namespace is keyed by the IDL's account names.
  const client = program.account[name] as unknown as {
    fetchNullable(address: PublicKey): Promise<Accounts[N] | null>;
  };
  const decoded = await client.fetchNullable(address);
  return decoded === null ? null : toNative(decoded);
}

export function fetchConfig(program: Program<ComputeMarket>, address: PublicKey): Promise<ConfigAccount | null> {
  return fetchDecoded(program, "config", address);
}

export function fetchMarket(program: Program<ComputeMarket>, address: PublicKey): Promise<MarketAccount | null> {
  return fetchDecoded(program, "market", address);
}

export function fetchProvider(program: Program<ComputeMarket>, address: PublicKey): Promise<ProviderAccount | null> {
  return fetchDecoded(program, "provider", address);
}

export function fetchJob(program: Program<ComputeMarket>, address: PublicKey): Promise<JobAccount | null> {
  return fetchDecoded(program, "job", address);
}

export function fetchBid(program: Program<ComputeMarket>, address: PublicKey): Promise<BidAccount | null> {
  return fetchDecoded(program, "bid", address);
}

export function fetchDispute(program: Program<ComputeMarket>, address: PublicKey): Promise<DisputeAccount | null> {
  return fetchDecoded(program, "dispute", address);
}

export function fetchWitnessBuffer(program: Program<ComputeMarket>, address: PublicKey): Promise<WitnessBufferAccount | null> {
  return fetchDecoded(program, "witnessBuffer", address);
}
