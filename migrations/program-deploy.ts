// Deploys (or upgrades) the program through the BPF upgradeable loader without the Solana CLI: the
// .so is written into a buffer account chunk by chunk, several writes in flight, and then deployed
// from it (or upgraded from it) in one instruction. The buffer's keypair is kept in a file, so a run
// that stops part-way resumes: only chunks whose bytes on-chain differ from the file are written.
// Every transaction goes through the SDK's transaction layer.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { Wallet } from "@coral-xyz/anchor";
import {
  ComputeBudgetProgram,
  Keypair,
  LAMPORTS_PER_SOL,
  PublicKey,
  SystemProgram,
  SYSVAR_CLOCK_PUBKEY,
  SYSVAR_RENT_PUBKEY,
  TransactionInstruction,
  TransactionMessage,
  type AccountInfo,
  type Connection,
} from "@solana/web3.js";
import { SendError, TransactionSender, type TransactionOptions } from "@compute-market/sdk";

export const BPF_LOADER_UPGRADEABLE_PROGRAM_ID = new PublicKey("BPFLoaderUpgradeab1e11111111111111111111111");

/** The most bytes a signed transaction may have on the wire. */
export const TRANSACTION_SIZE_LIMIT = 1_232;
/** Header bytes of each loader account kind before the program's bytes (bincode of its state). */
export const BUFFER_METADATA_BYTES = 37;
export const PROGRAMDATA_METADATA_BYTES = 45;
export const PROGRAM_ACCOUNT_BYTES = 36;
/** Base fee per signature, for the funds estimate (priority fees come on top). */
const LAMPORTS_PER_SIGNATURE = 5_000;
/** Buffer writes in flight at once. */
export const DEFAULT_WRITES_IN_FLIGHT = 8;
/** Times a chunk is sent again after a transient failure (node busy or unreachable, blockhash expired). */
const WRITE_RETRIES = 2;
const SLOT_POLL_MS = 200;
const SLOT_WAIT_MS = 60_000;

// ---------------------------------------------------------------------------------------------
// Instruction encoding: bincode of the loader's instruction enum, a u32 little-endian tag first.

export const LoaderInstructionTag = {
  InitializeBuffer: 0,
  Write: 1,
  DeployWithMaxDataLen: 2,
  Upgrade: 3,
  SetAuthority: 4,
  Close: 5,
  ExtendProgram: 6,
  SetAuthorityChecked: 7,
  Migrate: 8,
  ExtendProgramChecked: 9,
} as const;

function tagOnly(tag: number): Buffer {
  const data = Buffer.alloc(4);
  data.writeUInt32LE(tag, 0);
  return data;
}

export function encodeInitializeBuffer(): Buffer {
  return tagOnly(LoaderInstructionTag.InitializeBuffer);
}

/** Write { offset: u32, bytes: Vec<u8> }: the vector is prefixed with its length as a u64. */
export function encodeWrite(offset: number, bytes: Uint8Array): Buffer {
  const data = Buffer.alloc(4 + 4 + 8 + bytes.length);
  data.writeUInt32LE(LoaderInstructionTag.Write, 0);
  data.writeUInt32LE(offset, 4);
  data.writeBigUInt64LE(BigInt(bytes.length), 8);
  data.set(bytes, 16);
  return data;
}

/** DeployWithMaxDataLen { max_data_len: usize }, a u64 in bincode. */
export function encodeDeployWithMaxDataLen(maxDataLen: number): Buffer {
  const data = Buffer.alloc(12);
  data.writeUInt32LE(LoaderInstructionTag.DeployWithMaxDataLen, 0);
  data.writeBigUInt64LE(BigInt(maxDataLen), 4);
  return data;
}

export function encodeUpgrade(): Buffer {
  return tagOnly(LoaderInstructionTag.Upgrade);
}

export function encodeSetAuthority(): Buffer {
  return tagOnly(LoaderInstructionTag.SetAuthority);
}

export function encodeClose(): Buffer {
  return tagOnly(LoaderInstructionTag.Close);
}

/** ExtendProgram and ExtendProgramChecked { additional_bytes: u32 }. */
export function encodeExtend(tag: typeof LoaderInstructionTag.ExtendProgram | typeof LoaderInstructionTag.ExtendProgramChecked, additionalBytes: number): Buffer {
  const data = Buffer.alloc(8);
  data.writeUInt32LE(tag, 0);
  data.writeUInt32LE(additionalBytes, 4);
  return data;
}

// ---------------------------------------------------------------------------------------------
// Instructions with the accounts the loader reads, in its documented order.

