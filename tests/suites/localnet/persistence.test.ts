// A local cluster kept across restarts (`localnet --ledger <dir>`): every account changed, the
// slot and the sandbox's faucet come back, so a job posted and bid on before a restart is awarded
// after it; a state is written shortly after each change (a killed process loses at most that
// moment); a file that is not a saved state is refused with its path.
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { AnchorProvider, Wallet } from "@coral-xyz/anchor";
import { getAssociatedTokenAddressSync } from "@solana/spl-token";
import { Connection, Keypair, LAMPORTS_PER_SOL, PublicKey } from "@solana/web3.js";
import { ComputeMarketClient, DEFAULT_PROGRAM_ID, variantOf } from "@compute-market/sdk";
import {
  bootstrapSandbox,
  Ledger,
  LEDGER_FILE,
  LedgerStore,
  localProvider,
  readSavedLedger,
  reopenSandbox,
  restoreLedger,
  tokenBalance,
  type SandboxSummary,
} from "@compute-market/localnet";
import { PROGRAM_PATH } from "../../support/env";
import { spawnTs } from "../../support/processes";
import { until } from "../../support/wait";

const programs = [{ programId: DEFAULT_PROGRAM_ID, path: PROGRAM_PATH }];
const UNIT = 1_000_000n;
const SPEC = { cpuCores: 2, memoryMb: 1_024, diskGb: 10, gpuCount: 0, vramMb: 0 };
const client = (ledger: Ledger, keypair: Keypair) => new ComputeMarketClient(localProvider(ledger, keypair), { programId: DEFAULT_PROGRAM_ID });
const tempDir = () => mkdtempSync(path.join(os.tmpdir(), "localnet-ledger-"));

