// The sandbox: `localnet --bootstrap` (and bootstrapSandbox from code) makes mints, the config,
// a CPU and a GPU market and funded wallets on a fresh cluster; the faucet (localnet_requestTokens)
// hands out test tokens to anyone, within a cap (also as `localnet faucet`), and a cluster without
// a sandbox says it has none; the sandbox's mints sit at fixed addresses.
import assert from "node:assert/strict";
import { AnchorProvider, Wallet } from "@coral-xyz/anchor";
import { getAssociatedTokenAddressSync } from "@solana/spl-token";
import { Connection, Keypair, LAMPORTS_PER_SOL, PublicKey } from "@solana/web3.js";
import { ComputeMarketClient, DEFAULT_PROGRAM_ID } from "@compute-market/sdk";
import { bootstrapSandbox, requestTokens, SANDBOX_MARKETS, SANDBOX_MINTS, startLocalCluster, type LocalCluster, type SandboxSummary } from "@compute-market/localnet";
import { PROGRAM_PATH } from "../../support/env";
import { spawnTs } from "../../support/processes";

async function rpc(url: string, method: string, params: unknown[]): Promise<{ result?: Record<string, string>; error?: { code: number; message: string } }> {
  const response = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }) });
  return (await response.json()) as { result?: Record<string, string>; error?: { code: number; message: string } };
}

function reader(url: string): ComputeMarketClient {
  return new ComputeMarketClient(new AnchorProvider(new Connection(url, "confirmed"), new Wallet(Keypair.generate()), { commitment: "confirmed" }));
}

