// The provider's configuration: defaults, layers, strategies from JSON, and clear errors.
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { loadConfig } from "@compute-market/common";
import { PROVIDER_ENV, ProviderConfigSchema } from "../../app/provider/src/config";

describe("provider configuration", () => {
  afterEach(() => {
    delete process.env.PROVIDER_PORT;
    delete process.env.PROVIDER_STRATEGY;
  });

  it("has sane defaults", () => {
    const config = ProviderConfigSchema.parse({});
    assert.equal(config.url, "http://127.0.0.1:8899");
    assert.equal(config.keypair, "~/.config/solana/id.json");
    assert.equal(config.port, 9470);
    assert.deepEqual(config.strategy, { name: "fixed-floor", price: 1_000_000n });
    assert.deepEqual(config.blobSources, []);
  });

  it("layers file < environment < flags, and reads a strategy from JSON text", () => {
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), "cfg-")), "provider.json");
    writeFileSync(file, JSON.stringify({ port: 1000, tickMs: 250, strategy: { name: "utilisation-markup", costPerUnitSlot: "1500000" } }));
    process.env.PROVIDER_PORT = "2000";
    const config = loadConfig(ProviderConfigSchema, { file, env: PROVIDER_ENV, flags: { tickMs: 500 } as never });
    assert.equal(config.port, 2000);
    assert.equal(config.tickMs, 500);
    assert.deepEqual(config.strategy, { name: "utilisation-markup", costPerUnitSlot: 1_500_000n, baseMarkupBps: 1_000, utilisationMarkupBps: 5_000, ceiling: 0.9, undercutBps: 100 });
    process.env.PROVIDER_STRATEGY = '{"name":"fixed-floor","price":"42"}';
    assert.deepEqual(loadConfig(ProviderConfigSchema, { env: PROVIDER_ENV, flags: {} }).strategy, { name: "fixed-floor", price: 42n });
  });

  it("names the field that is wrong", () => {
    assert.throws(() => loadConfig(ProviderConfigSchema, { env: PROVIDER_ENV, flags: { port: "http" } as never }), /port/);
    assert.throws(() => loadConfig(ProviderConfigSchema, { env: PROVIDER_ENV, flags: { strategy: "{nope" } as never }), /strategy must be JSON/);
    assert.throws(() => loadConfig(ProviderConfigSchema, { env: PROVIDER_ENV, flags: { strategy: '{"name":"fixed-floor","price":"-1"}' } as never }), /strategy\.price/);
    assert.throws(() => loadConfig(ProviderConfigSchema, { env: PROVIDER_ENV, flags: { blobSources: "not a url" } as never }), /blobSources/);
  });
});
