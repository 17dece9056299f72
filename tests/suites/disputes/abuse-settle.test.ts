// settle_dispute: anyone pays out a decided game to the accounts the game and its job name —
// the bond split between the provider's owner and the treasury when the provider won; the bond
// back, the provider's lock slashed (half to the challenger), the escrow refunded and the job
// closed when the challenger won. Any other account, an undecided or refereed game, or a second
// settlement is refused by name and moves nothing.
import assert from "node:assert/strict";
import type { PublicKey } from "@solana/web3.js";
import { createTokenAccount } from "@compute-market/localnet";
import { sendInstructions, settleDisputeInstruction, variantOf, type SettleDisputeAccounts } from "@compute-market/sdk";
import { assertNothingMoved, expectProgramError, snapshot, withoutSignature } from "../../support/assertions";
import type { Actor } from "../../support/env";
import { eventsOf } from "../../support/events";
import { escrowFor, MARKET_CLASS, MARKET_PARAMS } from "../../support/fixtures";
import { forgedCopy, secondJob, send, settleDisputeAccounts, watched } from "../../support/disputes";
import { commit, commitFor, freeReplays, honestClaim, setupRefereedJob, setupVerifiableJob, wrongExitCode, type VerifiableSetup } from "../../support/verifiable";

const TEXT = new TextEncoder().encode("verifiable compute on Solana");
const LOCK = MARKET_PARAMS.jobStakeLock;

interface Decided {
  setup: VerifiableSetup;
  dispute: PublicKey;
  challenger: Actor;
  cranker: Actor;
  accounts: SettleDisputeAccounts;
}

/** Opens provider 1's owner's game against provider 0's result and leaves it open on the provider's move. */
async function opened(): Promise<Decided> {
  const started = await setupVerifiableJob({ guest: "sha256", input: TEXT });
  const setup = await commit(started, wrongExitCode(honestClaim(started.honest)));
  const challenger = setup.providers[1].owner;
  const { dispute } = await challenger.client.openDispute({ job: setup.job, provider: setup.providers[0].provider, challengerToken: challenger.stakeToken });
  const cranker = await setup.env.actor();
  return { setup, dispute, challenger, cranker, accounts: settleDisputeAccounts(setup, challenger, cranker) };
}

/** A game decided by timeout: the provider silent (challenger won) or the challenger silent after
 * the provider's dissection (provider won). */
async function decided(winner: "provider" | "challenger"): Promise<Decided> {
  const game = await opened();
  const { setup, dispute } = game;
  if (winner === "provider") {
    const account = (await setup.consumer.client.fetchDispute(dispute))!;
    const hashes = Array.from({ length: 15 }, (_, j) => setup.honest.hashAt(account.lo + BigInt(j + 1) * ((account.hi - account.lo) / 16n)));
    await setup.providers[0].owner.client.dissect({ dispute, hashes });
  }
  const account = (await setup.consumer.client.fetchDispute(dispute))!;
  const clock = winner === "provider" ? account.challengerClock : account.providerClock;
  setup.env.ledger.warpToSlot(account.turnStartedSlot + clock + 1n);
  await setup.authority.client.timeoutDispute({ dispute });
  assert.equal(variantOf((await setup.consumer.client.fetchDispute(dispute))!.status), winner === "provider" ? "providerWon" : "challengerWon");
  return game;
}

/** Every account a settlement could touch: the game's, the job's and everyone's wallets. */
function everything(game: Decided, ...extra: PublicKey[]): PublicKey[] {
  const { setup, accounts } = game;
  return watched(
    setup,
    accounts.dispute,
    accounts.bondVault,
    accounts.challengerStakeToken,
    accounts.challenger,
    accounts.owner,
    accounts.consumer,
    game.challenger.stakeToken,
    ...extra,
  );
}

/** Settles with `overrides`, expecting `error`; nothing moves and the game stays. */
async function refused(game: Decided, error: Parameters<typeof expectProgramError>[1], overrides: Partial<SettleDisputeAccounts> = {}, ...extra: PublicKey[]): Promise<void> {
  const accounts = { ...game.accounts, ...overrides };
  const before = snapshot(game.setup.env, everything(game, ...Object.values(overrides), ...extra));
  await expectProgramError(send(game.cranker, await settleDisputeInstruction(game.cranker.client.program, accounts)), error);
  assertNothingMoved(game.setup.env, before, [game.cranker.publicKey]);
}

const settle = async (game: Decided) => send(game.cranker, await settleDisputeInstruction(game.cranker.client.program, game.accounts));

