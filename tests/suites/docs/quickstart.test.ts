// The README's quick starts, run as a reader runs them: every block under "## Quick start" is
// found by the `<!-- quickstart: name -->` comment above it and run with bash from the
// repository's root, in the README's order, against the sandbox its first block starts. What
// differs from a reader's terminal, so that the walk runs anywhere and beside other runs:
// - HOME is a new directory, so `~/.config/solana/id.json` and `~/keeper.json` are this run's own;
// - the sandbox gets `--port 0` (free ports), and once the variables block has run (and its
//   values are checked), URL points at that sandbox and ENDPOINT at a free port, which the node's
//   results server takes through PROVIDER_PORT; the status servers take free ports too
//   (PROVIDER_STATUS_PORT, KEEPER_PORT);
// - there is no Docker (PROVIDER_DOCKER_SOCKET names no socket): the walk needs none;
// - WALLET and KEEPER, which the README asks the reader to set from what `init` prints, are set
//   from what it printed;
// - the commands that run until stopped (the sandbox, `provider run`, `keeper run`) run until
//   their ready line, and are stopped at the end.
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { AnchorProvider, Wallet } from "@coral-xyz/anchor";
import { getAssociatedTokenAddressSync } from "@solana/spl-token";
import { Connection, Keypair, LAMPORTS_PER_SOL, PublicKey } from "@solana/web3.js";
import { ComputeMarketClient, endpointText, variantOf } from "@compute-market/sdk";
import { freePort } from "@compute-market/common";
import { SANDBOX_MINTS, type SandboxSummary } from "@compute-market/localnet";
import { runShell, spawnShell, type Spawned } from "../../support/processes";
import { until } from "../../support/wait";

const ROOT = path.resolve(__dirname, "../../..");

