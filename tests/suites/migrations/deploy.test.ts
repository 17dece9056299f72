// migrations/program-deploy.ts (and `migrate --deploy`) against the local cluster over real JSON-RPC,
// with no program preloaded: a first deploy that the SDK then calls, an identical run that sends
// nothing, an upgrade to a larger build (ExtendProgram first), a run resumed after a failed write,
// the upgrade authority handed over, and the refusals (no SOL, no keypair, no .so). The loader's
// instruction encoding and the chunk size are checked byte for byte first.
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { AnchorProvider, Wallet } from "@coral-xyz/anchor";
import bs58 from "bs58";
import {
  Connection,
  Keypair,
  LAMPORTS_PER_SOL,
  PublicKey,
  SYSVAR_CLOCK_PUBKEY,
  SYSVAR_RENT_PUBKEY,
  SystemProgram,
  VersionedTransaction,
  type SendOptions,
} from "@solana/web3.js";
import { ComputeMarketClient } from "@compute-market/sdk";
import { createMint, startLocalCluster, type LocalCluster } from "@compute-market/localnet";
import { migrate, type MigrationStep } from "../../../migrations/deploy";
import {
  BPF_LOADER_UPGRADEABLE_PROGRAM_ID,
  BUFFER_METADATA_BYTES,
  PROGRAMDATA_METADATA_BYTES,
  PROGRAM_ACCOUNT_BYTES,
  TRANSACTION_SIZE_LIMIT,
  chunksToWrite,
  decodeLoaderState,
  deployProgram,
  deployWithMaxDataLenInstruction,
  encodeDeployWithMaxDataLen,
  encodeExtend,
  encodeWrite,
  extendProgramInstruction,
  LoaderInstructionTag,
  maxWriteChunkBytes,
  programDataAddress,
  progressLine,
  readDeployedProgram,
  setAuthorityInstruction,
  upgradeInstruction,
  writeTransactionBytes,
  type ProgramDeployOptions,
  type ProgramDeployResult,
  type WriteProgress,
} from "../../../migrations/program-deploy";
import { PROGRAM_PATH } from "../../support/env";
import { marketEntry } from "../../support/migration-file";

/** The SPL Memo program (v3), which every cluster carries: a second, small, valid program to deploy. */
const MEMO_PROGRAM_ID = new PublicKey("MemoSq4gqABAXKb96qnH8TysNcWxMyWCqXgDLGmfcHr");
const quiet = (): void => undefined;

function isWrite(transaction: VersionedTransaction): boolean {
  const keys = transaction.message.staticAccountKeys;
  return transaction.message.compiledInstructions.some(
    (ix) => keys[ix.programIdIndex].equals(BPF_LOADER_UPGRADEABLE_PROGRAM_ID) && Buffer.from(ix.data).readUInt32LE(0) === LoaderInstructionTag.Write,
  );
}

/** A connection that records every transaction sent, and can refuse the Nth Write it is asked to send. */
class WatchedConnection extends Connection {
  readonly sent: VersionedTransaction[] = [];
  private writesAsked = 0;

  constructor(url: string, private readonly failWrite: number | null = null) {
    super(url, "confirmed");
  }

  override async sendRawTransaction(raw: Buffer | Uint8Array | number[], options?: SendOptions): Promise<string> {
    const transaction = VersionedTransaction.deserialize(Uint8Array.from(raw));
    if (isWrite(transaction) && ++this.writesAsked === this.failWrite) throw new Error(`injected fault: the node refuses write number ${this.failWrite}`);
    this.sent.push(transaction);
    return super.sendRawTransaction(raw, options);
  }

  /** The signatures of the distinct Write transactions sent. */
  writeSignatures(): string[] {
    return [...new Set(this.sent.filter(isWrite).map((tx) => bs58.encode(tx.signatures[0])))];
  }
}