describe("sandbox", function () {
  this.timeout(60_000);
  let cluster: LocalCluster;
  let summary: SandboxSummary;
  const wallet = Keypair.generate().publicKey;

  before(async () => {
    cluster = await startLocalCluster({ port: 0, slotMs: 0, programs: [{ programId: DEFAULT_PROGRAM_ID, path: PROGRAM_PATH }] });
    summary = (await bootstrapSandbox(cluster.ledger, DEFAULT_PROGRAM_ID, { wallets: [wallet] })).summary;
  });
  after(() => cluster.close());

  it("creates the config and a CPU and a GPU market on the sandbox's mints, readable over RPC", async () => {
    const client = reader(cluster.url);
    const config = await client.fetchConfig();
    assert.equal(config!.marketCount, BigInt(SANDBOX_MARKETS.length));
    assert.deepEqual(summary.markets.map((m) => m.name), ["cpu", "gpu"]);
    for (const entry of summary.markets) {
      const market = await client.fetchMarket(new PublicKey(entry.address));
      assert.ok(market!.paymentMint.equals(new PublicKey(summary.paymentMint)) && market!.stakeMint.equals(new PublicKey(summary.stakeMint)));
      assert.equal(market!.class.minGpuCount, entry.class.minGpuCount);
    }
  });

  it("funds the wallets it was given with SOL and both tokens in their associated accounts", async () => {
    const connection = new Connection(cluster.url, "confirmed");
    assert.equal(await connection.getBalance(wallet), 100 * LAMPORTS_PER_SOL);
    const [funded] = summary.wallets;
    assert.equal(funded.paymentToken, getAssociatedTokenAddressSync(new PublicKey(summary.paymentMint), wallet).toBase58());
    for (const account of [funded.paymentToken, funded.stakeToken]) {
      assert.equal((await connection.getTokenAccountBalance(new PublicKey(account))).value.amount, "10000000000");
    }
  });

  it("hands out tokens to anyone through localnet_requestTokens, within a cap", async () => {
    const stranger = Keypair.generate().publicKey;
    const granted = await rpc(cluster.url, "localnet_requestTokens", [stranger.toBase58(), 5_000_000, LAMPORTS_PER_SOL]);
    assert.equal(granted.error, undefined);
    const connection = new Connection(cluster.url, "confirmed");
    assert.equal((await connection.getTokenAccountBalance(new PublicKey(granted.result!.stakeToken))).value.amount, "5000000");
    assert.equal(await connection.getBalance(stranger), LAMPORTS_PER_SOL);
    // Again: added to the same accounts.
    await rpc(cluster.url, "localnet_requestTokens", [stranger.toBase58(), 5_000_000]);
    assert.equal((await connection.getTokenAccountBalance(new PublicKey(granted.result!.paymentToken))).value.amount, "10000000");

    const tooMuch = await rpc(cluster.url, "localnet_requestTokens", [stranger.toBase58(), 100_000_000_001]);
    assert.equal(tooMuch.error?.code, -32602);
    assert.match(tooMuch.error!.message, /faucet hands out 1 to/);
    const notAKey = await rpc(cluster.url, "localnet_requestTokens", ["nope", 5]);
    assert.equal(notAKey.error?.code, -32602);
  });

  it("a cluster without a sandbox says it has no faucet, and how to get one", async () => {
    const plain = await startLocalCluster({ port: 0, slotMs: 0 });
    try {
      const answer = await rpc(plain.url, "localnet_requestTokens", [Keypair.generate().publicKey.toBase58(), 5]);
      assert.match(answer.error!.message, /no faucet: start it with `npm run localnet -- --bootstrap`/);
    } finally {
      await plain.close();
    }
  });

  it("`localnet --bootstrap --wallet` prints the sandbox's addresses in its ready line", async () => {
    const own = Keypair.generate().publicKey;
    const child = spawnTs("app/localnet/src/cli.ts", ["--port", "0", "--slot-ms", "0", "--bootstrap", "--wallet", own.toBase58()]);
    try {
      const ready = (await child.waitForLine((_line, json) => json?.event === "ready", 60_000)) as { url: string; persistent: boolean; sandbox: SandboxSummary };
      assert.equal(ready.persistent, false, "it says its state is in memory");
      assert.equal(ready.sandbox.wallets[0].wallet, own.toBase58());
      const market = await reader(ready.url).fetchMarket(new PublicKey(ready.sandbox.markets[0].address));
      assert.ok(market!.paymentMint.equals(new PublicKey(ready.sandbox.paymentMint)));

      // `localnet faucet` asks the running sandbox for tokens, in whole tokens and SOL.
      const stranger = Keypair.generate().publicKey;
      const faucet = spawnTs("app/localnet/src/cli.ts", ["faucet", stranger.toBase58(), "--url", ready.url, "--tokens", "2.5", "--sol", "1"]);
      const grant = (await faucet.waitForLine((_line, json) => json?.wallet !== undefined, 60_000)) as Record<string, string>;
      await faucet.stop();
      assert.equal(grant.tokens, "2500000");
      const connection = new Connection(ready.url, "confirmed");
      assert.equal((await connection.getTokenAccountBalance(new PublicKey(grant.stakeToken))).value.amount, "2500000");
      assert.equal(await connection.getBalance(stranger), LAMPORTS_PER_SOL);
    } finally {
      await child.stop();
    }
  });

  it("requestTokens says what to do when nothing answers, and when the faucet refuses", async () => {
    const owner = Keypair.generate().publicKey;
    await assert.rejects(requestTokens("http://127.0.0.1:9", owner, 1n), /nothing answers at http:\/\/127\.0\.0\.1:9: start a sandbox with `npm run localnet -- --bootstrap`/);
    await assert.rejects(requestTokens(cluster.url, owner, 10n ** 12n), /the faucet at .* refused: .*the faucet hands out 1 to/);
    const plain = await startLocalCluster({ port: 0, slotMs: 0 });
    try {
      await assert.rejects(requestTokens(plain.url, owner, 1n), /refused: this cluster has no faucet: start it with `npm run localnet -- --bootstrap`/);
    } finally {
      await plain.close();
    }
  });

  it("puts the mints at the same addresses on every sandbox", async () => {
    assert.equal(summary.paymentMint, SANDBOX_MINTS.payment.toBase58());
    assert.equal(summary.stakeMint, SANDBOX_MINTS.stake.toBase58());
    await assert.rejects(bootstrapSandbox(cluster.ledger, DEFAULT_PROGRAM_ID), /already has a sandbox/);
  });
});
