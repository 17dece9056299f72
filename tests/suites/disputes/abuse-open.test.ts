// open_dispute: anyone but the provider opens its own game against a verifiable job's committed
// result within the challenge window, posting the market's per-job lock as a bond from its own
// stake-mint account. Every other opening is refused by name, moves no token and creates no game.
import assert from "node:assert/strict";
import { Keypair } from "@solana/web3.js";
import { findBondVaultPda, findDisputePda, openDisputeInstruction, sendInstructions, variantOf, type OpenDisputeAccounts } from "@compute-market/sdk";
import { assertNothingMoved, expectProgramError, readOnly, snapshot, withoutSignature } from "../../support/assertions";
import { awarded, setupAuction } from "../../support/auction";
import type { Actor } from "../../support/env";
import { eventsOf } from "../../support/events";
import { MARKET_CLASS, MARKET_PARAMS } from "../../support/fixtures";
import { forgedCopy, openDisputeAccounts, secondJob, send, watched } from "../../support/disputes";
import { commit, commitFor, freeReplays, honestClaim, setupRefereedJob, setupVerifiableJob, wrongExitCode, type VerifiableSetup } from "../../support/verifiable";

const TEXT = new TextEncoder().encode("verifiable compute on Solana");
const LOCK = MARKET_PARAMS.jobStakeLock;

async function committed(): Promise<VerifiableSetup> {
  const started = await setupVerifiableJob({ guest: "sha256", input: TEXT });
  return commit(started, wrongExitCode(honestClaim(started.honest)));
}

/** Opens with `accounts` (provider 1's owner challenging unless overridden), expecting `error`;
 * asserts that no token moved and neither the game nor its bond vault was created. */
async function refused(setup: Parameters<typeof openDisputeAccounts>[0], error: Parameters<typeof expectProgramError>[1], overrides: Partial<OpenDisputeAccounts> = {}, signer?: Actor): Promise<void> {
  const challenger = setup.providers[1].owner;
  const accounts = { ...openDisputeAccounts(setup, challenger), ...overrides };
  const payer = signer ?? challenger;
  const ix = await openDisputeInstruction(payer.client.program, accounts);
  const before = snapshot(setup.env, watched(setup, accounts.dispute, accounts.bondVault, accounts.challengerToken, challenger.stakeToken));
  await expectProgramError(send(payer, ix), error);
  assertNothingMoved(setup.env, before, [payer.publicKey]);
  assert.equal((await setup.consumer.client.fetchJob(setup.job))?.progress.openDisputes ?? 0, 0, "no game counted");
}

