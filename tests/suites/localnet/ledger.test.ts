// The in-process cluster: transactions, SPL tokens, failures, blockhashes, the clock and the
// web3.js Connection stand-in that Anchor and spl-token run on.
import assert from "node:assert/strict";
import {
  ACCOUNT_SIZE,
  ASSOCIATED_TOKEN_PROGRAM_ID,
  MINT_SIZE,
  TOKEN_PROGRAM_ID,
  createAssociatedTokenAccountInstruction,
  createInitializeAccount3Instruction,
  createInitializeMint2Instruction,
  createMintToInstruction,
  createTransferInstruction,
  getAssociatedTokenAddressSync,
} from "@solana/spl-token";
import {
  Keypair,
  LAMPORTS_PER_SOL,
  SYSVAR_CLOCK_PUBKEY,
  SendTransactionError,
  SystemProgram,
  Transaction,
  sendAndConfirmTransaction,
  type Connection,
  type PublicKey,
  type TransactionInstruction,
} from "@solana/web3.js";
import { Ledger, LiteSvmConnection, createMint, createTokenAccount, localProvider, tokenBalance } from "@compute-market/localnet";

const FEE = 5_000; // lamports per signature

interface Cluster {
  ledger: Ledger;
  connection: LiteSvmConnection;
  payer: Keypair;
}

function cluster(): Cluster {
  const ledger = Ledger.create();
  const payer = Keypair.generate();
  ledger.airdrop(payer.publicKey, 10n * BigInt(LAMPORTS_PER_SOL));
  return { ledger, connection: new LiteSvmConnection(ledger), payer };
}

/** Sends through web3.js's own sendAndConfirmTransaction, as an application would. */
function send({ connection, payer }: Cluster, instructions: TransactionInstruction[], signers: Keypair[] = []): Promise<string> {
  return sendAndConfirmTransaction(connection as unknown as Connection, new Transaction().add(...instructions), [payer, ...signers]);
}

/** A signed transaction over the ledger's latest blockhash, not yet sent. */
function signed({ ledger, payer }: Cluster, instructions: TransactionInstruction[]): Transaction {
  const tx = new Transaction().add(...instructions);
  tx.feePayer = payer.publicKey;
  tx.recentBlockhash = ledger.latestBlockhash();
  tx.sign(payer);
  return tx;
}

function transferSol(from: PublicKey, to: PublicKey, lamports: number): TransactionInstruction {
  return SystemProgram.transfer({ fromPubkey: from, toPubkey: to, lamports });
}

async function newMint(c: Cluster, decimals: number): Promise<PublicKey> {
  const mint = Keypair.generate();
  await send(c, [
    SystemProgram.createAccount({
      fromPubkey: c.payer.publicKey,
      newAccountPubkey: mint.publicKey,
      lamports: await c.connection.getMinimumBalanceForRentExemption(MINT_SIZE),
      space: MINT_SIZE,
      programId: TOKEN_PROGRAM_ID,
    }),
    createInitializeMint2Instruction(mint.publicKey, decimals, c.payer.publicKey, null),
  ], [mint]);
  return mint.publicKey;
}

async function newTokenAccount(c: Cluster, mint: PublicKey, owner: PublicKey): Promise<PublicKey> {
  const account = Keypair.generate();
  await send(c, [
    SystemProgram.createAccount({
      fromPubkey: c.payer.publicKey,
      newAccountPubkey: account.publicKey,
      lamports: await c.connection.getMinimumBalanceForRentExemption(ACCOUNT_SIZE),
      space: ACCOUNT_SIZE,
      programId: TOKEN_PROGRAM_ID,
    }),
    createInitializeAccount3Instruction(account.publicKey, mint, owner),
  ], [account]);
  return account.publicKey;
}

async function tokens(c: Cluster, account: PublicKey): Promise<string> {
  return (await c.connection.getTokenAccountBalance(account)).value.amount;
}

