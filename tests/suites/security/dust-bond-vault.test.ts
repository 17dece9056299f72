// Dust froze a game: anyone can send stake-mint tokens to a dispute's bond vault, and
// settle_dispute moved exactly the bond out and then closed the vault, which SPL Token refuses
// while a balance remains — the game never settled, the job never finalized, every party's funds
// stayed locked. Now the vault is swept of its actual balance: the surplus goes to the treasury.
import assert from "node:assert/strict";
import { createTransferInstruction, getAssociatedTokenAddressSync } from "@solana/spl-token";
import type { PublicKey } from "@solana/web3.js";
import { findBondVaultPda, sendInstructions } from "@compute-market/sdk";
import { nextMove } from "@compute-market/vm";
import { MARKET_PARAMS } from "../../support/auction";
import type { Actor } from "../../support/env";
import { commit, freeReplays, gameView, honestClaim, playGame, setupVerifiableJob, wrongExitCode, type VerifiableSetup } from "../../support/verifiable";

const TEXT = new TextEncoder().encode("verifiable compute on Solana");
const LOCK = MARKET_PARAMS.jobStakeLock;
const DUST = 1n;

const stakeAta = (setup: VerifiableSetup, owner: PublicKey) => getAssociatedTokenAddressSync(setup.env.stakeMint, owner, true);

/** An outsider's plain SPL transfer of one token into the game's bond vault. */
async function sprinkle(setup: VerifiableSetup, dispute: PublicKey): Promise<PublicKey> {
  const outsider = await setup.env.actor();
  const [vault] = findBondVaultPda({ dispute, programId: setup.env.programId });
  await sendInstructions(outsider.provider, [createTransferInstruction(outsider.stakeToken, vault, outsider.publicKey, DUST)]);
  assert.equal(setup.env.tokenBalance(vault), LOCK + DUST);
  return vault;
}

async function openGame(setup: VerifiableSetup, challenger: Actor): Promise<PublicKey> {
  const { dispute } = await challenger.client.openDispute({ job: setup.job, provider: setup.providers[0].provider, challengerToken: challenger.stakeToken });
  return dispute;
}

describe("security: dust in a bond vault", function () {
  this.timeout(300_000);
  afterEach(freeReplays);

  it("still settles a game the challenger won, the dust to the treasury", async () => {
    const started = await setupVerifiableJob({ guest: "arith", input: TEXT });
    const setup = await commit(started, wrongExitCode(honestClaim(started.honest)));
    const challenger = setup.providers[1].owner;
    const dispute = await openGame(setup, challenger);
    const vault = await sprinkle(setup, dispute);
    const record = await playGame(setup.env, dispute, { actor: setup.providers[0].owner, trace: null }, { actor: challenger, trace: setup.honest }, setup.authority);
    assert.equal(record.winner, "challengerWon");

    const treasury = setup.env.tokenBalance(stakeAta(setup, setup.authority.publicKey));
    const mine = setup.env.tokenBalance(stakeAta(setup, challenger.publicKey));
    await setup.authority.client.settleDispute({ dispute });

    assert.equal(setup.env.tokenBalance(stakeAta(setup, challenger.publicKey)) - mine, LOCK + LOCK / 2n, "bond back and the reward");
    assert.equal(setup.env.tokenBalance(stakeAta(setup, setup.authority.publicKey)) - treasury, LOCK + DUST, "the per-job lock and the dust");
    for (const closed of [dispute, vault, setup.job, setup.escrow]) assert.equal(setup.env.exists(closed), false);
  });

  it("still settles a game the provider won, and the job then finalizes", async () => {
    const started = await setupVerifiableJob({ guest: "arith", input: TEXT });
    const setup = await commit(started, honestClaim(started.honest));
    const challenger = setup.providers[1].owner;
    const dispute = await openGame(setup, challenger);
    const vault = await sprinkle(setup, dispute);
    // The provider dissects; the challenger walks away and runs out of clock.
    const first = nextMove("defender", gameView((await setup.authority.client.fetchDispute(dispute))!), setup.honest);
    if (first.kind !== "dissect") throw new Error(`expected a dissection, got ${first.kind}`);
    await setup.providers[0].owner.client.dissect({ dispute, hashes: first.hashes });
    const record = await playGame(setup.env, dispute, { actor: setup.providers[0].owner, trace: null }, { actor: challenger, trace: null }, setup.authority);
    assert.equal(record.winner, "providerWon");

    const owner = setup.providers[0].owner.publicKey;
    const treasury = setup.env.tokenBalance(stakeAta(setup, setup.authority.publicKey));
    const ownerStake = setup.env.tokenBalance(stakeAta(setup, owner));
    await setup.authority.client.settleDispute({ dispute });
    assert.equal(setup.env.tokenBalance(stakeAta(setup, owner)) - ownerStake, LOCK / 2n, "half the bond to the provider");
    assert.equal(setup.env.tokenBalance(stakeAta(setup, setup.authority.publicKey)) - treasury, LOCK / 2n + DUST, "half the bond and the dust");
    assert.equal(setup.env.exists(vault), false);

    const job = (await setup.consumer.client.fetchJob(setup.job))!;
    assert.equal(job.progress.openDisputes, 0);
    await setup.authority.client.finalize({ job: setup.job });
    assert.equal(setup.env.tokenBalance(getAssociatedTokenAddressSync(setup.env.paymentMint, owner, true)), 1_500_000n, "the honest provider is paid");
    assert.equal(setup.env.exists(setup.job), false);
  });
});
