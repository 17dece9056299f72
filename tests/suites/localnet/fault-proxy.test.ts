// The fault-injecting RPC proxy: what it does to requests and subscriptions, and the SDK's
// transaction layer landing every transfer exactly once through a third of requests faulted.
import assert from "node:assert/strict";
import { AnchorProvider, Wallet } from "@coral-xyz/anchor";
import { Connection, Keypair, LAMPORTS_PER_SOL, SystemProgram, TransactionMessage, VersionedTransaction } from "@solana/web3.js";
import { DEFAULT_PROGRAM_ID, transactionSender } from "@compute-market/sdk";
import { startFaultProxy, startLocalCluster, type LocalCluster } from "@compute-market/localnet";
import WebSocket from "ws";
import { PROGRAM_PATH } from "../../support/env";

describe("fault proxy", function () {
  this.timeout(60_000);
  let cluster: LocalCluster;
  let direct: Connection;
  const payer = Keypair.generate();
  beforeEach(async () => {
    cluster = await startLocalCluster({ port: 0, slotMs: 50, programs: [{ programId: DEFAULT_PROGRAM_ID, path: PROGRAM_PATH }] });
    direct = new Connection(cluster.url, "confirmed");
    cluster.ledger.airdrop(payer.publicKey, 100n * BigInt(LAMPORTS_PER_SOL));
  });
  afterEach(async () => {
    await cluster.close();
  });

  it("forwards requests untouched when no fault is asked for, and answers every one with an error when all are", async () => {
    const clean = await startFaultProxy({ target: cluster.url, errorRate: 0, delayRate: 0, dropRate: 0 });
    const broken = await startFaultProxy({ target: cluster.url, errorRate: 1, delayRate: 0, dropRate: 0 });
    try {
      assert.equal(await new Connection(clean.url).getBalance(payer.publicKey), await direct.getBalance(payer.publicKey));
      await assert.rejects(new Connection(broken.url, { disableRetryOnRateLimit: true }).getBalance(payer.publicKey));
      assert.deepEqual({ requests: broken.counts.requests, errors: broken.counts.errors }, { requests: 1, errors: 1 });
    } finally {
      await clean.close();
      await broken.close();
    }
  });

  it("answers a dropped send with its signature and never delivers it", async () => {
    const proxy = await startFaultProxy({ target: cluster.url, errorRate: 0, delayRate: 0, dropRate: 1 });
    try {
      const { blockhash } = await direct.getLatestBlockhash();
      const message = new TransactionMessage({ payerKey: payer.publicKey, recentBlockhash: blockhash, instructions: [SystemProgram.transfer({ fromPubkey: payer.publicKey, toPubkey: payer.publicKey, lamports: 1 })] }).compileToV0Message();
      const transaction = new VersionedTransaction(message);
      transaction.sign([payer]);
      const signature = await new Connection(proxy.url).sendRawTransaction(transaction.serialize(), { skipPreflight: true });
      assert.equal((await direct.getSignatureStatuses([signature])).value[0], null, "never delivered");
      assert.equal(proxy.counts.drops, 1);
    } finally {
      await proxy.close();
    }
  });

  it("cuts subscriptions", async () => {
    const proxy = await startFaultProxy({ target: cluster.url, errorRate: 0, delayRate: 0, dropRate: 0, cutRatePerSecond: 1 });
    // A bare socket, not a Connection: web3.js would reconnect and resubscribe after the cut.
    const socket = new WebSocket(proxy.wsUrl);
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once("open", () => resolve());
        socket.once("error", reject);
      });
      const notified = new Promise<void>((resolve) => socket.once("message", () => resolve()));
      socket.send(JSON.stringify({ jsonrpc: "2.0", id: 1, method: "slotSubscribe" }));
      await notified;
      const closed = await Promise.race([new Promise<boolean>((resolve) => socket.once("close", () => resolve(true))), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 10_000))]);
      assert.equal(closed, true, "the proxy cut the subscription");
      assert.ok(proxy.counts.cuts >= 1);
    } finally {
      socket.terminate();
      await proxy.close();
    }
  });

  it("the transaction layer lands each of 20 transfers exactly once through a third of requests faulted", async () => {
    const proxy = await startFaultProxy({ target: cluster.url, errorRate: 0.1, delayRate: 0.1, dropRate: 0.13, maxDelayMs: 200, holdMs: 500, seed: 7 });
    try {
      const connection = new Connection(proxy.url, { commitment: "confirmed", disableRetryOnRateLimit: true });
      const sender = transactionSender(new AnchorProvider(connection, new Wallet(payer), { commitment: "confirmed" }), { priorityFee: { kind: "none" }, rebroadcastMs: 200, pollMs: 50 });
      const recipient = Keypair.generate().publicKey;
      let landed = 0;
      for (let i = 0; i < 20; i += 1) {
        // A request answered with an error before the send is the caller's to retry; after the send, the layer's.
        for (let attempt = 0; ; attempt += 1) {
          try {
            await sender.send([SystemProgram.transfer({ fromPubkey: payer.publicKey, toPubkey: recipient, lamports: LAMPORTS_PER_SOL / 100 + i })]);
            landed += 1;
            break;
          } catch (error) {
            if (attempt > 20) throw error;
            const expected = ["RateLimited", "RpcUnavailable"].includes((error as { kind?: string }).kind ?? "") || /fetch failed|socket|ECONNRESET|503|other side closed/i.test(String(error));
            if (!expected) throw error;
          }
        }
      }
      const expectedLamports = Array.from({ length: 20 }, (_, i) => LAMPORTS_PER_SOL / 100 + i).reduce((a, b) => a + b, 0);
      assert.equal(await direct.getBalance(recipient), expectedLamports, "every transfer landed once, none twice");
      assert.equal(landed, 20);
      assert.ok(proxy.counts.drops + proxy.counts.errors > 0, JSON.stringify(proxy.counts));
    } finally {
      await proxy.close();
    }
  });
});
