// withdraw_unstaked: unbonded stake goes back to its owner once the delay has passed.
import assert from "node:assert/strict";
import { sendInstructions, withdrawUnstakedInstruction } from "@compute-market/sdk";
import { TestEnv } from "../../support/env";
import { assertNothingMoved, expectProgramError, snapshot, withoutSignature } from "../../support/assertions";
import { eventsOf } from "../../support/events";
import { MARKET_PARAMS, setupMarket, setupProvider } from "../../support/fixtures";

async function unbonding(staked = 5_000_000n, requested = 2_000_000n) {
  const env = await TestEnv.create();
  const setup = await setupMarket(env);
  const p = await setupProvider(env, setup.market, staked);
  await p.owner.client.requestUnstake({ provider: p.provider, amount: requested });
  return { env, ...setup, ...p };
}

describe("withdraw_unstaked", () => {
  it("pays the unbonded amount back once the delay has passed", async () => {
    const { env, owner, provider, vault } = await unbonding();
    env.ledger.advanceSlots(MARKET_PARAMS.unbondingSlots);
    const before = env.tokenBalance(owner.stakeToken);

    const signature = await owner.client.withdrawUnstaked({ provider, ownerToken: owner.stakeToken });

    assert.equal(env.tokenBalance(owner.stakeToken), before + 2_000_000n);
    assert.equal(env.tokenBalance(vault), 3_000_000n);
    const state = await owner.client.fetchProvider(provider);
    assert.equal(state?.staked, 3_000_000n);
    assert.equal(state?.unbonding, 0n);
    const [event] = eventsOf(env, owner.client.program, signature);
    assert.equal(event.name, "unstakeWithdrawn");
    assert.equal(event.data.amount, 2_000_000n);
  });

  it("refuses one slot before the delay ends", async () => {
    const { env, owner, provider, vault } = await unbonding();
    env.ledger.advanceSlots(MARKET_PARAMS.unbondingSlots - 1n);
    const before = snapshot(env, [owner.stakeToken, vault]);
    await expectProgramError(owner.client.withdrawUnstaked({ provider, ownerToken: owner.stakeToken }), "UnbondingNotElapsed");
    assertNothingMoved(env, before);
  });

  it("pays once: a second withdrawal finds nothing (replay)", async () => {
    const { env, owner, provider, vault } = await unbonding();
    env.ledger.advanceSlots(MARKET_PARAMS.unbondingSlots);
    await owner.client.withdrawUnstaked({ provider, ownerToken: owner.stakeToken });
    const before = snapshot(env, [owner.stakeToken, vault]);
    await expectProgramError(owner.client.withdrawUnstaked({ provider, ownerToken: owner.stakeToken }), "NothingToWithdraw");
    assertNothingMoved(env, before);
  });

  it("rejects a signer who does not own the provider", async () => {
    const { env, provider, vault } = await unbonding();
    env.ledger.advanceSlots(MARKET_PARAMS.unbondingSlots);
    const thief = await env.actor();
    const ix = await withdrawUnstakedInstruction(thief.client.program, {
      owner: thief.publicKey,
      provider,
      vault,
      ownerToken: thief.stakeToken,
    });
    const before = snapshot(env, [thief.stakeToken, vault]);
    await expectProgramError(sendInstructions(thief.provider, [ix]), "NotProviderOwner");
    assertNothingMoved(env, before);
  });

  it("rejects the owner's key when it did not sign", async () => {
    const { env, owner, provider, vault } = await unbonding();
    env.ledger.advanceSlots(MARKET_PARAMS.unbondingSlots);
    const payer = await env.actor();
    const ix = withoutSignature(
      await withdrawUnstakedInstruction(payer.client.program, { owner: owner.publicKey, provider, vault, ownerToken: owner.stakeToken }),
      owner.publicKey,
    );
    const before = snapshot(env, [owner.stakeToken, vault]);
    await expectProgramError(sendInstructions(payer.provider, [ix]), "MissingSignature");
    assertNothingMoved(env, before);
  });

  it("rejects paying into an account the owner does not own", async () => {
    const { env, owner, provider, vault } = await unbonding();
    env.ledger.advanceSlots(MARKET_PARAMS.unbondingSlots);
    const stranger = await env.actor();
    const before = snapshot(env, [stranger.stakeToken, vault]);
    await expectProgramError(owner.client.withdrawUnstaked({ provider, ownerToken: stranger.stakeToken }), "TokenAccountOwnerMismatch");
    assertNothingMoved(env, before);
  });

  it("rejects paying into an account of another mint", async () => {
    const { env, owner, provider, vault } = await unbonding();
    env.ledger.advanceSlots(MARKET_PARAMS.unbondingSlots);
    const before = snapshot(env, [owner.paymentToken, vault]);
    await expectProgramError(owner.client.withdrawUnstaked({ provider, ownerToken: owner.paymentToken }), "WrongMint");
    assertNothingMoved(env, before);
  });

  it("rejects draining another provider's vault", async () => {
    // Given two providers with unbonded stake, owner A names B's vault
    const { env, market, owner, provider } = await unbonding();
    const other = await setupProvider(env, market, 7_000_000n);
    env.ledger.advanceSlots(MARKET_PARAMS.unbondingSlots);
    const ix = await withdrawUnstakedInstruction(owner.client.program, {
      owner: owner.publicKey,
      provider,
      vault: other.vault,
      ownerToken: owner.stakeToken,
    });
    const before = snapshot(env, [owner.stakeToken, other.vault]);
    await expectProgramError(sendInstructions(owner.provider, [ix]), "InvalidVault");
    assertNothingMoved(env, before);
  });
});
