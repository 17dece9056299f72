// migrations/program-deploy.ts on agave's solana-test-validator (`npm run test:validator`): the
// program deployed through the upgradeable loader at a fresh program keypair, waiting for real
// slots, then an instruction through the SDK at that address. Prints the deploy's time and its
// transactions. The validator's URL comes from VALIDATOR_URL.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { AnchorProvider, Wallet } from "@coral-xyz/anchor";
import { Connection, Keypair, LAMPORTS_PER_SOL } from "@solana/web3.js";
import { ComputeMarketClient } from "@compute-market/sdk";
import { deployProgram, readDeployedProgram } from "../../migrations/program-deploy";
import { PROGRAM_PATH } from "../support/env";

const VALIDATOR_URL = process.env.VALIDATOR_URL;

describe("the program deployed through the upgradeable loader on solana-test-validator", function () {
  this.timeout(300_000);

  before(function () {
    if (!VALIDATOR_URL) throw new Error("VALIDATOR_URL is not set: run this suite through `npm run test:validator`");
  });

  it("deploys at a fresh program keypair, and the SDK runs the program there", async () => {
    const connection = new Connection(VALIDATOR_URL!, "confirmed");
    const wallet = Keypair.generate();
    const signature = await connection.requestAirdrop(wallet.publicKey, 20 * LAMPORTS_PER_SOL);
    const { blockhash, lastValidBlockHeight } = await connection.getLatestBlockhash("confirmed");
    await connection.confirmTransaction({ signature, blockhash, lastValidBlockHeight }, "confirmed");
    const programKeypair = Keypair.generate();
    const programBytes = readFileSync(PROGRAM_PATH);

    const result = await deployProgram({
      connection,
      wallet,
      programFile: PROGRAM_PATH,
      programKeypair,
      bufferKeypairFile: path.join(mkdtempSync(path.join(os.tmpdir(), "validator-deploy-")), "buffer.json"),
      progress: () => undefined,
    });

    assert.equal(result.action, "deployed");
    const deployed = await readDeployedProgram(connection, programKeypair.publicKey);
    assert.ok(deployed?.bytes.subarray(0, programBytes.length).equals(programBytes), "ProgramData holds the file");
    assert.equal(result.transactions, 1 + result.chunks.written + 1);
    console.log(
      `      solana-test-validator: ${programBytes.length} bytes in ${result.chunks.total} chunks of ${result.chunks.bytes} bytes, ` +
        `${result.transactions} transactions, deployed in ${(result.ms / 1000).toFixed(1)} s`,
    );

    const client = new ComputeMarketClient(new AnchorProvider(connection, new Wallet(wallet), { commitment: "confirmed" }), { programId: programKeypair.publicKey });
    await client.initializeConfig({ protocolFeeBps: 300, treasury: wallet.publicKey });
    assert.equal((await client.fetchConfig())?.protocolFeeBps, 300);
  });
});