const writable = (pubkey: PublicKey, isSigner = false) => ({ pubkey, isSigner, isWritable: true });
const readonly = (pubkey: PublicKey, isSigner = false) => ({ pubkey, isSigner, isWritable: false });
const loaderInstruction = (keys: TransactionInstruction["keys"], data: Buffer) => new TransactionInstruction({ programId: BPF_LOADER_UPGRADEABLE_PROGRAM_ID, keys, data });

/** The ProgramData account of an upgradeable program: the loader's address derived from the program's. */
export function programDataAddress(programId: PublicKey): PublicKey {
  return PublicKey.findProgramAddressSync([programId.toBuffer()], BPF_LOADER_UPGRADEABLE_PROGRAM_ID)[0];
}

/** Accounts: the buffer (writable), its authority. Must share a transaction with the buffer's creation. */
export function initializeBufferInstruction(buffer: PublicKey, authority: PublicKey): TransactionInstruction {
  return loaderInstruction([writable(buffer), readonly(authority)], encodeInitializeBuffer());
}

/** Accounts: the buffer (writable), its authority (signer). */
export function writeInstruction(buffer: PublicKey, authority: PublicKey, offset: number, bytes: Uint8Array): TransactionInstruction {
  return loaderInstruction([writable(buffer), readonly(authority, true)], encodeWrite(offset, bytes));
}

/**
 * Accounts: payer (writable, signer), ProgramData (writable, created here), program (writable),
 * buffer (writable), Rent, Clock, System program, upgrade authority (signer). Must share a
 * transaction with the program account's creation, or another party could deploy into it.
 */
export function deployWithMaxDataLenInstruction(args: { payer: PublicKey; program: PublicKey; buffer: PublicKey; authority: PublicKey; maxDataLen: number }): TransactionInstruction {
  return loaderInstruction(
    [
      writable(args.payer, true),
      writable(programDataAddress(args.program)),
      writable(args.program),
      writable(args.buffer),
      readonly(SYSVAR_RENT_PUBKEY),
      readonly(SYSVAR_CLOCK_PUBKEY),
      readonly(SystemProgram.programId),
      readonly(args.authority, true),
    ],
    encodeDeployWithMaxDataLen(args.maxDataLen),
  );
}

/** Accounts: ProgramData, program, buffer, spill (all writable), Rent, Clock, upgrade authority (signer). */
export function upgradeInstruction(args: { program: PublicKey; buffer: PublicKey; spill: PublicKey; authority: PublicKey }): TransactionInstruction {
  return loaderInstruction(
    [
      writable(programDataAddress(args.program)),
      writable(args.program),
      writable(args.buffer),
      writable(args.spill),
      readonly(SYSVAR_RENT_PUBKEY),
      readonly(SYSVAR_CLOCK_PUBKEY),
      readonly(args.authority, true),
    ],
    encodeUpgrade(),
  );
}

/**
 * Accounts: the buffer or ProgramData (writable), the current authority (signer), the new
 * authority (omitted: the program becomes immutable). The new authority need not sign, so it can
 * be a multisig's address.
 */
export function setAuthorityInstruction(account: PublicKey, currentAuthority: PublicKey, newAuthority: PublicKey | null): TransactionInstruction {
  const keys = [writable(account), readonly(currentAuthority, true)];
  if (newAuthority) keys.push(readonly(newAuthority));
  return loaderInstruction(keys, encodeSetAuthority());
}

/** Closes a buffer: accounts the buffer (writable), the recipient of its lamports (writable), its authority (signer). */
export function closeBufferInstruction(buffer: PublicKey, recipient: PublicKey, authority: PublicKey): TransactionInstruction {
  return loaderInstruction([writable(buffer), writable(recipient), readonly(authority, true)], encodeClose());
}

/**
 * Grows a program's ProgramData by `additionalBytes`, the payer funding its rent. Checked
 * (ExtendProgramChecked): ProgramData, program (writable), upgrade authority (signer), System
 * program, payer (writable, signer). Unchecked (ExtendProgram, for clusters that have not yet
 * activated the checked one, which then refuse the old): the same without the authority.
 */
export function extendProgramInstruction(args: { program: PublicKey; authority: PublicKey; payer: PublicKey; additionalBytes: number; checked: boolean }): TransactionInstruction {
  const head = [writable(programDataAddress(args.program)), writable(args.program)];
  const tail = [readonly(SystemProgram.programId), writable(args.payer, true)];
  if (args.checked) return loaderInstruction([...head, readonly(args.authority, true), ...tail], encodeExtend(LoaderInstructionTag.ExtendProgramChecked, args.additionalBytes));
  return loaderInstruction([...head, ...tail], encodeExtend(LoaderInstructionTag.ExtendProgram, args.additionalBytes));
}

