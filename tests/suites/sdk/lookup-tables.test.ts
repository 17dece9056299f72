// Settling a job with many winners: finalize names five accounts per winner, so with seven a
// legacy or plain v0 message is over the 1,232-byte packet limit. The SDK's transaction layer
// puts the accounts in an address lookup table it creates and extends (the standard recipe, on
// our local cluster with a running clock), and reuses the table for the next settlement.
import assert from "node:assert/strict";
import { Keypair, SystemProgram, TransactionInstruction } from "@solana/web3.js";
import { DEFAULT_PROGRAM_ID, SendError } from "@compute-market/sdk";
import { startLocalCluster, type LocalCluster } from "@compute-market/localnet";
import { PROGRAM_PATH } from "../../support/env";
import { runMarketFlow, type FlowResult } from "../../support/market-flow";

describe("address lookup tables for settlements with many winners", function () {
  this.timeout(180_000);
  let cluster: LocalCluster;
  before(async () => {
    cluster = await startLocalCluster({ port: 0, slotMs: 40, programs: [{ programId: DEFAULT_PROGRAM_ID, path: PROGRAM_PATH }] });
  });
  after(async () => {
    await cluster.close();
  });

  let first: FlowResult;

  it("finalizes a job with the most winners a job can have (7), paying each its bid", async () => {
    first = await runMarketFlow(cluster.url, { replication: 7 });
    assert.deepEqual(first.providersPaid, Array(7).fill(700_000n));
    assert.ok(first.units.get("finalize")! > 0);
    // The job, then its config, bids and providers together, then every token account together.
    assert.deepEqual(first.finalizeReads, { getAccountInfo: 1, getMultipleAccounts: 2 });
    assert.equal(first.lookupTables.created, 1, "one table was created for the settlement");
    assert.ok(first.lookupTables.addressesAdded > 0 && first.lookupTables.addressesAdded < 40, `only what the settlement needed to fit was added: ${first.lookupTables.addressesAdded}`);
  });

  it("settles the next such job with the same table, extended with fewer addresses", async () => {
    const next = await runMarketFlow(cluster.url, { replication: 7, authority: first.authority });
    assert.deepEqual(next.providersPaid, Array(7).fill(700_000n));
    assert.equal(next.lookupTables.created, 1, "no second table");
    assert.ok(next.lookupTables.addressesAdded - first.lookupTables.addressesAdded <= first.lookupTables.addressesAdded);
  });

  it("refuses, typed, a transaction that is too large when creating tables is off", async () => {
    const sender = first.authority.client.transactions.with({ createLookupTables: false });
    const many = Array.from({ length: 40 }, () => ({ pubkey: Keypair.generate().publicKey, isSigner: false, isWritable: false }));
    const oversized = new TransactionInstruction({ programId: SystemProgram.programId, keys: many, data: Buffer.alloc(0) });
    await assert.rejects(sender.send([oversized]), (error: unknown) => error instanceof SendError && error.kind === "TransactionTooLarge");
  });
});
