// The local cluster process: web3.js's Connection, spl-token, Anchor and the SDK over real HTTP
// JSON-RPC and WebSocket PubSub, a node's JSON shapes and errors, and the CLI.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import path from "node:path";
import { createInterface } from "node:readline";
import { AnchorProvider, Wallet } from "@coral-xyz/anchor";
import {
  ACCOUNT_SIZE,
  TOKEN_PROGRAM_ID,
  createMint,
  getAccount,
  getOrCreateAssociatedTokenAccount,
  mintTo,
  transfer,
} from "@solana/spl-token";
import {
  ComputeBudgetProgram,
  Connection,
  Keypair,
  LAMPORTS_PER_SOL,
  PublicKey,
  SendTransactionError,
  SolanaJSONRPCError,
  SystemProgram,
  Transaction,
  TransactionMessage,
  VersionedTransaction,
  sendAndConfirmTransaction,
  type SlotInfo,
  type TransactionInstruction,
} from "@solana/web3.js";
import bs58 from "bs58";
import { ComputeMarketClient, ComputeMarketError, DEFAULT_PROGRAM_ID } from "@compute-market/sdk";
import { blockhashValidityFor, Ledger, startLocalCluster, type ChangedAccount, type LocalCluster, type ProcessedTransaction } from "@compute-market/localnet";
import { PROGRAM_PATH } from "../../support/env";
import { until } from "../../support/wait";

const FEE = 5_000; // lamports per signature
const ROOT = path.resolve(__dirname, "../../..");

