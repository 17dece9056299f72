// Dust froze a game: anyone can send stake-mint tokens to a dispute's bond vault, and
// settle_dispute moved exactly the bond out and then closed the vault, which SPL Token refuses
// while a balance remains — the game never settled, the job never finalized, every party's funds
// stayed locked. Now the vault is swept of its actual balance: the surplus goes to the treasury.
// (A job's escrow is swept the same way at finalize: dust there goes back to the consumer.)
import assert from "node:assert/strict";
import { createTransferInstruction, getAssociatedTokenAddressSync } from "@solana/spl-token";
import type { PublicKey } from "@solana/web3.js";
import { findBondVaultPda, sendInstructions } from "@compute-market/sdk";
import { nextMove } from "@compute-market/vm";
import { awarded, MARKET_PARAMS, PROVIDER_STAKE, setupAuction } from "../../support/auction";
import { commitResults } from "../../support/results";
import { escrowFor, PROTOCOL_FEE_BPS } from "../../support/fixtures";
import { commit, freeReplays, gameView, honestClaim, playGame, setupVerifiableJob, wrongExitCode, openGame, type VerifiableSetup } from "../../support/verifiable";

const TEXT = new TextEncoder().encode("verifiable compute on Solana");
const LOCK = MARKET_PARAMS.jobStakeLock;
const DUST = 1n;
/** The challenger reward a verifiable bid locks on top of the per-job lock (half of it). */
const REWARD = LOCK / 2n;
const PRICE = 1_500_000n;
const MAX_PRICE = 2_000_000n;
const fee = (price: bigint) => (price * BigInt(PROTOCOL_FEE_BPS)) / 10_000n;

const stakeAta = (setup: VerifiableSetup, owner: PublicKey) => getAssociatedTokenAddressSync(setup.env.stakeMint, owner, true);
/** Where settle_dispute and finalize pay a wallet in the payment mint (the SDK creates it). */
const paymentAta = (setup: VerifiableSetup, owner: PublicKey) => getAssociatedTokenAddressSync(setup.env.paymentMint, owner, true);

/** An outsider's plain SPL transfer of one token into the game's bond vault. */
async function sprinkle(setup: VerifiableSetup, dispute: PublicKey): Promise<PublicKey> {
  const outsider = await setup.env.actor();
  const [vault] = findBondVaultPda({ dispute, programId: setup.env.programId });
  await sendInstructions(outsider.provider, [createTransferInstruction(outsider.stakeToken, vault, outsider.publicKey, DUST)]);
  assert.equal(setup.env.tokenBalance(vault), LOCK + DUST);
  return vault;
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
    const consumer = setup.env.tokenBalance(paymentAta(setup, setup.consumer.publicKey));
    assert.equal(setup.env.tokenBalance(setup.escrow), escrowFor(MAX_PRICE));
    await setup.authority.client.settleDispute({ dispute });

    assert.equal(setup.env.tokenBalance(stakeAta(setup, challenger.publicKey)) - mine, LOCK + REWARD, "bond back and the reward");
    assert.equal(setup.env.tokenBalance(stakeAta(setup, setup.authority.publicKey)) - treasury, LOCK + DUST, "the per-job lock and the dust");
    assert.equal(setup.env.tokenBalance(setup.providers[0].vault), PROVIDER_STAKE - LOCK - REWARD, "the cheat loses its lock and the reward");
    assert.equal(setup.env.tokenBalance(paymentAta(setup, setup.consumer.publicKey)) - consumer, escrowFor(MAX_PRICE), "the consumer is refunded the whole escrow");
    for (const closed of [dispute, vault, setup.job, setup.escrow, setup.bid]) assert.equal(setup.env.exists(closed), false);
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
    assert.equal(setup.env.tokenBalance(setup.providers[0].vault), PROVIDER_STAKE, "the honest provider keeps its stake");
    for (const closed of [dispute, vault]) assert.equal(setup.env.exists(closed), false);

    const job = (await setup.consumer.client.fetchJob(setup.job))!;
    assert.equal(job.progress.openDisputes, 0);
    setup.env.ledger.warpToSlot(job.progress.challengeDeadlineSlot + 1n);
    const treasuryPaid = setup.env.tokenBalance(paymentAta(setup, setup.authority.publicKey));
    const consumer = setup.env.tokenBalance(paymentAta(setup, setup.consumer.publicKey));
    await setup.authority.client.finalize({ job: setup.job });
    assert.equal(setup.env.tokenBalance(paymentAta(setup, owner)), PRICE, "the honest provider is paid");
    // The authority is both the treasury and the cranking keeper here.
    assert.equal(setup.env.tokenBalance(paymentAta(setup, setup.authority.publicKey)) - treasuryPaid, fee(PRICE) + MARKET_PARAMS.crankFee, "fee and crank fee");
    assert.equal(setup.env.tokenBalance(paymentAta(setup, setup.consumer.publicKey)) - consumer, escrowFor(MAX_PRICE) - PRICE - fee(PRICE) - MARKET_PARAMS.crankFee, "the rest refunded");
    for (const closed of [setup.job, setup.escrow, setup.bid]) assert.equal(setup.env.exists(closed), false);
  });

  it("sweeps dust sent to a job's escrow back to the consumer at finalize", async () => {
    const setup = await setupAuction({ providers: 1 });
    await awarded(setup, [PRICE]);
    await setup.providers[0].owner.client.startJob({ job: setup.job });
    await commitResults(setup, [new Uint8Array(32).fill(0x11)]);
    const outsider = await setup.env.actor();
    await sendInstructions(outsider.provider, [createTransferInstruction(outsider.paymentToken, setup.escrow, outsider.publicKey, DUST)]);
    assert.equal(setup.env.tokenBalance(setup.escrow), escrowFor(MAX_PRICE) + DUST);
    setup.env.ledger.advanceSlots(MARKET_PARAMS.challengeWindowSlots);

    const keeper = await setup.env.actor();
    const consumer = setup.env.tokenBalance(setup.consumer.paymentToken);
    await keeper.client.finalize({ job: setup.job, consumerToken: setup.consumer.paymentToken });
    const ata = (owner: PublicKey) => getAssociatedTokenAddressSync(setup.env.paymentMint, owner, true);
    assert.equal(setup.env.tokenBalance(ata(setup.providers[0].owner.publicKey)), PRICE, "the winner is paid its price");
    assert.equal(setup.env.tokenBalance(ata(setup.authority.publicKey)), fee(PRICE), "the treasury its fee");
    assert.equal(setup.env.tokenBalance(ata(keeper.publicKey)), MARKET_PARAMS.crankFee, "the keeper its crank fee");
    assert.equal(setup.env.tokenBalance(setup.consumer.paymentToken) - consumer, escrowFor(MAX_PRICE) - PRICE - fee(PRICE) - MARKET_PARAMS.crankFee + DUST, "the rest and the dust back to the consumer");
    for (const closed of [setup.job, setup.escrow]) assert.equal(setup.env.exists(closed), false);
  });
});