// ---------------------------------------------------------------------------------------------
// Account state: bincode of UpgradeableLoaderState (u32 tag, then Option<Pubkey> as a byte + 32).

export type LoaderState =
  | { kind: "uninitialized" }
  | { kind: "buffer"; authority: PublicKey | null }
  | { kind: "program"; programData: PublicKey }
  | { kind: "programData"; slot: bigint; authority: PublicKey | null };

function optionalKey(data: Uint8Array, at: number): PublicKey | null {
  if (data[at] === 0) return null;
  if (data[at] !== 1 || data.length < at + 33) throw new Error("malformed loader account: bad optional address");
  return new PublicKey(data.subarray(at + 1, at + 33));
}

export function decodeLoaderState(data: Uint8Array): LoaderState {
  if (data.length < 4) throw new Error(`malformed loader account: ${data.length} bytes`);
  const view = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const tag = view.readUInt32LE(0);
  if (tag === 0) return { kind: "uninitialized" };
  if (tag === 1) return { kind: "buffer", authority: optionalKey(data, 4) };
  if (tag === 2 && data.length >= PROGRAM_ACCOUNT_BYTES) return { kind: "program", programData: new PublicKey(data.subarray(4, 36)) };
  if (tag === 3 && data.length >= 13) return { kind: "programData", slot: view.readBigUInt64LE(4), authority: optionalKey(data, 12) };
  throw new Error(`malformed loader account: state tag ${tag} in ${data.length} bytes`);
}

// ---------------------------------------------------------------------------------------------
// Chunks.

/** The wire size of a signed transaction, as the transaction layer builds it, writing `chunkBytes` bytes. */
export function writeTransactionBytes(payer: PublicKey, buffer: PublicKey, chunkBytes: number): number {
  // The transaction layer puts a compute-unit limit, and a price when it bids one, before the
  // instruction: both are counted, at their largest, so that the chunk fits whatever it bids.
  const instructions = [
    ComputeBudgetProgram.setComputeUnitLimit({ units: 1_400_000 }),
    ComputeBudgetProgram.setComputeUnitPrice({ microLamports: Number.MAX_SAFE_INTEGER }),
    writeInstruction(buffer, payer, 0, new Uint8Array(chunkBytes)),
  ];
  const message = new TransactionMessage({ payerKey: payer, recentBlockhash: PublicKey.default.toBase58(), instructions }).compileToV0Message();
  const signatures = message.header.numRequiredSignatures;
  return shortVecBytes(signatures) + 64 * signatures + message.serialize().length;
}

function shortVecBytes(value: number): number {
  return value < 0x80 ? 1 : value < 0x4000 ? 2 : 3;
}

/** The largest chunk one Write transaction (paid and signed by the buffer's authority) carries. */
export function maxWriteChunkBytes(payer: PublicKey, buffer: PublicKey): number {
  // Everything but the chunk is fixed, except the instruction data's length prefix (a short
  // vector), which grows by a byte past 127: start from the overhead and step down to fit.
  let chunk = TRANSACTION_SIZE_LIMIT - writeTransactionBytes(payer, buffer, 0);
  while (chunk > 0 && writeTransactionBytes(payer, buffer, chunk) > TRANSACTION_SIZE_LIMIT) chunk -= 1;
  if (chunk <= 0) throw new Error("no program bytes fit a Write transaction");
  return chunk;
}

export interface Chunk {
  offset: number;
  bytes: Buffer;
}

/**
 * The chunks of `program` to write into a buffer that holds `current` (its bytes after the
 * metadata): those that differ. A new buffer is zeroed, so chunks of zeros are never written.
 */
export function chunksToWrite(program: Buffer, current: Buffer, chunkBytes: number): { chunks: Chunk[]; total: number } {
  const chunks: Chunk[] = [];
  let total = 0;
  for (let offset = 0; offset < program.length; offset += chunkBytes) {
    total += 1;
    const bytes = program.subarray(offset, Math.min(offset + chunkBytes, program.length));
    if (!bytes.equals(current.subarray(offset, offset + bytes.length))) chunks.push({ offset, bytes });
  }
  return { chunks, total };
}

// ---------------------------------------------------------------------------------------------
// Progress.

export interface WriteProgress {
  chunksWritten: number;
  chunksToWrite: number;
  bytesWritten: number;
  bytesToWrite: number;
  elapsedMs: number;
}

const BAR_WIDTH = 30;

