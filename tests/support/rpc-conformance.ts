// What our daemons and the SDK expect of a JSON-RPC node, as checks that run against any cluster:
// `npm test` runs them against our local cluster, `npm run test:validator` against agave's
// solana-test-validator, so a difference between the two shows up as a failing check on one side.
import assert from "node:assert/strict";
import { AddressLookupTableProgram, ComputeBudgetProgram, type AddressLookupTableAccount, type TransactionInstruction, Connection, Keypair, LAMPORTS_PER_SOL, PublicKey, SystemProgram, SYSVAR_RENT_PUBKEY, TransactionMessage, VersionedTransaction } from "@solana/web3.js";

export interface ConformanceCheck {
  name: string;
  /** `slotMs`: the node's slot time (a real cluster's is 400 ms). */
  run(node: { url: string; connection: Connection; payer: Keypair; slotMs: number }): Promise<void>;
}

async function rpc(url: string, method: string, params: unknown[] = []): Promise<{ result?: unknown; error?: { code: number; message: string } }> {
  const response = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }) });
  return (await response.json()) as { result?: unknown; error?: { code: number; message: string } };
}

async function transfer(connection: Connection, payer: Keypair, blockhash?: string): Promise<VersionedTransaction> {
  const recentBlockhash = blockhash ?? (await connection.getLatestBlockhash("confirmed")).blockhash;
  const message = new TransactionMessage({
    payerKey: payer.publicKey,
    recentBlockhash,
    instructions: [ComputeBudgetProgram.setComputeUnitLimit({ units: 10_000 }), SystemProgram.transfer({ fromPubkey: payer.publicKey, toPubkey: Keypair.generate().publicKey, lamports: LAMPORTS_PER_SOL / 100 })],
  }).compileToV0Message();
  const transaction = new VersionedTransaction(message);
  transaction.sign([payer]);
  return transaction;
}

