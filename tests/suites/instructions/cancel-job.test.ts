// cancel_job: while bidding is open the consumer takes everything back, rent included.
import assert from "node:assert/strict";
import { cancelJobInstruction, sendInstructions } from "@compute-market/sdk";
import { TestEnv } from "../../support/env";
import { assertNothingMoved, expectProgramError, snapshot, withoutSignature } from "../../support/assertions";
import { eventsOf } from "../../support/events";
import { forgeAccount } from "../../support/forge";
import { escrowFor, jobInput, setupMarket } from "../../support/fixtures";

async function posted() {
  const env = await TestEnv.create();
  const setup = await setupMarket(env);
  const consumer = await env.actor();
  const job = await consumer.client.postJob(jobInput(setup.market, { consumerToken: consumer.paymentToken }));
  return { env, ...setup, consumer, ...job };
}

describe("cancel_job", () => {
  it("refunds the whole escrow and closes job and escrow with their rent returned", async () => {
    const { env, consumer, job, escrow } = await posted();
    const tokensBefore = env.tokenBalance(consumer.paymentToken);
    const rent = env.lamports(job) + env.lamports(escrow);
    const lamportsBefore = env.lamports(consumer.publicKey);

    const signature = await consumer.client.cancelJob({ job, consumerToken: consumer.paymentToken });

    assert.equal(env.tokenBalance(consumer.paymentToken), tokensBefore + escrowFor(2_000_000n));
    assert.equal(env.exists(job), false);
    assert.equal(env.exists(escrow), false);
    const fee = 5_000n;
    assert.equal(env.lamports(consumer.publicKey), lamportsBefore + rent - fee);
    const [event] = eventsOf(env, consumer.client.program, signature);
    assert.equal(event.name, "jobCancelled");
    assert.equal(event.data.refunded, escrowFor(2_000_000n));
  });

  it("also returns tokens someone sent to the escrow directly", async () => {
    const { env, consumer, job, escrow } = await posted();
    await env.mintTo(env.paymentMint, escrow, 777n);
    const before = env.tokenBalance(consumer.paymentToken);
    await consumer.client.cancelJob({ job, consumerToken: consumer.paymentToken });
    assert.equal(env.tokenBalance(consumer.paymentToken), before + escrowFor(2_000_000n) + 777n);
  });

  it("rejects anyone but the consumer", async () => {
    const { env, consumer, job, escrow } = await posted();
    const thief = await env.actor();
    const ix = await cancelJobInstruction(thief.client.program, {
      consumer: thief.publicKey,
      job,
      escrow,
      consumerToken: thief.paymentToken,
    });
    const before = snapshot(env, [thief.paymentToken, escrow, job, consumer.paymentToken]);
    await expectProgramError(sendInstructions(thief.provider, [ix]), "NotJobConsumer");
    assertNothingMoved(env, before, [thief.publicKey]);
  });

  it("rejects the consumer's key when it did not sign", async () => {
    const { env, consumer, job, escrow } = await posted();
    const payer = await env.actor();
    const ix = withoutSignature(
      await cancelJobInstruction(payer.client.program, { consumer: consumer.publicKey, job, escrow, consumerToken: consumer.paymentToken }),
      consumer.publicKey,
    );
    const before = snapshot(env, [consumer.paymentToken, escrow, job]);
    await expectProgramError(sendInstructions(payer.provider, [ix]), "MissingSignature");
    assertNothingMoved(env, before);
  });

  it("rejects a refund into an account the consumer does not own", async () => {
    const { env, consumer, job, escrow } = await posted();
    const stranger = await env.actor();
    const before = snapshot(env, [stranger.paymentToken, escrow, job]);
    await expectProgramError(consumer.client.cancelJob({ job, consumerToken: stranger.paymentToken }), "TokenAccountOwnerMismatch");
    assertNothingMoved(env, before);
  });

  it("rejects another job's escrow", async () => {
    const { env, market, consumer, job } = await posted();
    const other = await consumer.client.postJob(jobInput(market, { consumerToken: consumer.paymentToken }));
    const ix = await cancelJobInstruction(consumer.client.program, {
      consumer: consumer.publicKey,
      job,
      escrow: other.escrow,
      consumerToken: consumer.paymentToken,
    });
    const before = snapshot(env, [consumer.paymentToken, other.escrow, job]);
    await expectProgramError(sendInstructions(consumer.provider, [ix]), "InvalidVault");
    assertNothingMoved(env, before, [consumer.publicKey]);
  });

  it("rejects a job that is no longer open", async () => {
    // Given the job was awarded (state written directly: awarding arrives with the auction)
    const { env, consumer, job, escrow } = await posted();
    await forgeAccount(env, consumer.client.program, job, "job", (j) => {
      j.state = { awarded: {} };
    });
    const before = snapshot(env, [consumer.paymentToken, escrow, job]);
    await expectProgramError(consumer.client.cancelJob({ job, consumerToken: consumer.paymentToken }), "InvalidJobState");
    assertNothingMoved(env, before, [consumer.publicKey]);
  });

  it("refunds once: cancelling again finds no job (replay)", async () => {
    const { env, consumer, job, escrow } = await posted();
    const ix = await cancelJobInstruction(consumer.client.program, { consumer: consumer.publicKey, job, escrow, consumerToken: consumer.paymentToken });
    await consumer.client.cancelJob({ job, consumerToken: consumer.paymentToken });
    const before = snapshot(env, [consumer.paymentToken]);
    await expectProgramError(sendInstructions(consumer.provider, [ix]), "InvalidAccountOwner");
    assertNothingMoved(env, before, [consumer.publicKey]);
  });
});
