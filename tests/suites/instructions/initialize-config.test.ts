// initialize_config: the protocol's singleton config, created once by its future authority.
import assert from "node:assert/strict";
import { Keypair, SystemProgram } from "@solana/web3.js";
import { initializeConfigInstruction, sendInstructions } from "@compute-market/sdk";
import { TestEnv } from "../../support/env";
import { assertNothingMoved, expectProgramError, snapshot, substitute, withoutSignature } from "../../support/assertions";
import { eventsOf } from "../../support/events";

describe("initialize_config", () => {
  it("creates the config with the signer as authority and emits ConfigInitialized", async () => {
    // Given a fresh cluster and a future authority
    const env = await TestEnv.create();
    const authority = await env.actor();
    const treasury = Keypair.generate().publicKey;

    // When it initializes the config
    const { config, signature } = await authority.client.initializeConfig({ protocolFeeBps: 250, treasury });

    // Then the config holds its settings and the event says so
    const state = await authority.client.fetchConfig();
    assert.ok(state);
    assert.ok(state.authority.equals(authority.publicKey));
    assert.ok(state.treasury.equals(treasury));
    assert.equal(state.protocolFeeBps, 250);
    assert.equal(state.paused, false);
    assert.equal(state.marketCount, 0n);
    assert.ok(config.equals(authority.client.configAddress));
    const [event] = eventsOf(env, authority.client.program, signature);
    assert.equal(event.name, "configInitialized");
    assert.equal(event.data.protocolFeeBps, 250);
  });

  it("rejects a protocol fee above 10 %", async () => {
    const env = await TestEnv.create();
    const authority = await env.actor();
    const before = snapshot(env, [authority.client.configAddress]);
    await expectProgramError(
      authority.client.initializeConfig({ protocolFeeBps: 1_001, treasury: authority.publicKey }),
      "FeeAboveLimit",
    );
    assertNothingMoved(env, before);
  });

  it("rejects a second initialization, by anyone", async () => {
    const env = await TestEnv.create();
    const first = await env.actor();
    const second = await env.actor();
    await first.client.initializeConfig({ protocolFeeBps: 250, treasury: first.publicKey });
    await expectProgramError(
      second.client.initializeConfig({ protocolFeeBps: 0, treasury: second.publicKey }),
      "AccountAlreadyInitialized",
    );
    const state = await first.client.fetchConfig();
    assert.ok(state?.authority.equals(first.publicKey));
  });

  it("rejects a config address that is not the PDA of [\"config\"]", async () => {
    const env = await TestEnv.create();
    const authority = await env.actor();
    const fake = Keypair.generate();
    const ix = substitute(
      await initializeConfigInstruction(
        authority.client.program,
        { protocolFeeBps: 250, treasury: authority.publicKey },
        { authority: authority.publicKey, config: authority.client.configAddress },
      ),
      authority.client.configAddress,
      fake.publicKey,
    );
    await expectProgramError(sendInstructions(authority.provider, [ix]), "InvalidPda");
    assert.equal(env.exists(fake.publicKey), false);
  });

  it("rejects an authority that did not sign", async () => {
    const env = await TestEnv.create();
    const authority = await env.actor();
    const payer = await env.actor();
    const ix = withoutSignature(
      await initializeConfigInstruction(
        payer.client.program,
        { protocolFeeBps: 250, treasury: authority.publicKey },
        { authority: authority.publicKey, config: payer.client.configAddress },
      ),
      authority.publicKey,
    );
    await expectProgramError(sendInstructions(payer.provider, [ix]), "MissingSignature");
    assert.equal(env.exists(payer.client.configAddress), false);
  });

  it("rejects a substitute for the system program", async () => {
    const env = await TestEnv.create();
    const authority = await env.actor();
    const ix = substitute(
      await initializeConfigInstruction(
        authority.client.program,
        { protocolFeeBps: 250, treasury: authority.publicKey },
        { authority: authority.publicKey, config: authority.client.configAddress },
      ),
      SystemProgram.programId,
      Keypair.generate().publicKey,
    );
    await expectProgramError(sendInstructions(authority.provider, [ix]), "InvalidProgramAccount");
  });

  it("still claims a config address that someone pre-funded with lamports", async () => {
    // Given the config PDA already holds lamports (a denial-of-service attempt on create_account)
    const env = await TestEnv.create();
    const authority = await env.actor();
    env.ledger.airdrop(authority.client.configAddress, 1_000n);

    // When the authority initializes
    await authority.client.initializeConfig({ protocolFeeBps: 100, treasury: authority.publicKey });

    // Then the config exists, owned by the program, rent-exempt
    const info = env.ledger.getAccount(authority.client.configAddress);
    assert.ok(info?.owner.equals(env.programId));
    assert.ok(BigInt(info!.lamports) >= env.ledger.minimumBalanceForRentExemption(info!.data.length));
  });
});
