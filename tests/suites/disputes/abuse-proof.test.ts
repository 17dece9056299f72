// The one-step proof: `write_witness` (anyone, into its own buffer `["witness", game, writer]`,
// in chunks, while the game is open) and `prove_step` (anyone, from a writer's buffer, once the
// interval is one step). A chunk out of range, a buffer at the wrong address, a witness that fails
// a check, a proof out of turn or from another game's buffer is refused by name and decides
// nothing: no token moves and no buffer is created or closed.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { Keypair, Transaction, type PublicKey, type TransactionInstruction } from "@solana/web3.js";
import {
  MAX_WITNESS_BYTES,
  proveStepInstruction,
  sendInstructions,
  translateError,
  variantOf,
  WITNESS_CHUNK_BYTES,
  witnessChunks,
  writeWitnessInstruction,
} from "@compute-market/sdk";
import type { Replay, Trace } from "@compute-market/vm";
import { assertNothingMoved, expectProgramError, snapshot, withoutSignature } from "../../support/assertions";
import type { Actor } from "../../support/env";
import { eventsOf } from "../../support/events";
import { bufferOf, forgedCopy, playUntil, send, STATUS_OFFSET, watched } from "../../support/disputes";
import { commit, freeReplays, honestClaim, setupVerifiableJob, TargetingChallenger, type VerifiableSetup } from "../../support/verifiable";

const TEXT = new TextEncoder().encode("verifiable compute on Solana");
/** Where a witness's fetch leaf starts (after the state blob and the flags byte), and its size:
 * index (4), leaf (32), 19 siblings (608). */
const FLAGS = 173;
const FETCH = 174;
const LEAF_WIRE = 4 + 32 + 19 * 32;
const TX_FEE = 5_000n;

const sha256 = (bytes: Uint8Array): Uint8Array => new Uint8Array(createHash("sha256").update(bytes).digest());

interface Proof {
  setup: VerifiableSetup;
  dispute: PublicKey;
  owner: Actor;
  challenger: Actor;
  /** The disputed step: the interval is [step, step + 1]. */
  step: bigint;
  /** The honest witness of that step. */
  witness: Uint8Array;
}

/** The first step whose witness carries a data leaf (a load or store outside the code's leaf). */
function firstDataStep(honest: Replay): bigint {
  for (let step = 0n; step < 2_000n; step++) if (honest.witnessAt(step).length === MAX_WITNESS_BYTES) return step;
  throw new Error("no data access in the first 2,000 steps");
}

/**
 * An honest result disputed at `step` (default: the first data access) by provider 1's owner,
 * played until its one-step proof is due; the honest provider's witness proves it right.
 */
async function proofDue(pick: (honest: Replay) => bigint = firstDataStep): Promise<Proof> {
  const started = await setupVerifiableJob({ guest: "sha256", input: TEXT });
  const setup = await commit(started, honestClaim(started.honest));
  const step = pick(setup.honest);
  const owner = setup.providers[0].owner;
  const challenger = setup.providers[1].owner;
  const { dispute } = await challenger.client.openDispute({ job: setup.job, provider: setup.providers[0].provider, challengerToken: challenger.stakeToken });
  const game = await playUntil(dispute, { actor: owner, trace: setup.honest }, { actor: challenger, trace: new TargetingChallenger(setup.honest, step) });
  assert.deepEqual([game.lo, game.hi], [step, step + 1n]);
  return { setup, dispute, owner, challenger, step, witness: setup.honest.witnessAt(step) };
}

/** A chunk of `bytes` at `offset` with the given length field (the bytes zero-padded to 880). */
function chunkOf(bytes: Uint8Array, offset: number, len = bytes.length) {
  const chunk = new Array(WITNESS_CHUNK_BYTES).fill(0);
  bytes.subarray(0, WITNESS_CHUNK_BYTES).forEach((b, i) => (chunk[i] = b));
  return { offset, len, chunk };
}

/**
 * Sends `ix` alone in a legacy transaction paid by `payer`, without the transaction layer's
 * compute-budget instructions: a full chunk paid for by someone other than its writer (one
 * account more) fits a packet only so.
 */
async function sendBare(payer: Actor, ix: TransactionInstruction): Promise<string> {
  const connection = payer.provider.connection;
  const transaction = new Transaction({ feePayer: payer.publicKey, ...(await connection.getLatestBlockhash()) }).add(ix);
  transaction.sign(payer.keypair);
  try {
    return await connection.sendRawTransaction(transaction.serialize());
  } catch (error) {
    throw translateError(error);
  }
}