describe("migrations/program-deploy.ts: the loader's instructions", () => {
  const [a, b, c, d] = Array.from({ length: 4 }, () => Keypair.generate().publicKey);

  it("encodes them as bincode, the u32 tag first and a u64 length before the bytes", () => {
    assert.deepEqual([...encodeWrite(0x01020304, Uint8Array.from([9, 8, 7]))], [1, 0, 0, 0, 4, 3, 2, 1, 3, 0, 0, 0, 0, 0, 0, 0, 9, 8, 7]);
    assert.deepEqual([...encodeDeployWithMaxDataLen(595_024)], [2, 0, 0, 0, 0x50, 0x14, 0x09, 0, 0, 0, 0, 0]);
    assert.deepEqual([...encodeExtend(LoaderInstructionTag.ExtendProgramChecked, 256)], [9, 0, 0, 0, 0, 1, 0, 0]);
    assert.deepEqual([...upgradeInstruction({ program: a, buffer: b, spill: c, authority: d }).data], [3, 0, 0, 0]);
    assert.deepEqual([...setAuthorityInstruction(a, b, c).data], [4, 0, 0, 0]);
  });

  it("lists the accounts in the loader's order", () => {
    const metas = (ix: { keys: { pubkey: PublicKey; isSigner: boolean; isWritable: boolean }[] }) =>
      ix.keys.map((key) => `${key.pubkey.toBase58()}:${key.isWritable ? "w" : "r"}${key.isSigner ? "s" : ""}`);
    const at = (key: PublicKey, flags: string) => `${key.toBase58()}:${flags}`;
    assert.deepEqual(metas(deployWithMaxDataLenInstruction({ payer: a, program: b, buffer: c, authority: d, maxDataLen: 10 })), [
      at(a, "ws"), at(programDataAddress(b), "w"), at(b, "w"), at(c, "w"), at(SYSVAR_RENT_PUBKEY, "r"), at(SYSVAR_CLOCK_PUBKEY, "r"), at(SystemProgram.programId, "r"), at(d, "rs"),
    ]);
    assert.deepEqual(metas(upgradeInstruction({ program: a, buffer: b, spill: c, authority: d })), [
      at(programDataAddress(a), "w"), at(a, "w"), at(b, "w"), at(c, "w"), at(SYSVAR_RENT_PUBKEY, "r"), at(SYSVAR_CLOCK_PUBKEY, "r"), at(d, "rs"),
    ]);
    assert.deepEqual(metas(extendProgramInstruction({ program: a, authority: b, payer: c, additionalBytes: 1, checked: true })), [
      at(programDataAddress(a), "w"), at(a, "w"), at(b, "rs"), at(SystemProgram.programId, "r"), at(c, "ws"),
    ]);
    assert.deepEqual(metas(setAuthorityInstruction(a, b, null)), [at(a, "w"), at(b, "rs")]);
  });

  it("decodes buffer and ProgramData state", () => {
    const buffer = Buffer.alloc(BUFFER_METADATA_BYTES);
    buffer.writeUInt32LE(1, 0);
    buffer[4] = 1;
    a.toBuffer().copy(buffer, 5);
    assert.ok((decodeLoaderState(buffer) as { authority: PublicKey }).authority.equals(a));
    const programData = Buffer.alloc(PROGRAMDATA_METADATA_BYTES);
    programData.writeUInt32LE(3, 0);
    programData.writeBigUInt64LE(77n, 4);
    assert.deepEqual(decodeLoaderState(programData), { kind: "programData", slot: 77n, authority: null });
  });

  it("fills a Write transaction to the size limit, and not a byte more", () => {
    const chunk = maxWriteChunkBytes(a, b);
    assert.equal(writeTransactionBytes(a, b, chunk), TRANSACTION_SIZE_LIMIT);
    assert.ok(writeTransactionBytes(a, b, chunk + 1) > TRANSACTION_SIZE_LIMIT);
  });

  it("writes only the chunks that differ from what the buffer holds", () => {
    const program = Buffer.from([1, 2, 3, 4, 0, 0, 7, 8, 9, 10]);
    const fresh = chunksToWrite(program, Buffer.alloc(10), 4);
    assert.equal(fresh.total, 3);
    assert.deepEqual(fresh.chunks.map((chunk) => [chunk.offset, chunk.bytes.length]), [[0, 4], [4, 4], [8, 2]]);
    // A buffer written up to the failed middle chunk: only that one again.
    const partly = Buffer.from([1, 2, 3, 4, 0, 0, 0, 0, 9, 10]);
    assert.deepEqual(chunksToWrite(program, partly, 4).chunks.map((chunk) => [chunk.offset, [...chunk.bytes]]), [[4, [0, 0, 7, 8]]]);
    // Zeros are what a new buffer holds already.
    assert.deepEqual(chunksToWrite(Buffer.from([0, 0, 0, 0, 5]), Buffer.alloc(5), 4).chunks.map((chunk) => chunk.offset), [4]);
  });

  it("draws progress as a bar with chunks, kilobytes and rate", () => {
    const progress: WriteProgress = { chunksWritten: 5, chunksToWrite: 10, bytesWritten: 5_000, bytesToWrite: 10_000, elapsedMs: 2_000 };
    assert.equal(progressLine(progress), `writing buffer [${"#".repeat(15)}${"-".repeat(15)}] 5/10 chunks, 5.0/10.0 KB, 2.5 KB/s`);
  });
});