/** One line of progress: bar, chunks, kilobytes and rate. */
export function progressLine(progress: WriteProgress): string {
  const share = progress.chunksToWrite === 0 ? 1 : progress.chunksWritten / progress.chunksToWrite;
  const filled = Math.round(share * BAR_WIDTH);
  const kb = (bytes: number) => (bytes / 1000).toFixed(1);
  const rate = progress.elapsedMs > 0 ? (progress.bytesWritten / 1000 / (progress.elapsedMs / 1000)).toFixed(1) : "-";
  return `writing buffer [${"#".repeat(filled)}${"-".repeat(BAR_WIDTH - filled)}] ${progress.chunksWritten}/${progress.chunksToWrite} chunks, ${kb(progress.bytesWritten)}/${kb(progress.bytesToWrite)} KB, ${rate} KB/s`;
}

/** A progress bar redrawn in place on a terminal; on anything else, a plain line per tenth and at the end. */
export function stderrProgress(stream: NodeJS.WriteStream = process.stderr): (progress: WriteProgress) => void {
  let lastTenth = -1;
  return (progress) => {
    const done = progress.chunksWritten === progress.chunksToWrite;
    if (stream.isTTY) {
      stream.write(`\r${progressLine(progress)}${done ? "\n" : ""}`);
      return;
    }
    const tenth = progress.chunksToWrite === 0 ? 10 : Math.floor((progress.chunksWritten * 10) / progress.chunksToWrite);
    if (tenth === lastTenth && !done) return;
    lastTenth = tenth;
    stream.write(`${progressLine(progress)}\n`);
  };
}

// ---------------------------------------------------------------------------------------------
// Files.

/** The program's bytes; a missing file names itself and the build command. */
export function readProgramFile(file: string): Buffer {
  if (!existsSync(file)) throw new Error(`no program file at ${file}: run npm run build:program`);
  const bytes = readFileSync(file);
  if (bytes.length < 4 || bytes.readUInt32BE(0) !== 0x7f454c46) throw new Error(`${file} is not an ELF file (a built .so): run npm run build:program`);
  return bytes;
}

/** Where a program's buffer keypair is kept by default: next to it, e.g. compute_market-buffer.json. */
export function defaultBufferKeypairPath(programFile: string): string {
  return path.join(path.dirname(programFile), `${path.basename(programFile, ".so")}-buffer.json`);
}

export function readKeypairFile(file: string): Keypair {
  return Keypair.fromSecretKey(Uint8Array.from(JSON.parse(readFileSync(file, "utf8")) as number[]));
}

/** The buffer keypair at `file`, or a new one with `save` writing it there (so a later run finds the same buffer). */
export function loadOrCreateKeypair(file: string): { keypair: Keypair; save: () => void } {
  if (existsSync(file)) return { keypair: readKeypairFile(file), save: () => undefined };
  const keypair = Keypair.generate();
  const save = (): void => {
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, JSON.stringify(Array.from(keypair.secretKey)), { mode: 0o600 });
  };
  return { keypair, save };
}

// ---------------------------------------------------------------------------------------------
// What is on-chain, and what to do about it.

export interface DeployedProgram {
  programData: PublicKey;
  /** The slot it was last deployed, upgraded or extended in. */
  slot: bigint;
  authority: PublicKey | null;
  /** The most program bytes its ProgramData holds without extending it. */
  capacity: number;
  lamports: number;
  /** Its program bytes (with the zeros after them, up to the capacity). */
  bytes: Buffer;
}

/** The upgradeable program at `programId`, or null where there is no account. */
export async function readDeployedProgram(connection: Connection, programId: PublicKey): Promise<DeployedProgram | null> {
  const account = await connection.getAccountInfo(programId);
  if (!account) return null;
  if (!account.owner.equals(BPF_LOADER_UPGRADEABLE_PROGRAM_ID)) throw new Error(`${programId.toBase58()} is not an upgradeable program: it is owned by ${account.owner.toBase58()}`);
  const state = decodeLoaderState(account.data);
  if (state.kind !== "program") throw new Error(`${programId.toBase58()} is not a program account (it is a loader ${state.kind} account)`);
  const programData = await connection.getAccountInfo(state.programData);
  if (!programData) throw new Error(`program ${programId.toBase58()} was closed (no ProgramData at ${state.programData.toBase58()}); a closed program's address cannot be deployed to again`);
  const data = decodeLoaderState(programData.data);
  if (data.kind !== "programData") throw new Error(`malformed ProgramData at ${state.programData.toBase58()}: it is a loader ${data.kind} account`);
  return {
    programData: state.programData,
    slot: data.slot,
    authority: data.authority,
    capacity: programData.data.length - PROGRAMDATA_METADATA_BYTES,
    lamports: programData.lamports,
    bytes: programData.data.subarray(PROGRAMDATA_METADATA_BYTES),
  };
}

