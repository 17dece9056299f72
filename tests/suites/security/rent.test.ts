// Rent under the older Rent sysvar: the program took the rent-exempt minimum from a helper that
// assumes the newer sysvar (6,960 lamports per byte, threshold 1.0); on a cluster that still holds
// 3,480 lamports per byte-year with a threshold of 2.0 every account it created was half-funded
// and the transaction refused. Now the minimum is computed from the whole sysvar.
import assert from "node:assert/strict";
import type { PublicKey } from "@solana/web3.js";
import type { RentParameters } from "@compute-market/localnet";
import { TestEnv } from "../../support/env";
import { jobInput, setupMarket, setupProvider } from "../../support/fixtures";

/** (128 + data length) × lamports per byte-year × whole years of the threshold, rounded up. */
function exemptMinimum(rent: RentParameters, dataLength: number): bigint {
  return BigInt(128 + dataLength) * rent.lamportsPerByteYear * BigInt(Math.ceil(rent.exemptionThreshold));
}

/** Every account the program creates in a job's life up to a bid, each checked against `rent`. */
async function createEverything(env: TestEnv, rent: RentParameters): Promise<void> {
  const { market, authority } = await setupMarket(env);
  const { owner, provider, vault } = await setupProvider(env, market, 5_000_000n);
  const consumer = await env.actor();
  const { job, escrow } = await consumer.client.postJob(jobInput(market, { consumerToken: consumer.paymentToken }));
  const { bid } = await owner.client.placeBid({ job, price: 1_000_000n });
  const created: PublicKey[] = [authority.client.configAddress, market, provider, vault, job, escrow, bid];
  for (const address of created) {
    const account = env.ledger.getAccount(address);
    assert.ok(account, `${address.toBase58()} exists`);
    const needed = exemptMinimum(rent, account.data.length);
    assert.ok(BigInt(account.lamports) >= needed, `${address.toBase58()} holds ${account.lamports} of the ${needed} lamports it needs`);
  }
}

describe("security: rent-exempt minimum", () => {
  const cases: [string, RentParameters][] = [
    ["the older sysvar (3,480 lamports per byte-year, threshold 2.0)", { lamportsPerByteYear: 3_480n, exemptionThreshold: 2.0, burnPercent: 50 }],
    ["a fractional threshold (1.5, rounded up)", { lamportsPerByteYear: 3_480n, exemptionThreshold: 1.5, burnPercent: 50 }],
    ["the newer sysvar (6,960 lamports per byte, threshold 1.0)", { lamportsPerByteYear: 6_960n, exemptionThreshold: 1.0, burnPercent: 50 }],
  ];
  for (const [name, rent] of cases) {
    it(`funds every account it creates under ${name}`, async () => {
      const env = await TestEnv.create();
      env.ledger.setRent(rent);
      assert.deepEqual(env.ledger.rent(), rent);
      await createEverything(env, rent);
    });
  }
});