const writeIx = (proof: Proof, writer: Actor, chunk: ReturnType<typeof chunkOf>, accounts: { dispute?: PublicKey; buffer?: PublicKey } = {}) => {
  const dispute = accounts.dispute ?? proof.dispute;
  return writeWitnessInstruction(writer.client.program, chunk, { writer: writer.publicKey, dispute, buffer: accounts.buffer ?? bufferOf(proof.setup.env, dispute, writer.publicKey) });
};

const proveIx = (proof: Proof, prover: Actor, accounts: { writer?: PublicKey; buffer?: PublicKey; dispute?: PublicKey } = {}) => {
  const writer = accounts.writer ?? proof.owner.publicKey;
  const dispute = accounts.dispute ?? proof.dispute;
  return proveStepInstruction(prover.client.program, { prover: prover.publicKey, dispute, writer, buffer: accounts.buffer ?? bufferOf(proof.setup.env, dispute, writer) });
};

/** Sends `ix` by `signer` expecting `error`; nothing moves (tokens, lamports, buffers) and the game stays open as it was. */
async function refused(proof: Proof, signer: Actor, ix: Parameters<typeof send>[1], error: Parameters<typeof expectProgramError>[1], ...extra: PublicKey[]): Promise<void> {
  const { env } = proof.setup;
  const game = await signer.client.fetchDispute(proof.dispute);
  const before = snapshot(env, watched(proof.setup, proof.dispute, bufferOf(env, proof.dispute, signer.publicKey), bufferOf(env, proof.dispute, proof.owner.publicKey), proof.owner.publicKey, ...extra));
  await expectProgramError(send(signer, ix), error);
  assertNothingMoved(env, before, [signer.publicKey]);
  assert.deepEqual(await signer.client.fetchDispute(proof.dispute), game, "the game is unchanged");
}

/** Writes `witness` into `writer`'s buffer for the game. */
async function written(proof: Proof, witness: Uint8Array, writer: Actor = proof.owner, dispute: PublicKey = proof.dispute): Promise<PublicKey> {
  for (const chunk of witnessChunks(witness)) await send(writer, await writeWitnessInstruction(writer.client.program, chunk, { writer: writer.publicKey, dispute, buffer: bufferOf(proof.setup.env, dispute, writer.publicKey) }));
  return bufferOf(proof.setup.env, dispute, writer.publicKey);
}

