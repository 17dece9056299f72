// Address lookup tables the transaction layer creates and extends for itself, so that an
// instruction whose account list grows with its job (finalize and settlement with several
// winners: five accounts per winner) still fits one transaction. A table of the sender's own is
// extended with only as many of the transaction's accounts as it needs to fit, the accounts most
// likely to recur first, so that one table serves many settlements before a new one is made.
import {
  AddressLookupTableAccount,
  AddressLookupTableProgram,
  PublicKey,
  type Commitment,
  type Connection,
  type TransactionInstruction,
  type VersionedTransaction,
} from "@solana/web3.js";
import { SendError } from "./errors";

/** The most bytes a transaction may have on the wire. */
export const PACKET_BYTES = 1_232;
/** The most addresses one table holds. */
export const TABLE_CAPACITY = 256;
/** Addresses added per extend transaction (each costs 32 bytes of it). */
const EXTEND_CHUNK = 24;
/** How long to wait for the cluster to pass the slot a table was extended in. */
const ACTIVATION_TIMEOUT_MS = 60_000;

/** Whether a signed `transaction` of this size can be sent at all. */
export function fitsInPacket(transaction: VersionedTransaction): boolean {
  let message: Uint8Array;
  try {
    message = transaction.message.serialize();
  } catch {
    // web3.js serializes into a packet-sized buffer and overruns it when the message is larger.
    return false;
  }
  const signatures = transaction.message.header.numRequiredSignatures;
  return shortVecLength(signatures) + 64 * signatures + message.length <= PACKET_BYTES;
}

function shortVecLength(value: number): number {
  return value < 0x80 ? 1 : value < 0x4000 ? 2 : 3;
}

/**
 * The accounts of `instructions` a lookup table may carry: neither a signer nor a called program
 * (those must be in the message itself). Read-only accounts first, since they recur across jobs
 * (the config, programs, providers' owners) more than the writable ones of one job.
 */
export function tableCandidates(instructions: TransactionInstruction[], payer: PublicKey): PublicKey[] {
  const programs = new Set(instructions.map((ix) => ix.programId.toBase58()));
  const signers = new Set([payer.toBase58(), ...instructions.flatMap((ix) => ix.keys.filter((key) => key.isSigner).map((key) => key.pubkey.toBase58()))]);
  const writable = new Set(instructions.flatMap((ix) => ix.keys.filter((key) => key.isWritable).map((key) => key.pubkey.toBase58())));
  const seen = new Set<string>();
  const candidates: PublicKey[] = [];
  for (const ix of instructions) {
    for (const { pubkey } of ix.keys) {
      const address = pubkey.toBase58();
      if (seen.has(address) || programs.has(address) || signers.has(address)) continue;
      seen.add(address);
      candidates.push(pubkey);
    }
  }
  return [...candidates.filter((key) => !writable.has(key.toBase58())), ...candidates.filter((key) => writable.has(key.toBase58()))];
}

/**
 * The fewest of `missing` (taken in order) that, added to `table`, let `fits` accept the
 * transaction compiled with the tables; null when even all of them are not enough.
 */
export function fewestToAdd(
  missing: PublicKey[],
  table: AddressLookupTableAccount,
  others: AddressLookupTableAccount[],
  fits: (tables: AddressLookupTableAccount[]) => boolean,
): number | null {
  const withFirst = (count: number): AddressLookupTableAccount[] => [
    new AddressLookupTableAccount({ key: table.key, state: { ...table.state, addresses: [...table.state.addresses, ...missing.slice(0, count)] } }),
    ...others,
  ];
  if (!fits(withFirst(missing.length))) return null;
  // Each address moved into a table saves 31 bytes, so the size falls monotonically: bisect.
  let low = 0;
  let high = missing.length;
  while (low < high) {
    const middle = Math.floor((low + high) / 2);
    if (fits(withFirst(middle))) high = middle;
    else low = middle + 1;
  }
  return low;
}

/** How the store sends its own create and extend transactions, and reads the cluster. */
export interface LookupTableHost {
  connection: Connection;
  authority: PublicKey;
  commitment: Commitment;
  send(instructions: TransactionInstruction[]): Promise<string>;
}

/** The lookup tables one authority made here, extended on demand. */
export class LookupTableStore {
  private readonly owned: AddressLookupTableAccount[] = [];
  /** Serializes changes: two transactions must not extend or create tables at once. */
  private queue: Promise<unknown> = Promise.resolve();
  /** Tables created, and addresses added, over the store's life (for reports and tests). */
  readonly stats = { created: 0, extended: 0, addressesAdded: 0 };