describe("open_dispute", function () {
  this.timeout(120_000);
  afterEach(freeReplays);

  it("takes the bond into the game's vault and opens a game over [0, T] for the provider to move", async () => {
    const setup = await committed();
    const challenger = setup.providers[1].owner;
    const accounts = openDisputeAccounts(setup, challenger);
    const before = setup.env.tokenBalance(challenger.stakeToken);

    const signature = await send(challenger, await openDisputeInstruction(challenger.client.program, accounts));

    assert.equal(setup.env.tokenBalance(challenger.stakeToken), before - LOCK);
    assert.equal(setup.env.tokenBalance(accounts.bondVault), LOCK);
    const game = (await challenger.client.fetchDispute(accounts.dispute))!;
    assert.equal(variantOf(game.status), "open");
    assert.equal(variantOf(game.turn), "provider");
    assert.deepEqual([game.lo, game.hi], [0n, setup.steps]);
    assert.deepEqual(Uint8Array.from(game.hiHash), setup.claimHash);
    assert.deepEqual(Uint8Array.from(game.loHash), setup.honest.hashAt(0n));
    assert.equal(game.bond, LOCK);
    assert.ok(game.challenger.equals(challenger.publicKey));
    assert.equal((await challenger.client.fetchJob(setup.job))!.progress.openDisputes, 1);
    const [event] = eventsOf(setup.env, challenger.client.program, signature);
    assert.equal(event.name, "disputeOpened");
  });

  it("lets a second challenger open its own game against the same result", async () => {
    const setup = await committed();
    await setup.providers[1].owner.client.openDispute({ job: setup.job, provider: setup.providers[0].provider, challengerToken: setup.providers[1].owner.stakeToken });
    await setup.providers[2].owner.client.openDispute({ job: setup.job, provider: setup.providers[0].provider, challengerToken: setup.providers[2].owner.stakeToken });
    assert.equal((await setup.consumer.client.fetchJob(setup.job))!.progress.openDisputes, 2);
  });

  describe("signer and challenger", () => {
    it("rejects a challenger that did not sign", async () => {
      const setup = await committed();
      const challenger = setup.providers[1].owner;
      const payer = setup.providers[2].owner;
      const ix = withoutSignature(await openDisputeInstruction(payer.client.program, openDisputeAccounts(setup, challenger)), challenger.publicKey);
      const before = snapshot(setup.env, watched(setup, challenger.stakeToken));
      await expectProgramError(sendInstructions(payer.provider, [ix]), "MissingSignature");
      assertNothingMoved(setup.env, before, [payer.publicKey]);
    });

    it("rejects the provider disputing its own result", async () => {
      const setup = await committed();
      const owner = setup.providers[0].owner;
      await refused(setup, "SelfDispute", openDisputeAccounts(setup, owner), owner);
    });

    it("rejects a game vault passed read-only", async () => {
      const setup = await committed();
      const challenger = setup.providers[1].owner;
      const accounts = openDisputeAccounts(setup, challenger);
      const ix = readOnly(await openDisputeInstruction(challenger.client.program, accounts), accounts.bondVault);
      await expectProgramError(send(challenger, ix), "AccountNotWritable");
    });
  });

  describe("the bond", () => {
    it("rejects a bond paid from someone else's account", async () => {
      const setup = await committed();
      await refused(setup, "TokenAccountOwnerMismatch", { challengerToken: setup.providers[2].owner.stakeToken });
    });

    it("rejects a bond paid in the payment mint", async () => {
      const setup = await committed();
      await refused(setup, "WrongMint", { challengerToken: setup.providers[1].owner.paymentToken });
    });

    it("rejects a stake mint other than the market's", async () => {
      const setup = await committed();
      await refused(setup, "WrongMint", { stakeMint: setup.env.paymentMint });
    });

    it("rejects a bond account that is not a token account", async () => {
      const setup = await committed();
      await refused(setup, "InvalidTokenAccount", { challengerToken: setup.providers[1].owner.publicKey });
    });

    it("rejects a challenger holding less than the bond", async () => {
      const setup = await committed();
      const poor = await setup.env.actor(LOCK - 1n);
      await refused(setup, "InsufficientFunds", openDisputeAccounts(setup, poor), poor);
    });
  });

  describe("addresses", () => {
    it("rejects a game at another challenger's address", async () => {
      const setup = await committed();
      const dispute = findDisputePda({ job: setup.job, challenger: setup.providers[2].owner.publicKey, programId: setup.env.programId })[0];
      await refused(setup, "InvalidPda", { dispute, bondVault: findBondVaultPda({ dispute, programId: setup.env.programId })[0] });
    });

    it("rejects a bond vault that is not the game's", async () => {
      const setup = await committed();
      await refused(setup, "InvalidPda", { bondVault: Keypair.generate().publicKey });
    });

    it("rejects a job account owned by another program", async () => {
      const setup = await committed();
      await refused(setup, "InvalidAccountOwner", { job: forgedCopy(setup.env, setup.job) });
    });

    it("rejects another market than the job's", async () => {
      const setup = await committed();
      const { market } = await setup.authority.client.createMarket({ class: MARKET_CLASS, params: MARKET_PARAMS, paymentMint: setup.env.paymentMint, stakeMint: setup.env.stakeMint });
      await refused(setup, "MarketMismatch", { market });
    });

    it("rejects the winner's bid on another job", async () => {
      const setup = await committed();
      const other = await secondJob(setup, { start: false });
      await refused(setup, "BidMismatch", { bid: other.bids[0] });
    });

    it("rejects a bid that lost the auction", async () => {
      // Given a job whose winner (provider 0) committed, with provider 1's losing bid
      const setup = await committed();
      const other = await secondJob(setup, { prices: [1_500_000n, 1_700_000n], commit: true });
      const challenger = setup.providers[2].owner;
      const accounts = { ...openDisputeAccounts({ ...setup, job: other.job, bid: other.bids[1] }, challenger) };
      const before = snapshot(setup.env, [...watched(setup, challenger.stakeToken, accounts.dispute, accounts.bondVault), ...other.bids, other.escrow]);
      await expectProgramError(send(challenger, await openDisputeInstruction(challenger.client.program, accounts)), "NotAssignedWinner");
      assertNothingMoved(setup.env, before, [challenger.publicKey]);
    });
  });

  describe("the job", () => {
    it("rejects a container job's result", async () => {
      const setup = await setupAuction();
      await awarded(setup);
      await setup.providers[0].owner.client.startJob({ job: setup.job });
      await setup.providers[0].owner.client.commitResult({ job: setup.job, outputRoot: new Uint8Array(32).fill(3), resultUriHash: new Uint8Array(32) });
      const challenger = setup.providers[1].owner;
      const before = snapshot(setup.env, [challenger.stakeToken, setup.escrow]);
      await expectProgramError(
        challenger.client.openDispute({ job: setup.job, provider: setup.providers[0].provider, challengerToken: challenger.stakeToken }),
        "NotVerifiable",
      );
      assertNothingMoved(setup.env, before, [challenger.publicKey]);
    });

    it("rejects a refereed job's result, which only its winners dispute (referee)", async () => {
      const setup = await setupRefereedJob({ guest: "sha256", input: TEXT });
      const claim = honestClaim(setup.honest);
      await commitFor(setup, 0, claim);
      await commitFor(setup, 1, wrongExitCode(claim));
      const challenger = setup.providers[2].owner;
      const before = snapshot(setup.env, watched(setup, challenger.stakeToken, setup.bids[1]));
      await expectProgramError(challenger.client.openDispute({ job: setup.job, provider: setup.providers[0].provider, challengerToken: challenger.stakeToken }), "NotVerifiable");
      assertNothingMoved(setup.env, before, [challenger.publicKey]);
    });

    it("rejects a job whose winner has not committed", async () => {
      const started = await setupVerifiableJob({ guest: "sha256", input: TEXT });
      await refused(started, "InvalidJobState");
    });

    it("rejects a game at the challenge deadline", async () => {
      const setup = await committed();
      setup.env.ledger.warpToSlot((await setup.consumer.client.fetchJob(setup.job))!.progress.challengeDeadlineSlot);
      await refused(setup, "DisputeWindowClosed");
    });

    it("opens a game in the window's last slot, with full clocks", async () => {
      const setup = await committed();
      setup.env.ledger.warpToSlot((await setup.consumer.client.fetchJob(setup.job))!.progress.challengeDeadlineSlot - 1n);
      const challenger = setup.providers[1].owner;
      const { dispute } = await challenger.client.openDispute({ job: setup.job, provider: setup.providers[0].provider, challengerToken: challenger.stakeToken });
      const game = (await challenger.client.fetchDispute(dispute))!;
      assert.equal(game.providerClock, 2n * MARKET_PARAMS.challengeWindowSlots);
      assert.equal(game.challengerClock, MARKET_PARAMS.challengeWindowSlots);
    });

    it("rejects a second game by the same challenger (replay)", async () => {
      const setup = await committed();
      const challenger = setup.providers[1].owner;
      await challenger.client.openDispute({ job: setup.job, provider: setup.providers[0].provider, challengerToken: challenger.stakeToken });
      const accounts = openDisputeAccounts(setup, challenger);
      const before = snapshot(setup.env, watched(setup, challenger.stakeToken, accounts.dispute, accounts.bondVault));
      await expectProgramError(send(challenger, await openDisputeInstruction(challenger.client.program, accounts)), "AccountAlreadyInitialized");
      assertNothingMoved(setup.env, before, [challenger.publicKey]);
      assert.equal((await setup.consumer.client.fetchJob(setup.job))!.progress.openDisputes, 1);
    });
  });
});
