// The game's moves and clocks: `dissect` (the provider's owner, on its turn and clock, one
// canonical hash per inner boundary), `choose_segment` (the challenger, on its turn and clock, a
// segment of the dissection) and `timeout_dispute` (anyone, once the side to move ran out of
// time). A move by the wrong signer, out of turn, late, malformed or on a decided game is refused
// by name and changes nothing: no token moves, the game stays as it was.
import assert from "node:assert/strict";
import { Keypair, type PublicKey } from "@solana/web3.js";
import {
  chooseSegmentInstruction,
  dissectInstruction,
  sendInstructions,
  timeoutDisputeInstruction,
  variantOf,
  type DisputeAccount,
} from "@compute-market/sdk";
import { splitPoints, type Trace } from "@compute-market/vm";
import { assertNothingMoved, expectProgramError, readOnly, snapshot, withoutSignature } from "../../support/assertions";
import type { Actor } from "../../support/env";
import { eventsOf } from "../../support/events";
import { MARKET_PARAMS } from "../../support/fixtures";
import { forgedCopy, playUntil, send, watched } from "../../support/disputes";
import { commit, freeReplays, honestClaim, setupVerifiableJob, wrongExitCode, type VerifiableSetup } from "../../support/verifiable";

const TEXT = new TextEncoder().encode("verifiable compute on Solana");
const WINDOW = MARKET_PARAMS.challengeWindowSlots;
const GRACE = WINDOW / 8n;

interface Game {
  setup: VerifiableSetup;
  dispute: PublicKey;
  owner: Actor;
  challenger: Actor;
  /** The provider's trace: the honest run, whose last step does not reach the claimed state. */
  trace: Trace;
}

/** A wrong result (its exit code) disputed by provider 1's owner: the provider's move. Both sides
 * play from the honest run, so every choice is the last segment (5,734 → 364 → 34 → 4 → 1 steps). */
async function opened(): Promise<Game> {
  const started = await setupVerifiableJob({ guest: "sha256", input: TEXT });
  const setup = await commit(started, wrongExitCode(honestClaim(started.honest)));
  const challenger = setup.providers[1].owner;
  const { dispute } = await challenger.client.openDispute({ job: setup.job, provider: setup.providers[0].provider, challengerToken: challenger.stakeToken });
  return { setup, dispute, owner: setup.providers[0].owner, challenger, trace: setup.honest };
}

const fetchGame = async ({ setup, dispute }: Game): Promise<DisputeAccount> => (await setup.consumer.client.fetchDispute(dispute))!;

/** The defender's dissection of the game's current interval. */
async function dissection(game: Game): Promise<Uint8Array[]> {
  const account = await fetchGame(game);
  return splitPoints(account.lo, account.hi).map((step) => game.trace.hashAt(step));
}

/** After the provider's first dissection: the challenger's move. */
async function dissected(): Promise<Game> {
  const game = await opened();
  await game.owner.client.dissect({ dispute: game.dispute, hashes: await dissection(game) });
  return game;
}

/** Played until the interval is shorter than 16 steps, on the provider's turn. */
async function short(): Promise<Game> {
  const game = await opened();
  await playUntil(game.dispute, { actor: game.owner, trace: game.trace }, { actor: game.challenger, trace: game.setup.honest }, (g) => variantOf(g.turn) === "provider" && g.hi - g.lo < 16n);
  return game;
}

/** Played until the one-step proof is due. */
async function proofDue(): Promise<Game> {
  const game = await opened();
  await playUntil(game.dispute, { actor: game.owner, trace: game.trace }, { actor: game.challenger, trace: game.setup.honest });
  return game;
}

/** Decided by the provider's timeout at its first dissection. */
async function timedOut(): Promise<Game> {
  const game = await opened();
  const account = await fetchGame(game);
  game.setup.env.ledger.warpToSlot(account.turnStartedSlot + account.providerClock + 1n);
  await game.setup.authority.client.timeoutDispute({ dispute: game.dispute });
  return game;
}