  constructor(private readonly host: LookupTableHost) {}

  /** The tables made so far. */
  get tables(): readonly AddressLookupTableAccount[] {
    return this.owned;
  }

  /**
   * Tables with which `instructions` fit one transaction (`fits` compiles and measures it),
   * extending or creating one of the store's tables when needed. Throws `TransactionTooLarge`
   * when no table could make them fit.
   */
  cover(instructions: TransactionInstruction[], given: AddressLookupTableAccount[], fits: (tables: AddressLookupTableAccount[]) => boolean): Promise<AddressLookupTableAccount[]> {
    const run = this.queue.then(() => this.coverNow(instructions, given, fits));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async coverNow(instructions: TransactionInstruction[], given: AddressLookupTableAccount[], fits: (tables: AddressLookupTableAccount[]) => boolean): Promise<AddressLookupTableAccount[]> {
    const tables = [...given, ...this.owned];
    if (fits(tables)) return tables;
    const known = new Set(tables.flatMap((table) => table.state.addresses.map((address) => address.toBase58())));
    const missing = tableCandidates(instructions, this.host.authority).filter((key) => !known.has(key.toBase58()));
    // The fullest table with room for them all, else a new one.
    const roomy = this.owned.filter((table) => table.state.addresses.length + missing.length <= TABLE_CAPACITY).sort((a, b) => b.state.addresses.length - a.state.addresses.length)[0];
    const target = roomy ?? emptyTable();
    const others = tables.filter((table) => table !== roomy);
    const count = fewestToAdd(missing, target, others, fits);
    if (count === null) {
      throw new SendError("TransactionTooLarge", `the transaction does not fit ${PACKET_BYTES} bytes even with all of its ${missing.length + known.size} table-eligible accounts in lookup tables`);
    }
    const table = await this.extend(roomy ?? null, missing.slice(0, count));
    return [table, ...others];
  }

  /** Adds `addresses` to `table` (a new table when null) and waits until they can be used. */
  private async extend(table: AddressLookupTableAccount | null, addresses: PublicKey[]): Promise<AddressLookupTableAccount> {
    const { connection, authority, commitment } = this.host;
    let key = table?.key;
    if (!key) {
      // Derived from a recent slot; a finalized one is in the SlotHashes of every fork.
      const recentSlot = await connection.getSlot("finalized");
      const [create, address] = AddressLookupTableProgram.createLookupTable({ authority, payer: authority, recentSlot });
      await this.host.send([create]);
      key = address;
      this.stats.created += 1;
    }
    for (let start = 0; start < addresses.length; start += EXTEND_CHUNK) {
      const chunk = addresses.slice(start, start + EXTEND_CHUNK);
      await this.host.send([AddressLookupTableProgram.extendLookupTable({ lookupTable: key, authority, payer: authority, addresses: chunk })]);
      this.stats.extended += 1;
      this.stats.addressesAdded += chunk.length;
    }
    const extended = await this.activated(key, commitment);
    const index = table ? this.owned.indexOf(table) : -1;
    if (index >= 0) this.owned[index] = extended;
    else this.owned.push(extended);
    return extended;
  }

  /** The table once the cluster is past the slot it was last extended in (its new addresses are usable from the next). */
  private async activated(key: PublicKey, commitment: Commitment): Promise<AddressLookupTableAccount> {
    const deadline = Date.now() + ACTIVATION_TIMEOUT_MS;
    for (;;) {
      const table = (await this.host.connection.getAddressLookupTable(key, { commitment })).value;
      if (table && (await this.host.connection.getSlot(commitment)) > table.state.lastExtendedSlot) return table;
      if (Date.now() > deadline) throw new SendError("RpcUnavailable", `lookup table ${key.toBase58()} did not become usable within ${ACTIVATION_TIMEOUT_MS} ms`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}

/** A table not created yet: what a new one would hold before it is extended. */
function emptyTable(): AddressLookupTableAccount {
  return new AddressLookupTableAccount({
    key: PublicKey.default,
    state: { deactivationSlot: BigInt("18446744073709551615"), lastExtendedSlot: 0, lastExtendedSlotStartIndex: 0, authority: undefined, addresses: [] },
  });
}
