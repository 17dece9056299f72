// The RPC conformance checks (tests/support/rpc-conformance.ts) against our local cluster; the
// validator suite runs the same checks against solana-test-validator.
import { Connection, Keypair, LAMPORTS_PER_SOL } from "@solana/web3.js";
import { DEFAULT_PROGRAM_ID } from "@compute-market/sdk";
import { startLocalCluster, type LocalCluster } from "@compute-market/localnet";
import { PROGRAM_PATH } from "../../support/env";
import { CONFORMANCE } from "../../support/rpc-conformance";

const SLOT_MS = 50;

describe("local cluster: RPC conformance", function () {
  this.timeout(60_000);
  let cluster: LocalCluster;
  let connection: Connection;
  const payer = Keypair.generate();
  before(async () => {
    cluster = await startLocalCluster({ port: 0, slotMs: SLOT_MS, programs: [{ programId: DEFAULT_PROGRAM_ID, path: PROGRAM_PATH }] });
    connection = new Connection(cluster.url, "confirmed");
    cluster.ledger.airdrop(payer.publicKey, 10n * BigInt(LAMPORTS_PER_SOL));
  });
  after(async () => {
    await cluster.close();
  });
  for (const check of CONFORMANCE) it(check.name, () => check.run({ url: cluster.url, connection, payer, slotMs: SLOT_MS }));
});
