// A service lease on agave's solana-test-validator beside our local cluster: the watchdog's
// acknowledgements verified by the real Ed25519 program and read back by the program through the
// real instructions sysvar; claims refused for another key's signature, a replay and a slot not
// come yet; the lease settled, every token accounted for, and each instruction's compute units
// side by side. The validator's URL comes from VALIDATOR_URL.
import assert from "node:assert/strict";
import { DEFAULT_PROGRAM_ID } from "@compute-market/sdk";
import { startLocalCluster } from "@compute-market/localnet";
import { PROGRAM_PATH } from "../support/env";
import { runServiceFlow, type ServiceFlowResult } from "../support/service-flow";
import { protocol } from "./protocol";

const VALIDATOR_URL = process.env.VALIDATOR_URL;

/** What the lease's slots say each party gets, checked against what it got. */
function assertSettled(flow: ServiceFlowResult, where: string): void {
  assert.equal(flow.firstClaimPaid, flow.rate * flow.firstClaimSlots, `${where}: the first claim pays its acknowledged slots`);
  assert.equal(flow.ownerPaid, flow.rate * (flow.endedSlot - flow.startedSlot), `${where}: paid from the start to the end, not past it`);
  assert.equal(flow.treasuryFee, (flow.ownerPaid * BigInt(flow.feeBps)) / 10_000n, `${where}: the protocol fee on the pay`);
  assert.equal(flow.keeperFee, flow.crankFee, `${where}: the closing keeper's crank fee`);
  assert.equal(flow.consumerRefund, flow.deposit - flow.ownerPaid - flow.treasuryFee - flow.crankFee, `${where}: the rest of the deposit back`);
  assert.match(flow.refusals.otherKey, /InvalidAcknowledgement/, `${where}: another key's signature`);
  assert.match(flow.refusals.replay, /StaleAcknowledgement/, `${where}: a replay`);
  assert.match(flow.refusals.ahead, /AcknowledgementAhead/, `${where}: a slot not come yet`);
  assert.equal(flow.movedByRefusals, 0n, `${where}: the refused claims moved nothing`);
  assert.ok(flow.jobClosed, `${where}: the last replica's close settled the lease`);
}

describe("a service lease on solana-test-validator", function () {
  this.timeout(300_000);
  let validator: ServiceFlowResult;

  before(function () {
    if (!VALIDATOR_URL) throw new Error("VALIDATOR_URL is not set: run this suite through `npm run test:validator`");
  });

  it("claims acknowledged time through the Ed25519 program, refuses forged, replayed and future acknowledgements, and settles", async () => {
    const flow = await runServiceFlow(VALIDATOR_URL!, protocol.authority ?? undefined);
    protocol.authority = flow.authority;
    validator = flow;
    assertSettled(flow, "validator");
  });

  it("settles the same way on our local cluster, and prints the compute units of both", async () => {
    const cluster = await startLocalCluster({ port: 0, slotMs: 50, programs: [{ programId: DEFAULT_PROGRAM_ID, path: PROGRAM_PATH }] });
    let local: ServiceFlowResult;
    try {
      local = await runServiceFlow(cluster.url);
    } finally {
      await cluster.close();
    }
    assertSettled(local, "local cluster");
    console.log("\n| instruction | solana-test-validator CU | local cluster (LiteSVM) CU | difference |");
    console.log("|---|---:|---:|---:|");
    for (const [name, units] of validator.units) {
      const other = local.units.get(name) ?? 0;
      console.log(`| ${name} | ${units} | ${other} | ${units - other} |`);
    }
    assert.deepEqual([...validator.units.keys()], [...local.units.keys()]);
  });
});
