// Fetches and decodes the program's accounts, with u64 fields as bigint.
import type { IdlAccounts, Program } from "@coral-xyz/anchor";
import type { AccountInfo, Connection, PublicKey } from "@solana/web3.js";
import type { ComputeMarket } from "./generated/compute_market";
import bs58 from "bs58";
import { WrongAccountError } from "./errors";
import { toNative, type Native } from "./native";

type Accounts = IdlAccounts<ComputeMarket>;

export type ConfigAccount = Native<Accounts["config"]>;
export type MarketAccount = Native<Accounts["market"]>;
export type ProviderAccount = Native<Accounts["provider"]>;
export type JobAccount = Native<Accounts["job"]>;
export type BidAccount = Native<Accounts["bid"]>;
export type DisputeAccount = Native<Accounts["dispute"]>;
export type WitnessBufferAccount = Native<Accounts["witnessBuffer"]>;
export type ServiceAccount = Native<Accounts["service"]>;

type AccountName = keyof Accounts;

/** An account kind in words: `witnessBuffer` is "witness buffer". */
const kindText = (name: string): string => name.replace(/[A-Z]/g, (c) => ` ${c.toLowerCase()}`);

const SYSTEM_PROGRAM = "11111111111111111111111111111111";
const TOKEN_PROGRAMS = ["TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA", "TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb"];

/** What an account is, in words, when it is not the one asked for. */
function describe(program: Program<ComputeMarket>, info: AccountInfo<Buffer>): string {
  const owner = info.owner.toBase58();
  if (owner === SYSTEM_PROGRAM) return info.data.length === 0 ? "a wallet (a System Program account)" : "a System Program account";
  if (TOKEN_PROGRAMS.includes(owner)) return info.data.length === 82 ? "a token mint" : "a token account";
  if (!info.owner.equals(program.programId)) return `an account of program ${owner}`;
  const head = info.data.subarray(0, 8);
  const kind = program.idl.accounts?.find((account) => head.length === 8 && account.discriminator.every((byte, i) => head[i] === byte));
  return kind ? `a ${kindText(kind.name)} of this program` : "an account of this program of no known kind";
}

async function fetchDecoded<N extends AccountName>(
  program: Program<ComputeMarket>,
  name: N,
  address: PublicKey,
): Promise<Native<Accounts[N]> | null> {
  const info = await program.provider.connection.getAccountInfo(address);
  if (info === null) return null;
  // Checked here so that a wrong address says what it holds, not "Invalid account discriminator".
  const expected = program.idl.accounts?.find((account) => account.name === name);
  const matches = expected !== undefined && info.owner.equals(program.programId) && info.data.length >= 8 && expected.discriminator.every((byte, i) => info.data[i] === byte);
  if (!matches) throw new WrongAccountError(kindText(name), address.toBase58(), describe(program, info));
  return toNative(program.coder.accounts.decode(name, info.data) as Accounts[N]);
}

/**
 * Every account of one kind whose bytes at each offset are the given address: one
 * getProgramAccounts filtered by the kind's discriminator. (Anchor's `account.X.all` would do the
 * same, but its browser build reads a global Buffer a page does not have.)
 */
export async function fetchAllOf<N extends AccountName>(
  program: Program<ComputeMarket>,
  name: N,
  matching: { offset: number; address: PublicKey }[],
): Promise<{ address: PublicKey; account: Native<Accounts[N]> }[]> {
  const kind = program.idl.accounts?.find((account) => account.name === name);
  if (!kind) throw new Error(`the IDL has no ${name} account`);
  const filters = [{ memcmp: { offset: 0, bytes: bs58.encode(Uint8Array.from(kind.discriminator)) } }, ...matching.map(({ offset, address }) => ({ memcmp: { offset, bytes: address.toBase58() } }))];
  const found = await program.provider.connection.getProgramAccounts(program.programId, { filters });
  return found.map(({ pubkey, account }) => ({ address: pubkey, account: toNative(program.coder.accounts.decode(name, account.data) as Accounts[N]) }));
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

export function fetchService(program: Program<ComputeMarket>, address: PublicKey): Promise<ServiceAccount | null> {
  return fetchDecoded(program, "service", address);
}

export function fetchWitnessBuffer(program: Program<ComputeMarket>, address: PublicKey): Promise<WitnessBufferAccount | null> {
  return fetchDecoded(program, "witnessBuffer", address);
}

/** The most addresses one `getMultipleAccountsInfo` call may ask for. */
const MAX_ADDRESSES_PER_READ = 100;

/** One account of a batch: its value once the batch is loaded (null: no such account). */
export interface BatchedRead<T> {
  readonly address: PublicKey;
  readonly value: T | null;
}

/**
 * Accounts to read together: each is asked for with `account` (decoded as the program's) or
 * `raw`, then all are read by `load` in one `getMultipleAccountsInfo` per 100 addresses, instead
 * of one request per account.
 */
export class AccountBatch {
  private readonly reads: { address: PublicKey; settle(info: AccountInfo<Buffer> | null): void }[] = [];

  constructor(private readonly program: Program<ComputeMarket>) {}

  /** A program account of `kind` at `address`; an account of another owner or kind is an error. */
  account<N extends AccountName>(kind: N, address: PublicKey): BatchedRead<Native<Accounts[N]>> {
    const read = { address, value: null as Native<Accounts[N]> | null };
    this.reads.push({
      address,
      settle: (info) => {
        if (info === null) return;
        if (!info.owner.equals(this.program.programId)) throw new Error(`${address.toBase58()} is not a ${kind} account: it is owned by ${info.owner.toBase58()}`);
        read.value = toNative(this.program.coder.accounts.decode<Accounts[N]>(kind, info.data));
      },
    });
    return read;
  }

  /** Any account, undecoded (e.g. whether a token account exists). */
  raw(address: PublicKey): BatchedRead<AccountInfo<Buffer>> {
    const read = { address, value: null as AccountInfo<Buffer> | null };
    this.reads.push({ address, settle: (info) => void (read.value = info) });
    return read;
  }

  /** Reads every account asked for so far; the batch can then be used again. */
  async load(connection: Connection): Promise<void> {
    const reads = this.reads.splice(0);
    const unique = [...new Map(reads.map((read) => [read.address.toBase58(), read.address])).values()];
    const infos = new Map<string, AccountInfo<Buffer> | null>();
    for (let start = 0; start < unique.length; start += MAX_ADDRESSES_PER_READ) {
      const chunk = unique.slice(start, start + MAX_ADDRESSES_PER_READ);
      const values = await connection.getMultipleAccountsInfo(chunk);
      chunk.forEach((address, i) => infos.set(address.toBase58(), values[i]));
    }
    for (const read of reads) read.settle(infos.get(read.address.toBase58()) ?? null);
  }
}