describe("local cluster kept across restarts", function () {
  this.timeout(120_000);

  it("restores every account, the slot and the sandbox's faucet; a job bid on before the restart is awarded after it", async () => {
    // Given a sandbox with a staked provider and a job it bid on, saved
    const before = Ledger.create({ programs });
    const sandbox = await bootstrapSandbox(before, DEFAULT_PROGRAM_ID);
    const [owner, consumer] = [Keypair.generate(), Keypair.generate()];
    for (const wallet of [owner, consumer]) sandbox.faucet.fund(wallet.publicKey, 1_000n * UNIT, 10n * BigInt(LAMPORTS_PER_SOL));
    const market = new PublicKey(sandbox.summary.markets[0].address);
    const { provider } = await client(before, owner).registerProvider({ market, spec: SPEC, endpoint: "http://127.0.0.1:1" });
    await client(before, owner).stake({ provider, amount: 150n * UNIT });
    const { job } = await client(before, consumer).postJob({
      market, specHash: new Uint8Array(32).fill(1), requirements: { cpuCores: 1, memoryMb: 256, maxDurationSlots: 300n },
      mode: "replicated", replication: 1, onFailure: "refund", maxPrice: 2n * UNIT, instantPrice: 0n, bidWindowSlots: 20n,
    });
    await client(before, owner).placeBid({ job, price: UNIT });
    before.advanceSlots(5n);
    const dir = tempDir();
    const store = new LedgerStore(dir, before, { authority: sandbox.authority, summary: sandbox.summary });
    store.close();

    // When a new ledger starts from the saved state
    const saved = readSavedLedger(dir)!;
    const after = Ledger.create({ programs });
    restoreLedger(after, saved);
    const reopened = reopenSandbox(after, saved.sandbox!.authority, saved.sandbox!.summary);

    // Then it holds the same accounts, at the same slot
    assert.equal(after.slot, before.slot);
    const programAccounts = (ledger: Ledger) =>
      ledger
        .getProgramAccounts(DEFAULT_PROGRAM_ID)
        .map(({ pubkey, account }) => [pubkey.toBase58(), account.lamports, Buffer.from(account.data).toString("hex")])
        .sort();
    assert.ok(programAccounts(before).length >= 6, "config, markets, provider, job, bid");
    assert.deepEqual(programAccounts(after), programAccounts(before));
    const paymentToken = getAssociatedTokenAddressSync(new PublicKey(sandbox.summary.paymentMint), consumer.publicKey);
    assert.equal(tokenBalance(after, paymentToken), tokenBalance(before, paymentToken));
    assert.equal(after.getAccount(owner.publicKey)?.lamports, before.getAccount(owner.publicKey)?.lamports);
    assert.deepEqual(reopened.summary, sandbox.summary);

    // And the market goes on: the job's auction ends and the bid placed before the restart wins
    after.warpToSlot((await client(after, consumer).fetchJob(job))!.bidDeadlineSlot + 1n);
    await client(after, consumer).award({ job });
    assert.equal(variantOf((await client(after, consumer).fetchJob(job))!.state), "awarded");
    // The faucet mints with the authority the state kept
    const newcomer = Keypair.generate().publicKey;
    reopened.faucet.fund(newcomer, 5n * UNIT);
    assert.equal(tokenBalance(after, getAssociatedTokenAddressSync(new PublicKey(sandbox.summary.stakeMint), newcomer)), 5n * UNIT);
  });

  it("finds nothing saved in a new directory, and refuses a file that is not a saved state, naming it", () => {
    const dir = tempDir();
    assert.equal(readSavedLedger(dir), null);
    const file = path.join(dir, LEDGER_FILE);
    writeFileSync(file, "{ not json");
    assert.throws(() => readSavedLedger(dir), (error: Error) => error.message.includes(file) && /not a saved cluster state/.test(error.message));
    writeFileSync(file, JSON.stringify({ format: "something-else/9" }));
    assert.throws(() => readSavedLedger(dir), /not a saved cluster state of this version \(format "something-else\/9"/);
  });

  it("`localnet --ledger <dir>` writes each change within a moment and starts from it again, sandbox and faucet included", async () => {
    const dir = tempDir();
    const first = spawnTs("app/localnet/src/cli.ts", ["--port", "0", "--slot-ms", "100", "--bootstrap", "--ledger", dir]);
    let summary: SandboxSummary;
    const wallet = Keypair.generate().publicKey;
    let grant: Record<string, string>;
    try {
      const ready = (await first.waitForLine((_line, json) => json?.event === "ready", 60_000)) as { url: string; persistent: boolean; restored: unknown; sandbox: SandboxSummary };
      assert.equal(ready.persistent, true);
      assert.equal(ready.restored, null, "a new directory: a new cluster");
      summary = ready.sandbox;
      const faucet = spawnTs("app/localnet/src/cli.ts", ["faucet", wallet.toBase58(), "--url", ready.url, "--tokens", "3", "--sol", "2"]);
      grant = (await faucet.waitForLine((_line, json) => json?.wallet !== undefined, 60_000)) as Record<string, string>;
      await faucet.stop();
      // Written shortly after the change, before any stop: a killed cluster keeps it.
      await until("the grant in the saved state", async () => existsSync(path.join(dir, LEDGER_FILE)) && readFileSync(path.join(dir, LEDGER_FILE), "utf8").includes(grant.paymentToken), 5_000);
    } finally {
      await first.stop();
    }

    const second = spawnTs("app/localnet/src/cli.ts", ["--port", "0", "--slot-ms", "100", "--ledger", dir]);
    try {
      const ready = (await second.waitForLine((_line, json) => json?.event === "ready", 60_000)) as { url: string; restored: { accounts: number; slot: string }; sandbox: SandboxSummary };
      assert.ok(ready.restored.accounts > 0, "the saved accounts");
      assert.deepEqual(ready.sandbox, summary, "the same sandbox, without --bootstrap");
      const connection = new Connection(ready.url, "confirmed");
      assert.ok(BigInt(await connection.getSlot()) >= BigInt(ready.restored.slot), "the clock goes on from the saved slot");
      assert.equal((await connection.getTokenAccountBalance(new PublicKey(grant.paymentToken))).value.amount, "3000000");
      assert.equal(await connection.getBalance(wallet), 2 * LAMPORTS_PER_SOL);
      const reader = new ComputeMarketClient(new AnchorProvider(connection, new Wallet(Keypair.generate()), { commitment: "confirmed" }));
      assert.ok(await reader.fetchMarket(new PublicKey(summary.markets[0].address)), "the sandbox's market, read over RPC");
      // The faucet serves again with the saved authority.
      const faucet = spawnTs("app/localnet/src/cli.ts", ["faucet", wallet.toBase58(), "--url", ready.url, "--tokens", "1"]);
      await faucet.waitForLine((_line, json) => json?.wallet !== undefined, 60_000);
      await faucet.stop();
      assert.equal((await connection.getTokenAccountBalance(new PublicKey(grant.paymentToken))).value.amount, "4000000");
    } finally {
      await second.stop();
    }
  });
});