/** Whether the deployed program's bytes are exactly the file's (the rest of its room zeroed). */
export function sameProgram(deployed: Buffer, file: Buffer): boolean {
  if (deployed.length < file.length || !deployed.subarray(0, file.length).equals(file)) return false;
  return deployed.subarray(file.length).every((byte) => byte === 0);
}

/**
 * The ProgramData room for a first deploy: twice the program, so that upgrades that grow it
 * (up to double) need no ExtendProgram. The extra rent is returned if the program is closed.
 */
export function firstDeployMaxDataLen(programBytes: number): number {
  return 2 * programBytes;
}

export type ProgramPlan =
  | { action: "deploy"; maxDataLen: number }
  | { action: "upgrade"; deployed: DeployedProgram; extendBy: number }
  | { action: "unchanged"; deployed: DeployedProgram };

/** What a run does, from what is deployed; refuses a first deploy without the program's keypair. */
export function planDeploy(program: Buffer, deployed: DeployedProgram | null, programId: PublicKey, hasProgramKeypair: boolean): ProgramPlan {
  if (!deployed) {
    if (!hasProgramKeypair) throw new Error(`no program is deployed at ${programId.toBase58()}: a first deploy needs the program's keypair (--program-keypair <file>), which signs for its address`);
    return { action: "deploy", maxDataLen: firstDeployMaxDataLen(program.length) };
  }
  if (sameProgram(deployed.bytes, program)) return { action: "unchanged", deployed };
  return { action: "upgrade", deployed, extendBy: Math.max(0, program.length - deployed.capacity) };
}

/** Refuses an upgrade or an authority change the wallet may not make, naming who may. */
export function checkUpgradeAuthority(deployed: DeployedProgram, programId: PublicKey, wallet: PublicKey): void {
  if (!deployed.authority) throw new Error(`program ${programId.toBase58()} is immutable (it has no upgrade authority): it cannot be upgraded`);
  if (!deployed.authority.equals(wallet)) throw new Error(`the wallet ${wallet.toBase58()} is not the upgrade authority of program ${programId.toBase58()}: its upgrade authority is ${deployed.authority.toBase58()}`);
}

export interface Rents {
  buffer: number;
  program: number;
  /** ProgramData as the plan leaves it. */
  programData: number;
}

/**
 * Lamports the wallet needs for the plan: for a first deploy the program's and its ProgramData's
 * rent (the buffer's rent comes back to the payer before ProgramData is paid for, and is smaller);
 * for an upgrade the buffer's rent (spilled back afterwards) and any extension of ProgramData.
 * Lamports already in a buffer count; fees at the base rate come on top.
 */
export function lamportsNeeded(plan: ProgramPlan, rents: Rents, bufferLamports: number, transactions: number): number {
  const fees = transactions * LAMPORTS_PER_SIGNATURE;
  if (plan.action === "unchanged") return fees;
  if (plan.action === "deploy") return Math.max(0, rents.program + rents.programData - bufferLamports) + fees;
  const extension = Math.max(0, rents.programData - plan.deployed.lamports);
  return Math.max(0, rents.buffer - bufferLamports) + extension + fees;
}

const sol = (lamports: number) => (lamports / LAMPORTS_PER_SOL).toFixed(4).replace(/\.?0+$/, "");

// ---------------------------------------------------------------------------------------------
// The procedure.

export interface ProgramDeployOptions {
  connection: Connection;
  /** Pays for everything, and is the buffer's and the program's upgrade authority. */
  wallet: Keypair;
  /** The .so to deploy. */
  programFile: string;
  /** The program's address; taken from `programKeypair` when that is given. */
  programId?: PublicKey;
  /** Signs for the program's address; needed for a first deploy only. */
  programKeypair?: Keypair;
  /** Where the buffer's keypair is kept (made if missing); default next to the .so. */
  bufferKeypairFile?: string;
  /** Hand the upgrade authority to this address (e.g. a multisig) once the program is in place. */
  upgradeAuthority?: PublicKey;
  writesInFlight?: number;
  /** Options of the transaction layer (priority fees, …); `onReport` is called too. */
  transactionOptions?: TransactionOptions;
  /** Buffer-writing progress; default a bar on stderr. */
  progress?: (progress: WriteProgress) => void;
  /**
   * Resolves once the cluster's confirmed slot is past `slot`: a program deployed, upgraded or
   * extended in a slot is usable, and may be changed again, only from the next. Default: polls
   * getSlot. A test cluster whose clock it drives itself passes its own.
   */
  untilSlotAfter?: (slot: bigint) => Promise<void>;
}

