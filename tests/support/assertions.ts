// Assertions the suites share: a named program error, and "nothing moved" across a failure.
import assert from "node:assert/strict";
import type { PublicKey, TransactionInstruction } from "@solana/web3.js";
import { ComputeMarketError, type ProgramErrorName } from "@compute-market/sdk";
import type { TestEnv } from "./env";

/** Awaits `action` and asserts it failed with the program's error `name`. */
export async function expectProgramError(action: Promise<unknown>, name: ProgramErrorName): Promise<void> {
  try {
    await action;
  } catch (error) {
    if (!(error instanceof ComputeMarketError)) {
      throw new assert.AssertionError({ message: `expected ${name}, got ${String(error)}`, actual: error, expected: name });
    }
    assert.equal(error.errorName, name, `expected ${name}, got ${error.message}`);
    return;
  }
  assert.fail(`expected ${name}, but the transaction succeeded`);
}

/** Token balance, lamports and existence of each account at one moment. */
export type Snapshot = { account: PublicKey; tokens: bigint; lamports: bigint; exists: boolean }[];

export function snapshot(env: TestEnv, accounts: PublicKey[]): Snapshot {
  return accounts.map((account) => ({
    account,
    tokens: env.tokenBalance(account),
    lamports: env.lamports(account),
    exists: env.exists(account),
  }));
}

/**
 * Asserts that no token moved and no account was created or closed since `before`. Lamports are
 * compared too, except for `feePayers`, whose lamports pay the failed transaction's fee.
 */
export function assertNothingMoved(env: TestEnv, before: Snapshot, feePayers: PublicKey[] = []): void {
  const payers = new Set(feePayers.map((p) => p.toBase58()));
  const after = snapshot(env, before.map((b) => b.account));
  before.forEach((was, i) => {
    const now = after[i];
    const address = was.account.toBase58();
    assert.equal(now.tokens, was.tokens, `tokens of ${address} moved`);
    assert.equal(now.exists, was.exists, `${address} was ${was.exists ? "closed" : "created"}`);
    if (!payers.has(address)) assert.equal(now.lamports, was.lamports, `lamports of ${address} moved`);
  });
}

/** The instruction with `account` no longer marked as a signer (the program must notice). */
export function withoutSignature(ix: TransactionInstruction, account: PublicKey): TransactionInstruction {
  ix.keys = ix.keys.map((k) => (k.pubkey.equals(account) ? { ...k, isSigner: false } : k));
  return ix;
}

/** The instruction with `account` no longer marked writable. */
export function readOnly(ix: TransactionInstruction, account: PublicKey): TransactionInstruction {
  ix.keys = ix.keys.map((k) => (k.pubkey.equals(account) ? { ...k, isWritable: false } : k));
  return ix;
}

/** The instruction with one account replaced by another, at every position it appears. */
export function substitute(ix: TransactionInstruction, from: PublicKey, to: PublicKey): TransactionInstruction {
  ix.keys = ix.keys.map((k) => (k.pubkey.equals(from) ? { ...k, pubkey: to } : k));
  return ix;
}
