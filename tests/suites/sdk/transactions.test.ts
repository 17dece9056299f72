// The SDK's transaction layer against a local cluster over real JSON-RPC: v0 messages with a
// compute-unit limit from simulation and a priority fee under its cap, rebroadcast across a
// dropped send, an expired blockhash as a typed error (or signed again), the unsigned path for a
// wallet that signs elsewhere, and the RPC's failures as typed errors.
import assert from "node:assert/strict";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { AnchorProvider, Wallet } from "@coral-xyz/anchor";
import { ComputeBudgetInstruction, ComputeBudgetProgram, Connection, Keypair, SystemProgram, type TransactionInstruction, VersionedTransaction } from "@solana/web3.js";
import {
  AccountNotFoundError,
  BlockhashExpiredError,
  ComputeMarketClient,
  ComputeMarketError,
  percentileOf,
  priorityFee,
  RateLimitedError,
  RpcUnavailableError,
  transactionFee,
  UNSENT_SIGNATURE,
  type SendReport,
  type TransactionOptions,
} from "@compute-market/sdk";
import { startClusterMarket, type ClusterMarket, type ClusterWallet } from "../../support/cluster-market";

const SPEC = { cpuCores: 2, memoryMb: 1_024, diskGb: 10, gpuCount: 0, vramMb: 0 };
const FAST: TransactionOptions = { rebroadcastMs: 40, pollMs: 10, priorityFee: { kind: "none" } };

/** A connection whose sends are dropped (answered, never delivered) while `drop` says so. */
function lossyConnection(connection: Connection, drop: (attempt: number, raw: Uint8Array) => boolean): { connection: Connection; sends: () => number } {
  let sends = 0;
  const proxy = new Proxy(connection, {
    get(target, key, receiver) {
      if (key !== "sendRawTransaction") return Reflect.get(target, key, receiver);
      return async (raw: Uint8Array, options: unknown) => {
        sends += 1;
        if (drop(sends, raw)) return "dropped";
        return target.sendRawTransaction(raw, options as never);
      };
    },
  });
  return { connection: proxy, sends: () => sends };
}

const selfTransfer = (keypair: Keypair): TransactionInstruction => SystemProgram.transfer({ fromPubkey: keypair.publicKey, toPubkey: keypair.publicKey, lamports: 1 });

function clientOn(connection: Connection, keypair: Keypair, options: TransactionOptions): ComputeMarketClient {
  return new ComputeMarketClient(new AnchorProvider(connection, new Wallet(keypair), { commitment: "confirmed" }), { transactions: options });
}

/** The compute-budget instructions of a landed transaction: its limit and price. */
async function budgetOf(connection: Connection, signature: string): Promise<{ version: unknown; limit: number | null; price: bigint | null; consumed: number }> {
  const landed = await connection.getTransaction(signature, { commitment: "confirmed", maxSupportedTransactionVersion: 0 });
  assert.ok(landed, "the transaction is on the ledger");
  const message = landed.transaction.message;
  const keys = message.staticAccountKeys;
  let limit: number | null = null;
  let price: bigint | null = null;
  for (const ix of message.compiledInstructions) {
    if (!keys[ix.programIdIndex].equals(ComputeBudgetProgram.programId)) continue;
    const instruction = { programId: ComputeBudgetProgram.programId, keys: [], data: Buffer.from(ix.data) } as TransactionInstruction;
    const kind = ComputeBudgetInstruction.decodeInstructionType(instruction);
    if (kind === "SetComputeUnitLimit") limit = ComputeBudgetInstruction.decodeSetComputeUnitLimit(instruction).units;
    if (kind === "SetComputeUnitPrice") price = ComputeBudgetInstruction.decodeSetComputeUnitPrice(instruction).microLamports as bigint;
  }
  return { version: landed.version, limit, price, consumed: landed.meta?.computeUnitsConsumed ?? 0 };
}

