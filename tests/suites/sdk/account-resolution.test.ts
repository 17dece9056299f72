// Before sending, the SDK resolves every account an instruction names from the chain; one that is
// not there is a typed `MissingAccountError` naming its kind and address, and nothing is sent; an
// address that holds something else is a `WrongAccountError` saying what it holds.
import assert from "node:assert/strict";
import { AnchorProvider, Wallet } from "@coral-xyz/anchor";
import { Connection, Keypair, LAMPORTS_PER_SOL, PublicKey } from "@solana/web3.js";
import { ComputeMarketClient, DEFAULT_PROGRAM_ID, MissingAccountError, WrongAccountError } from "@compute-market/sdk";
import { bootstrapSandbox, startLocalCluster, type LocalCluster } from "@compute-market/localnet";
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

  it("says what an address holds when it is not the account asked for", async () => {
    const { summary } = await bootstrapSandbox(cluster.ledger, DEFAULT_PROGRAM_ID);
    const market = new PublicKey(summary.markets[0].address);
    const wrong = (address: PublicKey, message: string) => (error: unknown) => error instanceof WrongAccountError && error.address === address.toBase58() && error.message === `${address.toBase58()} ${message}`;
    await assert.rejects(client.fetchMarket(client.configAddress), wrong(client.configAddress, "is not a market: it is a config of this program"));
    await assert.rejects(client.fetchProvider(market), wrong(market, "is not a provider: it is a market of this program"));
    const wallet = new PublicKey(summary.authority);
    await assert.rejects(client.fetchMarket(wallet), wrong(wallet, "is not a market: it is a wallet (a System Program account)"));
    const mint = new PublicKey(summary.paymentMint);
    await assert.rejects(client.fetchJob(mint), wrong(mint, "is not a job: it is a token mint"));
    assert.equal(await client.fetchMarket(Keypair.generate().publicKey), null, "nothing there is still null");
    assert.equal((await client.fetchMarket(market))?.paymentMint.toBase58(), summary.paymentMint);
  });
});
