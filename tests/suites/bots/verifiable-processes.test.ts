// The verifiable-compute daemons as real processes, killed without warning mid-game (SIGKILL:
// no shutdown, nothing flushed) and started again: each finds its game on-chain, rebuilds its
// replay from the job's program and plays on to the same end.
import assert from "node:assert/strict";
import type { PublicKey } from "@solana/web3.js";
import { variantOf } from "@compute-market/sdk";
import { Replay } from "@compute-market/vm";
import { startKeeperProcess, startProviderProcess, type Spawned } from "../../support/processes";
import { until } from "../../support/provider-market";
import { RandomChallenger, vm } from "../../support/verifiable";
import { cheat, closedJob, gameDecided, scriptedPlayer, startVerifiableMarket, type VerifiableMarket } from "../../support/verifiable-market";

const INPUT = new Uint8Array(3_000).map((_, i) => (i * 37 + 11) & 0xff);

/** Moves made in a game so far. */
async function moves(market: VerifiableMarket, dispute: PublicKey): Promise<number> {
  return (await market.consumer.client.fetchDispute(dispute))?.moves ?? 0;
}

describe("verifiable-compute daemons killed mid-game", function () {
  this.timeout(240_000);
  let market: VerifiableMarket;
  const processes: Spawned[] = [];
  const replays: Replay[] = [];
  beforeEach(async () => {
    // Clocks long enough to outlast a process restart (ts-node start-up) on a loaded machine.
    market = await startVerifiableMarket({ challengeWindowSlots: 400n });
  });
  afterEach(async () => {
    for (const spawned of processes.splice(0).reverse()) await spawned.stop();
    await market.close();
    for (const replay of replays.splice(0)) replay.free();
  });

  it("a keeper process SIGKILLed after its first choice is restarted and wins the game", async () => {
    const wallet = await market.challenger();
    const launch = () => {
      const keeper = startKeeperProcess(market.env.cluster.url, wallet.keypair, 100, ["--blob-sources", market.mirror.url]);
      processes.push(keeper);
      return keeper;
    };
    let keeper = launch();
    await keeper.waitForLine((_line, json) => json?.msg === "keeper started", 60_000);
    const cheater = await market.scriptedProvider();
    const { job, code } = await market.post("sha256", INPUT);
    const { honest, defender } = await cheat(market, cheater.owner, job, code, INPUT, 60_000);
    replays.push(honest);
    try {
      const game = await market.gameOf(job, 60_000);
      await until("the keeper's first choice", async () => (await moves(market, game.address)) >= 2, 60_000);
      keeper.child.kill("SIGKILL");
      await keeper.stop();
      keeper = launch();
      assert.equal(await gameDecided(market, game.address, 120_000), "challengerWon");
      await closedJob(market, job, 120_000);
      // The first keeper made only the first choice: the rest of the game is the restarted one's.
      assert.ok(keeper.output.some((line) => line.includes('"kind":"dispute_move"') && line.includes('"msg":"sent"')), "the restarted keeper moved in the game");
    } finally {
      await defender.stop();
    }
  });

  it("a provider process SIGKILLed after its first dissection is restarted and defends its result", async () => {
    const node = await market.providerNode();
    const launch = () => {
      const spawned = startProviderProcess({
        url: market.env.cluster.url,
        wallet: node.owner.keypair,
        market: market.env.market.toBase58(),
        endpoint: node.config.endpoint!,
        port: node.config.port,
        workDir: node.config.workDir,
        extra: ["--strategy", '{"name":"fixed-floor","price":"700"}'],
      });
      processes.push(spawned);
      return spawned;
    };
    let provider = launch();
    await provider.waitForLine((line) => line.includes('"provider started"'), 60_000);
    const keeper = startKeeperProcess(market.env.cluster.url, (await market.challenger()).keypair, 100, ["--bots", "auction-closer,deadline-cranker,finalizer,dispute-cranker"]);
    processes.push(keeper);
    const { job, code } = await market.post("sha256", INPUT);
    const nodeProvider = market.consumer.client.providerAddress(market.env.market, node.owner.keypair.publicKey);
    const bidAddress = market.consumer.client.bidAddress(job, nodeProvider);
    await until("the node's commitment", async () => variantOf((await market.consumer.client.fetchBid(bidAddress))?.status ?? { none: {} }) === "committed", 60_000);
    const honest = new Replay(await vm(), code, INPUT);
    replays.push(honest);
    const challenger = await market.challenger();
    const { dispute } = await challenger.client.openDispute({ job, provider: nodeProvider });
    const random = scriptedPlayer({ wallet: challenger, role: "challenger", trace: () => new RandomChallenger(honest, 11) });
    try {
      await until("the node's first dissection", async () => (await moves(market, dispute)) >= 1, 60_000);
      provider.child.kill("SIGKILL");
      await provider.stop();
      provider = launch();
      assert.equal(await gameDecided(market, dispute, 120_000), "providerWon");
      await closedJob(market, job, 120_000);
    } finally {
      await random.stop();
    }
    assert.ok(provider.output.some((line) => line.includes('"game move: ')), "the restarted node made moves");
    assert.equal(market.env.paymentBalance(node.owner.keypair.publicKey), 700n, "the job is paid");
  });
});
