// The program on agave's solana-test-validator (`npm run test:validator`, which starts it with our
// built .so) beside our local cluster: one job's whole life through the SDK and its transaction
// layer on each, the same payouts to the token, and the compute units of each instruction side by
// side (printed as a table). The validator's URL comes from VALIDATOR_URL.
import assert from "node:assert/strict";
import { DEFAULT_PROGRAM_ID } from "@compute-market/sdk";
import { startLocalCluster } from "@compute-market/localnet";
import { PROGRAM_PATH } from "../support/env";
import { runMarketFlow, type FlowResult } from "../support/market-flow";
import { protocol } from "./protocol";

const VALIDATOR_URL = process.env.VALIDATOR_URL;

describe("the program on solana-test-validator", function () {
  this.timeout(300_000);
  let validator: FlowResult;
  let local: FlowResult;

  before(function () {
    if (!VALIDATOR_URL) throw new Error("VALIDATOR_URL is not set: run this suite through `npm run test:validator`");
  });

  it("runs a job from posting to payout on the real validator", async () => {
    validator = await runMarketFlow(VALIDATOR_URL!);
    protocol.authority = validator.authority;
    assert.equal(validator.providerPaid, 700_000n, "the provider is paid its bid");
    assert.ok(validator.consumerRefund > 0n, "the consumer gets back what the price did not use");
  });

  it("pays exactly as on our local cluster, and prints the compute units of both", async () => {
    const cluster = await startLocalCluster({ port: 0, slotMs: 50, programs: [{ programId: DEFAULT_PROGRAM_ID, path: PROGRAM_PATH }] });
    try {
      local = await runMarketFlow(cluster.url);
    } finally {
      await cluster.close();
    }
    assert.deepEqual(
      { provider: validator.providerPaid, consumer: validator.consumerRefund, treasury: validator.treasuryFee },
      { provider: local.providerPaid, consumer: local.consumerRefund, treasury: local.treasuryFee },
    );
    console.log("\n| instruction | solana-test-validator CU | local cluster (LiteSVM) CU | difference |");
    console.log("|---|---:|---:|---:|");
    for (const [name, units] of validator.units) {
      const other = local.units.get(name) ?? 0;
      console.log(`| ${name} | ${units} | ${other} | ${units - other} |`);
    }
    console.log(`\nflow wall time: validator ${(validator.ms / 1000).toFixed(1)} s, local cluster ${(local.ms / 1000).toFixed(1)} s\n`);
    assert.deepEqual([...validator.units.keys()], [...local.units.keys()]);
  });

  it("finalizes a job with seven winners through a lookup table the SDK creates and extends", async () => {
    const started = Date.now();
    const result = await runMarketFlow(VALIDATOR_URL!, { replication: 7, authority: validator.authority });
    assert.deepEqual(result.providersPaid, Array(7).fill(700_000n));
    assert.equal(result.lookupTables.created, 1);
    console.log(`\nseven winners: finalize ${result.units.get("finalize")} CU, ${result.lookupTables.addressesAdded} addresses put in a lookup table, flow ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  });
});
