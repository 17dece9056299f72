// referee and settle_referee: when a refereed job's two winners committed different final states,
// anyone opens the one game between them (the first-ranked defends, the second-ranked winner's
// owner challenges, no bond) and, once it is decided, pays it out: the loser's lock is slashed,
// half to the winner's owner, and its bid refuted. Any other job, bid, role, account or a second
// opening or settlement is refused by name and moves nothing.
import assert from "node:assert/strict";
import type { PublicKey } from "@solana/web3.js";
import { findDisputePda, refereeInstruction, sendInstructions, settleRefereeInstruction, variantOf, type SettleRefereeAccounts } from "@compute-market/sdk";
import { assertNothingMoved, expectProgramError, snapshot, withoutSignature } from "../../support/assertions";
import type { Actor } from "../../support/env";
import { eventsOf } from "../../support/events";
import { MARKET_CLASS, MARKET_PARAMS } from "../../support/fixtures";
import { forgedCopy, secondJob, send, settleRefereeAccounts, watched } from "../../support/disputes";
import {
  commit,
  commitFor,
  freeReplays,
  honestClaim,
  setupRefereedJob,
  setupVerifiableJob,
  wrongExitCode,
  type RefereedSetup,
} from "../../support/verifiable";

const TEXT = new TextEncoder().encode("two providers, one answer");
const LOCK = MARKET_PARAMS.jobStakeLock;

/** A refereed job whose winners committed different states (provider 1's exit code is wrong). */
async function differing(): Promise<RefereedSetup> {
  const setup = await setupRefereedJob({ guest: "sha256", input: TEXT });
  const claim = honestClaim(setup.honest);
  await commitFor(setup, 0, claim);
  await commitFor(setup, 1, wrongExitCode(claim));
  return setup;
}

const disputeOf = (setup: RefereedSetup) => findDisputePda({ job: setup.job, challenger: setup.providers[1].owner.publicKey, programId: setup.env.programId })[0];

/** Every account a referee game could touch: the job's, both winners', the game. */
const everything = (setup: RefereedSetup, ...extra: PublicKey[]) =>
  watched(setup, setup.bids[1], disputeOf(setup), ...setup.providers.map((p) => p.owner.publicKey), ...extra);

type RefereeAccounts = Parameters<typeof refereeInstruction>[1];

function refereeAccounts(setup: RefereedSetup, cranker: Actor): RefereeAccounts {
  return { cranker: cranker.publicKey, market: setup.market, job: setup.job, defenderBid: setup.bids[0], challengerBid: setup.bids[1], dispute: disputeOf(setup) };
}

/** Opens the referee game with `overrides`, expecting `error`; nothing is created or moved. */
async function refusedReferee(setup: RefereedSetup, error: Parameters<typeof expectProgramError>[1], overrides: Partial<RefereeAccounts> = {}): Promise<void> {
  const cranker = await setup.env.actor();
  const accounts = { ...refereeAccounts(setup, cranker), ...overrides };
  const before = snapshot(setup.env, everything(setup, accounts.dispute));
  const openDisputes = (await setup.consumer.client.fetchJob(setup.job))!.progress.openDisputes;
  await expectProgramError(send(cranker, await refereeInstruction(cranker.client.program, accounts)), error);
  assertNothingMoved(setup.env, before, [cranker.publicKey]);
  assert.equal((await setup.consumer.client.fetchJob(setup.job))!.progress.openDisputes, openDisputes);
}

interface Refereed {
  setup: RefereedSetup;
  dispute: PublicKey;
  payer: Actor;
  cranker: Actor;
  accounts: SettleRefereeAccounts;
}

/** The referee game opened by a keeper (`payer`), then decided by timeout: the challenger silent
 * after the defender's dissection (defender won) or the defender silent (challenger won). */
async function decided(winner: "defender" | "challenger" | null): Promise<Refereed> {
  const setup = await differing();
  const payer = await setup.env.actor();
  const { dispute } = await payer.client.referee({ job: setup.job });
  if (winner === "defender") {
    const game = (await setup.consumer.client.fetchDispute(dispute))!;
    const hashes = Array.from({ length: 15 }, (_, j) => setup.honest.hashAt(BigInt(j + 1) * (game.hi / 16n)));
    await setup.providers[0].owner.client.dissect({ dispute, hashes });
  }
  if (winner !== null) {
    const game = (await setup.consumer.client.fetchDispute(dispute))!;
    const clock = winner === "defender" ? game.challengerClock : game.providerClock;
    setup.env.ledger.warpToSlot(game.turnStartedSlot + clock + 1n);
    await setup.authority.client.timeoutDispute({ dispute });
  }
  const cranker = await setup.env.actor();
  return { setup, dispute, payer, cranker, accounts: settleRefereeAccounts(setup, payer, cranker) };
}