/** Sends `ix` by `signer` expecting `error`, then checks that the game and every balance are unchanged. */
async function refusedMove(game: Game, signer: Actor, ix: Parameters<typeof send>[1], error: Parameters<typeof expectProgramError>[1]): Promise<void> {
  const { env } = game.setup;
  const gameBefore = await fetchGame(game);
  const before = snapshot(env, watched(game.setup, game.dispute, game.challenger.stakeToken));
  await expectProgramError(send(signer, ix), error);
  assertNothingMoved(env, before, [signer.publicKey]);
  assert.deepEqual(await fetchGame(game), gameBefore, "the game is unchanged");
}

const dissectIx = (game: Game, hashes: Uint8Array[], owner: PublicKey = game.owner.publicKey, dispute: PublicKey = game.dispute) =>
  dissectInstruction(game.owner.client.program, hashes, { owner, dispute });
const chooseIx = (game: Game, segment: number, challenger: PublicKey = game.challenger.publicKey, dispute: PublicKey = game.dispute) =>
  chooseSegmentInstruction(game.challenger.client.program, segment, { challenger, dispute });
const timeoutIx = (game: Game, cranker: Actor, dispute: PublicKey = game.dispute) =>
  timeoutDisputeInstruction(cranker.client.program, { cranker: cranker.publicKey, dispute });

