// The verifiable-compute daemons against a running local cluster: a provider node runs a
// verifiable job and commits its final state; the keeper's challenger replays every committed
// result and plays a game against a wrong one to the end; the node defends its results; both
// resume a game from the chain after a restart at any point; a refereed job's two winners play
// their game themselves. Payouts are checked to the token.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { fetchVerifiableOutput, variantOf, verifyOutput } from "@compute-market/sdk";
import { Replay } from "@compute-market/vm";
import { until } from "../../support/provider-market";
import { RandomChallenger, vm } from "../../support/verifiable";
import { cheat, closedJob, gameDecided, scriptedPlayer, startVerifiableMarket, VERIFIABLE_MARKET_PARAMS, type VerifiableMarket } from "../../support/verifiable-market";

const LOCK = VERIFIABLE_MARKET_PARAMS.jobStakeLock;
const INPUT = new Uint8Array(2_000).map((_, i) => (i * 131 + 7) & 0xff);
const sha256 = (bytes: Uint8Array): Uint8Array => new Uint8Array(createHash("sha256").update(bytes).digest());

describe("verifiable-compute daemons", function () {
  this.timeout(180_000);
  let market: VerifiableMarket;
  const replays: Replay[] = [];
  beforeEach(async () => {
    market = await startVerifiableMarket();
  });
  afterEach(async () => {
    await market.close();
    for (const replay of replays.splice(0)) replay.free();
  });

  /** An honest node's committed result under a game with a random challenger (`seed`), after the node's first dissection. */
  async function honestNodeChallengedAtRandom(seed: number) {
    await market.keeper(undefined, { bots: ["auction-closer", "deadline-cranker", "finalizer", "dispute-cranker"] });
    const node = await market.providerNode();
    const handle = await node.start();
    const challenger = await market.challenger();
    const challengerBefore = market.env.stakeBalance(challenger.keypair.publicKey);
    const { job, code } = await market.post("sha256", INPUT);
    const bidAddress = market.consumer.client.bidAddress(job, handle.provider);
    await until("the node's commitment", async () => variantOf((await market.consumer.client.fetchBid(bidAddress))?.status ?? { none: {} }) === "committed");
    const honest = new Replay(await vm(), code, INPUT);
    replays.push(honest);
    const { dispute } = await challenger.client.openDispute({ job, provider: handle.provider });
    const random = scriptedPlayer({ wallet: challenger, role: "challenger", trace: () => new RandomChallenger(honest, seed) });
    try {
      await until("the node's first dissection", async () => ((await market.consumer.client.fetchDispute(dispute))?.moves ?? 0) >= 1);
    } catch (error) {
      await random.stop();
      throw error;
    }
    return { node, handle, challenger, challengerBefore, job, dispute, random };
  }

  it("an honest node runs a verifiable job, the challenger verifies it, and it finalizes and pays", async () => {
    const { keeper } = await market.keeper();
    const node = await market.providerNode();
    const handle = await node.start();
    const before = market.env.paymentBalance(market.consumer.keypair.publicKey);
    const { job } = await market.post("sha256", INPUT);
    const bidAddress = market.consumer.client.bidAddress(job, handle.provider);
    const bid = await until("the node's commitment", async () => {
      const account = await market.consumer.client.fetchBid(bidAddress);
      return account && variantOf(account.status) === "committed" ? account : null;
    });
    // The committed output is the program's: sha256 of the input, proven into the final state,
    // served by the node to anyone and checked against the commitment.
    verifyOutput(await vm(), bid, sha256(INPUT));
    const output = await fetchVerifiableOutput({ endpoint: node.config.endpoint!, job, bid, machine: await vm() });
    assert.deepEqual(output, sha256(INPUT));
    await assert.rejects(fetchVerifiableOutput({ endpoint: node.config.endpoint!, job, bid: { ...bid, outputRoot: new Array(32).fill(7) }, machine: await vm() }), /OutputMismatchError|not the committed output root/);
    await closedJob(market, job);
    assert.equal(keeper.verifier.counts.agrees, 1, "the challenger replayed the result and agreed");
    assert.equal(keeper.verifier.counts.wrong, 0);
    assert.equal(market.env.paymentBalance(node.owner.keypair.publicKey), 700n, "the node is paid its bid");
    assert.ok(market.env.paymentBalance(market.consumer.keypair.publicKey) < before);
    assert.equal(handle.node.stats.commits, 1);
  });

  it("the challenger catches a wrong result, wins the game and the consumer is refunded to the token", async () => {
    const { keeper, wallet } = await market.keeper();
    const cheater = await market.scriptedProvider();
    const consumerBefore = market.env.paymentBalance(market.consumer.keypair.publicKey);
    const keeperBefore = market.env.stakeBalance(wallet.keypair.publicKey);
    const { job, code } = await market.post("sha256", INPUT);
    // The cheater defends its claim with made-up states after the last honest step, and never proves.
    const { honest, defender } = await cheat(market, cheater.owner, job, code, INPUT);
    replays.push(honest);
    try {
      const game = await market.gameOf(job);
      assert.ok(game.account.challenger.equals(wallet.keypair.publicKey), "the keeper opened the game");
      assert.equal(await gameDecided(market, game.address), "challengerWon");
      await closedJob(market, job);
    } finally {
      await defender.stop();
    }
    assert.ok(defender.moves.length >= 1, "the cheater dissected");
    assert.equal(keeper.verifier.counts.wrong, 1);
    assert.equal(market.env.paymentBalance(market.consumer.keypair.publicKey), consumerBefore, "the whole escrow is back");
    assert.equal(market.env.stakeBalance(wallet.keypair.publicKey), keeperBefore + LOCK / 2n, "the bond back and the challenger reward");
    const provider = await market.consumer.client.fetchProvider(cheater.provider);
    assert.equal(provider!.staked, 50_000n - LOCK - LOCK / 2n, "the cheater's whole lock (the per-job lock and the challenger reward) is slashed");
  });

  it("a keeper restarted mid-game resumes it from the chain and wins", async () => {
    const first = await market.keeper();
    const cheater = await market.scriptedProvider();
    const { job, code } = await market.post("sha256", INPUT);
    const { honest, defender } = await cheat(market, cheater.owner, job, code, INPUT);
    replays.push(honest);
    try {
      const game = await market.gameOf(job);
      // Stopped once it has chosen a segment: its replay and verdicts are gone with it.
      await until("the keeper's first choice", async () => ((await market.consumer.client.fetchDispute(game.address))?.moves ?? 0) >= 2);
      await first.keeper.stop();
      const resumed = await until("the game to wait on the challenger", async () => {
        const account = await market.consumer.client.fetchDispute(game.address);
        return account && variantOf(account.turn) !== "provider" ? account : null;
      });
      assert.equal(variantOf(resumed.status), "open", "the game waits for the stopped keeper");
      await market.keeper(first.wallet);
      assert.equal(await gameDecided(market, game.address), "challengerWon");
      await closedJob(market, job);
    } finally {
      await defender.stop();
    }
  });

  it("a keeper whose notifications stop in mid-game still plays it to the end and wins (it re-reads its games every tick)", async () => {
    const { keeper } = await market.keeper();
    const cheater = await market.scriptedProvider();
    const { job, code } = await market.post("sha256", INPUT);
    const { honest, defender } = await cheat(market, cheater.owner, job, code, INPUT);
    replays.push(honest);
    try {
      const game = await market.gameOf(job);
      await until("the keeper's first choice", async () => ((await market.consumer.client.fetchDispute(game.address))?.moves ?? 0) >= 2);
      await keeper.index.stop();
      assert.equal(await gameDecided(market, game.address), "challengerWon");
    } finally {
      await defender.stop();
    }
  });

  it("an honest node defends its result against a random challenger, also across its own restart", async () => {
    const { node, challenger, challengerBefore, job, dispute, random, ...started } = await honestNodeChallengedAtRandom(7);
    let handle = started.handle;
    try {
      // The node has dissected once: restart it with nothing but its work directory.
      await handle.stop();
      handle = await node.start();
      assert.equal(await gameDecided(market, dispute), "providerWon");
      await closedJob(market, job);
    } finally {
      await random.stop();
    }
    assert.equal(market.env.stakeBalance(challenger.keypair.publicKey), challengerBefore - LOCK, "the challenger lost its bond");
    assert.equal(market.env.stakeBalance(node.owner.keypair.publicKey), 100_000n - 50_000n + LOCK / 2n, "half the bond to the node's owner");
    assert.equal(market.env.paymentBalance(node.owner.keypair.publicKey), 700n, "and the job is paid");
    assert.ok(handle.games.stats.moves + handle.games.stats.proofs >= 1, "the restarted node kept playing");
  });

  it("an honest node still defends its result when its notifications stop in mid-game (it re-reads its games every tick)", async () => {
    const { handle, dispute, random } = await honestNodeChallengedAtRandom(11);
    try {
      // A WebSocket gone quiet: the node's index hears nothing more until its resync (30 s, far
      // past the 8 s clock of each move).
      await handle.index.stop();
      assert.equal(await gameDecided(market, dispute), "providerWon");
    } finally {
      await random.stop();
    }
    assert.ok(handle.games.stats.moves >= 2, "the node kept playing without notifications");
  });

  it("a refereed job: the honest second winner's node challenges the first's wrong result and wins it", async () => {
    await market.keeper(undefined, { bots: ["auction-closer", "deadline-cranker", "finalizer", "dispute-cranker"] });
    const node = await market.providerNode();
    const handle = await node.start();
    const cheater = await market.scriptedProvider();
    const { job, code } = await market.post("sha256", INPUT, { refereed: true });
    // The cheater bids lower, so it ranks first and defends; the node's result is the challenge.
    const { honest, defender } = await cheat(market, cheater.owner, job, code, INPUT);
    replays.push(honest);
    try {
      const game = await market.gameOf(job);
      assert.ok(game.account.refereed, "the keeper opened the referee game");
      assert.ok(game.account.challenger.equals(node.owner.keypair.publicKey), "the second winner challenges");
      assert.equal(await gameDecided(market, game.address), "challengerWon");
      await closedJob(market, job);
    } finally {
      await defender.stop();
    }
    assert.ok(handle.games.stats.moves >= 1, "the node chose segments");
    assert.equal(market.env.paymentBalance(node.owner.keypair.publicKey), 700n, "only the honest winner is paid");
    const slashed = await market.consumer.client.fetchProvider(cheater.provider);
    assert.equal(slashed!.staked, 50_000n - LOCK, "the first winner's lock is slashed");
  });
});