export interface ProgramDeployResult {
  action: "deployed" | "upgraded" | "unchanged";
  programId: PublicKey;
  programData: PublicKey;
  programBytes: number;
  /** The upgrade authority when the run ended. */
  upgradeAuthority: PublicKey | null;
  /** Whether this run handed the upgrade authority over. */
  authorityChanged: boolean;
  /** Transactions this run sent, landed or not, each once however often it was signed again over a fresh blockhash. */
  transactions: number;
  chunks: { bytes: number; total: number; written: number; alreadyInBuffer: number };
  /** How ProgramData was grown for an upgrade larger than its room, if it was. */
  extension: { bytes: number; instruction: "ExtendProgramChecked" | "ExtendProgram" } | null;
  ms: number;
}

/** Deploys, upgrades or leaves alone the program at its address; see the file's head comment. */
export async function deployProgram(options: ProgramDeployOptions): Promise<ProgramDeployResult> {
  const started = Date.now();
  const { connection, wallet } = options;
  const program = readProgramFile(options.programFile);
  const programId = programAddress(options);
  let transactions = 0;
  const sender = new TransactionSender(connection, new Wallet(wallet), BPF_LOADER_UPGRADEABLE_PROGRAM_ID, new Map(), {
    ...options.transactionOptions,
    onReport: (report) => {
      // Only those signed and sent: one refused in simulation never left this machine.
      if (report.signature !== null) transactions += 1;
      options.transactionOptions?.onReport?.(report);
    },
  });
  const untilSlotAfter = options.untilSlotAfter ?? ((slot: bigint) => pollUntilSlotAfter(connection, slot));
  const deployed = await readDeployedProgram(connection, programId);
  const plan = planDeploy(program, deployed, programId, options.programKeypair !== undefined);
  // The chunk size depends on the accounts' count, not their addresses: any buffer address will do.
  const chunkBytes = maxWriteChunkBytes(wallet.publicKey, PublicKey.default);
  let extension: ProgramDeployResult["extension"] = null;
  const result = (action: ProgramDeployResult["action"], authority: PublicKey | null, chunks: ProgramDeployResult["chunks"], authorityChanged: boolean): ProgramDeployResult => ({
    action,
    programId,
    programData: programDataAddress(programId),
    programBytes: program.length,
    upgradeAuthority: authority,
    authorityChanged,
    transactions,
    chunks,
    extension,
    ms: Date.now() - started,
  });

  if (plan.action === "unchanged") {
    const handOver = options.upgradeAuthority && !sameKey(plan.deployed.authority, options.upgradeAuthority);
    if (handOver) {
      checkUpgradeAuthority(plan.deployed, programId, wallet.publicKey);
      await sender.send([setAuthorityInstruction(plan.deployed.programData, wallet.publicKey, options.upgradeAuthority!)]);
    }
    const authority = handOver ? options.upgradeAuthority! : plan.deployed.authority;
    return result("unchanged", authority, { bytes: chunkBytes, total: 0, written: 0, alreadyInBuffer: 0 }, Boolean(handOver));
  }
  if (plan.action === "upgrade") checkUpgradeAuthority(plan.deployed, programId, wallet.publicKey);

  const bufferFile = options.bufferKeypairFile ?? defaultBufferKeypairPath(options.programFile);
  const { keypair: bufferKeypair, save: saveBufferKeypair } = loadOrCreateKeypair(bufferFile);
  const buffer = bufferKeypair.publicKey;
  let bufferAccount = await readBuffer(connection, buffer, wallet.publicKey, bufferFile);
  await checkFunds(connection, wallet.publicKey, plan, program.length, bufferAccount, Math.ceil(program.length / chunkBytes));
  // Saved once the run can pay, before the buffer is made: a refused run leaves no file behind.
  saveBufferKeypair();

  if (bufferAccount && bufferAccount.data.length !== BUFFER_METADATA_BYTES + program.length) {
    // A buffer left by a run for another build: give its lamports back and start afresh.
    await sender.send([closeBufferInstruction(buffer, wallet.publicKey, wallet.publicKey)]);
    bufferAccount = null;
  }
  if (!bufferAccount) {
    const space = BUFFER_METADATA_BYTES + program.length;
    const lamports = await connection.getMinimumBalanceForRentExemption(space);
    await sender.send(
      [
        SystemProgram.createAccount({ fromPubkey: wallet.publicKey, newAccountPubkey: buffer, lamports, space, programId: BPF_LOADER_UPGRADEABLE_PROGRAM_ID }),
        initializeBufferInstruction(buffer, wallet.publicKey),
      ],
      [bufferKeypair],
    );
  }
  const current = bufferAccount ? bufferAccount.data.subarray(BUFFER_METADATA_BYTES) : Buffer.alloc(program.length);
  const { chunks, total } = chunksToWrite(program, current, chunkBytes);
  // Writes are alike but for their bytes: one simulation sizes their compute-unit limit.
  const writer = sender.with({ reuseComputeUnits: true });
  await writeChunks(chunks, options.writesInFlight ?? DEFAULT_WRITES_IN_FLIGHT, options.progress ?? stderrProgress(), (chunk) =>
    writer.send([writeInstruction(buffer, wallet.publicKey, chunk.offset, chunk.bytes)]),
  );
  await checkBufferHolds(connection, buffer, program);
  const chunkReport = { bytes: chunkBytes, total, written: chunks.length, alreadyInBuffer: total - chunks.length };

  if (plan.action === "deploy") {
    const programKeypair = options.programKeypair!;
    const programRent = await connection.getMinimumBalanceForRentExemption(PROGRAM_ACCOUNT_BYTES);
    await sender.send(
      [
        SystemProgram.createAccount({ fromPubkey: wallet.publicKey, newAccountPubkey: programId, lamports: programRent, space: PROGRAM_ACCOUNT_BYTES, programId: BPF_LOADER_UPGRADEABLE_PROGRAM_ID }),
        deployWithMaxDataLenInstruction({ payer: wallet.publicKey, program: programId, buffer, authority: wallet.publicKey, maxDataLen: plan.maxDataLen }),
      ],
      [programKeypair],
    );
  } else {
    if (plan.extendBy > 0) {
      // The loader refuses to extend a program changed in the current slot.
      await untilSlotAfter(plan.deployed.slot);
      extension = { bytes: plan.extendBy, instruction: await extendProgram(sender, programId, wallet.publicKey, plan.extendBy) };
    }
    // Nor does it upgrade one deployed, upgraded or extended in the current slot.
    await untilSlotAfter(await programSlot(connection, programId));
    await sender.send([upgradeInstruction({ program: programId, buffer, spill: wallet.publicKey, authority: wallet.publicKey })]);
  }
  // The new code runs from the slot after the one it was deployed in.
  await untilSlotAfter(await programSlot(connection, programId));

  const handOver = options.upgradeAuthority !== undefined && !options.upgradeAuthority.equals(wallet.publicKey);
  if (handOver) await sender.send([setAuthorityInstruction(programDataAddress(programId), wallet.publicKey, options.upgradeAuthority!)]);
  return result(plan.action === "deploy" ? "deployed" : "upgraded", handOver ? options.upgradeAuthority! : wallet.publicKey, chunkReport, handOver);
}

