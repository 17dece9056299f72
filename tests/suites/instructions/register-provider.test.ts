// register_provider: an operator joins a market with hardware that meets its class.
import assert from "node:assert/strict";
import { Keypair } from "@solana/web3.js";
import { getAccount } from "@solana/spl-token";
import {
  ENDPOINT_LEN,
  encodeHardwareSpec,
  endpointText,
  findProviderPda,
  findStakeVaultPda,
  labelText,
  registerProviderInstruction,
  sendInstructions,
  type RegisterProviderAccounts,
} from "@compute-market/sdk";
import { TestEnv, type Actor } from "../../support/env";
import { assertNothingMoved, expectProgramError, snapshot, withoutSignature } from "../../support/assertions";
import { eventsOf } from "../../support/events";
import { GPU_BOX, setupMarket } from "../../support/fixtures";

const ENDPOINT = "https://node.example";

function addresses(env: TestEnv, market: RegisterProviderAccounts["market"], owner: Actor): RegisterProviderAccounts {
  const provider = findProviderPda({ market, owner: owner.publicKey, programId: env.programId })[0];
  return {
    owner: owner.publicKey,
    market,
    provider,
    vault: findStakeVaultPda({ provider, programId: env.programId })[0],
    stakeMint: env.stakeMint,
  };
}

describe("register_provider", () => {
  it("registers the hardware and creates a stake vault owned by the provider PDA", async () => {
    const env = await TestEnv.create();
    const { market } = await setupMarket(env);
    const owner = await env.actor();

    const { provider, vault, signature } = await owner.client.registerProvider({ market, spec: GPU_BOX, endpoint: "https://gpu.example" });

    const state = await owner.client.fetchProvider(provider);
    assert.ok(state);
    assert.ok(state.owner.equals(owner.publicKey));
    assert.ok(state.market.equals(market));
    assert.ok(state.vault.equals(vault));
    assert.equal(labelText(state.spec.gpuModel), "H100");
    assert.equal(state.spec.vramMb, GPU_BOX.vramMb);
    assert.equal(state.staked, 0n);
    assert.equal(endpointText(state.endpoint), "https://gpu.example");
    const vaultAccount = await getAccount(owner.provider.connection, vault);
    assert.ok(vaultAccount.owner.equals(provider));
    assert.ok(vaultAccount.mint.equals(env.stakeMint));
    assert.equal((await owner.client.fetchMarket(market))?.providerCount, 1n);
    const [event] = eventsOf(env, owner.client.program, signature);
    assert.equal(event.name, "providerRegistered");
    assert.ok(event.data.owner.equals(owner.publicKey));
  });

  it("rejects hardware below the market's class", async () => {
    const env = await TestEnv.create();
    const { market } = await setupMarket(env);
    const owner = await env.actor();
    await expectProgramError(
      owner.client.registerProvider({ market, spec: { ...GPU_BOX, vramMb: 8_192 }, endpoint: "x" }),
      "HardwareBelowMarketClass",
    );
    assert.equal(env.exists(owner.client.providerAddress(market)), false);
  });

  it("rejects a spec that claims GPU memory without GPUs", async () => {
    const env = await TestEnv.create();
    const { market } = await setupMarket(env);
    const owner = await env.actor();
    await expectProgramError(
      owner.client.registerProvider({ market, spec: { ...GPU_BOX, gpuModel: "", gpuCount: 0 }, endpoint: "x" }),
      "InvalidHardwareSpec",
    );
  });

  it("rejects a second registration of the same owner (replay)", async () => {
    const env = await TestEnv.create();
    const { market } = await setupMarket(env);
    const owner = await env.actor();
    await owner.client.registerProvider({ market, spec: GPU_BOX, endpoint: "x" });
    await expectProgramError(owner.client.registerProvider({ market, spec: GPU_BOX, endpoint: "y" }), "AccountAlreadyInitialized");
    assert.equal((await owner.client.fetchMarket(market))?.providerCount, 1n);
  });

  it("rejects a stake mint other than the market's", async () => {
    const env = await TestEnv.create();
    const { market } = await setupMarket(env);
    const owner = await env.actor();
    const ix = await registerProviderInstruction(
      owner.client.program,
      { spec: GPU_BOX, endpoint: ENDPOINT },
      { ...addresses(env, market, owner), stakeMint: env.paymentMint },
    );
    await expectProgramError(sendInstructions(owner.provider, [ix]), "WrongMint");
  });

  it("rejects a provider address derived for another owner", async () => {
    const env = await TestEnv.create();
    const { market } = await setupMarket(env);
    const owner = await env.actor();
    const victim = await env.actor();
    const victimAddresses = addresses(env, market, victim);
    const ix = await registerProviderInstruction(
      owner.client.program,
      { spec: GPU_BOX, endpoint: ENDPOINT },
      { ...victimAddresses, owner: owner.publicKey },
    );
    const before = snapshot(env, [victimAddresses.provider, victimAddresses.vault]);
    await expectProgramError(sendInstructions(owner.provider, [ix]), "InvalidPda");
    assertNothingMoved(env, before);
  });

  it("rejects a vault address that is not the provider's stake PDA", async () => {
    const env = await TestEnv.create();
    const { market } = await setupMarket(env);
    const owner = await env.actor();
    const ix = await registerProviderInstruction(
      owner.client.program,
      { spec: GPU_BOX, endpoint: ENDPOINT },
      { ...addresses(env, market, owner), vault: Keypair.generate().publicKey },
    );
    await expectProgramError(sendInstructions(owner.provider, [ix]), "InvalidPda");
  });

  it("rejects an owner that did not sign", async () => {
    const env = await TestEnv.create();
    const { market } = await setupMarket(env);
    const owner = await env.actor();
    const payer = await env.actor();
    const ix = withoutSignature(
      await registerProviderInstruction(payer.client.program, { spec: GPU_BOX, endpoint: ENDPOINT }, addresses(env, market, owner)),
      owner.publicKey,
    );
    await expectProgramError(sendInstructions(payer.provider, [ix]), "MissingSignature");
  });

  it("rejects a market that is not a market", async () => {
    const env = await TestEnv.create();
    const { authority } = await setupMarket(env);
    const owner = await env.actor();
    const config = authority.client.configAddress;
    const ix = await registerProviderInstruction(
      owner.client.program,
      { spec: GPU_BOX, endpoint: ENDPOINT },
      addresses(env, config, owner),
    );
    await expectProgramError(sendInstructions(owner.provider, [ix]), "InvalidAccountData");
  });

  it("rejects an empty endpoint and one with bytes hidden after its padding", async () => {
    const env = await TestEnv.create();
    const { market } = await setupMarket(env);
    const owner = await env.actor();
    const hiddenTail = new Array<number>(ENDPOINT_LEN).fill(0);
    hiddenTail[0] = 0x68;
    hiddenTail[60] = 0x7a;
    for (const endpoint of [new Array<number>(ENDPOINT_LEN).fill(0), hiddenTail]) {
      const ix = await owner.client.program.methods
        .registerProvider(encodeHardwareSpec(GPU_BOX), endpoint)
        .accountsPartial(addresses(env, market, owner))
        .instruction();
      await expectProgramError(sendInstructions(owner.provider, [ix]), "InvalidEndpoint");
    }
    assert.throws(() => registerProviderInstruction(owner.client.program, { spec: GPU_BOX, endpoint: "x".repeat(97) }, addresses(env, market, owner)), /endpoint must be 1 to 96 bytes/);
  });
});