/** The rejection of `action`, which must reject. */
async function rejection(action: Promise<unknown>): Promise<unknown> {
  try {
    await action;
  } catch (error) {
    return error;
  }
  return assert.fail("expected a rejection");
}

describe("localnet", () => {
  it("transfers SOL through web3.js's sendAndConfirmTransaction", async () => {
    const c = cluster();
    const recipient = Keypair.generate().publicKey;
    const before = await c.connection.getBalance(c.payer.publicKey);

    const signature = await send(c, [transferSol(c.payer.publicKey, recipient, LAMPORTS_PER_SOL)]);

    assert.equal(await c.connection.getBalance(recipient), LAMPORTS_PER_SOL);
    assert.equal(await c.connection.getBalance(c.payer.publicKey), before - LAMPORTS_PER_SOL - FEE);
    const status = (await c.connection.getSignatureStatuses([signature])).value[0];
    assert.equal(status?.err, null);
  });

  it("credits an airdrop at once, even below the rent-exempt minimum", async () => {
    const c = cluster();
    const target = Keypair.generate().publicKey;

    const signature = await c.connection.requestAirdrop(target, 1_000);

    assert.equal((await c.connection.confirmTransaction(signature)).value.err, null);
    assert.equal(await c.connection.getBalance(target), 1_000);
  });

  it("runs the SPL Token and Associated Token Account programs", async () => {
    const c = cluster();
    const mint = await newMint(c, 6);
    const source = await newTokenAccount(c, mint, c.payer.publicKey);
    const recipient = Keypair.generate().publicKey;
    const ata = getAssociatedTokenAddressSync(mint, recipient);

    await send(c, [
      createAssociatedTokenAccountInstruction(c.payer.publicKey, ata, recipient, mint),
      createMintToInstruction(mint, source, c.payer.publicKey, 5_000_000n),
      createTransferInstruction(source, ata, c.payer.publicKey, 1_500_000n),
    ]);

    assert.equal(await tokens(c, source), "3500000");
    const received = (await c.connection.getTokenAccountBalance(ata)).value;
    assert.deepEqual(received, { amount: "1500000", decimals: 6, uiAmount: 1.5, uiAmountString: "1.5" });
    assert.ok((await c.connection.getAccountInfo(ASSOCIATED_TOKEN_PROGRAM_ID))?.executable);
  });

  it("throws SendTransactionError with the token program's logs, and moves nothing, for an overdraft", async () => {
    const c = cluster();
    const mint = createMint(c.ledger, c.payer, 6);
    const source = createTokenAccount(c.ledger, c.payer, mint, c.payer.publicKey, 100n);
    const destination = createTokenAccount(c.ledger, c.payer, mint, c.payer.publicKey);

    const error = await rejection(send(c, [createTransferInstruction(source, destination, c.payer.publicKey, 101n)]));

    assert.ok(error instanceof SendTransactionError, String(error));
    assert.ok(error.logs?.includes("Program log: Error: insufficient funds"), error.logs?.join("\n"));
    assert.match(error.message, /custom program error: 0x1/);
    assert.equal(tokenBalance(c.ledger, source), 100n);
    assert.equal(tokenBalance(c.ledger, destination), 0n);
    assert.equal(tokenBalance(c.ledger, mint), 0n, "a mint holds no balance");
  });

  it("reports a failure sent with skipPreflight through confirmTransaction and getTransaction", async () => {
    const c = cluster();
    const mint = createMint(c.ledger, c.payer, 0);
    const source = createTokenAccount(c.ledger, c.payer, mint, c.payer.publicKey, 1n);
    const tx = signed(c, [createTransferInstruction(source, source, c.payer.publicKey, 2n)]);

    const signature = await c.connection.sendRawTransaction(tx.serialize(), { skipPreflight: true });

    const expected = { InstructionError: [0, { Custom: 1 }] };
    assert.deepEqual((await c.connection.confirmTransaction(signature)).value.err, expected);
    const fetched = await c.connection.getTransaction(signature);
    assert.deepEqual(fetched?.meta.err, expected);
    assert.ok(fetched?.meta.logMessages?.includes("Program log: Error: insufficient funds"));
    assert.deepEqual(fetched?.transaction.signatures, [signature]);
    const processed = c.ledger.getTransaction(signature);
    assert.equal(processed?.error?.instructionIndex, 0);
    assert.equal(processed?.error?.customCode, 1);
    assert.equal(processed?.error?.raw, "InstructionError(0, Custom(1))");
  });

  it("lands the same instruction from the same payer twice in a row", async () => {
    const c = cluster();
    const recipient = Keypair.generate().publicKey;
    const instruction = () => transferSol(c.payer.publicKey, recipient, LAMPORTS_PER_SOL);

    const first = await send(c, [instruction()]);
    const second = await send(c, [instruction()]);

    assert.notEqual(first, second);
    assert.equal(await c.connection.getBalance(recipient), 2 * LAMPORTS_PER_SOL);
  });

  it("accepts a recent blockhash that is no longer the latest, and refuses an unknown one", () => {
    const c = cluster();
    const recipient = Keypair.generate().publicKey;
    const early = signed(c, [transferSol(c.payer.publicKey, recipient, LAMPORTS_PER_SOL)]);
    assert.equal(c.ledger.process(signed(c, [transferSol(c.payer.publicKey, recipient, 2 * LAMPORTS_PER_SOL)])).error, null);

    assert.equal(c.ledger.process(early).error, null);

    const forged = signed(c, [transferSol(c.payer.publicKey, recipient, LAMPORTS_PER_SOL)]);
    forged.recentBlockhash = Keypair.generate().publicKey.toBase58();
    forged.sign(c.payer);
    const refused = c.ledger.process(forged);
    assert.equal(refused.error?.rpc, "BlockhashNotFound");
    assert.equal(refused.landed, false);
    assert.equal(c.ledger.getTransaction(refused.signature), null);
  });

  it("ages a blockhash by blocks, not by the transactions landing in a block", () => {
    const c = cluster();
    const recipient = Keypair.generate().publicKey;
    assert.equal(c.ledger.process(signed(c, [transferSol(c.payer.publicKey, recipient, LAMPORTS_PER_SOL)])).error, null);
    const cached = signed(c, [transferSol(c.payer.publicKey, recipient, LAMPORTS_PER_SOL)]);
    // More transactions than the 150 blocks a blockhash lives, all in one block: each gets a
    // blockhash of its own, and the first one is no older for it.
    for (let i = 0; i < 200; i++) assert.equal(c.ledger.process(signed(c, [transferSol(c.payer.publicKey, recipient, 1_000 + i)])).error, null);
    assert.equal(c.ledger.isBlockhashValid(cached.recentBlockhash!), true);
    assert.equal(c.ledger.process(cached).error, null, "a transaction signed 200 transactions ago, in the same block, lands");
    const old = signed(c, [transferSol(c.payer.publicKey, recipient, 7)]);
    // A block a slot (a warp over several slots makes one block).
    for (let i = 0; i < 149; i++) c.ledger.advanceSlots(1n);
    assert.equal(c.ledger.isBlockhashValid(old.recentBlockhash!), true, "149 blocks old");
    c.ledger.advanceSlots(1n);
    assert.equal(c.ledger.process(old).error?.rpc, "BlockhashNotFound", "150 blocks old");
  });

  it("refuses a replay and an unsigned transaction without throwing", () => {
    const c = cluster();
    const tx = signed(c, [transferSol(c.payer.publicKey, Keypair.generate().publicKey, LAMPORTS_PER_SOL)]);
    const first = c.ledger.process(tx);

    const replay = c.ledger.process(tx);
    const unsigned = new Transaction().add(transferSol(c.payer.publicKey, Keypair.generate().publicKey, 1));
    unsigned.feePayer = c.payer.publicKey;
    unsigned.recentBlockhash = c.ledger.latestBlockhash();
    const missing = c.ledger.process(unsigned);

    assert.equal(replay.error?.rpc, "AlreadyProcessed");
    assert.equal(c.ledger.getTransaction(first.signature), first);
    assert.equal(missing.error?.rpc, "SignatureFailure");
    assert.equal(missing.landed, false);
  });

  it("simulates without committing", async () => {
    const c = cluster();
    const recipient = Keypair.generate().publicKey;
    const tx = signed(c, [transferSol(c.payer.publicKey, recipient, LAMPORTS_PER_SOL)]);

    const simulation = c.ledger.simulate(tx);

    assert.equal(simulation.error, null);
    assert.ok(simulation.computeUnits > 0n);
    assert.equal(await c.connection.getBalance(recipient), 0);
    assert.equal(c.ledger.process(tx).error, null);
  });

  it("moves the Clock sysvar with advanceSlots, 400 ms a slot", async () => {
    const c = cluster();
    const clockAt = async () => {
      const data = (await c.connection.getAccountInfo(SYSVAR_CLOCK_PUBKEY))!.data;
      return { slot: data.readBigUInt64LE(0), unixTimestamp: data.readBigInt64LE(32) };
    };
    const before = await clockAt();

    c.ledger.advanceSlots(1_000n);

    const after = await clockAt();
    assert.equal(after.slot, before.slot + 1_000n);
    assert.equal(after.unixTimestamp, before.unixTimestamp + 400n);
    assert.equal(await c.connection.getSlot(), Number(after.slot));
    assert.throws(() => c.ledger.warpToSlot(before.slot), /only moves forward/);
  });

  it("filters getProgramAccounts by memcmp and dataSize", async () => {
    const c = cluster();
    const mintA = createMint(c.ledger, c.payer, 6);
    const mintB = createMint(c.ledger, c.payer, 9);
    const ofA = [
      createTokenAccount(c.ledger, c.payer, mintA, c.payer.publicKey),
      createTokenAccount(c.ledger, c.payer, mintA, Keypair.generate().publicKey),
    ];
    createTokenAccount(c.ledger, c.payer, mintB, c.payer.publicKey);
    const keys = (accounts: readonly { pubkey: PublicKey }[]) => accounts.map((a) => a.pubkey.toBase58()).sort();

    const byMint = await c.connection.getProgramAccounts(TOKEN_PROGRAM_ID, {
      filters: [{ dataSize: ACCOUNT_SIZE }, { memcmp: { offset: 0, bytes: mintA.toBase58() } }],
    });
    const mints = await c.connection.getProgramAccounts(TOKEN_PROGRAM_ID, { filters: [{ dataSize: MINT_SIZE }] });

    assert.deepEqual(keys(byMint), keys(ofA.map((pubkey) => ({ pubkey }))));
    assert.deepEqual(keys(mints), keys([{ pubkey: mintA }, { pubkey: mintB }]));
  });

  it("gives Anchor's provider the program logs of a failed transaction", async () => {
    const c = cluster();
    const provider = localProvider(c.ledger, c.payer);
    const mint = createMint(c.ledger, c.payer, 6);
    const source = createTokenAccount(c.ledger, c.payer, mint, c.payer.publicKey, 10n);
    const transfer = (amount: bigint) => new Transaction().add(createTransferInstruction(source, source, c.payer.publicKey, amount));

    await provider.sendAndConfirm(transfer(10n));
    const error = await rejection(provider.sendAndConfirm(transfer(11n)));

    assert.ok(error instanceof SendTransactionError);
    assert.ok(error.logs?.some((line) => line.endsWith("failed: custom program error: 0x1")));
  });
});
