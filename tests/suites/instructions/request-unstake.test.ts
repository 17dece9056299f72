// request_unstake: free stake starts unbonding; the delay runs from the last request.
import assert from "node:assert/strict";
import BN from "bn.js";
import { requestUnstakeInstruction, sendInstructions } from "@compute-market/sdk";
import { TestEnv } from "../../support/env";
import { expectProgramError, withoutSignature } from "../../support/assertions";
import { eventsOf } from "../../support/events";
import { forgeAccount } from "../../support/forge";
import { MARKET_CLASS, MARKET_PARAMS, setupMarket, setupProvider } from "../../support/fixtures";

async function staked(amount = 5_000_000n) {
  const env = await TestEnv.create();
  const setup = await setupMarket(env);
  const p = await setupProvider(env, setup.market, amount);
  return { env, ...setup, ...p };
}

describe("request_unstake", () => {
  it("moves free stake into unbonding until now + the market's delay", async () => {
    const { env, owner, provider } = await staked();
    env.ledger.advanceSlots(40n);
    const slot = env.ledger.slot;

    const signature = await owner.client.requestUnstake({ provider, amount: 2_000_000n });

    const state = await owner.client.fetchProvider(provider);
    assert.equal(state?.unbonding, 2_000_000n);
    assert.equal(state?.staked, 5_000_000n);
    assert.equal(state?.unlockSlot, slot + MARKET_PARAMS.unbondingSlots);
    const [event] = eventsOf(env, owner.client.program, signature);
    assert.equal(event.name, "unstakeRequested");
    assert.equal(event.data.unlockSlot, slot + MARKET_PARAMS.unbondingSlots);
  });

  it("restarts the delay for the whole unbonding amount on a second request", async () => {
    const { env, owner, provider } = await staked();
    await owner.client.requestUnstake({ provider, amount: 1_000_000n });
    env.ledger.advanceSlots(500n);
    await owner.client.requestUnstake({ provider, amount: 1_000_000n });
    const state = await owner.client.fetchProvider(provider);
    assert.equal(state?.unbonding, 2_000_000n);
    assert.equal(state?.unlockSlot, env.ledger.slot + MARKET_PARAMS.unbondingSlots);
  });

  it("rejects more than the free stake", async () => {
    const { owner, provider } = await staked(5_000_000n);
    await owner.client.requestUnstake({ provider, amount: 4_000_000n });
    await expectProgramError(owner.client.requestUnstake({ provider, amount: 1_000_001n }), "InsufficientFreeStake");
    assert.equal((await owner.client.fetchProvider(provider))?.unbonding, 4_000_000n);
  });

  it("keeps stake locked by jobs out of reach", async () => {
    // Given 3,000,000 of the 5,000,000 staked are locked by an awarded job
    const { env, owner, provider } = await staked(5_000_000n);
    await forgeAccount(env, owner.client.program, provider, "provider", (p) => {
      p.locked = new BN(3_000_000);
    });
    await expectProgramError(owner.client.requestUnstake({ provider, amount: 2_000_001n }), "InsufficientFreeStake");
    await owner.client.requestUnstake({ provider, amount: 2_000_000n });
  });

  it("rejects a zero amount", async () => {
    const { owner, provider } = await staked();
    await expectProgramError(owner.client.requestUnstake({ provider, amount: 0n }), "ZeroAmount");
  });

  it("rejects a signer who does not own the provider", async () => {
    const { env, market, provider } = await staked();
    const intruder = await env.actor();
    const ix = await requestUnstakeInstruction(intruder.client.program, { amount: 1n }, { owner: intruder.publicKey, provider, market });
    await expectProgramError(sendInstructions(intruder.provider, [ix]), "NotProviderOwner");
  });

  it("rejects the owner's key when it did not sign", async () => {
    const { env, market, owner, provider } = await staked();
    const payer = await env.actor();
    const ix = withoutSignature(
      await requestUnstakeInstruction(payer.client.program, { amount: 1n }, { owner: owner.publicKey, provider, market }),
      owner.publicKey,
    );
    await expectProgramError(sendInstructions(payer.provider, [ix]), "MissingSignature");
  });

  it("rejects another market, whose unbonding delay could be shorter", async () => {
    const { env, authority, owner, provider } = await staked();
    const { market: quick } = await authority.client.createMarket({
      class: MARKET_CLASS,
      params: { ...MARKET_PARAMS, unbondingSlots: 1n },
      paymentMint: env.paymentMint,
      stakeMint: env.stakeMint,
    });
    const ix = await requestUnstakeInstruction(owner.client.program, { amount: 1n }, { owner: owner.publicKey, provider, market: quick });
    await expectProgramError(sendInstructions(owner.provider, [ix]), "MarketMismatch");
  });
});