describe("dissect", function () {
  this.timeout(120_000);
  afterEach(freeReplays);

  it("posts 15 hashes on the provider's clock and hands the move to the challenger", async () => {
    const game = await opened();
    const hashes = await dissection(game);
    assert.equal(hashes.length, 15);
    game.setup.env.ledger.advanceSlots(10n);

    const signature = await send(game.owner, await dissectIx(game, hashes));

    const account = await fetchGame(game);
    assert.equal(variantOf(account.turn), "challenger");
    assert.deepEqual(account.points.map((p) => Uint8Array.from(p)), hashes);
    assert.equal(account.providerClock, 2n * WINDOW - 10n, "the provider's doubled first clock, less the slots it used");
    assert.equal(account.challengerClock, WINDOW, "the challenger's clock did not run");
    assert.equal(account.turnStartedSlot, game.setup.env.ledger.slot);
    const [event] = eventsOf(game.setup.env, game.owner.client.program, signature);
    assert.equal(event.name, "disputeMoved");
  });

  it("tops a nearly spent clock up to an eighth of the window", async () => {
    const game = await opened();
    const account = await fetchGame(game);
    game.setup.env.ledger.warpToSlot(account.turnStartedSlot + account.providerClock - 5n);
    await game.owner.client.dissect({ dispute: game.dispute, hashes: await dissection(game) });
    assert.equal((await fetchGame(game)).providerClock, GRACE);
  });

  it("accepts a move in the clock's last slot", async () => {
    const game = await opened();
    const account = await fetchGame(game);
    game.setup.env.ledger.warpToSlot(account.turnStartedSlot + account.providerClock);
    await game.owner.client.dissect({ dispute: game.dispute, hashes: await dissection(game) });
    assert.equal(variantOf((await fetchGame(game)).turn), "challenger");
  });

  it("rejects a move after the clock ran out", async () => {
    const game = await opened();
    const account = await fetchGame(game);
    game.setup.env.ledger.warpToSlot(account.turnStartedSlot + account.providerClock + 1n);
    await refusedMove(game, game.owner, await dissectIx(game, await dissection(game)), "ClockExpired");
  });

  it("rejects the challenger dissecting", async () => {
    const game = await opened();
    await refusedMove(game, game.challenger, await dissectIx(game, await dissection(game), game.challenger.publicKey), "NotBidOwner");
  });

  it("rejects a stranger dissecting", async () => {
    const game = await opened();
    const stranger = await game.setup.env.actor();
    await refusedMove(game, stranger, await dissectIx(game, await dissection(game), stranger.publicKey), "NotBidOwner");
  });

  it("rejects the owner's key when it did not sign", async () => {
    const game = await opened();
    const payer = game.setup.providers[2].owner;
    const ix = withoutSignature(await dissectIx(game, await dissection(game)), game.owner.publicKey);
    const before = snapshot(game.setup.env, watched(game.setup, game.dispute));
    await expectProgramError(sendInstructions(payer.provider, [ix]), "MissingSignature");
    assertNothingMoved(game.setup.env, before, [payer.publicKey]);
  });

  it("rejects a game passed read-only", async () => {
    const game = await opened();
    await refusedMove(game, game.owner, readOnly(await dissectIx(game, await dissection(game)), game.dispute), "AccountNotWritable");
  });

  it("rejects a game account owned by another program", async () => {
    const game = await opened();
    await refusedMove(game, game.owner, await dissectIx(game, await dissection(game), undefined, forgedCopy(game.setup.env, game.dispute)), "InvalidAccountOwner");
  });

  it("rejects another program account in place of the game", async () => {
    const game = await opened();
    await refusedMove(game, game.owner, await dissectIx(game, await dissection(game), undefined, game.setup.job), "InvalidAccountData");
  });

  it("rejects fewer hashes than inner boundaries", async () => {
    const game = await opened();
    await refusedMove(game, game.owner, await dissectIx(game, (await dissection(game)).slice(0, 14)), "InvalidDissection");
  });

  it("rejects a zero hash among the posted ones", async () => {
    const game = await opened();
    const hashes = await dissection(game);
    hashes[7] = new Uint8Array(32);
    await refusedMove(game, game.owner, await dissectIx(game, hashes), "InvalidDissection");
  });

  it("rejects more hashes than a short interval has inner boundaries", async () => {
    const game = await short();
    const account = await fetchGame(game);
    const hashes = await dissection(game);
    assert.equal(hashes.length, Number(account.hi - account.lo) - 1);
    await refusedMove(game, game.owner, await dissectIx(game, [...hashes, new Uint8Array(32).fill(5)]), "InvalidDissection");
    await refusedMove(game, game.owner, await dissectIx(game, hashes.slice(1)), "InvalidDissection");
    await send(game.owner, await dissectIx(game, hashes));
  });

  it("rejects a second dissection before the challenger chose (replay)", async () => {
    const game = await dissected();
    await refusedMove(game, game.owner, await dissectIx(game, Array.from({ length: 15 }, (_, i) => new Uint8Array(32).fill(i + 1))), "NotYourTurn");
  });

  it("rejects a dissection when the one-step proof is due", async () => {
    const game = await proofDue();
    await refusedMove(game, game.owner, await dissectIx(game, []), "NotYourTurn");
  });

  it("rejects a dissection of a decided game", async () => {
    const game = await timedOut();
    await refusedMove(game, game.owner, await dissectIx(game, await dissection(game)), "NotYourTurn");
  });
});