/** Settles with `overrides`, expecting `error`; nothing moves, the game and both bids stay. */
async function refusedSettle(game: Refereed, error: Parameters<typeof expectProgramError>[1], overrides: Partial<SettleRefereeAccounts> = {}): Promise<void> {
  const accounts = { ...game.accounts, ...overrides };
  const before = snapshot(game.setup.env, everything(game.setup, game.payer.publicKey, ...Object.values(overrides)));
  await expectProgramError(send(game.cranker, await settleRefereeInstruction(game.cranker.client.program, accounts)), error);
  assertNothingMoved(game.setup.env, before, [game.cranker.publicKey]);
  for (const bid of game.setup.bids) assert.equal(variantOf((await game.cranker.client.fetchBid(bid))!.status), "committed");
}

describe("referee", function () {
  this.timeout(120_000);
  afterEach(freeReplays);

  it("opens the game between the two winners with no bond, its rent paid by the cranker", async () => {
    const setup = await differing();
    const cranker = await setup.env.actor();
    const accounts = refereeAccounts(setup, cranker);
    const tokens = snapshot(setup.env, everything(setup));

    const signature = await send(cranker, await refereeInstruction(cranker.client.program, accounts));

    const game = (await cranker.client.fetchDispute(accounts.dispute))!;
    assert.equal(game.refereed, true);
    assert.equal(game.bond, 0n);
    assert.ok(game.owner.equals(setup.providers[0].owner.publicKey) && game.challenger.equals(setup.providers[1].owner.publicKey));
    assert.ok(game.bid.equals(setup.bids[0]) && game.payer.equals(cranker.publicKey));
    assert.deepEqual([game.lo, game.hi], [0n, setup.steps]);
    assert.equal(variantOf(game.turn), "provider");
    assert.equal((await cranker.client.fetchJob(setup.job))!.progress.openDisputes, 1);
    for (const was of tokens) assert.equal(setup.env.tokenBalance(was.account), was.tokens, "no token moves");
    assert.equal(eventsOf(setup.env, cranker.client.program, signature)[0].name, "disputeOpened");
  });

  it("rejects a verifiable job, whose result anyone disputes with a bond", async () => {
    const started = await setupVerifiableJob({ guest: "sha256", input: TEXT });
    const setup = await commit(started, honestClaim(started.honest));
    const cranker = await setup.env.actor();
    const dispute = findDisputePda({ job: setup.job, challenger: setup.providers[1].owner.publicKey, programId: setup.env.programId })[0];
    const ix = await refereeInstruction(cranker.client.program, { cranker: cranker.publicKey, market: setup.market, job: setup.job, defenderBid: setup.bid, challengerBid: setup.bid, dispute });
    const before = snapshot(setup.env, watched(setup, dispute));
    await expectProgramError(send(cranker, ix), "NotRefereed");
    assertNothingMoved(setup.env, before, [cranker.publicKey]);
  });

  it("rejects a job that only one winner committed", async () => {
    const setup = await setupRefereedJob({ guest: "sha256", input: TEXT });
    await commitFor(setup, 0, honestClaim(setup.honest));
    await refusedReferee(setup, "InvalidJobState");
  });

  it("rejects equal results", async () => {
    const setup = await setupRefereedJob({ guest: "sha256", input: TEXT });
    await commitFor(setup, 0, honestClaim(setup.honest));
    await commitFor(setup, 1, honestClaim(setup.honest));
    await refusedReferee(setup, "ResultsAgree");
  });

  it("rejects the roles swapped: the first-ranked winner defends", async () => {
    const setup = await differing();
    const dispute = findDisputePda({ job: setup.job, challenger: setup.providers[0].owner.publicKey, programId: setup.env.programId })[0];
    await refusedReferee(setup, "WrongWinner", { defenderBid: setup.bids[1], challengerBid: setup.bids[0], dispute });
  });

  it("rejects a bid on another job", async () => {
    const setup = await differing();
    const other = await secondJob(setup, { start: false });
    await refusedReferee(setup, "BidMismatch", { challengerBid: other.bids[0] });
  });

  it("rejects a game at another address than the challenger's", async () => {
    const setup = await differing();
    const dispute = findDisputePda({ job: setup.job, challenger: setup.providers[0].owner.publicKey, programId: setup.env.programId })[0];
    await refusedReferee(setup, "InvalidPda", { dispute });
  });

  it("rejects another market", async () => {
    const setup = await differing();
    const { market } = await setup.authority.client.createMarket({ class: MARKET_CLASS, params: MARKET_PARAMS, paymentMint: setup.env.paymentMint, stakeMint: setup.env.stakeMint });
    await refusedReferee(setup, "MarketMismatch", { market });
  });

  it("rejects a job account owned by another program", async () => {
    const setup = await differing();
    await refusedReferee(setup, "InvalidAccountOwner", { job: forgedCopy(setup.env, setup.job) });
  });

  it("rejects a cranker that did not sign", async () => {
    const setup = await differing();
    const cranker = await setup.env.actor();
    const payer = await setup.env.actor();
    const ix = withoutSignature(await refereeInstruction(payer.client.program, refereeAccounts(setup, cranker)), cranker.publicKey);
    const before = snapshot(setup.env, everything(setup));
    await expectProgramError(sendInstructions(payer.provider, [ix]), "MissingSignature");
    assertNothingMoved(setup.env, before, [payer.publicKey]);
  });

  it("rejects a second game while the first is open (replay)", async () => {
    const setup = await differing();
    await setup.authority.client.referee({ job: setup.job });
    await refusedReferee(setup, "AccountAlreadyInitialized");
  });

  it("rejects a new game once the first was settled: the loser's bid is refuted", async () => {
    const game = await decided("defender");
    await game.cranker.client.settleReferee({ dispute: game.dispute });
    assert.equal(game.setup.env.exists(game.dispute), false);
    await refusedReferee(game.setup, "NotAssignedWinner");
  });
});

