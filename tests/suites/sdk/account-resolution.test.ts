// Before sending, the SDK resolves every account an instruction names from the chain; one that is
// not there is a typed `MissingAccountError` naming its kind and address, and nothing is sent.
import assert from "node:assert/strict";
import { AnchorProvider, Wallet } from "@coral-xyz/anchor";
import { Connection, Keypair, LAMPORTS_PER_SOL } from "@solana/web3.js";
import { ComputeMarketClient, DEFAULT_PROGRAM_ID, MissingAccountError } from "@compute-market/sdk";
import { startLocalCluster, type LocalCluster } from "@compute-market/localnet";
import { PROGRAM_PATH } from "../../support/env";

describe("account resolution in the SDK", () => {
  let cluster: LocalCluster;
  let client: ComputeMarketClient;
  let sent = 0;
  before(async () => {
    cluster = await startLocalCluster({ port: 0, slotMs: 0, programs: [{ programId: DEFAULT_PROGRAM_ID, path: PROGRAM_PATH }] });
    const keypair = Keypair.generate();
    cluster.ledger.airdrop(keypair.publicKey, BigInt(LAMPORTS_PER_SOL));
    client = new ComputeMarketClient(new AnchorProvider(new Connection(cluster.url, "confirmed"), new Wallet(keypair), { commitment: "confirmed" }), {
      transactions: { onReport: () => void (sent += 1) },
    });
  });
  after(async () => {
    await cluster.close();
  });

  const missing = (kind: string, address: string) => (error: unknown) => error instanceof MissingAccountError && error.kind === kind && error.address === address;

  it("names a job that does not exist, for every crank on it", async () => {
    const job = Keypair.generate().publicKey;
    await assert.rejects(client.finalize({ job }), missing("job", job.toBase58()));
    await assert.rejects(client.award({ job }), missing("job", job.toBase58()));
    await assert.rejects(client.expireJob({ job }), missing("job", job.toBase58()));
    await assert.rejects(client.failNoShow({ job, provider: Keypair.generate().publicKey }), missing("job", job.toBase58()));
    assert.equal(sent, 0, "nothing was sent");
  });

  it("names a dispute that does not exist, and a config not initialized", async () => {
    const dispute = Keypair.generate().publicKey;
    await assert.rejects(client.settleDispute({ dispute }), missing("dispute", dispute.toBase58()));
    await assert.rejects(client.withdrawBid({ job: Keypair.generate().publicKey, market: Keypair.generate().publicKey }), (error: unknown) => error instanceof MissingAccountError && ["provider", "config"].includes(error.kind));
    assert.equal(sent, 0, "nothing was sent");
  });
});