describe("write_witness", function () {
  this.timeout(120_000);
  afterEach(freeReplays);

  it("creates the writer's buffer with the first chunk and extends it with the next", async () => {
    const proof = await proofDue();
    assert.equal(proof.witness.length, MAX_WITNESS_BYTES, "two chunks");
    const { env } = proof.setup;
    const buffer = bufferOf(env, proof.dispute, proof.owner.publicKey);
    const [first, second] = witnessChunks(proof.witness);

    await send(proof.owner, await writeWitnessInstruction(proof.owner.client.program, first, { writer: proof.owner.publicKey, dispute: proof.dispute, buffer }));
    const afterFirst = (await proof.owner.client.program.account.witnessBuffer.fetch(buffer));
    assert.equal(afterFirst.len, WITNESS_CHUNK_BYTES);
    assert.ok(afterFirst.dispute.equals(proof.dispute) && afterFirst.writer.equals(proof.owner.publicKey));
    await send(proof.owner, await writeWitnessInstruction(proof.owner.client.program, second, { writer: proof.owner.publicKey, dispute: proof.dispute, buffer }));

    const account = await proof.owner.client.program.account.witnessBuffer.fetch(buffer);
    assert.equal(account.len, MAX_WITNESS_BYTES);
    assert.deepEqual(Uint8Array.from(account.bytes).subarray(0, MAX_WITNESS_BYTES), proof.witness);
  });

  it("rewrites a chunk in place (a writer that restarts writes the same bytes again)", async () => {
    const proof = await proofDue();
    const buffer = await written(proof, proof.witness);
    const lamports = proof.setup.env.lamports(buffer);
    // A restarted writer writes every chunk again, from offset 0.
    await written(proof, proof.witness);
    const account = await proof.owner.client.program.account.witnessBuffer.fetch(buffer);
    assert.equal(account.len, MAX_WITNESS_BYTES, "the same witness, the same length");
    assert.equal(proof.setup.env.lamports(buffer), lamports);
    await proof.owner.client.proveStep({ dispute: proof.dispute });
    assert.equal(variantOf((await proof.owner.client.fetchDispute(proof.dispute))!.status), "providerWon");
  });

  it("starts the witness afresh at offset 0, so a shorter witness replaces a longer one", async () => {
    // Given a one-chunk proof whose writer first wrote a longer, two-chunk witness (another step's)
    const proof = await proofDue(() => 0n);
    assert.ok(proof.witness.length <= WITNESS_CHUNK_BYTES, "the first step has no data leaf");
    const buffer = await written(proof, proof.setup.honest.witnessAt(firstDataStep(proof.setup.honest)));
    await refused(proof, proof.owner, await proveIx(proof, proof.owner), "WitnessPreStateMismatch", buffer);

    // When it writes the right witness over it
    await written(proof, proof.witness);

    // Then the buffer holds exactly that witness, and it proves
    assert.equal((await proof.owner.client.program.account.witnessBuffer.fetch(buffer)).len, proof.witness.length);
    await proof.owner.client.proveStep({ dispute: proof.dispute });
    assert.equal(variantOf((await proof.owner.client.fetchDispute(proof.dispute))!.status), "providerWon");
  });

  it("rejects an empty chunk", async () => {
    const proof = await proofDue();
    await refused(proof, proof.owner, await writeIx(proof, proof.owner, chunkOf(proof.witness, 0, 0)), "InvalidWitnessChunk");
  });

  it("rejects a chunk longer than 880 bytes", async () => {
    const proof = await proofDue();
    await refused(proof, proof.owner, await writeIx(proof, proof.owner, chunkOf(proof.witness, 0, WITNESS_CHUNK_BYTES + 1)), "InvalidWitnessChunk");
  });

  it("rejects a chunk that ends past the largest witness", async () => {
    const proof = await proofDue();
    await refused(proof, proof.owner, await writeIx(proof, proof.owner, chunkOf(proof.witness, MAX_WITNESS_BYTES - 10, 11)), "InvalidWitnessChunk");
    await refused(proof, proof.owner, await writeIx(proof, proof.owner, chunkOf(proof.witness, 0xffff, WITNESS_CHUNK_BYTES)), "InvalidWitnessChunk");
  });

  it("rejects a buffer at another writer's address", async () => {
    const proof = await proofDue();
    const other = bufferOf(proof.setup.env, proof.dispute, proof.challenger.publicKey);
    await refused(proof, proof.owner, await writeIx(proof, proof.owner, chunkOf(proof.witness, 0, WITNESS_CHUNK_BYTES), { buffer: other }), "InvalidPda", other);
  });

  it("rejects a buffer at another game's address", async () => {
    const proof = await proofDue();
    const other = bufferOf(proof.setup.env, Keypair.generate().publicKey, proof.owner.publicKey);
    await refused(proof, proof.owner, await writeIx(proof, proof.owner, chunkOf(proof.witness, 0, WITNESS_CHUNK_BYTES), { buffer: other }), "InvalidPda", other);
  });

  it("rejects a game account owned by another program", async () => {
    const proof = await proofDue();
    const forged = forgedCopy(proof.setup.env, proof.dispute);
    const buffer = bufferOf(proof.setup.env, forged, proof.owner.publicKey);
    await refused(proof, proof.owner, await writeIx(proof, proof.owner, chunkOf(proof.witness, 0, WITNESS_CHUNK_BYTES), { dispute: forged }), "InvalidAccountOwner", buffer);
  });

  it("rejects the writer's key when it did not sign", async () => {
    const proof = await proofDue();
    const payer = proof.setup.providers[2].owner;
    const ix = withoutSignature(await writeIx(proof, proof.owner, chunkOf(proof.witness, 0, WITNESS_CHUNK_BYTES)), proof.owner.publicKey);
    const before = snapshot(proof.setup.env, watched(proof.setup, bufferOf(proof.setup.env, proof.dispute, proof.owner.publicKey), proof.owner.publicKey));
    await expectProgramError(sendBare(payer, ix), "MissingSignature");
    assertNothingMoved(proof.setup.env, before, [payer.publicKey]);
  });

  it("rejects a chunk for a decided game", async () => {
    const proof = await proofDue();
    await written(proof, proof.witness);
    await proof.owner.client.proveStep({ dispute: proof.dispute });
    const stranger = await proof.setup.env.actor();
    await refused(proof, stranger, await writeIx(proof, stranger, chunkOf(proof.witness, 0, WITNESS_CHUNK_BYTES)), "NotYourTurn");
  });
});

