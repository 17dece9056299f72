// update_config: only the authority changes the protocol's settings, within the fixed bounds.
import assert from "node:assert/strict";
import { Keypair, PublicKey } from "@solana/web3.js";
import { sendInstructions, updateConfigInstruction, type UpdateConfigArgs } from "@compute-market/sdk";
import { TestEnv, type Actor } from "../../support/env";
import { expectProgramError, snapshot, assertNothingMoved, withoutSignature } from "../../support/assertions";
import { eventsOf } from "../../support/events";

async function configured(): Promise<{ env: TestEnv; authority: Actor }> {
  const env = await TestEnv.create();
  const authority = await env.actor();
  await authority.client.initializeConfig({ protocolFeeBps: 250, treasury: authority.publicKey });
  return { env, authority };
}

function settings(authority: PublicKey, overrides: Partial<UpdateConfigArgs> = {}): UpdateConfigArgs {
  return { protocolFeeBps: 300, treasury: authority, authority, paused: false, ...overrides };
}

describe("update_config", () => {
  it("lets the authority change fee, treasury and pause flag", async () => {
    const { env, authority } = await configured();
    const treasury = Keypair.generate().publicKey;

    const signature = await authority.client.updateConfig(settings(authority.publicKey, { protocolFeeBps: 500, treasury, paused: true }));

    const state = await authority.client.fetchConfig();
    assert.equal(state?.protocolFeeBps, 500);
    assert.ok(state?.treasury.equals(treasury));
    assert.equal(state?.paused, true);
    const [event] = eventsOf(env, authority.client.program, signature);
    assert.equal(event.name, "configUpdated");
    assert.equal(event.data.paused, true);
  });

  it("hands authority over: the new one may update, the old one no longer", async () => {
    const { env, authority } = await configured();
    const successor = await env.actor();

    await authority.client.updateConfig(settings(authority.publicKey, { authority: successor.publicKey }));
    await successor.client.updateConfig(settings(successor.publicKey, { protocolFeeBps: 10 }));

    await expectProgramError(authority.client.updateConfig(settings(authority.publicKey)), "NotAuthority");
    assert.equal((await successor.client.fetchConfig())?.protocolFeeBps, 10);
  });

  it("rejects any signer but the authority", async () => {
    const { env } = await configured();
    const intruder = await env.actor();
    await expectProgramError(
      intruder.client.updateConfig(settings(intruder.publicKey, { protocolFeeBps: 0 })),
      "NotAuthority",
    );
  });

  it("rejects the authority's key when it did not sign", async () => {
    const { env, authority } = await configured();
    const intruder = await env.actor();
    const ix = withoutSignature(
      await updateConfigInstruction(intruder.client.program, settings(intruder.publicKey), {
        authority: authority.publicKey,
        config: intruder.client.configAddress,
      }),
      authority.publicKey,
    );
    await expectProgramError(sendInstructions(intruder.provider, [ix]), "MissingSignature");
    assert.ok((await authority.client.fetchConfig())?.authority.equals(authority.publicKey));
  });

  it("rejects a fee above the program's bound", async () => {
    const { env, authority } = await configured();
    const before = snapshot(env, [authority.client.configAddress]);
    await expectProgramError(authority.client.updateConfig(settings(authority.publicKey, { protocolFeeBps: 1_001 })), "FeeAboveLimit");
    assertNothingMoved(env, before);
    assert.equal((await authority.client.fetchConfig())?.protocolFeeBps, 250);
  });

  it("rejects a copy of the config owned by another program", async () => {
    // Given a byte-for-byte copy of the config that the program does not own
    const { env, authority } = await configured();
    const real = env.ledger.getAccount(authority.client.configAddress)!;
    const forged = Keypair.generate().publicKey;
    env.ledger.setAccount(forged, { ...real, owner: authority.publicKey });

    const ix = await updateConfigInstruction(authority.client.program, settings(authority.publicKey), {
      authority: authority.publicKey,
      config: forged,
    });
    await expectProgramError(sendInstructions(authority.provider, [ix]), "InvalidAccountOwner");
  });

  it("rejects an account of the program that is not a config", async () => {
    // Given a program-owned account of the config's size whose discriminator is not Config's
    const { env, authority } = await configured();
    const real = env.ledger.getAccount(authority.client.configAddress)!;
    const data = Buffer.from(real.data);
    data.fill(0xee, 0, 8);
    const forged = Keypair.generate().publicKey;
    env.ledger.setAccount(forged, { ...real, data });

    const ix = await updateConfigInstruction(authority.client.program, settings(authority.publicKey), {
      authority: authority.publicKey,
      config: forged,
    });
    await expectProgramError(sendInstructions(authority.provider, [ix]), "InvalidDiscriminator");
  });
});
