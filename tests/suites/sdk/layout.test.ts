// The account field offsets the SDK's `memcmp` filters use are worked out from the IDL: checked
// here against real accounts, field by field, for every public key of the config, a market and a
// provider (a wrong size anywhere before a field moves it).
import assert from "node:assert/strict";
import { PublicKey } from "@solana/web3.js";
import { accountFieldOffset } from "@compute-market/sdk";
import idl from "../../../app/sdk/src/generated/compute_market.json";
import { startClusterMarket, type ClusterMarket } from "../../support/cluster-market";

const pubkeyFields = (account: string): string[] =>
  (idl.types.find((type) => type.name === account)!.type as { fields: { name: string; type: unknown }[] }).fields.filter((field) => field.type === "pubkey").map((field) => field.name);
const camel = (name: string) => name.replace(/_([a-z])/g, (_, letter: string) => letter.toUpperCase());

describe("account field offsets from the IDL", () => {
  let env: ClusterMarket;
  before(async () => {
    env = await startClusterMarket();
  });
  after(async () => {
    await env.close();
  });

  async function checkAccount(account: string, address: PublicKey, decoded: Record<string, unknown>): Promise<number> {
    const data = (await env.connection.getAccountInfo(address))!.data;
    const fields = pubkeyFields(account);
    for (const field of fields) {
      const offset = accountFieldOffset(account, field);
      assert.equal((decoded[camel(field)] as PublicKey).toBase58(), new PublicKey(data.subarray(offset, offset + 32)).toBase58(), `${account}.${field} at ${offset}`);
    }
    return fields.length;
  }

  it("finds every public key of the config, a market and a provider where the account holds it", async () => {
    const owner = await env.wallet({ stake: 100_000n });
    const { provider } = await owner.client.registerProvider({ market: env.market, spec: { cpuCores: 1, memoryMb: 1, diskGb: 1, gpuCount: 0, vramMb: 0 }, endpoint: "http://127.0.0.1:1" });
    const client = env.authority.client;
    let checked = 0;
    checked += await checkAccount("Config", client.configAddress, (await client.fetchConfig())! as unknown as Record<string, unknown>);
    checked += await checkAccount("Market", env.market, (await client.fetchMarket(env.market))! as unknown as Record<string, unknown>);
    checked += await checkAccount("Provider", provider, (await client.fetchProvider(provider))! as unknown as Record<string, unknown>);
    assert.ok(checked >= 8, `${checked} fields checked`);
    assert.equal(accountFieldOffset("Provider", "market"), 42);
    assert.equal(accountFieldOffset("Dispute", "job"), 12);
  });

  it("refuses a field that does not exist", () => {
    assert.throws(() => accountFieldOffset("Provider", "nope"), /no field nope/);
  });
});
