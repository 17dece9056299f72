// migrations/deploy.ts against the local cluster over real JSON-RPC: it initializes the config and
// the markets of a file, does nothing on a second run, reports without sending on a dry run, and
// refuses a cluster where the program is not deployed, a wallet without SOL and a mint the cluster
// does not have, before sending anything; the example file works on the sandbox as it is.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { AnchorProvider, Wallet } from "@coral-xyz/anchor";
import { Connection, Keypair, LAMPORTS_PER_SOL } from "@solana/web3.js";
import { ComputeMarketClient, DEFAULT_PROGRAM_ID } from "@compute-market/sdk";
import { bootstrapSandbox, createMint, startLocalCluster, type LocalCluster } from "@compute-market/localnet";
import { migrate, type MigrationStep } from "../../../migrations/deploy";
import { PROGRAM_PATH } from "../../support/env";
import { marketEntry } from "../../support/migration-file";

const quiet = (): void => undefined;

describe("migrations/deploy.ts", () => {
  let cluster: LocalCluster;
  let dir: string;
  let authority: Keypair;
  let keypairFile: string;
  let marketsFile: string;
  let connection: Connection;

  beforeEach(async () => {
    cluster = await startLocalCluster({ port: 0, slotMs: 0, programs: [{ programId: DEFAULT_PROGRAM_ID, path: PROGRAM_PATH }] });
    connection = new Connection(cluster.url, "confirmed");
    dir = mkdtempSync(path.join(os.tmpdir(), "migrate-"));
    authority = Keypair.generate();
    cluster.ledger.airdrop(authority.publicKey, 10n * BigInt(LAMPORTS_PER_SOL));
    keypairFile = path.join(dir, "id.json");
    writeFileSync(keypairFile, JSON.stringify(Array.from(authority.secretKey)));
    const usdc = createMint(cluster.ledger, authority, 6);
    const stake = createMint(cluster.ledger, authority, 6);
    marketsFile = path.join(dir, "markets.json");
    writeFileSync(
      marketsFile,
      JSON.stringify({ protocolFeeBps: 250, markets: [marketEntry("cpu", usdc, stake, "5000000"), marketEntry("cpu-usdc-stake", usdc, usdc, "7000000")] }),
    );
  });

  afterEach(async () => {
    await cluster.close();
  });

  const run = (extra: { dryRun?: boolean; programId?: string } = {}): Promise<MigrationStep[]> =>
    migrate({ url: cluster.url, keypair: keypairFile, markets: marketsFile, ...extra }, quiet);
  const client = (): ComputeMarketClient => new ComputeMarketClient(new AnchorProvider(connection, new Wallet(authority), { commitment: "confirmed" }));

  it("initializes the config and every market, then leaves them alone on a second run", async () => {
    // When the migration runs on a fresh cluster
    const first = await run();

    // Then the config and both markets exist as the file says
    assert.deepEqual(first.map((s) => [s.step, s.action]), [["config", "initialized"], ["market", "created"], ["market", "created"]]);
    const config = await client().fetchConfig();
    assert.ok(config);
    assert.equal(config.protocolFeeBps, 250);
    assert.ok(config.treasury.equals(authority.publicKey));
    const second = await client().fetchMarket(client().marketAddress(1n));
    assert.equal(second?.params.minStake, 7_000_000n);

    // And a second run changes nothing and pays no fee
    const lamportsBefore = await connection.getBalance(authority.publicKey);
    const again = await run();
    assert.deepEqual(again.map((s) => [s.step, s.action]), [["config", "unchanged"], ["market", "unchanged"], ["market", "unchanged"]]);
    assert.equal(await connection.getBalance(authority.publicKey), lamportsBefore);
  });

  it("reports what it would do on a dry run and sends nothing", async () => {
    const lamportsBefore = await connection.getBalance(authority.publicKey);
    const steps = await run({ dryRun: true });
    assert.deepEqual(steps.map((s) => [s.step, s.action]), [["config", "would initialize"], ["market", "would create"], ["market", "would create"]]);
    assert.equal(await connection.getBalance(authority.publicKey), lamportsBefore);
    assert.equal(await client().fetchConfig(), null);
  });

  it("reports a market that differs from the file without touching it", async () => {
    await run();
    const edited = JSON.parse(readFileSync(marketsFile, "utf8"));
    edited.markets[0].params.minStake = "1";
    writeFileSync(marketsFile, JSON.stringify(edited));

    const steps = await run();

    const market = steps.find((s) => s.step === "market" && s.name === "cpu");
    assert.equal(market?.action, "differs (markets are immutable)");
    assert.deepEqual(market?.differences, ["params.minStake 5000000 ≠ 1"]);
    assert.equal((await client().fetchMarket(client().marketAddress(0n)))?.params.minStake, 5_000_000n);
  });

  it("refuses a wallet without SOL, saying how to fund it, and sends nothing; a dry run reports it", async () => {
    const unfunded = Keypair.generate();
    writeFileSync(keypairFile, JSON.stringify(Array.from(unfunded.secretKey)));
    const address = unfunded.publicKey.toBase58();
    await assert.rejects(run(), new RegExp(`the wallet ${address} has no SOL on ${cluster.url.replace(/[.]/g, "\\.")} to pay fees and rent; fund it: .*--bootstrap --wallet ${address}`));
    assert.equal(await client().fetchConfig(), null);
    const steps = await run({ dryRun: true });
    assert.deepEqual(steps[0], { step: "wallet", action: "unfunded", address, hint: steps[0].hint });
    assert.match(String(steps[0].hint), /^fund it: /);
  });

  it("refuses a market whose mint the cluster does not have, naming it, before sending anything", async () => {
    const elsewhere = Keypair.generate().publicKey;
    const file = JSON.parse(readFileSync(marketsFile, "utf8"));
    file.markets[1].stakeMint = elsewhere.toBase58();
    writeFileSync(marketsFile, JSON.stringify(file));
    const lamportsBefore = await connection.getBalance(authority.publicKey);
    await assert.rejects(run(), new RegExp(`market "cpu-usdc-stake": stakeMint ${elsewhere.toBase58()} does not exist on `));
    assert.equal(await client().fetchConfig(), null, "not even the config was initialized");
    assert.equal(await connection.getBalance(authority.publicKey), lamportsBefore);
    // An account that is not a mint is named as such.
    file.markets[1].stakeMint = authority.publicKey.toBase58();
    writeFileSync(marketsFile, JSON.stringify(file));
    await assert.rejects(run(), new RegExp(`stakeMint ${authority.publicKey.toBase58()} is not a token mint`));
  });

  it("finds the sandbox as the example markets file describes it", async () => {
    await bootstrapSandbox(cluster.ledger, DEFAULT_PROGRAM_ID);
    const steps = await migrate({ url: cluster.url, keypair: keypairFile, markets: path.resolve(__dirname, "../../../migrations/markets.example.json") }, quiet);
    assert.deepEqual(
      steps.map((s) => [s.step, s.action, s.differences ?? []]),
      [["config", "left alone", []], ["market", "unchanged", []], ["market", "unchanged", []]],
    );
  });

  it("refuses a cluster where the program is not deployed", async () => {
    const elsewhere = Keypair.generate().publicKey.toBase58();
    await assert.rejects(run({ programId: elsewhere }), new RegExp(`no program is deployed at ${elsewhere}`));
  });
});
