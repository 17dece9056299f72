// Every instruction of verifiable jobs and disputes, at its largest payload, fits one Solana
// transaction (1,232 bytes) with a single signer — and still fits with a compute-budget price
// instruction added, as senders on a busy cluster do.
import assert from "node:assert/strict";
import { AnchorProvider, Program, Wallet } from "@coral-xyz/anchor";
import { ComputeBudgetProgram, Connection, Keypair, Transaction, type TransactionInstruction } from "@solana/web3.js";
import {
  chooseSegmentInstruction,
  commitVerifiableInstruction,
  dissectInstruction,
  MAX_DISSECTION_POINTS,
  MAX_WITNESS_BYTES,
  openDisputeInstruction,
  postJobInstruction,
  proveStepInstruction,
  settleDisputeInstruction,
  timeoutDisputeInstruction,
  witnessChunks,
  writeWitnessInstruction,
  type ComputeMarket,
} from "@compute-market/sdk";
import idl from "../../../app/sdk/src/generated/compute_market.json";

const PACKET_BYTES = 1_232;
const key = () => Keypair.generate().publicKey;
const hash = (fill: number) => new Uint8Array(32).fill(fill);

function size(payer: Keypair, instructions: TransactionInstruction[]): number {
  const tx = new Transaction({ feePayer: payer.publicKey, recentBlockhash: Keypair.generate().publicKey.toBase58() }).add(...instructions);
  tx.sign(payer);
  return tx.serialize().length;
}

describe("transaction sizes of verifiable-job instructions", () => {
  const payer = Keypair.generate();
  const provider = new AnchorProvider(new Connection("http://127.0.0.1:1"), new Wallet(payer), {});
  const program = new Program<ComputeMarket>(idl as ComputeMarket, provider);
  const witness = new Uint8Array(MAX_WITNESS_BYTES).fill(0xee);

  const cases: [string, () => Promise<TransactionInstruction>][] = [
    [
      "post_job (program roots)",
      () =>
        postJobInstruction(
          program,
          {
            nonce: 2n ** 64n - 1n,
            specHash: hash(1),
            requirements: { gpuModel: "H100-SXM5-80GB", gpuCount: 8, vramMb: 81_920, cpuCores: 64, memoryMb: 1_000_000, diskGb: 1_000, maxDurationSlots: 1_000n },
            mode: "verifiable",
            replication: 1,
            onFailure: "refund",
            maxPrice: 10n,
            instantPrice: 0n,
            bidWindowSlots: 0n,
            program: { codeRoot: hash(2), inputRoot: hash(3), maxSteps: 2n ** 64n - 1n },
          },
          { consumer: payer.publicKey, config: key(), market: key(), job: key(), escrow: key(), consumerToken: key(), paymentMint: key() },
        ),
    ],
    [
      "commit_verifiable",
      () =>
        commitVerifiableInstruction(
          program,
          { finalState: new Uint8Array(173).fill(4), outputRoot: hash(5), heapRoot: hash(6), lowNode: hash(7), resultUriHash: hash(8) },
          { owner: payer.publicKey, market: key(), job: key(), bid: key() },
        ),
    ],
    [
      "open_dispute",
      () =>
        openDisputeInstruction(program, {
          challenger: payer.publicKey,
          market: key(),
          job: key(),
          bid: key(),
          dispute: key(),
          bondVault: key(),
          challengerToken: key(),
          stakeMint: key(),
        }),
    ],
    ["dissect (15 hashes)", () => dissectInstruction(program, Array.from({ length: MAX_DISSECTION_POINTS }, (_, i) => hash(i + 1)), { owner: payer.publicKey, dispute: key() })],
    ["choose_segment", () => chooseSegmentInstruction(program, 15, { challenger: payer.publicKey, dispute: key() })],
    ["write_witness (full chunk)", () => writeWitnessInstruction(program, witnessChunks(witness)[0], { writer: payer.publicKey, dispute: key(), buffer: key() })],
    ["prove_step", () => proveStepInstruction(program, { prover: payer.publicKey, dispute: key(), buffer: key(), writer: key() })],
    ["timeout_dispute", () => timeoutDisputeInstruction(program, { cranker: payer.publicKey, dispute: key() })],
    [
      "settle_dispute (18 accounts)",
      () =>
        settleDisputeInstruction(program, {
          cranker: payer.publicKey,
          config: key(),
          market: key(),
          job: key(),
          escrow: key(),
          consumer: key(),
          consumerToken: key(),
          bid: key(),
          provider: key(),
          vault: key(),
          owner: key(),
          ownerStakeToken: key(),
          challenger: key(),
          challengerStakeToken: key(),
          treasuryStakeToken: key(),
          dispute: key(),
          bondVault: key(),
        }),
    ],
  ];

  for (const [name, build] of cases) {
    it(`${name} fits one transaction, with a compute-budget price too`, async () => {
      const ix = await build();
      const alone = size(payer, [ix]);
      const withPrice = size(payer, [ComputeBudgetProgram.setComputeUnitPrice({ microLamports: 1_000 }), ix]);
      assert.ok(alone <= PACKET_BYTES, `${name}: ${alone} bytes`);
      assert.ok(withPrice <= PACKET_BYTES, `${name} with a price instruction: ${withPrice} bytes`);
    });
  }

  it("the largest witness takes two chunks, and a step without a data access one", () => {
    assert.equal(witnessChunks(witness).length, 2);
    assert.equal(witnessChunks(new Uint8Array(818)).length, 1);
    assert.throws(() => witnessChunks(new Uint8Array(MAX_WITNESS_BYTES + 1)), RangeError);
  });
});