describe("sdk transaction layer", function () {
  this.timeout(60_000);
  let env: ClusterMarket;
  let owner: ClusterWallet;
  let provider: ReturnType<ComputeMarketClient["providerAddress"]>;

  beforeEach(async () => {
    env = await startClusterMarket();
    owner = await env.wallet({ stake: 1_000_000n });
    ({ provider } = await owner.client.registerProvider({ market: env.market, spec: SPEC, endpoint: "http://127.0.0.1:1" }));
  });
  afterEach(async () => {
    await env.close();
  });

  const staked = async (): Promise<bigint> => (await owner.client.fetchProvider(provider))!.staked;

  it("sends a v0 message whose compute-unit limit is the simulated units plus the margin, and reports it", async () => {
    const reports: SendReport[] = [];
    const client = clientOn(env.connection, owner.keypair, { priorityFee: { kind: "none" }, computeUnitMargin: 0.1, computeUnitPad: 1_000, onReport: (r) => reports.push(r) });
    const signature = await client.stake({ provider, amount: 10_000n });
    const budget = await budgetOf(env.connection, signature);
    assert.equal(budget.version, 0, "a v0 message");
    assert.equal(budget.price, null, "no price instruction when the strategy bids nothing");
    assert.ok(budget.limit !== null && budget.consumed > 0);
    // The limit was set from a simulation of the same transaction, so the run stays under it by the margin.
    assert.ok(budget.consumed <= budget.limit!, `consumed ${budget.consumed} within the limit ${budget.limit}`);
    assert.ok(budget.limit! <= Math.ceil(budget.consumed * 1.1) + 1_000 + 300, `limit ${budget.limit} is the consumed ${budget.consumed} plus about the margin`);
    assert.equal(reports.length, 1);
    assert.deepEqual({ label: reports[0].label, landed: reports[0].landed, signature: reports[0].signature, limit: reports[0].computeUnitLimit }, { label: "stake", landed: true, signature, limit: budget.limit });
    assert.equal(reports[0].feeLamports, 5_000n);
  });

  it("bids the fixed priority fee only up to the cap, and charges exactly that fee", async () => {
    const client = clientOn(env.connection, owner.keypair, { priorityFee: { kind: "fixed", microLamports: 50_000 }, maxPriorityFee: 20_000 });
    const before = BigInt(await env.connection.getBalance(owner.keypair.publicKey));
    const signature = await client.stake({ provider, amount: 10_000n });
    const budget = await budgetOf(env.connection, signature);
    assert.equal(budget.price, 20_000n, "the cap, not the strategy's 50,000");
    const after = BigInt(await env.connection.getBalance(owner.keypair.publicKey));
    assert.equal(before - after, transactionFee(1, budget.limit!, 20_000), "base fee plus limit × price");
  });

  it("picks the percentile of the recent fees of the written accounts, under the cap", () => {
    const recent = [0, 0, 100, 200, 300, 400, 500, 600, 700, 10_000].map((prioritizationFee, slot) => ({ slot, prioritizationFee }));
    assert.equal(percentileOf([], 75), 0);
    assert.equal(priorityFee({ kind: "percentile", percentile: 75 }, recent, 1_000_000), 600);
    assert.equal(priorityFee({ kind: "percentile", percentile: 100 }, recent, 5_000), 5_000, "capped");
    assert.equal(priorityFee({ kind: "percentile", percentile: 10 }, recent, 5_000), 0);
    assert.equal(priorityFee({ kind: "percentile", percentile: 10, floor: 50 }, recent, 5_000), 50, "the floor");
    assert.equal(priorityFee({ kind: "percentile", percentile: 50 }, [], 5_000), 0, "a quiet cluster");
  });

  it("sends the same signed transaction again when the first send is dropped, and it lands once", async () => {
    const lossy = lossyConnection(env.connection, (attempt) => attempt === 1);
    const reports: SendReport[] = [];
    const client = clientOn(lossy.connection, owner.keypair, { ...FAST, onReport: (r) => reports.push(r) });
    const before = await staked();
    await client.stake({ provider, amount: 10_000n });
    assert.equal(await staked(), before + 10_000n, "staked once");
    assert.ok(lossy.sends() >= 2, "rebroadcast");
    assert.ok(reports[0].rebroadcasts >= 1);
    assert.equal(reports[0].expiries, 0);
  });

  it("turns a blockhash that expires before the transaction lands into BlockhashExpiredError, and nothing moves", async () => {
    const lossy = lossyConnection(env.connection, () => true);
    const reports: SendReport[] = [];
    const client = clientOn(lossy.connection, owner.keypair, { ...FAST, resign: false, onReport: (r) => reports.push(r) });
    const before = await staked();
    const sending = client.stake({ provider, amount: 10_000n });
    while (lossy.sends() === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    // 151 blocks: the blockhash the transaction was signed over is past its last valid height.
    for (let i = 0; i < 151; i += 1) env.advance(1n);
    await assert.rejects(sending, (error: unknown) => error instanceof BlockhashExpiredError && error.kind === "BlockhashExpired");
    assert.equal(await staked(), before);
    assert.deepEqual({ landed: reports[0].landed, error: reports[0].error, expiries: reports[0].expiries }, { landed: false, error: "BlockhashExpired", expiries: 1 });
  });

  it("signs again over a fresh blockhash once the first has expired, and lands", async () => {
    let firstBlockhash: string | null = null;
    const lossy = lossyConnection(env.connection, (_attempt, raw) => {
      const blockhash = VersionedTransaction.deserialize(raw).message.recentBlockhash;
      firstBlockhash ??= blockhash;
      return blockhash === firstBlockhash;
    });
    const reports: SendReport[] = [];
    const client = clientOn(lossy.connection, owner.keypair, { ...FAST, onReport: (r) => reports.push(r) });
    const before = await staked();
    const sending = client.stake({ provider, amount: 10_000n });
    while (firstBlockhash === null) await new Promise((resolve) => setTimeout(resolve, 5));
    for (let i = 0; i < 151; i += 1) env.advance(1n);
    await sending;
    assert.equal(await staked(), before + 10_000n, "staked once");
    assert.equal(reports[0].expiries, 1);
    assert.equal(reports[0].landed, true);
  });

  it("returns a call's instructions unsent, for a transaction signed elsewhere and sent through the layer", async () => {
    const before = await staked();
    const { value, transactions } = await owner.client.instructionsOf((c) => c.stake({ provider, amount: 7_000n }));
    assert.equal(value, UNSENT_SIGNATURE);
    assert.equal(transactions.length, 1);
    assert.equal(await staked(), before, "nothing sent");
    const prepared = await owner.client.prepareTransaction(transactions[0]);
    assert.equal(prepared.transaction.signatures.every((s) => s.every((byte) => byte === 0)), true, "unsigned");
    // Signed apart from the client, as a hardware wallet or a multisig member would.
    prepared.transaction.sign([owner.keypair]);
    const signature = await owner.client.sendSigned(prepared.transaction, prepared.lastValidBlockHeight);
    assert.equal(await staked(), before + 7_000n);
    assert.equal((await budgetOf(env.connection, signature)).limit, prepared.computeUnitLimit);
  });

  it("refuses by name in simulation, before anything is signed or paid", async () => {
    const before = BigInt(await env.connection.getBalance(owner.keypair.publicKey));
    await assert.rejects(owner.client.stake({ provider, amount: 0n }), (error: unknown) => error instanceof ComputeMarketError && error.errorName === "ZeroAmount");
    assert.equal(BigInt(await env.connection.getBalance(owner.keypair.publicKey)), before, "no fee paid");
  });

  it("tells a fee payer without SOL to fund itself (AccountNotFoundError)", async () => {
    const broke = Keypair.generate();
    const client = clientOn(env.connection, broke, FAST);
    await assert.rejects(client.initializeConfig({ protocolFeeBps: 1, treasury: broke.publicKey }), (error: unknown) => error instanceof AccountNotFoundError && /fund it/.test(error.message) && error.message.includes(broke.publicKey.toBase58()));
  });

  it("types an RPC node that does not answer (RpcUnavailableError) and one that rate-limits (RateLimitedError)", async () => {
    const server = http.createServer((_request, response) => {
      response.writeHead(429, { "content-type": "text/plain" });
      response.end("slow down");
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const port = (server.address() as AddressInfo).port;
      const limited = clientOn(new Connection(`http://127.0.0.1:${port}`, { commitment: "confirmed", disableRetryOnRateLimit: true }), owner.keypair, FAST);
      await assert.rejects(limited.transactions.send([selfTransfer(owner.keypair)]), RateLimitedError);
      await new Promise<void>((resolve) => server.close(() => resolve()));
      const down = clientOn(new Connection(`http://127.0.0.1:${port}`, { commitment: "confirmed" }), owner.keypair, FAST);
      await assert.rejects(down.transactions.send([selfTransfer(owner.keypair)]), RpcUnavailableError);
    } finally {
      server.close();
    }
  });
});
