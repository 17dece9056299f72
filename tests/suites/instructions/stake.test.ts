// stake: a provider's owner moves stake-mint tokens into the provider's vault.
import assert from "node:assert/strict";
import BN from "bn.js";
import { sendInstructions, stakeInstruction } from "@compute-market/sdk";
import { TestEnv } from "../../support/env";
import { assertNothingMoved, expectProgramError, snapshot, withoutSignature } from "../../support/assertions";
import { eventsOf } from "../../support/events";
import { forgeAccount } from "../../support/forge";
import { setupMarket, setupProvider } from "../../support/fixtures";

async function registered() {
  const env = await TestEnv.create();
  const { market } = await setupMarket(env);
  const p = await setupProvider(env, market);
  return { env, market, ...p };
}

describe("stake", () => {
  it("moves the amount from the owner's account into the vault and records it", async () => {
    const { env, owner, provider, vault } = await registered();
    const before = env.tokenBalance(owner.stakeToken);

    const signature = await owner.client.stake({ provider, amount: 3_000_000n, ownerToken: owner.stakeToken });
    await owner.client.stake({ provider, amount: 2_000_000n, ownerToken: owner.stakeToken });

    assert.equal(env.tokenBalance(owner.stakeToken), before - 5_000_000n);
    assert.equal(env.tokenBalance(vault), 5_000_000n);
    assert.equal((await owner.client.fetchProvider(provider))?.staked, 5_000_000n);
    const [event] = eventsOf(env, owner.client.program, signature);
    assert.equal(event.name, "stakeDeposited");
    assert.equal(event.data.amount, 3_000_000n);
    assert.equal(event.data.staked, 3_000_000n);
  });

  it("rejects a signer who does not own the provider", async () => {
    const { env, owner, provider, vault } = await registered();
    const intruder = await env.actor();
    const ix = await stakeInstruction(intruder.client.program, { amount: 10n }, {
      owner: intruder.publicKey,
      provider,
      vault,
      ownerToken: intruder.stakeToken,
    });
    const before = snapshot(env, [intruder.stakeToken, vault, owner.stakeToken]);
    await expectProgramError(sendInstructions(intruder.provider, [ix]), "NotProviderOwner");
    assertNothingMoved(env, before);
  });

  it("rejects the owner's key when it did not sign", async () => {
    const { env, owner, provider, vault } = await registered();
    const payer = await env.actor();
    const ix = withoutSignature(
      await stakeInstruction(payer.client.program, { amount: 10n }, { owner: owner.publicKey, provider, vault, ownerToken: owner.stakeToken }),
      owner.publicKey,
    );
    const before = snapshot(env, [owner.stakeToken, vault]);
    await expectProgramError(sendInstructions(payer.provider, [ix]), "MissingSignature");
    assertNothingMoved(env, before);
  });

  it("rejects a vault other than the provider's", async () => {
    const { env, market, owner, provider } = await registered();
    const other = await setupProvider(env, market);
    const ix = await stakeInstruction(owner.client.program, { amount: 10n }, {
      owner: owner.publicKey,
      provider,
      vault: other.vault,
      ownerToken: owner.stakeToken,
    });
    const before = snapshot(env, [owner.stakeToken, other.vault]);
    await expectProgramError(sendInstructions(owner.provider, [ix]), "InvalidVault");
    assertNothingMoved(env, before);
  });

  it("rejects a source account of the wrong mint", async () => {
    const { env, owner, provider, vault } = await registered();
    const before = snapshot(env, [owner.paymentToken, vault]);
    await expectProgramError(owner.client.stake({ provider, amount: 10n, ownerToken: owner.paymentToken }), "WrongMint");
    assertNothingMoved(env, before);
  });

  it("rejects a source account that belongs to someone else", async () => {
    const { env, owner, provider, vault } = await registered();
    const victim = await env.actor();
    const before = snapshot(env, [victim.stakeToken, vault]);
    await expectProgramError(owner.client.stake({ provider, amount: 10n, ownerToken: victim.stakeToken }), "TokenAccountOwnerMismatch");
    assertNothingMoved(env, before);
  });

  it("rejects more than the owner holds", async () => {
    const { env, owner, provider, vault } = await registered();
    const held = env.tokenBalance(owner.stakeToken);
    const before = snapshot(env, [owner.stakeToken, vault]);
    await expectProgramError(owner.client.stake({ provider, amount: held + 1n, ownerToken: owner.stakeToken }), "InsufficientFunds");
    assertNothingMoved(env, before);
  });

  it("rejects a zero amount", async () => {
    const { owner, provider } = await registered();
    await expectProgramError(owner.client.stake({ provider, amount: 0n, ownerToken: owner.stakeToken }), "ZeroAmount");
  });

  it("reports an overflow of the staked total instead of wrapping", async () => {
    // Given a provider whose recorded stake is already u64::MAX
    const { env, owner, provider, vault } = await registered();
    await forgeAccount(env, owner.client.program, provider, "provider", (p) => {
      p.staked = new BN("18446744073709551615");
    });
    const before = snapshot(env, [owner.stakeToken, vault]);
    await expectProgramError(owner.client.stake({ provider, amount: 1n, ownerToken: owner.stakeToken }), "MathOverflow");
    assertNothingMoved(env, before);
  });
});
