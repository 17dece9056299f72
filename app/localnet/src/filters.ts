// getProgramAccounts filters (memcmp and dataSize), applied the way an RPC node applies them.
import type { GetProgramAccountsFilter, MemcmpFilter } from "@solana/web3.js";
import bs58 from "bs58";

/** Whether account data passes every filter; no filters pass everything. */
export function matchesFilters(data: Uint8Array, filters: readonly GetProgramAccountsFilter[]): boolean {
  return filters.every((filter) => ("dataSize" in filter ? data.length === filter.dataSize : matchesMemcmp(data, filter)));
}

function matchesMemcmp(data: Uint8Array, { memcmp }: MemcmpFilter): boolean {
  const expected = memcmp.encoding === "base64" ? Buffer.from(memcmp.bytes, "base64") : bs58.decode(memcmp.bytes);
  if (memcmp.offset + expected.length > data.length) return false;
  return Buffer.from(expected).equals(data.subarray(memcmp.offset, memcmp.offset + expected.length));
}