describe("choose_segment", function () {
  this.timeout(120_000);
  afterEach(freeReplays);

  it("narrows the interval to the chosen segment on the challenger's clock", async () => {
    const game = await dissected();
    const account = await fetchGame(game);
    const points = splitPoints(account.lo, account.hi);
    game.setup.env.ledger.advanceSlots(20n);

    const signature = await send(game.challenger, await chooseIx(game, 3));

    const chosen = await fetchGame(game);
    assert.deepEqual([chosen.lo, chosen.hi], [points[2], points[3]]);
    assert.deepEqual(chosen.loHash, account.points[2]);
    assert.deepEqual(chosen.hiHash, account.points[3]);
    assert.equal(variantOf(chosen.turn), "provider");
    assert.equal(chosen.challengerClock, WINDOW - 20n);
    assert.equal(chosen.providerClock, account.providerClock, "the provider's clock did not run");
    assert.equal(eventsOf(game.setup.env, game.challenger.client.program, signature)[0].name, "disputeMoved");
  });

  it("keeps the disputed end when the last segment is chosen", async () => {
    const game = await dissected();
    const account = await fetchGame(game);
    await send(game.challenger, await chooseIx(game, 15));
    const chosen = await fetchGame(game);
    assert.equal(chosen.hi, account.hi);
    assert.deepEqual(chosen.hiHash, account.hiHash);
  });

  it("rejects the provider's owner choosing", async () => {
    const game = await dissected();
    await refusedMove(game, game.owner, await chooseIx(game, 0, game.owner.publicKey), "NotChallenger");
  });

  it("rejects a stranger choosing", async () => {
    const game = await dissected();
    const stranger = game.setup.providers[2].owner;
    await refusedMove(game, stranger, await chooseIx(game, 0, stranger.publicKey), "NotChallenger");
  });

  it("rejects the challenger's key when it did not sign", async () => {
    const game = await dissected();
    const payer = game.setup.providers[2].owner;
    const ix = withoutSignature(await chooseIx(game, 0), game.challenger.publicKey);
    const before = snapshot(game.setup.env, watched(game.setup, game.dispute));
    await expectProgramError(sendInstructions(payer.provider, [ix]), "MissingSignature");
    assertNothingMoved(game.setup.env, before, [payer.publicKey]);
  });

  it("rejects a game account owned by another program", async () => {
    const game = await dissected();
    await refusedMove(game, game.challenger, await chooseIx(game, 0, undefined, forgedCopy(game.setup.env, game.dispute)), "InvalidAccountOwner");
  });

  it("rejects a segment past the 16th", async () => {
    const game = await dissected();
    await refusedMove(game, game.challenger, await chooseIx(game, 16), "InvalidSegment");
    await refusedMove(game, game.challenger, await chooseIx(game, 255), "InvalidSegment");
  });

  it("rejects a segment past the last of a short interval", async () => {
    const game = await short();
    await game.owner.client.dissect({ dispute: game.dispute, hashes: await dissection(game) });
    const account = await fetchGame(game);
    const segments = Number(account.hi - account.lo);
    await refusedMove(game, game.challenger, await chooseIx(game, segments), "InvalidSegment");
    await send(game.challenger, await chooseIx(game, segments - 1));
    assert.equal((await fetchGame(game)).hi - (await fetchGame(game)).lo, 1n);
  });

  it("rejects a choice before the provider dissected", async () => {
    const game = await opened();
    await refusedMove(game, game.challenger, await chooseIx(game, 0), "NotYourTurn");
  });

  it("rejects a second choice (replay)", async () => {
    const game = await dissected();
    await send(game.challenger, await chooseIx(game, 0));
    await refusedMove(game, game.challenger, await chooseIx(game, 1), "NotYourTurn");
  });

  it("rejects a choice when the one-step proof is due", async () => {
    const game = await proofDue();
    await refusedMove(game, game.challenger, await chooseIx(game, 0), "NotYourTurn");
  });

  it("rejects a choice after the challenger's clock ran out", async () => {
    const game = await dissected();
    const account = await fetchGame(game);
    game.setup.env.ledger.warpToSlot(account.turnStartedSlot + account.challengerClock + 1n);
    await refusedMove(game, game.challenger, await chooseIx(game, 0), "ClockExpired");
  });

  it("rejects a choice in a decided game", async () => {
    const game = await dissected();
    const account = await fetchGame(game);
    game.setup.env.ledger.warpToSlot(account.turnStartedSlot + account.challengerClock + 1n);
    await game.setup.authority.client.timeoutDispute({ dispute: game.dispute });
    await refusedMove(game, game.challenger, await chooseIx(game, 0), "NotYourTurn");
  });
});

