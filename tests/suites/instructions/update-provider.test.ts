// update_provider: an operator re-registers its hardware or endpoint; nobody else can, and the
// new spec must still meet the market's class.
import assert from "node:assert/strict";
import { ENDPOINT_LEN, encodeHardwareSpec, endpointText, labelText, sendInstructions, updateProviderInstruction } from "@compute-market/sdk";
import { TestEnv } from "../../support/env";
import { expectProgramError, readOnly, withoutSignature } from "../../support/assertions";
import { eventsOf } from "../../support/events";
import { GPU_BOX, MARKET_CLASS, MARKET_PARAMS, setupMarket, setupProvider } from "../../support/fixtures";

const BIGGER_BOX = { ...GPU_BOX, gpuCount: GPU_BOX.gpuCount + 4, cpuCores: GPU_BOX.cpuCores * 2 };

async function setup() {
  const env = await TestEnv.create();
  const { market, authority } = await setupMarket(env);
  const { owner, provider } = await setupProvider(env, market, 0n);
  return { env, market, authority, owner, provider };
}

describe("update_provider", () => {
  it("replaces the hardware spec and the endpoint, and emits the new spec", async () => {
    const { env, owner, provider } = await setup();
    const before = await owner.client.fetchProvider(provider);

    const signature = await owner.client.updateProvider({ provider, spec: BIGGER_BOX, endpoint: "https://moved.example:8443" });

    const after = await owner.client.fetchProvider(provider);
    assert.ok(before && after);
    assert.equal(after.spec.gpuCount, BIGGER_BOX.gpuCount);
    assert.equal(after.spec.cpuCores, BIGGER_BOX.cpuCores);
    assert.equal(labelText(after.spec.gpuModel), "H100");
    assert.equal(endpointText(after.endpoint), "https://moved.example:8443");
    assert.equal(after.staked, before.staked);
    assert.equal(after.registeredSlot, before.registeredSlot);
    const [event] = eventsOf(env, owner.client.program, signature);
    assert.equal(event.name, "providerUpdated");
    assert.equal(event.data.spec.gpuCount, BIGGER_BOX.gpuCount);
  });

  it("refuses anyone but the owner", async () => {
    const { env, market, owner, provider } = await setup();
    const intruder = await env.actor();
    const ix = await updateProviderInstruction(intruder.client.program, { spec: BIGGER_BOX, endpoint: "https://evil.example" }, { owner: intruder.publicKey, provider, market });
    await expectProgramError(sendInstructions(intruder.provider, [ix]), "NotProviderOwner");
    assert.equal(endpointText((await owner.client.fetchProvider(provider))!.endpoint), "https://node.example/api");
  });

  it("refuses an owner that did not sign", async () => {
    const { env, market, owner, provider } = await setup();
    const payer = await env.actor();
    const ix = withoutSignature(
      await updateProviderInstruction(payer.client.program, { spec: BIGGER_BOX, endpoint: "https://x.example" }, { owner: owner.publicKey, provider, market }),
      owner.publicKey,
    );
    await expectProgramError(sendInstructions(payer.provider, [ix]), "MissingSignature");
  });

  it("refuses a provider account passed read-only", async () => {
    const { market, owner, provider } = await setup();
    const ix = readOnly(await updateProviderInstruction(owner.client.program, { spec: BIGGER_BOX, endpoint: "https://x.example" }, { owner: owner.publicKey, provider, market }), provider);
    await expectProgramError(sendInstructions(owner.provider, [ix]), "AccountNotWritable");
  });

  it("refuses a market other than the provider's", async () => {
    const { env, authority, owner, provider } = await setup();
    const { market: other } = await authority.client.createMarket({ class: MARKET_CLASS, params: MARKET_PARAMS, paymentMint: env.paymentMint, stakeMint: env.stakeMint });
    const ix = await updateProviderInstruction(owner.client.program, { spec: BIGGER_BOX, endpoint: "https://x.example" }, { owner: owner.publicKey, provider, market: other });
    await expectProgramError(sendInstructions(owner.provider, [ix]), "MarketMismatch");
  });

  it("refuses an account that is not a provider", async () => {
    const { market, owner } = await setup();
    const ix = await updateProviderInstruction(owner.client.program, { spec: BIGGER_BOX, endpoint: "https://x.example" }, { owner: owner.publicKey, provider: market, market });
    await expectProgramError(sendInstructions(owner.provider, [ix]), "InvalidAccountData");
  });

  it("refuses hardware below the market's class, an inconsistent spec and a bad endpoint", async () => {
    const { owner, provider } = await setup();
    await expectProgramError(owner.client.updateProvider({ provider, spec: { ...GPU_BOX, vramMb: 8_192 }, endpoint: "https://x.example" }), "HardwareBelowMarketClass");
    await expectProgramError(owner.client.updateProvider({ provider, spec: { ...GPU_BOX, cpuCores: 0 }, endpoint: "https://x.example" }), "InvalidHardwareSpec");
    const market = (await owner.client.fetchProvider(provider))!.market;
    const ix = await owner.client.program.methods
      .updateProvider(encodeHardwareSpec(GPU_BOX), new Array<number>(ENDPOINT_LEN).fill(0))
      .accountsPartial({ owner: owner.publicKey, provider, market })
      .instruction();
    await expectProgramError(sendInstructions(owner.provider, [ix]), "InvalidEndpoint");
    assert.equal((await owner.client.fetchProvider(provider))!.spec.cpuCores, GPU_BOX.cpuCores);
  });
});