function programAddress(options: ProgramDeployOptions): PublicKey {
  const fromKeypair = options.programKeypair?.publicKey;
  if (fromKeypair && options.programId && !fromKeypair.equals(options.programId)) {
    throw new Error(`the program keypair is for ${fromKeypair.toBase58()}, not the program id ${options.programId.toBase58()}`);
  }
  const programId = fromKeypair ?? options.programId;
  if (!programId) throw new Error("no program address: pass the program's keypair (--program-keypair <file>) or its id (--program-id <address>)");
  return programId;
}

function sameKey(a: PublicKey | null, b: PublicKey | null): boolean {
  return a === null || b === null ? a === b : a.equals(b);
}

/** The buffer account, if there is one; refuses one that is not this wallet's buffer. */
async function readBuffer(connection: Connection, buffer: PublicKey, wallet: PublicKey, file: string): Promise<AccountInfo<Buffer> | null> {
  const account = await connection.getAccountInfo(buffer);
  if (!account) return null;
  const state = account.owner.equals(BPF_LOADER_UPGRADEABLE_PROGRAM_ID) ? decodeLoaderState(account.data) : null;
  if (state?.kind !== "buffer") throw new Error(`the buffer keypair in ${file} is for ${buffer.toBase58()}, which is not a loader buffer: pass another --buffer`);
  if (!sameKey(state.authority, wallet)) {
    throw new Error(`buffer ${buffer.toBase58()} (from ${file}) has authority ${state.authority?.toBase58() ?? "none"}, not the wallet ${wallet.toBase58()}: pass another --buffer`);
  }
  return account;
}

/** Refuses, before anything is sent, a wallet that cannot pay for the plan. */
async function checkFunds(connection: Connection, wallet: PublicKey, plan: ProgramPlan, programBytes: number, buffer: AccountInfo<Buffer> | null, chunks: number): Promise<void> {
  const programDataBytes = PROGRAMDATA_METADATA_BYTES + (plan.action === "deploy" ? plan.maxDataLen : Math.max(programBytes, plan.deployed.capacity));
  const [balance, bufferRent, programRent, programDataRent] = await Promise.all([
    connection.getBalance(wallet),
    connection.getMinimumBalanceForRentExemption(BUFFER_METADATA_BYTES + programBytes),
    connection.getMinimumBalanceForRentExemption(PROGRAM_ACCOUNT_BYTES),
    connection.getMinimumBalanceForRentExemption(programDataBytes),
  ]);
  // A buffer, its writes, the deploy or extend and upgrade, and the authority hand-over.
  const transactions = 1 + chunks + 3;
  const needed = lamportsNeeded(plan, { buffer: bufferRent, program: programRent, programData: programDataRent }, buffer?.lamports ?? 0, transactions);
  if (balance < needed) {
    throw new Error(`fund it: ${wallet.toBase58()} needs about ${sol(needed)} SOL for the buffer and program rent (it has ${sol(balance)} SOL)`);
  }
}

