// Verifiable jobs on agave's solana-test-validator with the daemons as processes, as operators
// run them: a provider node that bids, runs the program and commits, a keeper that finalizes and
// pays it; and a keeper whose challenger disputes a wrong result, plays the dissection game
// against its cheating defender to the one-step proof on-chain, and wins.
import assert from "node:assert/strict";
import { getAssociatedTokenAddressSync } from "@solana/spl-token";
import { variantOf } from "@compute-market/sdk";
import { Replay } from "@compute-market/vm";
import { openClusterMarket, type MarketOnCluster } from "../support/cluster-market";
import { startKeeperProcess, startProviderProcess, type Spawned } from "../support/processes";
import { until } from "../support/provider-market";
import { cheat, closedJob, gameDecided, VERIFIABLE_MARKET_PARAMS, verifiableMarketOn, type VerifiableMarket } from "../support/verifiable-market";
import { protocol } from "./protocol";

const VALIDATOR_URL = process.env.VALIDATOR_URL;
const INPUT = new Uint8Array(3_000).map((_, i) => (i * 37 + 11) & 0xff);

describe("verifiable jobs on solana-test-validator, the daemons as processes", function () {
  this.timeout(600_000);
  let market: VerifiableMarket<MarketOnCluster>;
  const processes: Spawned[] = [];
  const replays: Replay[] = [];

  before(async function () {
    if (!VALIDATOR_URL) throw new Error("VALIDATOR_URL is not set: run this suite through `npm run test:validator`");
    // 400 ms slots: a 60-slot clock gives each side 24 s a move, the job as long to be challenged.
    const env = await openClusterMarket(VALIDATOR_URL, { ...VERIFIABLE_MARKET_PARAMS, challengeWindowSlots: 60n }, protocol.authority ?? undefined);
    protocol.authority = env.authority;
    market = await verifiableMarketOn(env);
  });
  afterEach(async () => {
    for (const spawned of processes.splice(0).reverse()) await spawned.stop();
  });
  after(async () => {
    await market?.close();
    for (const replay of replays.splice(0)) replay.free();
  });

  it("a provider process runs the job and commits, a keeper process finalizes it, and the provider is paid", async () => {
    const started = Date.now();
    const node = await market.providerNode();
    const provider = startProviderProcess({
      url: VALIDATOR_URL!,
      wallet: node.owner.keypair,
      market: market.env.market.toBase58(),
      endpoint: node.config.endpoint!,
      port: node.config.port,
      workDir: node.config.workDir,
      extra: ["--strategy", '{"name":"fixed-floor","price":"700"}'],
    });
    processes.push(provider);
    await provider.waitForLine((line) => line.includes('"provider started"'), 90_000);
    const keeper = startKeeperProcess(VALIDATOR_URL!, (await market.challenger()).keypair, 200, ["--bots", "auction-closer,deadline-cranker,finalizer"]);
    processes.push(keeper);
    await keeper.waitForLine((_line, json) => json?.msg === "keeper started", 90_000);
    const { job } = await market.post("sha256", INPUT);
    const bid = market.consumer.client.bidAddress(job, market.consumer.client.providerAddress(market.env.market, node.owner.keypair.publicKey));
    await until("the node's commitment", async () => variantOf((await market.consumer.client.fetchBid(bid))?.status ?? { none: {} }) === "committed", 120_000);
    await closedJob(market, job, 180_000);
    const paid = await market.env.connection.getTokenAccountBalance(getAssociatedTokenAddressSync(market.env.paymentMint, node.owner.keypair.publicKey), "confirmed");
    assert.equal(paid.value.amount, "700", "the provider is paid its bid");
    assert.ok(keeper.output.some((line) => line.includes('"kind":"finalize"') && line.includes('"msg":"sent"')), "the keeper process finalized the job");
    console.log(`      (posted to paid in ${((Date.now() - started) / 1000).toFixed(1)} s)`);
  });

  it("a keeper process challenges a wrong result, plays the game to the one-step proof and wins the bond", async () => {
    const started = Date.now();
    const wallet = await market.challenger();
    const keeper = startKeeperProcess(VALIDATOR_URL!, wallet.keypair, 200, ["--blob-sources", market.mirror.url]);
    processes.push(keeper);
    await keeper.waitForLine((_line, json) => json?.msg === "keeper started", 90_000);
    const cheater = await market.scriptedProvider();
    const { job, code } = await market.post("sha256", INPUT);
    const { honest, defender } = await cheat(market, cheater.owner, job, code, INPUT, 120_000);
    replays.push(honest);
    try {
      const game = await market.gameOf(job, 120_000);
      assert.ok(game.account.challenger.equals(wallet.keypair.publicKey), "the keeper opened the game");
      assert.equal(await gameDecided(market, game.address, 300_000), "challengerWon");
      await closedJob(market, job, 120_000);
    } finally {
      await defender.stop();
    }
    console.log(`      (posted to decided in ${((Date.now() - started) / 1000).toFixed(1)} s)`);
  });
});