describe("migrations/program-deploy.ts on the local cluster", function () {
  this.timeout(180_000);
  let cluster: LocalCluster;
  let dir: string;
  let wallet: Keypair;
  let programBytes: Buffer;

  before(() => {
    programBytes = readFileSync(PROGRAM_PATH);
  });

  beforeEach(async () => {
    cluster = await startLocalCluster({ port: 0, slotMs: 0 });
    dir = mkdtempSync(path.join(os.tmpdir(), "program-deploy-"));
    wallet = Keypair.generate();
    cluster.ledger.airdrop(wallet.publicKey, 100n * BigInt(LAMPORTS_PER_SOL));
  });

  afterEach(async () => {
    await cluster.close();
  });

  // The cluster's clock stands still (slotMs 0): where the deploy waits for the next slot, the test
  // moves the clock, as time would on a real cluster.
  const untilSlotAfter = async (slot: bigint): Promise<void> => {
    if (cluster.ledger.slot <= slot) cluster.ledger.warpToSlot(slot + 1n);
  };

  const deploy = (connection: Connection, extra: Partial<ProgramDeployOptions> = {}): Promise<ProgramDeployResult> =>
    deployProgram({ connection, wallet, programFile: PROGRAM_PATH, bufferKeypairFile: path.join(dir, "buffer.json"), untilSlotAfter, progress: quiet, ...extra });

  const clientAt = (connection: Connection, programId: PublicKey): ComputeMarketClient =>
    new ComputeMarketClient(new AnchorProvider(connection, new Wallet(wallet), { commitment: "confirmed" }), { programId });

  /** A second valid program, as a file: the Memo program's ELF as the cluster carries it. */
  const memoFile = async (connection: Connection): Promise<string> => {
    const memo = await connection.getAccountInfo(MEMO_PROGRAM_ID);
    assert.ok(memo, "the cluster carries the Memo program");
    const file = path.join(dir, "memo.so");
    writeFileSync(file, memo.data);
    return file;
  };

  it("deploys at a fresh program keypair, and the SDK runs the program there", async () => {
    const connection = new WatchedConnection(cluster.url);
    const programKeypair = Keypair.generate();
    const progress: WriteProgress[] = [];

    const result = await deploy(connection, { programKeypair, progress: (p) => progress.push(p) });

    assert.equal(result.action, "deployed");
    assert.ok(result.programId.equals(programKeypair.publicKey));
    const deployed = await readDeployedProgram(connection, programKeypair.publicKey);
    assert.ok(deployed, "the program exists");
    assert.ok(deployed.bytes.subarray(0, programBytes.length).equals(programBytes), "ProgramData holds the file");
    assert.equal(deployed.capacity, 2 * programBytes.length, "room for upgrades up to twice the size");
    assert.ok(deployed.authority?.equals(wallet.publicKey));
    // One transaction for the buffer, one per chunk, one to deploy; none larger than the limit.
    assert.equal(result.chunks.total, Math.ceil(programBytes.length / result.chunks.bytes));
    assert.equal(result.transactions, 1 + result.chunks.written + 1);
    // (Counted as landed: the local cluster refuses a blockhash 150 transactions old, where a real
    // one allows 150 blocks, so a few writes are signed again over a fresh one.)
    assert.equal(connection.writeSignatures().filter((signature) => landed(cluster, signature)).length, result.chunks.written);
    const writeSizes = connection.sent.filter(isWrite).map((tx) => tx.serialize().length);
    assert.ok(Math.max(...writeSizes) <= TRANSACTION_SIZE_LIMIT);
    assert.ok(progress.at(-1)?.chunksWritten === result.chunks.written && progress.at(-1)?.bytesWritten === progressBytes(programBytes, result));
    console.log(`      local cluster: ${programBytes.length} bytes in ${result.chunks.total} chunks of ${result.chunks.bytes} bytes, ${result.transactions} transactions, ${(result.ms / 1000).toFixed(1)} s`);

    // The program runs: an instruction through the SDK at its new address.
    const client = clientAt(connection, programKeypair.publicKey);
    await client.initializeConfig({ protocolFeeBps: 300, treasury: wallet.publicKey });
    assert.equal((await client.fetchConfig())?.protocolFeeBps, 300);
  });

  it("leaves an identical program alone, sending no transaction", async () => {
    const programKeypair = Keypair.generate();
    await deploy(new Connection(cluster.url, "confirmed"), { programKeypair });
    const connection = new WatchedConnection(cluster.url);
    const lamportsBefore = await connection.getBalance(wallet.publicKey);

    const again = await deploy(connection, { programKeypair });

    assert.equal(again.action, "unchanged");
    assert.equal(again.transactions, 0);
    assert.equal(connection.sent.length, 0);
    assert.equal(await connection.getBalance(wallet.publicKey), lamportsBefore);
  });

  it("upgrades to another build, extending ProgramData first when the new one is larger", async () => {
    const connection = new WatchedConnection(cluster.url);
    const programKeypair = Keypair.generate();
    const small = await memoFile(connection);
    const first = await deploy(connection, { programKeypair, programFile: small });
    assert.equal(first.action, "deployed");
    assert.ok((await readDeployedProgram(connection, programKeypair.publicKey))!.capacity < programBytes.length, "the first build leaves too little room");

    const upgraded = await deploy(connection, { programId: programKeypair.publicKey });

    assert.equal(upgraded.action, "upgraded");
    const memoBytes = readFileSync(small).length;
    assert.equal(upgraded.extension?.bytes, programBytes.length - 2 * memoBytes, "extended by what the room lacked");
    // The buffer, its chunks, the extension, the upgrade.
    assert.equal(upgraded.transactions, 1 + upgraded.chunks.written + 1 + 1);
    const deployed = await readDeployedProgram(connection, programKeypair.publicKey);
    assert.ok(deployed && deployed.capacity === programBytes.length, "ProgramData was extended");
    assert.ok(deployed.bytes.subarray(0, programBytes.length).equals(programBytes));
    // The buffer's lamports went to ProgramData and back to the wallet: the buffer is gone.
    const buffer = Keypair.fromSecretKey(Uint8Array.from(JSON.parse(readFileSync(path.join(dir, "buffer.json"), "utf8")))).publicKey;
    assert.equal(await connection.getAccountInfo(buffer), null);
    const client = clientAt(connection, programKeypair.publicKey);
    await client.initializeConfig({ protocolFeeBps: 100, treasury: wallet.publicKey });
    assert.equal((await client.fetchConfig())?.protocolFeeBps, 100);
  });

  it("resumes after a failed write, writing only the chunks the buffer lacks", async () => {
    const programKeypair = Keypair.generate();
    const failing = new WatchedConnection(cluster.url, 40);
    await assert.rejects(deploy(failing, { programKeypair }), /writing the buffer stopped after \d+ of \d+ chunks: injected fault: the node refuses write number 40[\s\S]*run again to resume/);
    assert.equal(await failing.getAccountInfo(programKeypair.publicKey), null, "nothing was deployed");
    const landedBefore = failing.writeSignatures().filter((signature) => landed(cluster, signature));

    const connection = new WatchedConnection(cluster.url);
    const resumed = await deploy(connection, { programKeypair });

    assert.equal(resumed.action, "deployed");
    assert.ok(landedBefore.length >= 39, `the writes before the failed one landed (${landedBefore.length})`);
    assert.equal(resumed.chunks.alreadyInBuffer, landedBefore.length);
    const landedNow = connection.writeSignatures().filter((signature) => landed(cluster, signature));
    assert.equal(landedNow.length, resumed.chunks.total - landedBefore.length, "only the missing chunks were written");
    assert.equal(resumed.transactions, resumed.chunks.written + 1, "no new buffer: the chunks and the deploy");
    const deployed = await readDeployedProgram(connection, programKeypair.publicKey);
    assert.ok(deployed?.bytes.subarray(0, programBytes.length).equals(programBytes));
    await clientAt(connection, programKeypair.publicKey).initializeConfig({ protocolFeeBps: 1, treasury: wallet.publicKey });
  });

  it("closes a buffer left by a failed run of another build, and starts a fresh one", async () => {
    const programKeypair = Keypair.generate();
    const failing = new WatchedConnection(cluster.url, 2);
    await assert.rejects(deploy(failing, { programKeypair, programFile: await memoFile(failing) }), /injected fault/);
    const lamportsBefore = await failing.getBalance(wallet.publicKey);

    const connection = new WatchedConnection(cluster.url);
    const result = await deploy(connection, { programKeypair });

    assert.equal(result.action, "deployed");
    assert.equal(result.chunks.alreadyInBuffer, 0);
    // The close, a new buffer, its chunks, the deploy.
    assert.equal(result.transactions, 1 + 1 + result.chunks.written + 1);
    const closes = connection.sent.filter((tx) => tx.message.compiledInstructions.some((ix) => Buffer.from(ix.data).readUInt32LE(0) === LoaderInstructionTag.Close && ix.data.length === 4));
    assert.equal(closes.length, 1);
    assert.ok(lamportsBefore > 0);
    await clientAt(connection, programKeypair.publicKey).initializeConfig({ protocolFeeBps: 2, treasury: wallet.publicKey });
  });

  it("hands the upgrade authority over, after which this wallet's upgrade is refused", async () => {
    const programKeypair = Keypair.generate();
    const multisig = Keypair.generate().publicKey;
    const connection = new WatchedConnection(cluster.url);

    const result = await deploy(connection, { programKeypair, upgradeAuthority: multisig });

    assert.ok(result.authorityChanged && result.upgradeAuthority?.equals(multisig));
    assert.ok((await readDeployedProgram(connection, programKeypair.publicKey))?.authority?.equals(multisig));
    const sentBefore = connection.sent.length;
    await assert.rejects(
      deploy(connection, { programId: programKeypair.publicKey, programFile: await memoFile(connection) }),
      new RegExp(`the wallet ${wallet.publicKey.toBase58()} is not the upgrade authority of program ${programKeypair.publicKey.toBase58()}: its upgrade authority is ${multisig.toBase58()}`),
    );
    assert.equal(connection.sent.length, sentBefore, "the refusal sends nothing");
  });

  it("refuses a wallet without SOL, saying how much it needs, and moves nothing", async () => {
    wallet = Keypair.generate();
    const programKeypair = Keypair.generate();
    const connection = new WatchedConnection(cluster.url);
    const rent = (await connection.getMinimumBalanceForRentExemption(PROGRAM_ACCOUNT_BYTES)) + (await connection.getMinimumBalanceForRentExemption(PROGRAMDATA_METADATA_BYTES + 2 * programBytes.length));

    const error = await deploy(connection, { programKeypair }).then(() => null, (e: Error) => e);

    const match = new RegExp(`^fund it: ${wallet.publicKey.toBase58()} needs about ([0-9.]+) SOL for the buffer and program rent`).exec(error?.message ?? "");
    assert.ok(match, `a "fund it" error, not ${error?.message}`);
    const needed = Number(match[1]) * LAMPORTS_PER_SOL;
    assert.ok(needed >= rent && needed < rent + 0.01 * LAMPORTS_PER_SOL, `${needed} lamports is the rent (${rent}) and fees`);
    assert.equal(connection.sent.length, 0);
    assert.equal(await connection.getAccountInfo(programKeypair.publicKey), null);
    assert.ok(!existsSync(path.join(dir, "buffer.json")), "no buffer keypair file is left behind");
  });

  it("refuses a first deploy without the program keypair, and a missing .so", async () => {
    const connection = new Connection(cluster.url, "confirmed");
    const nowhere = Keypair.generate().publicKey;
    await assert.rejects(deploy(connection, { programId: nowhere }), new RegExp(`no program is deployed at ${nowhere.toBase58()}: a first deploy needs the program's keypair \\(--program-keypair <file>\\)`));
    const missing = path.join(dir, "missing.so");
    await assert.rejects(deploy(connection, { programKeypair: Keypair.generate(), programFile: missing }), new RegExp(`no program file at ${missing}: run npm run build:program`));
  });

  it("migrate --deploy deploys the program, then initializes the config and markets at its address", async () => {
    const programKeypair = Keypair.generate();
    const files = {
      keypair: path.join(dir, "id.json"),
      programKeypair: path.join(dir, "program.json"),
      buffer: path.join(dir, "buffer.json"),
      markets: path.join(dir, "markets.json"),
    };
    writeFileSync(files.keypair, JSON.stringify(Array.from(wallet.secretKey)));
    writeFileSync(files.programKeypair, JSON.stringify(Array.from(programKeypair.secretKey)));
    const mint = createMint(cluster.ledger, wallet, 6);
    writeFileSync(files.markets, JSON.stringify({ protocolFeeBps: 250, markets: [marketEntry("cpu", mint, mint, "5000000")] }));
    const run = (extra: { dryRun?: boolean } = {}): Promise<MigrationStep[]> =>
      migrate({ url: cluster.url, ...files, deploy: true, program: PROGRAM_PATH, ...extra }, quiet, { untilSlotAfter, progress: quiet });

    const planned = await run({ dryRun: true });
    assert.deepEqual(planned.map((s) => [s.step, s.action]), [["program", "would deploy"], ["config", "would initialize"], ["market", "would create"]]);
    const steps = await run();
    assert.deepEqual(steps.map((s) => [s.step, s.action]), [["program", "deployed"], ["config", "initialized"], ["market", "created"]]);
    assert.equal(steps[0].programId, programKeypair.publicKey.toBase58());
    const again = await run();
    assert.deepEqual(again.map((s) => [s.step, s.action]), [["program", "unchanged"], ["config", "unchanged"], ["market", "unchanged"]]);
    const connection = new Connection(cluster.url, "confirmed");
    assert.equal((await clientAt(connection, programKeypair.publicKey).fetchConfig())?.protocolFeeBps, 250);
  });
});

/** Whether the ledger executed the transaction with this signature, successfully. */
function landed(cluster: LocalCluster, signature: string): boolean {
  const record = cluster.ledger.getTransaction(signature);
  return record !== null && record.landed && record.error === null;
}

/** Bytes the progress reports for the chunks written (the last chunk is shorter). */
function progressBytes(program: Buffer, result: ProgramDeployResult): number {
  return chunksToWrite(program, Buffer.alloc(program.length), result.chunks.bytes).chunks.reduce((sum, chunk) => sum + chunk.bytes.length, 0);
}

