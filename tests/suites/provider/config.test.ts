// The provider's configuration: defaults, layers, strategies from JSON, and clear errors.
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { Keypair } from "@solana/web3.js";
import { loadConfig } from "@compute-market/common";
import { PROVIDER_ENV, ProviderConfigSchema, reserveOf } from "../../../app/provider/src/config";
import { createStrategy } from "../../../app/provider/src/strategy";

const flags = (values: Record<string, unknown>) => values as never;

function configFile(contents: unknown): string {
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), "cfg-")), "provider.json");
  writeFileSync(file, JSON.stringify(contents));
  return file;
}

describe("provider configuration", () => {
  const touched = ["PROVIDER_PORT", "PROVIDER_STRATEGY", "PROVIDER_MARKET", "PROVIDER_RESERVE_MEMORY_MB", "LOG_LEVEL"];
  afterEach(() => {
    for (const name of touched) delete process.env[name];
  });

  it("has sane defaults", () => {
    const config = ProviderConfigSchema.parse({});
    assert.equal(config.url, "http://127.0.0.1:8899");
    assert.equal(config.wsUrl, undefined);
    assert.equal(config.keypair, "~/.config/solana/id.json");
    assert.equal(config.market, undefined, "only chain commands need a market");
    assert.equal(config.host, "127.0.0.1");
    assert.equal(config.port, 9470);
    assert.equal(config.statusPort, 9471);
    assert.equal(config.workDir, "~/.compute-market/provider");
    assert.equal(config.dockerSocket, "/var/run/docker.sock");
    assert.deepEqual(config.strategy, { name: "fixed-floor", price: 1_000_000n });
    assert.equal(config.region, 0);
    assert.deepEqual(reserveOf(config), { cpuCores: 0, memoryMb: 512, diskGb: 5 });
    assert.equal(config.maxConcurrentJobs, 2);
    assert.equal(config.tickMs, 1_000);
    assert.equal(config.logLevel, "info");
    assert.deepEqual(config.blobSources, []);
  });

  it("binds every field to an environment variable", () => {
    assert.deepEqual(Object.keys(PROVIDER_ENV).sort(), Object.keys(ProviderConfigSchema.shape).sort());
    for (const [field, variable] of Object.entries(PROVIDER_ENV)) {
      if (field !== "logLevel") assert.match(variable, /^PROVIDER_[A-Z_]+$/, field);
    }
    assert.equal(PROVIDER_ENV.logLevel, "LOG_LEVEL", "shared with the other services");
  });

  it("layers file < environment < flags, and reads a strategy from JSON text", () => {
    // Given a file, an environment variable and a flag that overlap
    const file = configFile({ port: 1000, tickMs: 250, reserveMemoryMb: 1024, strategy: { name: "utilisation-markup", costPerUnitSlot: "1500000" } });
    process.env.PROVIDER_PORT = "2000";
    process.env.PROVIDER_RESERVE_MEMORY_MB = "";

    // When they are loaded
    const config = loadConfig(ProviderConfigSchema, { file, env: PROVIDER_ENV, flags: flags({ tickMs: 500 }) });

    // Then the environment beats the file, flags beat both, an empty variable counts as unset
    assert.equal(config.port, 2000);
    assert.equal(config.tickMs, 500);
    assert.equal(config.reserveMemoryMb, 1024);
    assert.deepEqual(config.strategy, { name: "utilisation-markup", costPerUnitSlot: 1_500_000n, baseMarkupBps: 1_000, utilisationMarkupBps: 5_000, ceiling: 0.9, undercutBps: 100 });

    // And a strategy given as JSON text in the environment is parsed
    process.env.PROVIDER_STRATEGY = '{"name":"fixed-floor","price":"42"}';
    assert.deepEqual(loadConfig(ProviderConfigSchema, { env: PROVIDER_ENV, flags: {} }).strategy, { name: "fixed-floor", price: 42n });
  });

  it("reads prices past 2^53 exactly, and builds the configured strategy", () => {
    const config = ProviderConfigSchema.parse({ strategy: '{"name":"fixed-floor","price":"18446744073709551615"}' });
    assert.deepEqual(config.strategy, { name: "fixed-floor", price: 18_446_744_073_709_551_615n });
    assert.equal(createStrategy(config.strategy).name, "fixed-floor");
    assert.deepEqual(ProviderConfigSchema.parse({ strategy: { name: "fixed-floor", price: 600_000 } }).strategy, { name: "fixed-floor", price: 600_000n }, "a JSON number is accepted when exact");
  });

  it("accepts a market as a base58 address", () => {
    const market = Keypair.generate().publicKey.toBase58();
    process.env.PROVIDER_MARKET = market;
    assert.equal(loadConfig(ProviderConfigSchema, { env: PROVIDER_ENV, flags: {} }).market, market);
  });

  it("names the field that is wrong", () => {
    const load = (values: Record<string, unknown>) => () => loadConfig(ProviderConfigSchema, { env: PROVIDER_ENV, flags: flags(values) });
    assert.throws(load({ port: "http" }), /port/);
    assert.throws(load({ market: "not-an-address" }), /market: must be a base58 account address/);
    assert.throws(load({ programId: "0OIl" }), /programId: must be a base58 account address/);
    assert.throws(load({ strategy: "{nope" }), /strategy must be JSON/);
    assert.throws(load({ strategy: '{"name":"fixed-floor","price":"-1"}' }), /strategy\.price/);
    assert.throws(load({ strategy: '{"name":"fixed-floor","price":"0"}' }), /strategy\.price: must be positive/);
    assert.throws(load({ strategy: '{"name":"fixed-floor","price":"18446744073709551616"}' }), /strategy\.price: must fit in a u64/);
    assert.throws(load({ strategy: { name: "fixed-floor", price: 2 ** 60 } }), /strategy\.price/, "an inexact JSON number");
    assert.throws(load({ strategy: '{"name":"utilisation-markup","costPerUnitSlot":"1","ceiling":1.5}' }), /strategy\.ceiling/);
    assert.throws(load({ strategy: '{"name":"auction-sniper"}' }), /strategy/);
    assert.throws(load({ blobSources: "not a url" }), /blobSources/);
    assert.throws(load({ maxConcurrentJobs: "0" }), /maxConcurrentJobs/);
    assert.throws(load({ logLevel: "loud" }), /logLevel/);
  });
});