/**
 * Writes the chunks, `inFlight` at a time, retrying a transient failure; on any other failure it
 * starts no more, lets those in flight finish (so the buffer is as a rerun will find it), and throws.
 */
async function writeChunks(chunks: Chunk[], inFlight: number, progress: (progress: WriteProgress) => void, write: (chunk: Chunk) => Promise<unknown>): Promise<void> {
  const started = Date.now();
  const bytesToWrite = chunks.reduce((sum, chunk) => sum + chunk.bytes.length, 0);
  const state = { chunksWritten: 0, chunksToWrite: chunks.length, bytesWritten: 0, bytesToWrite, elapsedMs: 0 };
  let next = 0;
  // The first failure, if any (an array: it is set inside the workers).
  const failures: unknown[] = [];
  const writeWithRetries = async (chunk: Chunk): Promise<void> => {
    for (let attempt = 0; ; attempt += 1) {
      try {
        await write(chunk);
        return;
      } catch (error) {
        if (!(error instanceof SendError && error.transient) || attempt >= WRITE_RETRIES) throw error;
      }
    }
  };
  const worker = async (): Promise<void> => {
    while (failures.length === 0 && next < chunks.length) {
      const chunk = chunks[next++];
      try {
        await writeWithRetries(chunk);
      } catch (error) {
        failures.push(error);
        return;
      }
      state.chunksWritten += 1;
      state.bytesWritten += chunk.bytes.length;
      progress({ ...state, elapsedMs: Date.now() - started });
    }
  };
  progress({ ...state });
  await Promise.all(Array.from({ length: Math.max(1, Math.min(inFlight, chunks.length)) }, worker));
  if (failures.length > 0) {
    const [error] = failures;
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`writing the buffer stopped after ${state.chunksWritten} of ${chunks.length} chunks: ${reason}\nrun again to resume: only the chunks not yet in the buffer are written`, { cause: error });
  }
}

/** Refuses to deploy from a buffer that does not hold exactly the program. */
async function checkBufferHolds(connection: Connection, buffer: PublicKey, program: Buffer): Promise<void> {
  const account = await connection.getAccountInfo(buffer);
  const held = account?.data.subarray(BUFFER_METADATA_BYTES);
  if (!held || !held.equals(program)) throw new Error(`buffer ${buffer.toBase58()} does not hold the program after writing it: run again to rewrite the chunks that differ`);
}

/**
 * ExtendProgramChecked where the cluster has activated it, else the ExtendProgram it replaces (a
 * cluster refuses the one it does not take as invalid data, in simulation, before anything is sent).
 */
async function extendProgram(sender: TransactionSender, programId: PublicKey, wallet: PublicKey, additionalBytes: number): Promise<"ExtendProgramChecked" | "ExtendProgram"> {
  const extend = (checked: boolean) => sender.send([extendProgramInstruction({ program: programId, authority: wallet, payer: wallet, additionalBytes, checked })]);
  try {
    await extend(true);
    return "ExtendProgramChecked";
  } catch (error) {
    if (!(error instanceof SendError && error.kind === "Simulation" && JSON.stringify(error.detail).includes("InvalidInstructionData"))) throw error;
    await extend(false);
    return "ExtendProgram";
  }
}

async function programSlot(connection: Connection, programId: PublicKey): Promise<bigint> {
  const deployed = await readDeployedProgram(connection, programId);
  if (!deployed) throw new Error(`program ${programId.toBase58()} is missing after its deploy`);
  return deployed.slot;
}

async function pollUntilSlotAfter(connection: Connection, slot: bigint): Promise<void> {
  const deadline = Date.now() + SLOT_WAIT_MS;
  for (;;) {
    const current = BigInt(await connection.getSlot("confirmed"));
    if (current > slot) return;
    if (Date.now() > deadline) throw new Error(`the cluster's confirmed slot is still ${current} after ${SLOT_WAIT_MS / 1000} s, waiting for the slot after ${slot}`);
    await new Promise((resolve) => setTimeout(resolve, SLOT_POLL_MS));
  }
}