describe("timeout_dispute", function () {
  this.timeout(120_000);
  afterEach(freeReplays);

  /** Times out the side to move exactly one slot after its clock: refused at the clock's last slot. */
  async function timeOut(game: Game, clockOf: (account: DisputeAccount) => bigint): Promise<string> {
    const cranker = await game.setup.env.actor();
    const account = await fetchGame(game);
    game.setup.env.ledger.warpToSlot(account.turnStartedSlot + clockOf(account));
    await refusedMove(game, cranker, await timeoutIx(game, cranker), "ClockRunning");
    game.setup.env.ledger.advanceSlots(1n);
    const before = snapshot(game.setup.env, watched(game.setup, game.dispute, game.challenger.stakeToken));
    const signature = await send(cranker, await timeoutIx(game, cranker));
    assertNothingMoved(game.setup.env, before, [cranker.publicKey]);
    const [event] = eventsOf(game.setup.env, cranker.client.program, signature);
    assert.equal(event.name, "disputeDecided");
    assert.equal(event.data.byTimeout, true);
    return variantOf((await fetchGame(game)).status);
  }

  it("a provider silent at its dissection loses, not before its clock ran out", async () => {
    assert.equal(await timeOut(await opened(), (a) => a.providerClock), "challengerWon");
  });

  it("a challenger silent at its choice loses, not before its clock ran out", async () => {
    assert.equal(await timeOut(await dissected(), (a) => a.challengerClock), "providerWon");
  });

  it("a provider silent at the one-step proof loses, not before its clock ran out", async () => {
    assert.equal(await timeOut(await proofDue(), (a) => a.providerClock), "challengerWon");
  });

  it("does not run the challenger's clock on the provider's turn", async () => {
    // Given a provider that used all but one slot of its doubled clock
    const game = await opened();
    const account = await fetchGame(game);
    game.setup.env.ledger.warpToSlot(account.turnStartedSlot + account.providerClock - 1n);
    await game.owner.client.dissect({ dispute: game.dispute, hashes: await dissection(game) });
    // Then the challenger still has its whole clock
    const cranker = await game.setup.env.actor();
    game.setup.env.ledger.advanceSlots(WINDOW);
    await refusedMove(game, cranker, await timeoutIx(game, cranker), "ClockRunning");
  });

  it("rejects a timeout of a decided game (replay)", async () => {
    const game = await timedOut();
    const cranker = await game.setup.env.actor();
    await refusedMove(game, cranker, await timeoutIx(game, cranker), "NotYourTurn");
  });

  it("rejects a cranker that did not sign", async () => {
    const game = await opened();
    const account = await fetchGame(game);
    game.setup.env.ledger.warpToSlot(account.turnStartedSlot + account.providerClock + 1n);
    const cranker = Keypair.generate();
    const payer = game.setup.providers[2].owner;
    const ix = withoutSignature(await timeoutDisputeInstruction(payer.client.program, { cranker: cranker.publicKey, dispute: game.dispute }), cranker.publicKey);
    const before = snapshot(game.setup.env, watched(game.setup, game.dispute));
    await expectProgramError(sendInstructions(payer.provider, [ix]), "MissingSignature");
    assertNothingMoved(game.setup.env, before, [payer.publicKey]);
    assert.equal(variantOf((await fetchGame(game)).status), "open");
  });

  it("rejects a game passed read-only", async () => {
    const game = await opened();
    const account = await fetchGame(game);
    game.setup.env.ledger.warpToSlot(account.turnStartedSlot + account.providerClock + 1n);
    const cranker = await game.setup.env.actor();
    await refusedMove(game, cranker, readOnly(await timeoutIx(game, cranker), game.dispute), "AccountNotWritable");
  });

  it("rejects a game account owned by another program", async () => {
    const game = await opened();
    const account = await fetchGame(game);
    game.setup.env.ledger.warpToSlot(account.turnStartedSlot + account.providerClock + 1n);
    const cranker = await game.setup.env.actor();
    await refusedMove(game, cranker, await timeoutIx(game, cranker, forgedCopy(game.setup.env, game.dispute)), "InvalidAccountOwner");
  });
});