/** The README's quick-start blocks by name, in order; every fenced block of the section has a name. */
function quickstartBlocks(): Map<string, string> {
  const readme = readFileSync(path.join(ROOT, "README.md"), "utf8");
  const start = readme.indexOf("\n## Quick start\n");
  assert.ok(start >= 0, 'the README has no "## Quick start"');
  const end = readme.indexOf("\n## ", start + 1);
  const section = readme.slice(start, end < 0 ? undefined : end);
  const blocks = new Map<string, string>();
  for (const [, name, code] of section.matchAll(/<!-- quickstart: ([\w-]+) -->\n```sh\n([\s\S]*?)```/g)) blocks.set(name, code);
  const fences = section.match(/^```\w*$/gm)?.length ?? 0;
  assert.equal(blocks.size * 2, fences, "every code block of the quick start is a named sh block");
  return blocks;
}

const WALLET_LINE = /^wallet\s+([1-9A-HJ-NP-Za-km-z]{32,44})$/m;
const text = (output: string[]) => output.join("\n");
/** The JSON log lines of a process, parsed. */
const jsonLines = (output: string[]) => output.flatMap((line) => (line.startsWith("{") ? [JSON.parse(line) as Record<string, unknown>] : []));

describe("the README's quick starts", function () {
  this.timeout(120_000);
  const blocks = quickstartBlocks();
  const block = (name: string) => {
    const code = blocks.get(name);
    assert.ok(code, `the quick start has no block "${name}"`);
    return code;
  };
  const home = mkdtempSync(path.join(os.tmpdir(), "quickstart-home-"));
  /** The reader's shell: what the blocks exported, and the test's own settings (see the top). */
  const env: Record<string, string> = {
    HOME: home,
    PROVIDER_STATUS_PORT: "0",
    PROVIDER_DOCKER_SOCKET: path.join(home, "no-docker.sock"),
    KEEPER_PORT: "0",
    npm_config_update_notifier: "false",
  };
  const running: Spawned[] = [];
  let connection: Connection;
  let reader: ComputeMarketClient;
  let provider: PublicKey;
  let keeperProcess: Spawned;

  /** Runs a block to its end; fails with its output unless it exits 0. */
  async function run(name: string): Promise<string[]> {
    const { code, output } = await runShell(block(name), env);
    assert.equal(code, 0, `block "${name}" failed:\n${text(output)}`);
    return output;
  }

  /** Starts a block that runs until stopped; resolves with it and its first line `ready` accepts. */
  async function start(name: string, ready: (json: Record<string, unknown>) => boolean, suffix = ""): Promise<{ spawned: Spawned; line: Record<string, unknown> }> {
    const spawned = spawnShell(`${block(name).trimEnd()}${suffix}`, env);
    running.push(spawned);
    const line = await spawned.waitForLine((_line, json) => json !== null && ready(json), 90_000);
    return { spawned, line: line as Record<string, unknown> };
  }

  after(async () => {
    for (const spawned of running.reverse()) await spawned.stop();
    rmSync(home, { recursive: true, force: true });
  });

  it("sandbox, variables: a sandbox with the README's cpu market, and the variables it names", async () => {
    // README: Quick start, block "sandbox" (on free ports here).
    const { line } = await start("sandbox", (json) => json.event === "ready", " --port 0");
    const sandbox = line.sandbox as SandboxSummary;
    // README: Quick start, block "variables".
    const output = await run("variables");
    const exported = Object.fromEntries([...block("variables").matchAll(/^export (\w+)=(\S+)/gm)].map(([, key, value]) => [key, value]));
    assert.deepEqual(Object.keys(exported), ["URL", "MARKET", "ENDPOINT"]);
    assert.deepEqual(output.filter((l) => !l.startsWith(">")), []);
    assert.equal(exported.URL, "http://127.0.0.1:8899", "the local cluster's default URL");
    assert.equal(exported.MARKET, sandbox.markets.find((market) => market.name === "cpu")?.address, "the sandbox's cpu market");
    assert.equal(exported.ENDPOINT, "http://127.0.0.1:9470", "the results server's default port");
    assert.equal(sandbox.paymentMint, SANDBOX_MINTS.payment.toBase58());
    const endpointPort = await freePort();
    Object.assign(env, { URL: line.url as string, MARKET: exported.MARKET, ENDPOINT: `http://127.0.0.1:${endpointPort}`, PROVIDER_PORT: String(endpointPort) });
    connection = new Connection(env.URL, "confirmed");
    reader = new ComputeMarketClient(new AnchorProvider(connection, new Wallet(Keypair.generate()), { commitment: "confirmed" }));
    assert.ok(await reader.fetchMarket(new PublicKey(env.MARKET)), "the market is on-chain");
  });

  it("provider: init makes a wallet; the node registers, stakes and says what it cannot bid on", async () => {
    // README: Quick start → Provider, block "provider-init".
    const init = await run("provider-init");
    const wallet = WALLET_LINE.exec(text(init))?.[1];
    assert.ok(wallet, `init printed no wallet:\n${text(init)}`);
    const file = path.join(home, ".config/solana/id.json");
    assert.equal(Keypair.fromSecretKey(Uint8Array.from(JSON.parse(readFileSync(file, "utf8")))).publicKey.toBase58(), wallet);
    env.WALLET = wallet;

    // README: Quick start → Provider, block "provider-setup".
    const setup = await run("provider-setup");
    const owner = new PublicKey(wallet);
    provider = reader.providerAddress(new PublicKey(env.MARKET), owner);
    const account = await reader.fetchProvider(provider);
    assert.ok(account, "the provider is registered");
    assert.equal(endpointText(account.endpoint), env.ENDPOINT);
    assert.equal(account.staked, 150_000_000n);
    assert.equal(await connection.getBalance(owner) > 9 * LAMPORTS_PER_SOL, true, "10 SOL from the faucet, less fees");
    const stakeToken = getAssociatedTokenAddressSync(SANDBOX_MINTS.stake, owner);
    assert.equal((await connection.getTokenAccountBalance(stakeToken)).value.amount, "850000000", "1,000 tokens from the faucet, 150 of them staked");
    // `status`: the stake is enough, only Docker is missing.
    assert.match(text(setup), /^canBid\s+false$/m);
    assert.match(text(setup), /^cannotBid\s+\["the Docker daemon does not answer at [^"]+: container jobs cannot run \(verifiable jobs can\)"\]$/m);

    // README: Quick start → Provider, block "provider-run" (stopped at the end).
    const { line } = await start("provider-run", (json) => json.msg === "provider started");
    assert.equal(line.provider, provider.toBase58());
    assert.equal(line.endpoint, env.ENDPOINT);
    const health = await until("the node's first pass", async () => {
      const response = await fetch(`http://127.0.0.1:${line.statusPort as number}/health`);
      const body = (await response.json()) as { details?: { docker: boolean; degraded: boolean; cannotBid: string[]; ticks?: number } };
      return body.details && { status: response.status, ...body.details };
    });
    assert.equal(health.status, 503, "unhealthy without Docker");
    assert.equal(health.docker, false);
    assert.equal(health.degraded, true);
    assert.equal(health.cannotBid.length, 1);
  });

  it("keeper: a wallet of its own, funded, and the keeper running", async () => {
    // README: Quick start → Keeper, block "keeper-init".
    const init = await run("keeper-init");
    const keeper = WALLET_LINE.exec(text(init))?.[1];
    assert.ok(keeper && keeper !== env.WALLET, `init printed no new wallet:\n${text(init)}`);
    assert.ok(existsSync(path.join(home, "keeper.json")));
    env.KEEPER = keeper;

    // README: Quick start → Keeper, block "keeper-run" (stopped at the end).
    const { spawned, line } = await start("keeper-run", (json) => json.msg === "keeper started");
    keeperProcess = spawned;
    assert.equal(line.keeper, keeper);
    assert.ok(!text(spawned.output).includes("holds no"), "the keeper holds stake tokens for bonds");
    const stakeToken = getAssociatedTokenAddressSync(SANDBOX_MINTS.stake, new PublicKey(keeper));
    assert.equal((await connection.getTokenAccountBalance(stakeToken)).value.amount, "1000000000");
    const health = await until("the keeper's health", async () => {
      const response = await fetch(`http://127.0.0.1:${line.statusPort as number}/health`);
      return response.status === 200 && response;
    }, 30_000, 200);
    assert.equal(health.status, 200);
  });

  let job: string;
  it("consumer: a verifiable job is bid on, awarded by the keeper, run and committed, and its output checked", async () => {
    // README: Quick start → Consumer, block "consumer".
    const output = await run("consumer");
    job = /^posted job (\w+)$/m.exec(text(output))?.[1] ?? "";
    assert.ok(job, `no job was posted:\n${text(output)}`);
    assert.match(text(output), /^output [0-9a-f]{64}: sha256 of the input, as committed on-chain by /m);
    const account = await reader.fetchJob(new PublicKey(job));
    assert.equal(variantOf(account!.state), "committed");
    assert.ok(account!.auction.ranking[0].provider.equals(provider), "the quick start's provider won it");
    const bid = await reader.fetchBid(reader.bidAddress(new PublicKey(job), provider));
    assert.ok(bid!.steps > 0n, "a final state after the program's steps");
    // The keeper awarded it, then replayed the result and agreed.
    const logs = () => jsonLines(keeperProcess.output).filter((entry) => entry.job === job);
    assert.ok(logs().some((entry) => entry.bot === "auction-closer" && entry.msg === "sent"), "the keeper sent the award");
    await until("the keeper's replay", () => logs().some((entry) => entry.msg === "result verified"), 30_000, 200);
  });

  it("dApp developer: the market, its provider and job read from the chain; the markets file matches", async () => {
    // README: Quick start → dApp developer, block "dapp".
    const output = text(await run("dapp"));
    assert.match(output, /^config: protocol fee 250 bps, paused false$/m);
    assert.match(output, new RegExp(`^provider ${provider.toBase58()}: endpoint ${env.ENDPOINT}, staked 150000000, locked \\d+$`, "m"));
    assert.match(output, new RegExp(`^job ${job}: committed, max price 1000000; events jobPosted, bidPlaced, .*winnerSelected.*jobStarted.*resultCommitted`, "m"));
    const steps = jsonLines(output.split("\n"));
    assert.deepEqual(steps.map((step) => [step.step, step.action]), [["config", "left alone"], ["market", "unchanged"], ["market", "unchanged"]]);
  });
});