/** Posts a raw JSON-RPC body, as a client that is not web3.js would. */
async function post(cluster: LocalCluster, body: unknown): Promise<unknown> {
  const response = await fetch(cluster.url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  assert.equal(response.status, 200);
  return response.json();
}

async function call(cluster: LocalCluster, method: string, params: unknown[] = []): Promise<Record<string, unknown>> {
  return (await post(cluster, { jsonrpc: "2.0", id: 1, method, params })) as Record<string, unknown>;
}


async function rejection(action: Promise<unknown>): Promise<unknown> {
  try {
    await action;
  } catch (error) {
    return error;
  }
  return assert.fail("expected a rejection");
}

function transferSol(from: Keypair, to: PublicKey, lamports: number): TransactionInstruction {
  return SystemProgram.transfer({ fromPubkey: from.publicKey, toPubkey: to, lamports });
}

describe("localnet server", () => {
  let cluster: LocalCluster;
  let connection: Connection;
  let payer: Keypair;

  /** A new wallet holding `sol`, funded through requestAirdrop. */
  async function funded(sol = 10): Promise<Keypair> {
    const wallet = Keypair.generate();
    const signature = await connection.requestAirdrop(wallet.publicKey, sol * LAMPORTS_PER_SOL);
    await connection.confirmTransaction({ signature, ...(await connection.getLatestBlockhash()) });
    return wallet;
  }

  /** A transaction signed over the latest blockhash, not yet sent. */
  async function signed(from: Keypair, instructions: TransactionInstruction[]): Promise<Transaction> {
    const tx = new Transaction().add(...instructions);
    tx.feePayer = from.publicKey;
    tx.recentBlockhash = (await connection.getLatestBlockhash()).blockhash;
    tx.sign(from);
    return tx;
  }

  before(async () => {
    cluster = await startLocalCluster({ port: 0, slotMs: 0, programs: [{ programId: DEFAULT_PROGRAM_ID, path: PROGRAM_PATH }] });
    connection = new Connection(cluster.url, "confirmed");
    payer = await funded(100);
  });

  after(async () => {
    // Subscriptions are gone by now, so web3.js does not try to reconnect when the server closes.
    assert.equal(cluster.pubsub.subscriptionCount, 0);
    await cluster.close();
  });

  describe("JSON-RPC", () => {
    it("listens for PubSub on the next port, where web3.js looks for it", () => {
      const port = Number(new URL(cluster.url).port);
      assert.equal(cluster.wsUrl, `ws://127.0.0.1:${port + 1}`);
    });

    it("serves the latest blockhash, valid for 150 blocks, and tells valid blockhashes from others", async () => {
      const latest = await connection.getLatestBlockhash();

      assert.equal(latest.blockhash, cluster.ledger.latestBlockhash());
      assert.equal(latest.lastValidBlockHeight, (await connection.getBlockHeight()) + 150);
      assert.equal((await connection.isBlockhashValid(latest.blockhash)).value, true);
      assert.equal((await connection.isBlockhashValid(Keypair.generate().publicKey.toBase58())).value, false);
      assert.equal(await connection.getGenesisHash(), cluster.ledger.genesisHash);
      assert.equal((await connection.getVersion())["solana-core"], "4.3.0");
    });

    it("keeps a blockhash valid for a real cluster's minute when slots are short (web3.js reuses one for 30 s)", async () => {
      assert.deepEqual([blockhashValidityFor(400), blockhashValidityFor(0), blockhashValidityFor(50), blockhashValidityFor(10)], [150, 150, 1_200, 6_000]);
      const fast = await startLocalCluster({ port: 0, slotMs: 50 });
      try {
        const client = new Connection(fast.url, "confirmed");
        const latest = await client.getLatestBlockhash();
        // The clock runs: a block or two may pass between the two reads.
        const ahead = latest.lastValidBlockHeight - (await client.getBlockHeight());
        assert.ok(ahead > 1_190 && ahead <= 1_200, `${ahead} blocks ahead`);
      } finally {
        await fast.close();
      }
      // The aging itself, on a ledger kept as such a cluster keeps it: 30 s of 50 ms blocks later a
      // cached blockhash still lands; 1,200 blocks later it does not.
      const ledger = Ledger.create({ blockhashValidity: blockhashValidityFor(50) });
      const cached = ledger.latestBlockhash();
      for (let i = 0; i < 600; i++) ledger.advanceSlots(1n);
      assert.equal(ledger.isBlockhashValid(cached), true);
      for (let i = 0; i < 600; i++) ledger.advanceSlots(1n);
      assert.equal(ledger.isBlockhashValid(cached), false);
    });

    it("credits an airdrop that confirmTransaction confirms", async () => {
      const target = Keypair.generate().publicKey;

      const signature = await connection.requestAirdrop(target, 2 * LAMPORTS_PER_SOL);

      const confirmation = await connection.confirmTransaction({ signature, ...(await connection.getLatestBlockhash()) });
      assert.equal(confirmation.value.err, null);
      assert.equal(await connection.getBalance(target), 2 * LAMPORTS_PER_SOL);
    });

    it("lands a SOL transfer through sendAndConfirmTransaction and reports it through getTransaction", async () => {
      const recipient = Keypair.generate().publicKey;
      const before = await connection.getBalance(payer.publicKey);

      const signature = await sendAndConfirmTransaction(connection, new Transaction().add(transferSol(payer, recipient, LAMPORTS_PER_SOL)), [payer]);

      assert.equal(await connection.getBalance(recipient), LAMPORTS_PER_SOL);
      assert.equal(await connection.getBalance(payer.publicKey), before - LAMPORTS_PER_SOL - FEE);
      const fetched = await connection.getTransaction(signature, { maxSupportedTransactionVersion: 0 });
      assert.ok(fetched?.meta);
      assert.equal(fetched.meta.err, null);
      assert.equal(fetched.meta.fee, FEE);
      assert.deepEqual(fetched.meta.preBalances.slice(0, 2), [before, 0]);
      assert.deepEqual(fetched.meta.postBalances.slice(0, 2), [before - LAMPORTS_PER_SOL - FEE, LAMPORTS_PER_SOL]);
      assert.ok(fetched.meta.logMessages?.includes(`Program ${SystemProgram.programId.toBase58()} success`));
      assert.deepEqual(fetched.transaction.signatures, [signature]);
      assert.ok(fetched.transaction.message.staticAccountKeys[1].equals(recipient));
      assert.equal(fetched.version, "legacy");
      assert.equal(typeof fetched.blockTime, "number");
      const [sent, unknown] = await connection.getMultipleAccountsInfo([recipient, Keypair.generate().publicKey]);
      assert.equal(sent?.lamports, LAMPORTS_PER_SOL);
      assert.equal(unknown, null);
    });

    it("runs spl-token's high-level helpers: mint, associated account, mint to, transfer", async () => {
      const recipient = Keypair.generate().publicKey;

      const mint = await createMint(connection, payer, payer.publicKey, null, 6);
      const source = await getOrCreateAssociatedTokenAccount(connection, payer, mint, payer.publicKey);
      const destination = await getOrCreateAssociatedTokenAccount(connection, payer, mint, recipient);
      await mintTo(connection, payer, mint, source.address, payer, 5_000_000n);
      await transfer(connection, payer, source.address, destination.address, payer, 1_500_000n);

      assert.equal((await getAccount(connection, source.address)).amount, 3_500_000n);
      assert.equal((await getAccount(connection, destination.address)).amount, 1_500_000n);
      const balance = await connection.getTokenAccountBalance(destination.address);
      assert.deepEqual(balance.value, { amount: "1500000", decimals: 6, uiAmount: 1.5, uiAmountString: "1.5" });
      const byMint = await connection.getTokenAccountsByOwner(recipient, { mint });
      assert.deepEqual(byMint.value.map(({ pubkey }) => pubkey.toBase58()), [destination.address.toBase58()]);
      const byProgram = await connection.getTokenAccountsByOwner(payer.publicKey, { programId: TOKEN_PROGRAM_ID });
      assert.ok(byProgram.value.some(({ pubkey }) => pubkey.equals(source.address)));
      const again = await getOrCreateAssociatedTokenAccount(connection, payer, mint, recipient);
      assert.equal(again.amount, 1_500_000n, "an existing associated account is found, not created again");
    });

    it("refuses a failing transaction at preflight with SendTransactionError and its logs, charging nothing", async () => {
      const mint = await createMint(connection, payer, payer.publicKey, null, 0);
      const source = await getOrCreateAssociatedTokenAccount(connection, payer, mint, payer.publicKey);
      const destination = await getOrCreateAssociatedTokenAccount(connection, payer, mint, Keypair.generate().publicKey);
      await mintTo(connection, payer, mint, source.address, payer, 100n);
      const before = await connection.getBalance(payer.publicKey);

      const error = await rejection(transfer(connection, payer, source.address, destination.address, payer, 101n));

      assert.ok(error instanceof SendTransactionError, String(error));
      assert.ok(error.logs?.includes("Program log: Error: insufficient funds"), error.logs?.join("\n"));
      assert.match(error.message, /Transaction simulation failed: Error processing Instruction 0: custom program error: 0x1/);
      assert.equal(await connection.getBalance(payer.publicKey), before, "a transaction refused at preflight pays no fee");
      assert.equal((await getAccount(connection, source.address)).amount, 100n);
    });

    it("answers a failed preflight with a node's -32002 error, its logs and units consumed", async () => {
      const tx = await signed(payer, [transferSol(payer, Keypair.generate().publicKey, 1_000_000 * LAMPORTS_PER_SOL)]);

      const response = await call(cluster, "sendTransaction", [tx.serialize().toString("base64"), { encoding: "base64" }]);

      const error = response.error as { code: number; message: string; data: Record<string, unknown> };
      assert.equal(error.code, -32002);
      assert.match(error.message, /^Transaction simulation failed: Error processing Instruction 0: custom program error: 0x1$/);
      assert.deepEqual(error.data.err, { InstructionError: [0, { Custom: 1 }] });
      assert.ok((error.data.logs as string[]).some((line) => line.includes("insufficient lamports")));
      assert.equal(error.data.accounts, null);
      assert.ok((error.data.unitsConsumed as number) > 0);
    });

    it("lands a failing transaction sent with skipPreflight, charging its fee and reporting its error", async () => {
      const tx = await signed(payer, [transferSol(payer, Keypair.generate().publicKey, 1_000_000 * LAMPORTS_PER_SOL)]);
      const before = await connection.getBalance(payer.publicKey);

      const signature = await connection.sendRawTransaction(tx.serialize(), { skipPreflight: true });

      const expected = { InstructionError: [0, { Custom: 1 }] };
      const confirmation = await connection.confirmTransaction({ signature, ...(await connection.getLatestBlockhash()) });
      assert.deepEqual(confirmation.value.err, expected);
      assert.deepEqual((await connection.getSignatureStatus(signature, { searchTransactionHistory: true })).value?.err, expected);
      const fetched = await connection.getTransaction(signature, { maxSupportedTransactionVersion: 0 });
      assert.deepEqual(fetched?.meta?.err, expected);
      assert.equal(fetched?.meta?.fee, FEE);
      assert.equal(await connection.getBalance(payer.publicKey), before - FEE);
    });

    it("accepts base58-encoded transactions, a node's default encoding", async () => {
      const recipient = Keypair.generate().publicKey;
      const tx = await signed(payer, [transferSol(payer, recipient, LAMPORTS_PER_SOL)]);

      const response = await call(cluster, "sendTransaction", [base58(tx.serialize())]);

      assert.equal(response.result, base58(tx.signature!));
      assert.equal(await connection.getBalance(recipient), LAMPORTS_PER_SOL);
    });

    it("simulates with replaceRecentBlockhash, and refuses it together with sigVerify", async () => {
      const message = new TransactionMessage({
        payerKey: payer.publicKey,
        recentBlockhash: Keypair.generate().publicKey.toBase58(),
        instructions: [transferSol(payer, Keypair.generate().publicKey, LAMPORTS_PER_SOL)],
      }).compileToV0Message();
      const tx = new VersionedTransaction(message);

      const replaced = await connection.simulateTransaction(tx, { replaceRecentBlockhash: true });
      const stale = await connection.simulateTransaction(tx);
      const refused = await rejection(connection.simulateTransaction(tx, { replaceRecentBlockhash: true, sigVerify: true }));

      assert.equal(replaced.value.err, null);
      assert.ok((replaced.value.unitsConsumed ?? 0) > 0);
      assert.equal(stale.value.err, "BlockhashNotFound");
      assert.match(String(refused), /sigVerify may not be used with replaceRecentBlockhash/);
    });

    it("returns accounts as a simulated transaction would leave them", async () => {
      const recipient = Keypair.generate().publicKey;
      const tx = await signed(payer, [transferSol(payer, recipient, LAMPORTS_PER_SOL)]);

      const simulation = await connection.simulateTransaction(tx, [payer], [recipient]);

      assert.equal(simulation.value.accounts?.[0]?.lamports, LAMPORTS_PER_SOL);
      assert.equal(await connection.getBalance(recipient), 0, "a simulation commits nothing");
    });

    it("computes the fee of a message, priority fee included, as the runtime charges it", async () => {
      const tx = await signed(payer, [
        ComputeBudgetProgram.setComputeUnitPrice({ microLamports: 1_000_000 }),
        transferSol(payer, Keypair.generate().publicKey, LAMPORTS_PER_SOL),
      ]);

      const quoted = (await connection.getFeeForMessage(tx.compileMessage())).value;
      const signature = await connection.sendRawTransaction(tx.serialize());

      // 5000 for the signature, and 1 lamport per compute unit of the two builtins' 3000 each.
      assert.equal(quoted, FEE + 6_000);
      assert.equal((await connection.getTransaction(signature, { maxSupportedTransactionVersion: 0 }))?.meta?.fee, quoted);
    });

    it("filters getProgramAccounts by memcmp and dataSize, with and without context", async () => {
      const owner = Keypair.generate().publicKey;
      const mint = await createMint(connection, payer, payer.publicKey, null, 0);
      const account = await getOrCreateAssociatedTokenAccount(connection, payer, mint, owner);
      const filters = [{ dataSize: ACCOUNT_SIZE }, { memcmp: { offset: 32, bytes: owner.toBase58() } }];

      const found = await connection.getProgramAccounts(TOKEN_PROGRAM_ID, { filters });
      const withContext = await connection.getProgramAccounts(TOKEN_PROGRAM_ID, { filters, withContext: true });
      const none = await connection.getProgramAccounts(TOKEN_PROGRAM_ID, { filters: [{ dataSize: ACCOUNT_SIZE + 1 }, filters[1]] });

      assert.deepEqual(found.map(({ pubkey }) => pubkey.toBase58()), [account.address.toBase58()]);
      assert.ok(found[0].account.owner.equals(TOKEN_PROGRAM_ID));
      assert.ok(found[0].account.data.subarray(0, 32).equals(mint.toBuffer()));
      assert.equal(withContext.context.slot, Number(cluster.ledger.slot));
      assert.equal(withContext.value.length, 1);
      assert.deepEqual(none, []);
    });

    it("answers a batch with one response per request, by id", async () => {
      const responses = (await post(cluster, [
        { jsonrpc: "2.0", id: "slot", method: "getSlot" },
        { jsonrpc: "2.0", id: 7, method: "getBalance", params: [payer.publicKey.toBase58()] },
        { jsonrpc: "2.0", id: "nope", method: "getNothing" },
      ])) as Record<string, unknown>[];

      assert.equal(responses.length, 3);
      assert.deepEqual(responses[0], { jsonrpc: "2.0", id: "slot", result: Number(cluster.ledger.slot) });
      assert.equal((responses[1].result as { value: number }).value, await connection.getBalance(payer.publicKey));
      assert.deepEqual(responses[2], { jsonrpc: "2.0", id: "nope", error: { code: -32601, message: "Method not found" } });
    });

    it("answers an unknown method with -32601, which web3.js raises as SolanaJSONRPCError", async () => {
      const error = await rejection(connection.getInflationRate());

      assert.ok(error instanceof SolanaJSONRPCError, String(error));
      assert.equal(error.code, -32601);
    });

    it("answers malformed requests with a node's codes", async () => {
      const response = await fetch(cluster.url, { method: "POST", body: "{not json" });
      const badKey = await call(cluster, "getBalance", ["not-a-key"]);

      assert.equal(((await response.json()) as { error: { code: number } }).error.code, -32700);
      assert.equal((badKey.error as { code: number }).code, -32602);
      assert.equal((await call(cluster, "getTransaction", [base58(Buffer.alloc(64, 1))])).result, null);
    });

    it("moves the clock with localnet_advanceSlots and localnet_warpToSlot, never backwards", async () => {
      const slot = await connection.getSlot();
      const height = await connection.getBlockHeight();

      assert.equal((await call(cluster, "localnet_advanceSlots", [5])).result, slot + 5);
      assert.equal((await call(cluster, "localnet_warpToSlot", [slot + 1_000])).result, slot + 1_000);
      const backwards = await call(cluster, "localnet_warpToSlot", [slot]);

      assert.equal(await connection.getSlot(), slot + 1_000);
      assert.equal((await connection.getEpochInfo()).absoluteSlot, slot + 1_000);
      assert.equal(await connection.getBlockHeight(), height + 2, "one block per clock move; a warp skips slots");
      assert.equal((backwards.error as { code: number }).code, -32602);
    });

    it("still confirms with a blockhash fetched before a long warp, which ages it by one block", async () => {
      const latest = await connection.getLatestBlockhash();
      await call(cluster, "localnet_advanceSlots", [10_000]);
      const tx = new Transaction({ feePayer: payer.publicKey, ...latest }).add(transferSol(payer, Keypair.generate().publicKey, LAMPORTS_PER_SOL));
      tx.sign(payer);

      const signature = await connection.sendRawTransaction(tx.serialize());

      assert.ok((await connection.getBlockHeight()) <= latest.lastValidBlockHeight);
      // A connection without a socket yet: its block height check runs before the signature
      // notification can arrive, so an expired blockhash would fail the confirmation.
      const confirmation = await new Connection(cluster.url).confirmTransaction({ signature, ...latest });
      assert.equal(confirmation.value.err, null);
    });
  });

  describe("PubSub", () => {
    const removals: (() => Promise<void>)[] = [];

    /** Registers a web3.js subscription, removed after the test; resolves with its first notification. */
    function subscribe<T>(register: (resolve: (value: T) => void) => number, remove: (id: number) => Promise<void>): Promise<T> {
      return new Promise((resolve) => {
        const id = register(resolve);
        removals.push(() => remove(id));
      });
    }

    afterEach(async () => {
      await Promise.all(removals.splice(0).map((remove) => remove()));
      await until("the unsubscriptions", () => cluster.pubsub.subscriptionCount === 0, 5_000, 10);
    });

    it("notifies onAccountChange after a transfer to the account", async () => {
      const recipient = Keypair.generate().publicKey;
      const changed = subscribe<{ lamports: number; slot: number }>(
        (resolve) => connection.onAccountChange(recipient, (info, context) => resolve({ lamports: info.lamports, slot: context.slot })),
        (id) => connection.removeAccountChangeListener(id),
      );
      await until("the account subscription", () => cluster.pubsub.subscriptionCount === 1, 5_000, 10);

      await sendAndConfirmTransaction(connection, new Transaction().add(transferSol(payer, recipient, 3 * LAMPORTS_PER_SOL)), [payer]);

      assert.deepEqual(await changed, { lamports: 3 * LAMPORTS_PER_SOL, slot: Number(cluster.ledger.slot) });
    });

    it("notifies account subscribers of a direct setAccount, and program subscribers through their filters", async () => {
      const owner = Keypair.generate().publicKey;
      const target = Keypair.generate().publicKey;
      const data = Buffer.alloc(16, 7);
      const accountChange = subscribe<Buffer>(
        (resolve) => connection.onAccountChange(target, (info) => resolve(info.data)),
        (id) => connection.removeAccountChangeListener(id),
      );
      const programChange = subscribe<PublicKey>(
        (resolve) => connection.onProgramAccountChange(owner, ({ accountId }) => resolve(accountId), { filters: [{ dataSize: 16 }] }),
        (id) => connection.removeProgramAccountChangeListener(id),
      );
      await until("both subscriptions", () => cluster.pubsub.subscriptionCount === 2, 5_000, 10);

      cluster.ledger.setAccount(Keypair.generate().publicKey, { data: Buffer.alloc(8), executable: false, lamports: 1, owner, rentEpoch: 0 });
      cluster.ledger.setAccount(target, { data, executable: false, lamports: LAMPORTS_PER_SOL, owner, rentEpoch: 0 });

      assert.ok((await accountChange).equals(data));
      assert.ok((await programChange).equals(target), "the 8-byte account does not pass the dataSize filter");
    });

    it("notifies onLogs of the transactions that mention the address", async () => {
      const recipient = Keypair.generate().publicKey;
      const logs = subscribe<{ signature: string; logs: string[] }>(
        (resolve) => connection.onLogs(recipient, resolve),
        (id) => connection.removeOnLogsListener(id),
      );
      await until("the logs subscription", () => cluster.pubsub.subscriptionCount === 1, 5_000, 10);

      await sendAndConfirmTransaction(connection, new Transaction().add(transferSol(payer, Keypair.generate().publicKey, LAMPORTS_PER_SOL)), [payer]);
      const signature = await sendAndConfirmTransaction(connection, new Transaction().add(transferSol(payer, recipient, LAMPORTS_PER_SOL)), [payer]);

      const notified = await logs;
      assert.equal(notified.signature, signature, "the transfer to another address is not notified");
      assert.ok(notified.logs.includes(`Program ${SystemProgram.programId.toBase58()} invoke [1]`));
    });

    it("notifies onSlotChange when localnet_advanceSlots moves the clock", async () => {
      const next = subscribe<SlotInfo>(
        (resolve) => connection.onSlotChange(resolve),
        (id) => connection.removeSlotChangeListener(id),
      );
      await until("the slot subscription", () => cluster.pubsub.subscriptionCount === 1, 5_000, 10);
      const before = await connection.getSlot();

      await call(cluster, "localnet_advanceSlots", [3]);

      assert.deepEqual(await next, { parent: before, slot: before + 3, root: before + 3 });
    });

    it("pushes the outcome of a signature subscribed to before the transaction was sent, then drops it", async () => {
      const tx = await signed(payer, [transferSol(payer, Keypair.generate().publicKey, LAMPORTS_PER_SOL)]);
      const signature = base58(tx.signature!);
      // web3.js drops a signature subscription itself once notified, so there is nothing to remove.
      const outcome = new Promise<{ err: unknown; slot: number }>((resolve) => {
        connection.onSignature(signature, (result, context) => resolve({ err: result.err, slot: context.slot }), "confirmed");
      });
      await until("the signature subscription", () => cluster.pubsub.subscriptionCount === 1, 5_000, 10);

      await connection.sendRawTransaction(tx.serialize());

      assert.deepEqual(await outcome, { err: null, slot: Number(cluster.ledger.slot) });
      assert.equal(cluster.pubsub.subscriptionCount, 0, "a node drops a signature subscription once notified");
    });

    it("answers a signature subscribed to after its transaction landed at once", async () => {
      const signature = await sendAndConfirmTransaction(connection, new Transaction().add(transferSol(payer, Keypair.generate().publicKey, LAMPORTS_PER_SOL)), [payer]);

      const outcome = await new Promise<unknown>((resolve) => {
        connection.onSignature(signature, (result) => resolve(result.err));
      });

      assert.equal(outcome, null);
    });

    it("reports to ledger observers the accounts a transaction changed, its fee and balances", async () => {
      const recipient = Keypair.generate().publicKey;
      const seen: { processed: ProcessedTransaction; changed: ChangedAccount[] }[] = [];
      const stop = cluster.ledger.observe({ onTransaction: (processed, changed) => seen.push({ processed, changed }) });

      try {
        await sendAndConfirmTransaction(connection, new Transaction().add(transferSol(payer, recipient, LAMPORTS_PER_SOL)), [payer]);
      } finally {
        stop();
      }

      assert.equal(seen.length, 1);
      const [{ processed, changed }] = seen;
      assert.deepEqual(changed.map(({ pubkey }) => pubkey.toBase58()).sort(), [payer.publicKey.toBase58(), recipient.toBase58()].sort());
      assert.equal(changed.find(({ pubkey }) => pubkey.equals(recipient))?.account?.lamports, LAMPORTS_PER_SOL);
      assert.equal(processed.fee, BigInt(FEE));
      assert.equal(processed.postBalances[1], BigInt(LAMPORTS_PER_SOL));
    });
  });

  describe("the SDK over the server", () => {
    it("initializes the config through Anchor and fetches it, and surfaces a program error by name", async () => {
      const authority = await funded();
      const provider = new AnchorProvider(new Connection(cluster.url), new Wallet(authority), { commitment: "confirmed" });
      const client = new ComputeMarketClient(provider);
      const treasury = Keypair.generate().publicKey;

      const { config } = await client.initializeConfig({ protocolFeeBps: 250, treasury });
      const again = await rejection(client.initializeConfig({ protocolFeeBps: 0, treasury }));

      const state = await client.fetchConfig();
      assert.ok(state);
      assert.ok(state.authority.equals(authority.publicKey));
      assert.ok(state.treasury.equals(treasury));
      assert.equal(state.protocolFeeBps, 250);
      assert.ok((await connection.getAccountInfo(config))?.owner.equals(DEFAULT_PROGRAM_ID));
      assert.ok(again instanceof ComputeMarketError, String(again));
      assert.equal(again.errorName, "AccountAlreadyInitialized");
    });
  });
});

describe("localnet CLI", () => {
  it("prints its URLs when ready, serves the default program and funded accounts, and exits on SIGTERM", async () => {
    const funded = Keypair.generate().publicKey;
    const child = spawn(
      process.execPath,
      // As the repository's other processes start: ts-node's hook with the project's path mapping.
      ["-r", "ts-node/register", "app/localnet/src/cli.ts", "--port", "0", "--slot-ms", "0", "--fund", `${funded.toBase58()}=1.5`],
      { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, TS_NODE_PROJECT: path.join(ROOT, "tsconfig.json") } },
    );
    const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
    try {
      // A child that fails to start says why at once, instead of the test timing out.
      const stderr: string[] = [];
      child.stderr.on("data", (chunk: Buffer) => stderr.push(chunk.toString()));
      const line = await new Promise<string>((resolve, reject) => {
        createInterface({ input: child.stdout }).once("line", resolve);
        child.once("exit", (code) => reject(new Error(`localnet exited with ${code} before it was ready:\n${stderr.join("")}`)));
      });
      const ready = JSON.parse(line) as { event: string; url: string; wsUrl: string };
      const connection = new Connection(ready.url);

      assert.equal(ready.event, "ready");
      assert.equal(ready.wsUrl, `ws://127.0.0.1:${Number(new URL(ready.url).port) + 1}`);
      assert.equal(await connection.getBalance(funded), 1.5 * LAMPORTS_PER_SOL);
      assert.ok((await connection.getAccountInfo(DEFAULT_PROGRAM_ID))?.executable);
    } finally {
      child.kill("SIGTERM");
    }
    assert.equal(await exited, 0);
  });
});

function base58(bytes: Uint8Array): string {
  return bs58.encode(bytes);
}
