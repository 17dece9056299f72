// The `provider` command line against a local cluster: init creates a wallet and detects the
// machine, register / stake / unstake / status act on-chain and answer in JSON, and bad input
// fails with a clear message and a non-zero exit; a second node on one work directory is refused.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { createTransferInstruction, getAssociatedTokenAddressSync, getOrCreateAssociatedTokenAccount } from "@solana/spl-token";
import { Keypair, LAMPORTS_PER_SOL, Transaction, sendAndConfirmTransaction } from "@solana/web3.js";
import { startClusterMarket, type ClusterMarket } from "../../support/cluster-market";
import { spawnTs } from "../../support/processes";

interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cli(args: string[]): Promise<CliResult> {
  const spawned = spawnTs("app/provider/src/main.ts", args, { PROVIDER_RESERVE_MEMORY_MB: "0", PROVIDER_RESERVE_DISK_GB: "0" });
  const stdout: string[] = [];
  const stderr: string[] = [];
  spawned.child.stdout!.on("data", (chunk: Buffer) => stdout.push(chunk.toString()));
  spawned.child.stderr!.on("data", (chunk: Buffer) => stderr.push(chunk.toString()));
  return new Promise((resolve) => spawned.child.once("close", (code) => resolve({ code, stdout: stdout.join(""), stderr: stderr.join("") })));
}