/** Waits for `signature` to be confirmed, sending `raw` again every 2 s (a node may drop a send); returns the sends it took. */
async function landed(connection: Connection, signature: string, raw: Uint8Array): Promise<number> {
  const deadline = Date.now() + 30_000;
  let sends = 1;
  let sentAt = Date.now();
  for (;;) {
    const status = (await connection.getSignatureStatuses([signature])).value[0];
    if (status && (status.confirmationStatus === "confirmed" || status.confirmationStatus === "finalized")) return sends;
    if (Date.now() > deadline) throw new Error(`${signature} not confirmed after ${sends} sends`);
    if (Date.now() - sentAt > 2_000) {
      await connection.sendRawTransaction(raw, { skipPreflight: true, maxRetries: 0 });
      sends += 1;
      sentAt = Date.now();
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export const CONFORMANCE: ConformanceCheck[] = [
  {
    name: "getHealth answers ok and getVersion names solana-core",
    async run({ url }) {
      assert.equal((await rpc(url, "getHealth")).result, "ok");
      assert.equal(typeof ((await rpc(url, "getVersion")).result as Record<string, unknown>)["solana-core"], "string");
    },
  },
  {
    name: "getLatestBlockhash gives a blockhash valid for about a minute: 150 blocks of 400 ms, more of shorter ones",
    async run({ connection, slotMs }) {
      const height = await connection.getBlockHeight("confirmed");
      const { blockhash, lastValidBlockHeight } = await connection.getLatestBlockhash("confirmed");
      assert.equal(new PublicKey(blockhash).toBytes().length, 32);
      const ahead = lastValidBlockHeight - height;
      const blocks = Math.max(150, Math.ceil(60_000 / slotMs));
      assert.ok(ahead >= blocks - 10 && ahead <= blocks + 10, `lastValidBlockHeight is ${ahead} blocks ahead, not about ${blocks}`);
      assert.equal((await connection.isBlockhashValid(blockhash, { commitment: "confirmed" })).value, true);
    },
  },
  {
    name: "getEpochInfo agrees with getSlot and getBlockHeight",
    async run({ connection }) {
      const info = await connection.getEpochInfo("confirmed");
      assert.ok(info.absoluteSlot >= info.blockHeight!, "no more blocks than slots");
      assert.ok(info.slotIndex < info.slotsInEpoch);
      assert.ok(Math.abs((await connection.getSlot("confirmed")) - info.absoluteSlot) < 50);
    },
  },
  {
    name: "getMinimumBalanceForRentExemption is what the Rent sysvar says",
    async run({ connection }) {
      const sysvar = (await connection.getAccountInfo(SYSVAR_RENT_PUBKEY, "confirmed"))!;
      const perByteYear = sysvar.data.readBigUInt64LE(0);
      const threshold = sysvar.data.readDoubleLE(8);
      const expected = Math.floor(Number(perByteYear) * (128 + 200) * threshold);
      assert.equal(await connection.getMinimumBalanceForRentExemption(200, "confirmed"), expected);
    },
  },
  {
    name: "getAccountInfo and getMultipleAccounts answer null for a missing account",
    async run({ connection, payer }) {
      const missing = Keypair.generate().publicKey;
      assert.equal(await connection.getAccountInfo(missing, "confirmed"), null);
      const both = await connection.getMultipleAccountsInfo([payer.publicKey, missing], "confirmed");
      assert.ok(both[0] && both[0].lamports > 0);
      assert.equal(both[1], null);
    },
  },
  {
    name: "getProgramAccounts with withContext answers { context: { slot }, value }",
    async run({ url }) {
      const answer = (await rpc(url, "getProgramAccounts", ["Stake11111111111111111111111111111111111111", { withContext: true, encoding: "base64", filters: [{ dataSize: 1 }] }])).result as { context: { slot: number }; value: unknown[] };
      assert.equal(typeof answer.context.slot, "number");
      assert.ok(Array.isArray(answer.value));
    },
  },
  {
    name: "getRecentPrioritizationFees answers a list of { slot, prioritizationFee }",
    async run({ connection, payer }) {
      const fees = await connection.getRecentPrioritizationFees({ lockedWritableAccounts: [payer.publicKey] });
      assert.ok(Array.isArray(fees) && fees.length <= 150);
      for (const fee of fees) assert.deepEqual(Object.keys(fee).sort(), ["prioritizationFee", "slot"]);
    },
  },
  {
    name: "getRecentPrioritizationFees reports the price a landed transaction paid, for the account it wrote",
    async run({ connection, payer }) {
      const recipient = Keypair.generate().publicKey;
      const price = 12_345;
      const { blockhash } = await connection.getLatestBlockhash("confirmed");
      const message = new TransactionMessage({
        payerKey: payer.publicKey,
        recentBlockhash: blockhash,
        instructions: [
          ComputeBudgetProgram.setComputeUnitLimit({ units: 10_000 }),
          ComputeBudgetProgram.setComputeUnitPrice({ microLamports: price }),
          SystemProgram.transfer({ fromPubkey: payer.publicKey, toPubkey: recipient, lamports: LAMPORTS_PER_SOL / 100 }),
        ],
      }).compileToV0Message();
      const transaction = new VersionedTransaction(message);
      transaction.sign([payer]);
      const signature = await connection.sendRawTransaction(transaction.serialize(), { maxRetries: 0 });
      await landed(connection, signature, transaction.serialize());
      const slot = (await connection.getSignatureStatuses([signature])).value[0]!.slot;
      // A validator adds a block to its fee cache once the block is done: poll for it.
      const deadline = Date.now() + 30_000;
      for (;;) {
        const fees = await connection.getRecentPrioritizationFees({ lockedWritableAccounts: [recipient] });
        const entry = fees.find((fee) => fee.slot === slot);
        if (entry) {
          assert.equal(entry.prioritizationFee, price);
          assert.ok(fees.every((fee, i) => i === 0 || fee.slot > fees[i - 1].slot), "oldest block first");
          return;
        }
        if (Date.now() > deadline) throw new Error(`no fee entry for slot ${slot} after 30 s: ${JSON.stringify(fees.slice(-5))}`);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    },
  },
  {
    name: "getSignatureStatuses answers null for an unknown signature",
    async run({ connection }) {
      const unknown = "1".repeat(64);
      assert.deepEqual((await connection.getSignatureStatuses([unknown])).value, [null]);
    },
  },
  {
    name: "getFeeForMessage charges 5,000 lamports for one signature",
    async run({ connection, payer }) {
      const transaction = await transfer(connection, payer);
      assert.equal((await connection.getFeeForMessage(transaction.message, "confirmed")).value, 5_000);
    },
  },
  {
    name: "simulateTransaction with replaceRecentBlockhash runs a transaction whose blockhash is unknown",
    async run({ connection, payer }) {
      const transaction = await transfer(connection, payer, Keypair.generate().publicKey.toBase58());
      const simulated = await connection.simulateTransaction(transaction, { sigVerify: false, replaceRecentBlockhash: true, commitment: "confirmed" });
      assert.equal(simulated.value.err, null);
      assert.ok((simulated.value.unitsConsumed ?? 0) > 0);
      const refused = await connection.simulateTransaction(transaction, { sigVerify: false, commitment: "confirmed" });
      assert.equal(refused.value.err, "BlockhashNotFound");
    },
  },
  {
    name: "sendTransaction refuses an unknown blockhash in preflight",
    async run({ connection, payer }) {
      const transaction = await transfer(connection, payer, Keypair.generate().publicKey.toBase58());
      await assert.rejects(connection.sendRawTransaction(transaction.serialize()), /Blockhash not found|BlockhashNotFound/);
    },
  },
  {
    name: "a landed v0 transaction: status, signature notification, and getTransaction with its fee and units",
    async run({ connection, payer }) {
      const transaction = await transfer(connection, payer);
      const signature = await connection.sendRawTransaction(transaction.serialize(), { skipPreflight: true, maxRetries: 0 });
      const notified = new Promise<unknown>((resolve) => connection.onSignature(signature, (result) => resolve(result.err), "confirmed"));
      const sends = await landed(connection, signature, transaction.serialize());
      if (sends > 1) console.log(`      (the transaction took ${sends} sends to land)`);
      assert.equal(await Promise.race([notified, new Promise((resolve) => setTimeout(() => resolve("no notification"), 10_000))]), null);
      const response = (await connection.getTransaction(signature, { commitment: "confirmed", maxSupportedTransactionVersion: 0 }))!;
      assert.equal(response.version, 0);
      assert.equal(response.meta!.fee, 5_000);
      assert.equal(response.meta!.err, null);
      assert.ok((response.meta!.computeUnitsConsumed ?? 0) > 0);
    },
  },
  {
    name: "an address lookup table made with the standard recipe (getSlot, create, extend) resolves in a v0 transaction",
    async run({ connection, payer }) {
      const send = async (instructions: TransactionInstruction[], tables: AddressLookupTableAccount[] = []) => {
        const { blockhash } = await connection.getLatestBlockhash("confirmed");
        const transaction = new VersionedTransaction(new TransactionMessage({ payerKey: payer.publicKey, recentBlockhash: blockhash, instructions }).compileToV0Message(tables));
        transaction.sign([payer]);
        const signature = await connection.sendRawTransaction(transaction.serialize(), { maxRetries: 0 });
        await landed(connection, signature, transaction.serialize());
        return signature;
      };
      const recentSlot = await connection.getSlot("finalized");
      const [create, table] = AddressLookupTableProgram.createLookupTable({ authority: payer.publicKey, payer: payer.publicKey, recentSlot });
      const recipient = Keypair.generate().publicKey;
      await send([create, AddressLookupTableProgram.extendLookupTable({ lookupTable: table, authority: payer.publicKey, payer: payer.publicKey, addresses: [recipient] })]);
      const state = (await connection.getAddressLookupTable(table, { commitment: "confirmed" })).value!;
      assert.deepEqual(state.state.addresses, [recipient]);
      // Addresses added in a slot can be looked up from the next one.
      const deadline = Date.now() + 30_000;
      while ((await connection.getSlot("confirmed")) <= state.state.lastExtendedSlot) {
        if (Date.now() > deadline) throw new Error(`the cluster did not pass slot ${state.state.lastExtendedSlot}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      const signature = await send([SystemProgram.transfer({ fromPubkey: payer.publicKey, toPubkey: recipient, lamports: LAMPORTS_PER_SOL / 100 })], [state]);
      const response = (await connection.getTransaction(signature, { commitment: "confirmed", maxSupportedTransactionVersion: 0 }))!;
      assert.equal(response.transaction.message.addressTableLookups.length, 1, "the recipient came from the table");
      assert.deepEqual(response.meta!.loadedAddresses?.writable.map(String), [recipient.toBase58()]);
      assert.equal(await connection.getBalance(recipient, "confirmed"), LAMPORTS_PER_SOL / 100);
    },
  },
];
