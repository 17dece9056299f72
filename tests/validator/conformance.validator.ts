// The RPC conformance checks (tests/support/rpc-conformance.ts) against solana-test-validator.
import { Connection, Keypair, LAMPORTS_PER_SOL } from "@solana/web3.js";
import { CONFORMANCE } from "../support/rpc-conformance";

describe("solana-test-validator: RPC conformance", function () {
  this.timeout(60_000);
  const url = process.env.VALIDATOR_URL ?? "";
  const connection = new Connection(url || "http://127.0.0.1:1", "confirmed");
  const payer = Keypair.generate();
  before(async () => {
    if (!url) throw new Error("VALIDATOR_URL is not set: run this suite through `npm run test:validator`");
    const signature = await connection.requestAirdrop(payer.publicKey, 10 * LAMPORTS_PER_SOL);
    const { blockhash, lastValidBlockHeight } = await connection.getLatestBlockhash("confirmed");
    await connection.confirmTransaction({ signature, blockhash, lastValidBlockHeight }, "confirmed");
  });
  for (const check of CONFORMANCE) it(check.name, () => check.run({ url, connection, payer, slotMs: 400 }));
});