describe("prove_step", function () {
  this.timeout(120_000);
  afterEach(freeReplays);

  it("decides for the provider when the step reaches the disputed state, and returns the buffer's rent to its writer", async () => {
    const proof = await proofDue();
    const { env } = proof.setup;
    const buffer = await written(proof, proof.witness);
    const rent = env.lamports(buffer);
    const lamports = env.lamports(proof.owner.publicKey);
    const tokens = snapshot(env, watched(proof.setup, proof.dispute));

    const signature = await send(proof.owner, await proveIx(proof, proof.owner));

    const game = (await proof.owner.client.fetchDispute(proof.dispute))!;
    assert.equal(variantOf(game.status), "providerWon");
    assert.equal(env.exists(buffer), false);
    assert.equal(env.lamports(proof.owner.publicKey), lamports + rent - TX_FEE);
    assertNothingMoved(env, tokens, [proof.owner.publicKey]);
    const [event] = eventsOf(env, proof.owner.client.program, signature);
    assert.equal(event.name, "disputeDecided");
    assert.equal(event.data.byTimeout, false);
  });

  it("can be run by anyone from the writer's buffer, the rent going to the writer", async () => {
    const proof = await proofDue();
    const buffer = await written(proof, proof.witness);
    const rent = proof.setup.env.lamports(buffer);
    const lamports = proof.setup.env.lamports(proof.owner.publicKey);
    const stranger = await proof.setup.env.actor();
    await send(stranger, await proveIx(proof, stranger));
    assert.equal(variantOf((await stranger.client.fetchDispute(proof.dispute))!.status), "providerWon");
    assert.equal(proof.setup.env.lamports(proof.owner.publicKey), lamports + rent);
  });

  it("a failed proof decides nothing: the writer fixes its buffer and proves", async () => {
    const proof = await proofDue();
    const bad = proof.witness.slice();
    bad[FETCH + 4 + 32] ^= 1;
    await written(proof, bad);
    await refused(proof, proof.owner, await proveIx(proof, proof.owner), "WitnessBadProof");
    await written(proof, proof.witness);
    await proof.owner.client.proveStep({ dispute: proof.dispute });
    assert.equal(variantOf((await proof.owner.client.fetchDispute(proof.dispute))!.status), "providerWon");
  });

  it("rejects a proof before the interval is one step", async () => {
    // Given a game at the provider's first dissection, and a buffer written already
    const started = await setupVerifiableJob({ guest: "sha256", input: TEXT });
    const setup = await commit(started, honestClaim(started.honest));
    const challenger = setup.providers[1].owner;
    const { dispute } = await challenger.client.openDispute({ job: setup.job, provider: setup.providers[0].provider, challengerToken: challenger.stakeToken });
    const proof: Proof = { setup, dispute, owner: setup.providers[0].owner, challenger, step: 0n, witness: setup.honest.witnessAt(0n) };
    const buffer = await written(proof, proof.witness);
    await refused(proof, proof.owner, await proveIx(proof, proof.owner), "ProofNotDue", buffer);
  });

  it("rejects a buffer written for another game", async () => {
    // Given a second game against the same result, for which the provider wrote the same witness
    const proof = await proofDue();
    const rival = proof.setup.providers[2].owner;
    const { dispute: other } = await rival.client.openDispute({ job: proof.setup.job, provider: proof.setup.providers[0].provider, challengerToken: rival.stakeToken });
    const buffer = await written(proof, proof.witness, proof.owner, other);
    await refused(proof, proof.owner, await proveIx(proof, proof.owner, { buffer }), "DisputeMismatch", buffer, other);
  });

  it("rejects a writer other than the buffer's (its rent would go astray)", async () => {
    const proof = await proofDue();
    const buffer = await written(proof, proof.witness);
    const thief = await proof.setup.env.actor();
    await refused(proof, thief, await proveIx(proof, thief, { buffer, writer: thief.publicKey }), "DisputeMismatch", buffer, thief.publicKey);
  });

  it("rejects a witness cut short", async () => {
    const proof = await proofDue();
    await written(proof, proof.witness.subarray(0, proof.witness.length - 1));
    await refused(proof, proof.owner, await proveIx(proof, proof.owner), "WitnessMalformed");
  });

  it("rejects a witness whose flags name leaves it does not carry", async () => {
    const proof = await proofDue();
    const bad = proof.witness.slice();
    bad[FLAGS] = 4;
    await written(proof, bad);
    await refused(proof, proof.owner, await proveIx(proof, proof.owner), "WitnessMalformed");
  });

  it("rejects the witness of another step", async () => {
    const proof = await proofDue();
    await written(proof, proof.setup.honest.witnessAt(proof.step + 1n));
    await refused(proof, proof.owner, await proveIx(proof, proof.owner), "WitnessPreStateMismatch");
  });

  it("rejects a leaf that does not prove against the state's memory root", async () => {
    const proof = await proofDue();
    const bad = proof.witness.slice();
    bad[FETCH + LEAF_WIRE + 4] ^= 0x80;
    await written(proof, bad);
    await refused(proof, proof.owner, await proveIx(proof, proof.owner), "WitnessBadProof");
  });

  it("rejects a witness without the instruction's leaf", async () => {
    const proof = await proofDue();
    const bare = proof.witness.slice(0, FETCH);
    bare[FLAGS] = 0;
    await written(proof, bare);
    await refused(proof, proof.owner, await proveIx(proof, proof.owner), "WitnessMissingLeaf");
  });

  it("rejects a load or store witness without its data leaf", async () => {
    const proof = await proofDue();
    const fetchOnly = proof.witness.slice(0, FETCH + LEAF_WIRE);
    fetchOnly[FLAGS] = 1;
    await written(proof, fetchOnly);
    await refused(proof, proof.owner, await proveIx(proof, proof.owner), "WitnessMissingLeaf");
  });

  it("rejects an agreed state whose status byte names no status", async () => {
    // Given a provider that posted, at step k, the hash of the honest state with status byte 9,
    // and a challenger that accepts it and disputes the step after
    const started = await setupVerifiableJob({ guest: "sha256", input: TEXT });
    const setup = await commit(started, honestClaim(started.honest));
    const step = 100n;
    const invalid = setup.honest.stateAt(step).blob.slice();
    invalid[STATUS_OFFSET] = 9;
    const defender: Trace = { hashAt: (s) => (s === step ? sha256(invalid) : setup.honest.hashAt(s)), witnessAt: (s) => setup.honest.witnessAt(s) };
    const accepting: Trace = { hashAt: (s) => (s <= step ? defender.hashAt(s) : new Uint8Array(32).fill(0xee)), witnessAt: (s) => setup.honest.witnessAt(s) };
    const challenger = setup.providers[1].owner;
    const { dispute } = await challenger.client.openDispute({ job: setup.job, provider: setup.providers[0].provider, challengerToken: challenger.stakeToken });
    const game = await playUntil(dispute, { actor: setup.providers[0].owner, trace: defender }, { actor: challenger, trace: accepting });
    assert.deepEqual(Uint8Array.from(game.loHash), sha256(invalid));
    const proof: Proof = { setup, dispute, owner: setup.providers[0].owner, challenger, step, witness: setup.honest.witnessAt(step) };

    // When the witness carries that state
    const witness = proof.witness.slice();
    witness.set(invalid, 0);
    await written(proof, witness);

    // Then the proof is refused by name and decides nothing
    await refused(proof, proof.owner, await proveIx(proof, proof.owner), "WitnessInvalidState");
  });

  it("rejects a proof of a decided game", async () => {
    // Given the challenger's buffer written before the provider's proof decided the game
    const proof = await proofDue();
    const challengerBuffer = await written(proof, proof.witness, proof.challenger);
    await written(proof, proof.witness);
    await proof.owner.client.proveStep({ dispute: proof.dispute });
    await refused(proof, proof.challenger, await proveIx(proof, proof.challenger, { writer: proof.challenger.publicKey }), "NotYourTurn", challengerBuffer);
  });

  it("rejects a second proof from the closed buffer (replay)", async () => {
    const proof = await proofDue();
    await written(proof, proof.witness);
    await proof.owner.client.proveStep({ dispute: proof.dispute });
    await refused(proof, proof.owner, await proveIx(proof, proof.owner), "InvalidAccountOwner");
  });

  it("rejects the prover's key when it did not sign", async () => {
    const proof = await proofDue();
    await written(proof, proof.witness);
    const prover = Keypair.generate();
    const payer = proof.setup.providers[2].owner;
    const ix = withoutSignature(await proveStepInstruction(payer.client.program, { prover: prover.publicKey, dispute: proof.dispute, writer: proof.owner.publicKey, buffer: bufferOf(proof.setup.env, proof.dispute, proof.owner.publicKey) }), prover.publicKey);
    const before = snapshot(proof.setup.env, watched(proof.setup, proof.dispute, bufferOf(proof.setup.env, proof.dispute, proof.owner.publicKey), proof.owner.publicKey));
    await expectProgramError(sendInstructions(payer.provider, [ix]), "MissingSignature");
    assertNothingMoved(proof.setup.env, before, [payer.publicKey]);
    assert.equal(variantOf((await payer.client.fetchDispute(proof.dispute))!.status), "open");
  });

  it("rejects a game account owned by another program", async () => {
    const proof = await proofDue();
    const buffer = await written(proof, proof.witness);
    await refused(proof, proof.owner, await proveIx(proof, proof.owner, { dispute: forgedCopy(proof.setup.env, proof.dispute), buffer }), "InvalidAccountOwner", buffer);
  });
});
