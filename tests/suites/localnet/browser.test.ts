// The local cluster as a browser page on another origin uses an RPC node: CORS preflights, an
// address's transaction history, blocks, and token accounts in jsonParsed form, all over HTTP.
import assert from "node:assert/strict";
import {
  ASSOCIATED_TOKEN_PROGRAM_ID,
  TOKEN_2022_PROGRAM_ID,
  TOKEN_PROGRAM_ID,
  createAssociatedTokenAccountInstruction,
  createMint,
  createTransferInstruction,
  getAssociatedTokenAddressSync,
  getOrCreateAssociatedTokenAccount,
  mintTo,
} from "@solana/spl-token";
import {
  Connection,
  Keypair,
  LAMPORTS_PER_SOL,
  PublicKey,
  SystemProgram,
  Transaction,
  TransactionMessage,
  VersionedTransaction,
  sendAndConfirmTransaction,
  type ParsedAccountData,
  type TransactionInstruction,
} from "@solana/web3.js";
import bs58 from "bs58";
import { Ledger, startLocalCluster, type LocalCluster } from "@compute-market/localnet";

const ORIGIN = "http://example.test";
const DECIMALS = 6;

interface RpcReply {
  result?: unknown;
  error?: { code: number; message: string };
}

/** A JSON-RPC call as a page on ORIGIN makes it; the reply must let that page read it. */
async function call(cluster: LocalCluster, method: string, params: unknown[] = []): Promise<RpcReply> {
  const response = await fetch(cluster.url, {
    method: "POST",
    headers: { origin: ORIGIN, "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
  });
  assert.equal(response.status, 200);
  assert.equal(response.headers.get("access-control-allow-origin"), "*");
  return (await response.json()) as RpcReply;
}

async function result<T>(cluster: LocalCluster, method: string, params: unknown[] = []): Promise<T> {
  const reply = await call(cluster, method, params);
  assert.equal(reply.error, undefined, JSON.stringify(reply.error));
  return reply.result as T;
}

async function rpcError(cluster: LocalCluster, method: string, params: unknown[]): Promise<{ code: number; message: string }> {
  const reply = await call(cluster, method, params);
  assert.ok(reply.error, `expected an error, got ${JSON.stringify(reply.result)}`);
  return reply.error;
}

describe("localnet for browser pages", () => {
  let cluster: LocalCluster;
  let connection: Connection;
  let payer: Keypair;
  let mint: PublicKey;
  let source: PublicKey;
  const recipient = Keypair.generate().publicKey;
  let destination: PublicKey;
  /** The signatures of the destination's creation and of the token transfer into it. */
  let createSignature: string;
  let transferSignature: string;

  async function send(instructions: TransactionInstruction[], signers: Keypair[] = [payer]): Promise<string> {
    return sendAndConfirmTransaction(connection, new Transaction().add(...instructions), signers);
  }

  before(async () => {
    cluster = await startLocalCluster({ port: 0, slotMs: 0 });
    connection = new Connection(cluster.url, "confirmed");
    payer = Keypair.generate();
    cluster.ledger.airdrop(payer.publicKey, 100n * BigInt(LAMPORTS_PER_SOL));
    mint = await createMint(connection, payer, payer.publicKey, null, DECIMALS);
    source = (await getOrCreateAssociatedTokenAccount(connection, payer, mint, payer.publicKey)).address;
    await mintTo(connection, payer, mint, source, payer, 5_000_000n);
    destination = getAssociatedTokenAddressSync(mint, recipient);
    createSignature = await send([createAssociatedTokenAccountInstruction(payer.publicKey, destination, recipient, mint)]);
    // The transfer gets a block of its own, so the block's contents can be asserted exactly.
    cluster.ledger.advanceSlots(1n);
    transferSignature = await send([createTransferInstruction(source, destination, payer.publicKey, 1_500_000n)]);
    cluster.ledger.advanceSlots(1n);
  });

  after(async () => {
    await cluster.close();
  });

  describe("CORS", () => {
    it("answers a preflight from another origin with 204 and the headers a browser needs, then serves the POST", async () => {
      const preflight = await fetch(cluster.url, {
        method: "OPTIONS",
        headers: { origin: ORIGIN, "access-control-request-method": "POST", "access-control-request-headers": "content-type, solana-client, x-trace" },
      });

      assert.equal(preflight.status, 204);
      assert.equal(preflight.headers.get("access-control-allow-origin"), "*");
      assert.equal(preflight.headers.get("access-control-allow-methods"), "POST, OPTIONS");
      assert.equal(preflight.headers.get("access-control-allow-headers"), "content-type, solana-client, x-trace");
      assert.equal(preflight.headers.get("access-control-max-age"), "86400");
      assert.equal(await preflight.text(), "");
      assert.equal(await result(cluster, "getSlot"), Number(cluster.ledger.slot));
    });

    it("allows web3.js's headers to a preflight that names none, and lets a page read errors too", async () => {
      const preflight = await fetch(cluster.url, { method: "OPTIONS", headers: { origin: ORIGIN, "access-control-request-method": "POST" } });
      assert.equal(preflight.status, 204);
      assert.equal(preflight.headers.get("access-control-allow-headers"), "content-type, solana-client");

      const wrongMethod = await fetch(cluster.url, { method: "PUT", headers: { origin: ORIGIN } });
      assert.equal(wrongMethod.status, 405);
      assert.equal(wrongMethod.headers.get("access-control-allow-origin"), "*");
      assert.equal(wrongMethod.headers.get("allow"), "POST, OPTIONS");
      const unknown = await call(cluster, "getNothing");
      assert.deepEqual(unknown.error, { code: -32601, message: "Method not found" });
    });
  });

  describe("getSignaturesForAddress", () => {
    it("lists the recipient's token transfer first, then its account's creation, in agave's shape", async () => {
      const transfer = await connection.getTransaction(transferSignature, { maxSupportedTransactionVersion: 0 });
      assert.ok(transfer);

      const entries = await result<Record<string, unknown>[]>(cluster, "getSignaturesForAddress", [destination.toBase58()]);

      assert.deepEqual(entries.map(({ signature }) => signature), [transferSignature, createSignature]);
      assert.deepEqual(entries[0], {
        signature: transferSignature,
        slot: transfer.slot,
        err: null,
        memo: null,
        blockTime: transfer.blockTime,
        confirmationStatus: "finalized",
      });
      const viaWeb3 = await connection.getSignaturesForAddress(destination);
      assert.deepEqual(viaWeb3.map(({ signature }) => signature), [transferSignature, createSignature]);
      const ofSource = await connection.getSignaturesForAddress(source, { limit: 1 });
      assert.deepEqual(ofSource.map(({ signature }) => signature), [transferSignature], "the sender's list has it too");
    });

    it("pages by limit, before and until, newest first", async () => {
      const address = destination.toBase58();
      const page = async (config: object): Promise<string[]> =>
        (await result<{ signature: string }[]>(cluster, "getSignaturesForAddress", [address, config])).map(({ signature }) => signature);

      assert.deepEqual(await page({ limit: 1 }), [transferSignature]);
      assert.deepEqual(await page({ before: transferSignature }), [createSignature]);
      assert.deepEqual(await page({ until: createSignature }), [transferSignature]);
      assert.deepEqual(await page({ before: transferSignature, until: createSignature }), []);
      // An unknown `before` yields nothing on a node; an unknown `until` does not stop the page.
      const unknown = "1".repeat(64);
      assert.deepEqual(await page({ before: unknown }), []);
      assert.deepEqual(await page({ until: unknown }), [transferSignature, createSignature]);
      assert.deepEqual(await page({}), [transferSignature, createSignature]);
      assert.deepEqual(await rpcError(cluster, "getSignaturesForAddress", [address, { limit: 0 }]), { code: -32602, message: "Invalid limit; max 1000" });
      assert.deepEqual(await rpcError(cluster, "getSignaturesForAddress", [address, { limit: 1001 }]), { code: -32602, message: "Invalid limit; max 1000" });
      assert.equal((await rpcError(cluster, "getSignaturesForAddress", [address, { before: "not-a-signature" }])).code, -32602);
    });

    it("lists a failed transaction that landed, with its error", async () => {
      const tx = new Transaction().add(createTransferInstruction(source, destination, payer.publicKey, 1_000_000_000n));
      tx.feePayer = payer.publicKey;
      tx.recentBlockhash = (await connection.getLatestBlockhash()).blockhash;
      tx.sign(payer);
      const failed = await connection.sendRawTransaction(tx.serialize(), { skipPreflight: true });

      const [latest] = await connection.getSignaturesForAddress(destination, { limit: 1 });

      assert.equal(latest.signature, failed);
      assert.deepEqual(latest.err, { InstructionError: [0, { Custom: 1 }] });
    });

    it("keeps only the latest signatures of each address, as configured", async () => {
      const small = await startLocalCluster({ port: 0, slotMs: 0, ledger: Ledger.create({ signaturesPerAddress: 2 }) });
      try {
        const wallet = Keypair.generate();
        small.ledger.airdrop(wallet.publicKey, BigInt(LAMPORTS_PER_SOL));
        const target = Keypair.generate().publicKey;
        const smallConnection = new Connection(small.url, "confirmed");
        const signatures: string[] = [];
        for (let i = 0; i < 3; i++) {
          const ix = SystemProgram.transfer({ fromPubkey: wallet.publicKey, toPubkey: target, lamports: LAMPORTS_PER_SOL / 10 });
          signatures.push(await sendAndConfirmTransaction(smallConnection, new Transaction().add(ix), [wallet]));
        }

        const kept = await smallConnection.getSignaturesForAddress(target);

        assert.deepEqual(kept.map(({ signature }) => signature), [signatures[2], signatures[1]]);
      } finally {
        await small.close();
      }
    });
  });

  describe("token balances in a transaction's meta", () => {
    it("lists each token account's balance before and after, with its mint, owner and decimals, as a node does", async () => {
      const transfer = await connection.getTransaction(transferSignature, { maxSupportedTransactionVersion: 0 });
      assert.ok(transfer?.meta);
      const keys = transfer.transaction.message.staticAccountKeys.map((key) => key.toBase58());
      const of = (balances: NonNullable<typeof transfer.meta.preTokenBalances>, account: PublicKey) => balances.find((b) => keys[b.accountIndex] === account.toBase58());
      const [pre, post] = [transfer.meta.preTokenBalances ?? [], transfer.meta.postTokenBalances ?? []];
      assert.deepEqual(of(pre, destination), { accountIndex: keys.indexOf(destination.toBase58()), mint: mint.toBase58(), owner: recipient.toBase58(), programId: TOKEN_PROGRAM_ID.toBase58(), uiTokenAmount: { amount: "0", decimals: DECIMALS, uiAmount: 0, uiAmountString: "0" } });
      assert.deepEqual(of(post, destination)?.uiTokenAmount, { amount: "1500000", decimals: DECIMALS, uiAmount: 1.5, uiAmountString: "1.5" });
      assert.equal(of(pre, source)?.uiTokenAmount.amount, "5000000");
      assert.equal(of(post, source)?.uiTokenAmount.amount, "3500000");
      assert.equal(of(post, source)?.owner, payer.publicKey.toBase58());
    });
  });

  describe("getBlock", () => {
    it("serves the transfer's block through web3.js, chained to its parent", async () => {
      const transfer = await connection.getTransaction(transferSignature, { maxSupportedTransactionVersion: 0 });
      assert.ok(transfer);

      const block = await connection.getBlock(transfer.slot, { maxSupportedTransactionVersion: 0 });

      assert.ok(block);
      assert.deepEqual(block.transactions.map(({ transaction }) => transaction.signatures[0]), [transferSignature]);
      const [landed] = block.transactions;
      assert.equal(landed.version, "legacy");
      assert.deepEqual(landed.meta?.postBalances, transfer.meta?.postBalances);
      assert.equal(landed.meta?.fee, 5_000);
      assert.equal(block.blockTime, transfer.blockTime);
      const heightAt = async (slot: number): Promise<number> =>
        (await result<{ blockHeight: number }>(cluster, "getBlock", [slot, { transactionDetails: "none" }])).blockHeight;
      assert.equal(await heightAt(transfer.slot), (await heightAt(transfer.slot - 1)) + 1);
      assert.equal(await heightAt(await connection.getSlot()), await connection.getBlockHeight());
      assert.deepEqual(block.rewards, []);
      const parent = await connection.getBlock(block.parentSlot, { maxSupportedTransactionVersion: 0 });
      assert.ok(parent);
      assert.equal(block.previousBlockhash, parent.blockhash);
      assert.notEqual(block.blockhash, parent.blockhash);
      assert.ok(parent.transactions.some(({ transaction }) => transaction.signatures[0] === createSignature));
      assert.equal(block.parentSlot, transfer.slot - 1);
    });

    it("lists signatures, accounts, binary encodings or nothing as transactionDetails and encoding ask", async () => {
      const { slot } = (await connection.getTransaction(transferSignature, { maxSupportedTransactionVersion: 0 }))!;
      const block = (config: object): Promise<Record<string, unknown>> => result(cluster, "getBlock", [slot, config]);

      const signatures = await block({ transactionDetails: "signatures", rewards: false });
      assert.deepEqual(signatures.signatures, [transferSignature]);
      assert.equal("transactions" in signatures, false);
      assert.equal("rewards" in signatures, false);

      const none = await block({ transactionDetails: "none" });
      assert.equal("transactions" in none, false);
      assert.equal("signatures" in none, false);
      assert.deepEqual(none.rewards, []);
      assert.equal(typeof none.blockhash, "string");

      type AccountKey = { pubkey: string; writable: boolean; signer: boolean; source: string };
      const accounts = (await block({ transactionDetails: "accounts" })).transactions as { transaction: { signatures: string[]; accountKeys: AccountKey[] }; meta: object }[];
      assert.deepEqual(accounts[0].transaction.signatures, [transferSignature]);
      // web3.js orders the writable non-signers by address, so the comparison does too.
      const byAddress = (keys: AccountKey[]): AccountKey[] => [...keys].sort((a, b) => a.pubkey.localeCompare(b.pubkey));
      assert.equal(accounts[0].transaction.accountKeys[0].pubkey, payer.publicKey.toBase58(), "the fee payer comes first");
      assert.deepEqual(byAddress(accounts[0].transaction.accountKeys), byAddress([
        { pubkey: payer.publicKey.toBase58(), writable: true, signer: true, source: "transaction" },
        { pubkey: source.toBase58(), writable: true, signer: false, source: "transaction" },
        { pubkey: destination.toBase58(), writable: true, signer: false, source: "transaction" },
        { pubkey: TOKEN_PROGRAM_ID.toBase58(), writable: false, signer: false, source: "transaction" },
      ]));
      assert.equal("logMessages" in accounts[0].meta, false);

      const binary = (await block({ encoding: "base64" })).transactions as { transaction: [string, string] }[];
      const [encoded, encoding] = binary[0].transaction;
      assert.equal(encoding, "base64");
      const decoded = VersionedTransaction.deserialize(Buffer.from(encoded, "base64"));
      assert.equal(bs58.encode(decoded.signatures[0]), transferSignature);
    });

    it("refuses a block holding a v0 transaction to a client that did not say it supports v0", async () => {
      await result(cluster, "localnet_advanceSlots", [1]);
      const { blockhash } = await connection.getLatestBlockhash();
      const message = new TransactionMessage({
        payerKey: payer.publicKey,
        recentBlockhash: blockhash,
        instructions: [SystemProgram.transfer({ fromPubkey: payer.publicKey, toPubkey: recipient, lamports: LAMPORTS_PER_SOL })],
      }).compileToV0Message();
      const tx = new VersionedTransaction(message);
      tx.sign([payer]);
      const signature = await connection.sendTransaction(tx);
      const slot = Number(cluster.ledger.slot);

      const refused = await rpcError(cluster, "getBlock", [slot]);
      assert.equal(refused.code, -32015);
      const block = await result<{ transactions: { version: number }[]; signatures?: string[] }>(cluster, "getBlock", [slot, { maxSupportedTransactionVersion: 0 }]);
      assert.deepEqual(block.transactions.map(({ version }) => version), [0]);
      const onlySignatures = await result<{ signatures: string[] }>(cluster, "getBlock", [slot, { transactionDetails: "signatures" }]);
      assert.deepEqual(onlySignatures.signatures, [signature]);
    });

    it("answers a node's errors for a slot not produced yet, a skipped one and a forgotten one", async () => {
      const current = Number(cluster.ledger.slot);
      assert.deepEqual(await rpcError(cluster, "getBlock", [current + 10]), { code: -32004, message: `Block not available for slot ${current + 10}` });
      await result(cluster, "localnet_warpToSlot", [current + 5]);
      assert.deepEqual(await rpcError(cluster, "getBlock", [current + 2]), {
        code: -32007,
        message: `Slot ${current + 2} was skipped, or missing due to ledger jump to recent snapshot`,
      });
      const warped = await result<{ parentSlot: number }>(cluster, "getBlock", [current + 5]);
      assert.equal(warped.parentSlot, current);

      const small = await startLocalCluster({ port: 0, slotMs: 0, ledger: Ledger.create({ blocksKept: 3 }) });
      try {
        const origin = Number(small.ledger.slot);
        await result(small, "localnet_advanceSlots", [1]);
        await result(small, "localnet_advanceSlots", [1]);
        await result(small, "localnet_advanceSlots", [1]);
        assert.deepEqual(await rpcError(small, "getBlock", [origin]), {
          code: -32001,
          message: `Block ${origin} cleaned up, does not exist on node. First available block: ${origin + 1}`,
        });
        assert.equal((await result<{ parentSlot: number }>(small, "getBlock", [origin + 1])).parentSlot, origin);
      } finally {
        await small.close();
      }
    });
  });

  describe("jsonParsed", () => {
    it("renders the recipient's token account with its new balance, and the mint, as agave's account decoder does", async () => {
      const account = await result<{ value: { data: unknown; owner: string; space: number } }>(cluster, "getAccountInfo", [destination.toBase58(), { encoding: "jsonParsed" }]);

      assert.deepEqual(account.value.data, {
        program: "spl-token",
        parsed: {
          type: "account",
          info: {
            mint: mint.toBase58(),
            owner: recipient.toBase58(),
            tokenAmount: { amount: "1500000", decimals: DECIMALS, uiAmount: 1.5, uiAmountString: "1.5" },
            state: "initialized",
            isNative: false,
          },
        },
        space: 165,
      });
      assert.equal(account.value.owner, TOKEN_PROGRAM_ID.toBase58());
      const mintAccount = await result<{ value: { data: unknown } }>(cluster, "getAccountInfo", [mint.toBase58(), { encoding: "jsonParsed" }]);
      assert.deepEqual(mintAccount.value.data, {
        program: "spl-token",
        parsed: {
          type: "mint",
          info: { mintAuthority: payer.publicKey.toBase58(), supply: "5000000", decimals: DECIMALS, isInitialized: true, freezeAuthority: null },
        },
        space: 82,
      });
    });

    it("serves web3.js's parsed account, multiple-account, program-account and owner queries", async () => {
      const parsed = await connection.getParsedAccountInfo(source);
      assert.equal((parsed.value?.data as ParsedAccountData).parsed.info.tokenAmount.uiAmountString, "3.5");

      const [token, wallet, missing] = (await connection.getMultipleParsedAccounts([destination, payer.publicKey, Keypair.generate().publicKey])).value;
      assert.equal((token?.data as ParsedAccountData).parsed.info.tokenAmount.amount, "1500000");
      // A node parses no system account without data: it falls back to base 64.
      assert.ok(Buffer.isBuffer(wallet?.data) && wallet.data.length === 0);
      assert.equal(missing, null);
      const raw = await result<{ value: { data: unknown }[] }>(cluster, "getMultipleAccounts", [[payer.publicKey.toBase58()], { encoding: "jsonParsed" }]);
      assert.deepEqual(raw.value[0].data, ["", "base64"]);

      const byMint = await connection.getParsedProgramAccounts(TOKEN_PROGRAM_ID, { filters: [{ dataSize: 165 }, { memcmp: { offset: 0, bytes: mint.toBase58() } }] });
      const balances = byMint.map(({ pubkey, account }): [string, string] => [pubkey.toBase58(), (account.data as ParsedAccountData).parsed.info.tokenAmount.amount]);
      assert.deepEqual(new Map(balances), new Map([[source.toBase58(), "3500000"], [destination.toBase58(), "1500000"]]));

      const owned = await connection.getParsedTokenAccountsByOwner(recipient, { mint });
      assert.deepEqual(owned.value.map(({ pubkey, account }) => [pubkey.toBase58(), account.data.parsed.info.tokenAmount.uiAmount]), [[destination.toBase58(), 1.5]]);
    });

    it("renders a Token-2022 associated account with its immutableOwner extension", async () => {
      const mint2022 = await createMint(connection, payer, payer.publicKey, null, 2, undefined, undefined, TOKEN_2022_PROGRAM_ID);
      const holder = await getOrCreateAssociatedTokenAccount(connection, payer, mint2022, recipient, false, undefined, undefined, TOKEN_2022_PROGRAM_ID, ASSOCIATED_TOKEN_PROGRAM_ID);
      await mintTo(connection, payer, mint2022, holder.address, payer, 4_200n, [], undefined, TOKEN_2022_PROGRAM_ID);

      const account = await result<{ value: { data: unknown } }>(cluster, "getAccountInfo", [holder.address.toBase58(), { encoding: "jsonParsed" }]);

      assert.deepEqual(account.value.data, {
        program: "spl-token-2022",
        parsed: {
          type: "account",
          info: {
            mint: mint2022.toBase58(),
            owner: recipient.toBase58(),
            tokenAmount: { amount: "4200", decimals: 2, uiAmount: 42, uiAmountString: "42" },
            state: "initialized",
            isNative: false,
            extensions: [{ extension: "immutableOwner" }],
          },
        },
        space: 170,
      });
    });

    it("refuses jsonParsed with a data slice, as a node does", async () => {
      const error = await rpcError(cluster, "getAccountInfo", [destination.toBase58(), { encoding: "jsonParsed", dataSlice: { offset: 0, length: 8 } }]);
      assert.deepEqual(error, { code: -32600, message: "Sliced account data can only be encoded using binary (base 58) or base64 encoding." });
    });
  });
});