describe("settle_dispute", function () {
  this.timeout(120_000);
  afterEach(freeReplays);

  it("provider won: splits the bond between the owner and the treasury and closes the game, its rent to the challenger", async () => {
    const game = await decided("provider");
    const { setup, accounts } = game;
    const { env } = setup;
    const rent = env.lamports(accounts.dispute) + env.lamports(accounts.bondVault);
    const before = snapshot(env, everything(game));
    const tokens = { owner: env.tokenBalance(accounts.ownerStakeToken), treasury: env.tokenBalance(accounts.treasuryStakeToken), challenger: env.lamports(accounts.challenger) };

    const signature = await send(game.cranker, await settleDisputeInstruction(game.cranker.client.program, accounts));

    assert.equal(env.tokenBalance(accounts.ownerStakeToken) - tokens.owner, LOCK / 2n);
    assert.equal(env.tokenBalance(accounts.treasuryStakeToken) - tokens.treasury, LOCK / 2n);
    assert.equal(env.exists(accounts.dispute) || env.exists(accounts.bondVault), false);
    assert.equal(env.lamports(accounts.challenger) - tokens.challenger, rent);
    const job = (await setup.consumer.client.fetchJob(setup.job))!;
    assert.equal(variantOf(job.state), "committed");
    assert.equal(job.progress.openDisputes, 0);
    assert.equal((await setup.consumer.client.fetchProvider(accounts.provider))!.reputation.disputesWon, 1);
    assert.equal(before.find((b) => b.account.equals(accounts.vault))!.tokens, env.tokenBalance(accounts.vault), "no stake moves");
    const [event] = eventsOf(env, game.cranker.client.program, signature);
    assert.equal(event.name, "disputeSettled");
    assert.equal(event.data.toProvider, LOCK / 2n);
  });

  it("challenger won: bond back plus half the lock, the escrow refunded, the job and its bid closed", async () => {
    const game = await decided("challenger");
    const { setup, accounts } = game;
    const { env } = setup;
    const before = {
      challenger: env.tokenBalance(accounts.challengerStakeToken),
      treasury: env.tokenBalance(accounts.treasuryStakeToken),
      vault: env.tokenBalance(accounts.vault),
      consumer: env.tokenBalance(accounts.consumerToken),
    };

    await send(game.cranker, await settleDisputeInstruction(game.cranker.client.program, accounts));

    assert.equal(env.tokenBalance(accounts.challengerStakeToken) - before.challenger, LOCK + LOCK / 2n);
    assert.equal(env.tokenBalance(accounts.treasuryStakeToken) - before.treasury, LOCK, "the per-job lock to the treasury");
    assert.equal(before.vault - env.tokenBalance(accounts.vault), LOCK + LOCK / 2n, "the lock and the challenger reward on top of it");
    assert.equal(env.tokenBalance(accounts.consumerToken) - before.consumer, escrowFor(2_000_000n));
    for (const closed of [accounts.dispute, accounts.bondVault, accounts.job, accounts.escrow, accounts.bid]) assert.equal(env.exists(closed), false);
  });

  describe("the game", () => {
    it("rejects an undecided game", async () => {
      const game = await opened();
      await refused(game, "DisputeUndecided");
    });

    it("rejects a second settlement (replay)", async () => {
      const game = await decided("provider");
      await settle(game);
      await refused(game, "InvalidAccountOwner");
    });

    it("rejects a referee game, which settle_referee pays out", async () => {
      const setup = await setupRefereedJob({ guest: "sha256", input: TEXT });
      await commitFor(setup, 0, honestClaim(setup.honest));
      await commitFor(setup, 1, wrongExitCode(honestClaim(setup.honest)));
      const { dispute } = await setup.authority.client.referee({ job: setup.job });
      const account = (await setup.authority.client.fetchDispute(dispute))!;
      setup.env.ledger.warpToSlot(account.turnStartedSlot + account.providerClock + 1n);
      await setup.authority.client.timeoutDispute({ dispute });
      const cranker = await setup.env.actor();
      const accounts = settleDisputeAccounts(setup, setup.providers[1].owner, cranker);
      const before = snapshot(setup.env, watched(setup, dispute, setup.bids[1], setup.providers[1].owner.publicKey));
      await expectProgramError(send(cranker, await settleDisputeInstruction(cranker.client.program, accounts)), "DisputeMismatch");
      assertNothingMoved(setup.env, before, [cranker.publicKey]);
    });

    it("rejects a game account owned by another program", async () => {
      const game = await decided("challenger");
      await refused(game, "InvalidAccountOwner", { dispute: forgedCopy(game.setup.env, game.accounts.dispute) });
    });

    it("rejects a cranker that did not sign", async () => {
      const game = await decided("challenger");
      const payer = game.setup.providers[2].owner;
      const ix = withoutSignature(await settleDisputeInstruction(payer.client.program, game.accounts), game.cranker.publicKey);
      const before = snapshot(game.setup.env, everything(game));
      await expectProgramError(sendInstructions(payer.provider, [ix]), "MissingSignature");
      assertNothingMoved(game.setup.env, before, [payer.publicKey]);
    });
  });

  describe("accounts the game names", () => {
    it("rejects another job", async () => {
      const game = await decided("challenger");
      const other = await secondJob(game.setup);
      await refused(game, "DisputeMismatch", { job: other.job, escrow: other.escrow }, ...other.bids);
    });

    it("rejects another bid", async () => {
      const game = await decided("challenger");
      const other = await secondJob(game.setup);
      await refused(game, "DisputeMismatch", { bid: other.bids[0] });
    });

    it("rejects another provider and its vault", async () => {
      const game = await decided("challenger");
      const intruder = game.setup.providers[2];
      await refused(game, "DisputeMismatch", { provider: intruder.provider, vault: intruder.vault });
    });

    it("rejects another owner, who would collect the bond's share", async () => {
      const game = await decided("provider");
      const thief = await game.setup.env.actor();
      await refused(game, "DisputeMismatch", { owner: thief.publicKey, ownerStakeToken: thief.stakeToken });
    });

    it("rejects another challenger, who would collect the bond, the reward and the rent", async () => {
      const game = await decided("challenger");
      const thief = await game.setup.env.actor();
      await refused(game, "DisputeMismatch", { challenger: thief.publicKey, challengerStakeToken: thief.stakeToken });
    });

    it("rejects another market", async () => {
      const game = await decided("challenger");
      const { market } = await game.setup.authority.client.createMarket({ class: MARKET_CLASS, params: MARKET_PARAMS, paymentMint: game.setup.env.paymentMint, stakeMint: game.setup.env.stakeMint });
      await refused(game, "MarketMismatch", { market });
    });

    it("rejects another job's escrow", async () => {
      const game = await decided("challenger");
      const other = await secondJob(game.setup);
      await refused(game, "InvalidVault", { escrow: other.escrow });
    });

    it("rejects another provider's stake vault", async () => {
      const game = await decided("challenger");
      await refused(game, "InvalidVault", { vault: game.setup.providers[2].vault });
    });

    it("rejects another consumer, who would collect the rent of the closed job", async () => {
      const game = await decided("challenger");
      const thief = await game.setup.env.actor();
      await refused(game, "ConsumerMismatch", { consumer: thief.publicKey, consumerToken: thief.paymentToken });
    });
  });

  describe("token accounts", () => {
    it("rejects a refund to someone else's payment account", async () => {
      const game = await decided("challenger");
      const thief = await game.setup.env.actor();
      await refused(game, "TokenAccountOwnerMismatch", { consumerToken: thief.paymentToken });
    });

    it("rejects the challenger's payout to someone else's stake account", async () => {
      const game = await decided("challenger");
      const thief = await game.setup.env.actor();
      await refused(game, "TokenAccountOwnerMismatch", { challengerStakeToken: thief.stakeToken });
    });

    it("rejects the owner's share to someone else's stake account", async () => {
      const game = await decided("provider");
      const thief = await game.setup.env.actor();
      await refused(game, "TokenAccountOwnerMismatch", { ownerStakeToken: thief.stakeToken });
    });

    it("rejects the treasury's share to an account the treasury does not own", async () => {
      const game = await decided("provider");
      const thief = await game.setup.env.actor();
      await refused(game, "TokenAccountOwnerMismatch", { treasuryStakeToken: thief.stakeToken });
    });

    it("rejects a stake payout to an account of the payment mint", async () => {
      const game = await decided("challenger");
      await refused(game, "WrongMint", { challengerStakeToken: game.challenger.paymentToken });
    });

    it("rejects a bond vault other than the game's, even one the game owns", async () => {
      // Given a token account of the stake mint that anyone can open with the game as its owner
      const game = await decided("provider");
      const { env } = game.setup;
      const decoy = createTokenAccount(env.ledger, env.mintAuthority, env.stakeMint, game.accounts.dispute, LOCK);
      await refused(game, "InvalidVault", { bondVault: decoy });
      assert.equal(env.tokenBalance(game.accounts.bondVault), LOCK, "the real bond is still in the game's vault");
    });
  });
});