describe("provider CLI", function () {
  this.timeout(120_000);
  let env: ClusterMarket;
  let dir: string;

  before(async () => {
    env = await startClusterMarket();
    dir = mkdtempSync(path.join(os.tmpdir(), "provider-cli-"));
  });
  after(async () => {
    await env.close();
  });

  it("initializes, registers, stakes, unbonds and reports status", async () => {
    const keypair = path.join(dir, "wallet", "id.json");
    const workDir = path.join(dir, "work");
    const common = ["--url", env.cluster.url, "--keypair", keypair, "--work-dir", workDir, "--json"];

    // A wallet is not made in a directory that does not exist.
    const typo = await cli(["init", ...common]);
    assert.equal(typo.code, 1);
    assert.match(typo.stderr, new RegExp(`the directory ${path.dirname(keypair)} does not exist`));
    assert.ok(!existsSync(path.dirname(keypair)));
    mkdirSync(path.dirname(keypair));
    const init = await cli(["init", ...common]);
    assert.equal(init.code, 0, init.stderr);
    const initialized = JSON.parse(init.stdout);
    assert.equal(initialized.walletCreated, true);
    assert.ok(existsSync(keypair) && existsSync(workDir));
    assert.ok(initialized.hardware.cpuCores >= 1);
    assert.deepEqual(initialized.hardware.gpus, [], "this machine has no NVIDIA GPU");
    const wallet = Keypair.fromSecretKey(Uint8Array.from(JSON.parse(readFileSync(keypair, "utf8"))));
    assert.equal(initialized.wallet, wallet.publicKey.toBase58());

    // The operator funds the wallet (SOL for fees, stake tokens).
    env.cluster.ledger.airdrop(wallet.publicKey, 10n * BigInt(LAMPORTS_PER_SOL));
    const funder = await env.wallet({ stake: 100_000n });
    const account = await getOrCreateAssociatedTokenAccount(env.connection, funder.keypair, env.stakeMint, wallet.publicKey);
    await sendAndConfirmTransaction(env.connection, new Transaction().add(createTransferInstruction(getAssociatedTokenAddressSync(env.stakeMint, funder.keypair.publicKey), account.address, funder.keypair.publicKey, 60_000n)), [funder.keypair]);

    const market = ["--market", env.market.toBase58()];
    const register = await cli(["register", ...common, ...market, "--endpoint", "https://node.example:9470"]);
    assert.equal(register.code, 0, register.stderr);
    assert.equal(JSON.parse(register.stdout).action, "registered");
    const again = await cli(["register", ...common, ...market, "--endpoint", "https://moved.example:9470"]);
    assert.equal(JSON.parse(again.stdout).action, "updated");

    const stake = await cli(["stake", ...common, ...market, "--amount", "50000"]);
    assert.equal(stake.code, 0, stake.stderr);
    assert.equal(JSON.parse(stake.stdout).staked, "50000");

    const unstake = await cli(["unstake", ...common, ...market, "--amount", "1000"]);
    assert.equal(unstake.code, 0, unstake.stderr);
    assert.equal(JSON.parse(unstake.stdout).unbonding, "1000");

    // Withdrawing before the delay says so once, with when it unlocks.
    const early = await cli(["unstake", ...common, ...market, "--withdraw"]);
    assert.equal(early.code, 1);
    assert.match(early.stderr, /^error: UnbondingNotElapsed \(6155\): The unbonding delay has not elapsed yet\. 1000 unlock at slot \d+, in about \d+ (seconds|minutes)\n$/);

    const status = await cli(["status", ...common, ...market]);
    assert.equal(status.code, 0, status.stderr);
    const report = JSON.parse(status.stdout);
    assert.equal(report.endpoint, "https://moved.example:9470");
    assert.equal(report.staked, "50000");
    assert.equal(report.gpu, "none");
    // Whether it can bid, and if not why, and what it declined lately (nothing: it never ran).
    assert.equal(report.canBid, report.cannotBid.length === 0);
    assert.ok(report.cannotBid.every((reason: string) => typeof reason === "string" && reason.length > 0));
    assert.deepEqual(report.declined, []);
  });

  it("fails clearly on bad input", async () => {
    const keypair = path.join(dir, "other.json");
    const common = ["--url", env.cluster.url, "--keypair", keypair, "--work-dir", path.join(dir, "w2")];
    const noWallet = await cli(["status", ...common, "--market", env.market.toBase58()]);
    assert.equal(noWallet.code, 1);
    assert.match(noWallet.stderr, new RegExp(`no keypair file at ${keypair}: create one with \`solana-keygen new -o ${keypair}\``));
    await cli(["init", ...common]);
    const noMarket = await cli(["stake", ...common, "--amount", "5"]);
    assert.match(noMarket.stderr, /no market configured: pass --market/);
    const zero = await cli(["stake", ...common, "--market", env.market.toBase58(), "--amount", "0"]);
    assert.match(zero.stderr, /--amount must be a positive integer/);
    const unregistered = await cli(["status", ...common, "--market", env.market.toBase58()]);
    assert.match(unregistered.stderr, /not registered in market/);
    const badPort = await cli(["run", ...common, "--market", env.market.toBase58(), "--port", "http"]);
    assert.match(badPort.stderr, /invalid configuration: port/);
    const notAMarket = await cli(["status", ...common, "--market", env.stakeMint.toBase58()]);
    assert.match(notAMarket.stderr, new RegExp(`${env.stakeMint.toBase58()} is not a market: it is a token mint`));
    const nowhere = Keypair.generate().publicKey.toBase58();
    const noSuchMarket = await cli(["status", ...common, "--market", nowhere]);
    assert.match(noSuchMarket.stderr, new RegExp(`no market at ${nowhere} on `));
  });

  it("refuses a second node on a work directory another live node holds, and takes over a dead one's", async () => {
    const workDir = mkdtempSync(path.join(os.tmpdir(), "provider-lock-"));
    const keypair = path.join(dir, "other.json");
    const run = () => cli(["run", "--url", env.cluster.url, "--keypair", keypair, "--work-dir", workDir, "--market", env.market.toBase58()]);
    // This test's own process stands for a node that holds the directory.
    writeFileSync(path.join(workDir, "provider.lock"), String(process.pid));
    const second = await run();
    assert.equal(second.code, 1);
    assert.match(second.stderr, new RegExp(`another provider node \\(pid ${process.pid}\\) runs on ${workDir}: stop it first`));
    // A lock left by a process that is gone is taken over (this wallet is not registered: that is what stops it now).
    const gone = spawnSync(process.execPath, ["-e", "0"]).pid;
    writeFileSync(path.join(workDir, "provider.lock"), String(gone));
    const afterCrash = await run();
    assert.doesNotMatch(afterCrash.stderr, /another provider node/);
    assert.match(afterCrash.stderr, /not registered in market/);
  });
});