describe("settle_referee", function () {
  this.timeout(120_000);
  afterEach(freeReplays);

  it("defender won: slashes the challenger's lock, half to the defender's owner, refutes its bid, and returns the rent to the payer", async () => {
    const game = await decided("defender");
    const { setup, accounts } = game;
    const { env } = setup;
    const rent = env.lamports(accounts.dispute);
    const before = {
      winner: env.tokenBalance(accounts.defenderOwnerToken),
      treasury: env.tokenBalance(accounts.treasuryStakeToken),
      loserVault: env.tokenBalance(accounts.challengerVault),
      winnerVault: env.tokenBalance(accounts.defenderVault),
      payer: env.lamports(accounts.payer),
    };

    const signature = await send(game.cranker, await settleRefereeInstruction(game.cranker.client.program, accounts));

    assert.equal(env.tokenBalance(accounts.defenderOwnerToken) - before.winner, LOCK / 2n);
    assert.equal(env.tokenBalance(accounts.treasuryStakeToken) - before.treasury, LOCK / 2n);
    assert.equal(before.loserVault - env.tokenBalance(accounts.challengerVault), LOCK);
    assert.equal(env.tokenBalance(accounts.defenderVault), before.winnerVault);
    assert.equal(env.lamports(accounts.payer) - before.payer, rent);
    assert.equal(env.exists(accounts.dispute), false);
    assert.equal(variantOf((await game.cranker.client.fetchBid(accounts.challengerBid))!.status), "refuted");
    assert.equal(variantOf((await game.cranker.client.fetchBid(accounts.defenderBid))!.status), "committed");
    assert.equal((await game.cranker.client.fetchJob(setup.job))!.progress.openDisputes, 0);
    const [event] = eventsOf(env, game.cranker.client.program, signature);
    assert.equal(event.name, "disputeSettled");
    assert.equal(event.data.toProvider, LOCK / 2n);
  });

  it("challenger won: slashes the defender's lock, half to the challenger's owner", async () => {
    const game = await decided("challenger");
    const { env } = game.setup;
    const winner = env.tokenBalance(game.accounts.challengerOwnerToken);
    const loserVault = env.tokenBalance(game.accounts.defenderVault);
    await send(game.cranker, await settleRefereeInstruction(game.cranker.client.program, game.accounts));
    assert.equal(env.tokenBalance(game.accounts.challengerOwnerToken) - winner, LOCK / 2n);
    assert.equal(loserVault - env.tokenBalance(game.accounts.defenderVault), LOCK);
    assert.equal(variantOf((await game.cranker.client.fetchBid(game.accounts.defenderBid))!.status), "refuted");
  });

  it("rejects an undecided game", async () => {
    await refusedSettle(await decided(null), "DisputeUndecided");
  });

  it("rejects a second settlement (replay)", async () => {
    const game = await decided("defender");
    await send(game.cranker, await settleRefereeInstruction(game.cranker.client.program, game.accounts));
    const before = snapshot(game.setup.env, everything(game.setup, game.payer.publicKey));
    await expectProgramError(send(game.cranker, await settleRefereeInstruction(game.cranker.client.program, game.accounts)), "InvalidAccountOwner");
    assertNothingMoved(game.setup.env, before, [game.cranker.publicKey]);
  });

  it("rejects a game with a bond, which settle_dispute pays out", async () => {
    const started = await setupVerifiableJob({ guest: "sha256", input: TEXT });
    const setup = await commit(started, wrongExitCode(honestClaim(started.honest)));
    const challenger = setup.providers[1].owner;
    const { dispute } = await challenger.client.openDispute({ job: setup.job, provider: setup.providers[0].provider, challengerToken: challenger.stakeToken });
    const account = (await setup.consumer.client.fetchDispute(dispute))!;
    setup.env.ledger.warpToSlot(account.turnStartedSlot + account.providerClock + 1n);
    await setup.authority.client.timeoutDispute({ dispute });
    const cranker = await setup.env.actor();
    const [defender, other] = setup.providers;
    const accounts: SettleRefereeAccounts = {
      cranker: cranker.publicKey,
      config: cranker.client.configAddress,
      job: setup.job,
      dispute,
      payer: challenger.publicKey,
      defenderBid: setup.bid,
      defenderProvider: defender.provider,
      defenderVault: defender.vault,
      defenderOwnerToken: defender.owner.stakeToken,
      challengerBid: setup.bid,
      challengerProvider: other.provider,
      challengerVault: other.vault,
      challengerOwnerToken: challenger.stakeToken,
      treasuryStakeToken: setup.authority.stakeToken,
    };
    const before = snapshot(setup.env, watched(setup, dispute, challenger.stakeToken, challenger.publicKey));
    await expectProgramError(send(cranker, await settleRefereeInstruction(cranker.client.program, accounts)), "DisputeMismatch");
    assertNothingMoved(setup.env, before, [cranker.publicKey]);
  });

  it("rejects a payer other than the game's, who would collect its rent", async () => {
    const game = await decided("defender");
    const thief = await game.setup.env.actor();
    await refusedSettle(game, "DisputeMismatch", { payer: thief.publicKey });
  });

  it("rejects the bids swapped", async () => {
    const game = await decided("defender");
    const { accounts } = game;
    await refusedSettle(game, "DisputeMismatch", {
      defenderBid: accounts.challengerBid,
      defenderProvider: accounts.challengerProvider,
      defenderVault: accounts.challengerVault,
      defenderOwnerToken: accounts.challengerOwnerToken,
      challengerBid: accounts.defenderBid,
      challengerProvider: accounts.defenderProvider,
      challengerVault: accounts.defenderVault,
      challengerOwnerToken: accounts.defenderOwnerToken,
    });
  });

  it("rejects another job", async () => {
    const game = await decided("defender");
    const other = await secondJob(game.setup, { start: false });
    await refusedSettle(game, "DisputeMismatch", { job: other.job });
  });

  it("rejects another provider in place of a winner's", async () => {
    const game = await decided("defender");
    const intruder = game.setup.providers[2];
    await refusedSettle(game, "BidMismatch", { challengerProvider: intruder.provider, challengerVault: intruder.vault });
  });

  it("rejects another provider's vault as the loser's", async () => {
    const game = await decided("defender");
    await refusedSettle(game, "InvalidVault", { challengerVault: game.setup.providers[2].vault });
  });

  it("rejects the winner's share to someone else's stake account", async () => {
    const game = await decided("defender");
    const thief = await game.setup.env.actor();
    await refusedSettle(game, "TokenAccountOwnerMismatch", { defenderOwnerToken: thief.stakeToken });
  });

  it("rejects the treasury's share to an account the treasury does not own", async () => {
    const game = await decided("defender");
    const thief = await game.setup.env.actor();
    await refusedSettle(game, "TokenAccountOwnerMismatch", { treasuryStakeToken: thief.stakeToken });
  });

  it("rejects a winner's account of the payment mint", async () => {
    const game = await decided("challenger");
    await refusedSettle(game, "WrongMint", { challengerOwnerToken: game.setup.providers[1].owner.paymentToken });
  });

  it("rejects a game account owned by another program", async () => {
    const game = await decided("defender");
    await refusedSettle(game, "InvalidAccountOwner", { dispute: forgedCopy(game.setup.env, game.dispute) });
  });

  it("rejects a cranker that did not sign", async () => {
    const game = await decided("defender");
    const payer = await game.setup.env.actor();
    const ix = withoutSignature(await settleRefereeInstruction(payer.client.program, game.accounts), game.cranker.publicKey);
    const before = snapshot(game.setup.env, everything(game.setup, game.payer.publicKey));
    await expectProgramError(sendInstructions(payer.provider, [ix]), "MissingSignature");
    assertNothingMoved(game.setup.env, before, [payer.publicKey]);
  });
});
