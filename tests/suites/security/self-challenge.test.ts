// Self-challenge: a cheating provider opens a game against its own wrong result from a second
// wallet, stays silent in it so that it is decided and settled first, and used to collect half of
// its own slashed lock while the honest challenger's later win paid only its bond back. Now the
// per-job lock goes to the treasury and the reward that a verifiable bid locks on top of it is
// split among every game open at the refutation: the honest challenger is always paid, and the
// cheater loses at least the per-job lock whatever its own wallets win.
import assert from "node:assert/strict";
import { getAssociatedTokenAddressSync } from "@solana/spl-token";
import type { PublicKey } from "@solana/web3.js";
import { variantOf } from "@compute-market/sdk";
import { nextMove } from "@compute-market/vm";
import { MARKET_PARAMS } from "../../support/auction";
import { forgeAccount } from "../../support/forge";
import { commit, freeReplays, gameView, honestClaim, playGame, setupVerifiableJob, wrongExitCode, openGame, type VerifiableSetup } from "../../support/verifiable";

const TEXT = new TextEncoder().encode("verifiable compute on Solana");
const LOCK = MARKET_PARAMS.jobStakeLock;
/** The challenger reward a verifiable bid locks on top of the per-job lock (50 %). */
const REWARD = LOCK / 2n;

const stakeAta = (setup: VerifiableSetup, owner: PublicKey) => getAssociatedTokenAddressSync(setup.env.stakeMint, owner, true);

async function cheatingJob(): Promise<VerifiableSetup> {
  const started = await setupVerifiableJob({ guest: "arith", input: TEXT, challengers: 2 });
  return commit(started, wrongExitCode(honestClaim(started.honest)));
}

/** The cheater never answers its own wallet's game: it runs out of clock and is timed out. */
async function loseSilently(setup: VerifiableSetup, dispute: PublicKey): Promise<void> {
  const record = await playGame(setup.env, dispute, { actor: setup.providers[0].owner, trace: null }, { actor: setup.providers[0].owner, trace: null }, setup.authority);
  assert.equal(record.winner, "challengerWon");
}

describe("security: a cheater challenging itself", function () {
  this.timeout(300_000);
  afterEach(freeReplays);

  it("pays the honest challenger its share and costs the cheater at least the per-job lock", async () => {
    const setup = await cheatingJob();
    const cheater = setup.providers[0];
    const sybil = await setup.env.actor(); // the cheater's second wallet
    const honest = setup.providers[1].owner;
    const vaultBefore = setup.env.tokenBalance(cheater.vault);
    const sybilBefore = setup.env.tokenBalance(sybil.stakeToken);
    const treasuryBefore = setup.env.tokenBalance(stakeAta(setup, setup.authority.publicKey));

    const sybilGame = await openGame(setup, sybil);
    const honestGame = await openGame(setup, honest);
    const honestBefore = setup.env.tokenBalance(stakeAta(setup, honest.publicKey));

    // The sybil's game is decided and settled first: it refutes the result.
    await loseSilently(setup, sybilGame);
    await setup.authority.client.settleDispute({ dispute: sybilGame });
    const sybilGain = setup.env.tokenBalance(stakeAta(setup, sybil.publicKey)) + setup.env.tokenBalance(sybil.stakeToken) - sybilBefore;
    assert.equal(sybilGain, REWARD / 2n, "the sybil's bond back and one of two shares of the reward");

    // The honest challenger wins its game too, by the one-step proof, and is paid its share.
    const record = await playGame(setup.env, honestGame, { actor: cheater.owner, trace: null }, { actor: honest, trace: setup.honest }, setup.authority);
    assert.equal(record.winner, "challengerWon");
    await setup.authority.client.settleDispute({ dispute: honestGame });
    assert.equal(setup.env.tokenBalance(stakeAta(setup, honest.publicKey)) - honestBefore, LOCK + REWARD / 2n, "the honest bond back and its share");

    // The cheater's vault lost the per-job lock and the whole reward; its wallet won back half the reward.
    const lost = vaultBefore - setup.env.tokenBalance(cheater.vault);
    assert.equal(lost, LOCK + REWARD);
    assert.ok(lost - sybilGain >= LOCK, "net loss at least the per-job lock");
    assert.equal(setup.env.tokenBalance(stakeAta(setup, setup.authority.publicKey)) - treasuryBefore, LOCK, "the per-job lock to the treasury");
    assert.equal(setup.env.exists(setup.job), false, "the refuted job closes with its last game");
    const provider = await setup.authority.client.fetchProvider(cheater.provider);
    assert.equal(provider!.locked, 0n);
    assert.equal(provider!.staked, setup.env.tokenBalance(cheater.vault));
  });

  it("sends the share of a game the provider wins after the refutation to the treasury", async () => {
    const setup = await cheatingJob();
    const cheater = setup.providers[0];
    const honest = setup.providers[1].owner;
    const sybil = await setup.env.actor();
    const honestGame = await openGame(setup, honest);
    // A second game whose challenger walks away after the provider's first dissection.
    const sybilGame = await openGame(setup, sybil);
    const first = nextMove("defender", gameView((await setup.authority.client.fetchDispute(sybilGame))!), setup.honest);
    assert.equal(first.kind, "dissect");
    if (first.kind === "dissect") await cheater.owner.client.dissect({ dispute: sybilGame, hashes: first.hashes });
    const treasuryBefore = setup.env.tokenBalance(stakeAta(setup, setup.authority.publicKey));

    // The honest game refutes the result while the other game is still open: two shares.
    const record = await playGame(setup.env, honestGame, { actor: cheater.owner, trace: null }, { actor: honest, trace: setup.honest }, setup.authority);
    assert.equal(record.winner, "challengerWon");
    await setup.authority.client.settleDispute({ dispute: honestGame });
    assert.equal(setup.env.exists(setup.job), true, "the job waits for its last game");
    // The walked-away challenger runs out of clock: the provider wins that game.
    // (its clock ran out while the other game was played)
    await setup.authority.client.timeoutDispute({ dispute: sybilGame });
    assert.equal(variantOf((await setup.authority.client.fetchDispute(sybilGame))!.status), "providerWon");
    await setup.authority.client.settleDispute({ dispute: sybilGame });

    // Treasury: the per-job lock, the unpaid share of the reward, and half the walked-away bond.
    const treasuryGain = setup.env.tokenBalance(stakeAta(setup, setup.authority.publicKey)) - treasuryBefore;
    assert.equal(treasuryGain, LOCK + REWARD / 2n + LOCK / 2n);
    assert.equal(setup.env.exists(setup.job), false);
    const provider = await setup.authority.client.fetchProvider(cheater.provider);
    assert.equal(provider!.locked, 0n);
  });

  it("still lets an honest challenger in after 255 games are open (no sybil lock-out)", async () => {
    const setup = await cheatingJob();
    // 255 sybil games, as a count: each real one costs a bond, the state is what matters here.
    await forgeAccount(setup.env, setup.authority.client.program, setup.job, "job", (job) => {
      (job.progress as { openDisputes: number }).openDisputes = 255;
    });
    const honest = setup.providers[1].owner;
    const dispute = await openGame(setup, honest);
    assert.equal(setup.env.exists(dispute), true);
    assert.equal((await setup.authority.client.fetchJob(setup.job))!.progress.openDisputes, 256);
  });
});
