// post_job: a consumer posts a job and its whole budget moves into the job's escrow.
import assert from "node:assert/strict";
import { Keypair } from "@solana/web3.js";
import {
  findEscrowPda,
  findJobPda,
  postJobInstruction,
  sendInstructions,
  variantOf,
  type PostJobAccounts,
} from "@compute-market/sdk";
import { TestEnv, type Actor } from "../../support/env";
import { assertNothingMoved, expectProgramError, snapshot, withoutSignature } from "../../support/assertions";
import { eventsOf } from "../../support/events";
import { escrowFor, jobInput, MARKET_PARAMS, setupMarket } from "../../support/fixtures";

async function market() {
  const env = await TestEnv.create();
  const setup = await setupMarket(env);
  const consumer = await env.actor();
  return { env, ...setup, consumer };
}

function accounts(env: TestEnv, marketAddress: PostJobAccounts["market"], consumer: Actor, nonce: bigint): PostJobAccounts {
  const job = findJobPda({ consumer: consumer.publicKey, nonce, programId: env.programId })[0];
  return {
    consumer: consumer.publicKey,
    config: consumer.client.configAddress,
    market: marketAddress,
    job,
    escrow: findEscrowPda({ job, programId: env.programId })[0],
    consumerToken: consumer.paymentToken,
    paymentMint: env.paymentMint,
  };
}

describe("post_job", () => {
  it("escrows replication × (max price + fee) + crank fee and records the job", async () => {
    const { env, market: m, consumer } = await market();
    const before = env.tokenBalance(consumer.paymentToken);
    const slot = env.ledger.slot;

    const { job, escrow, nonce, signature } = await consumer.client.postJob(
      jobInput(m, { replication: 3, maxPrice: 1_000_000n, instantPrice: 400_000n, consumerToken: consumer.paymentToken }),
    );

    const escrowed = escrowFor(1_000_000n, 3n);
    assert.equal(escrowed, 3n * 1_025_000n + 1_000n);
    assert.equal(env.tokenBalance(consumer.paymentToken), before - escrowed);
    assert.equal(env.tokenBalance(escrow), escrowed);
    const state = await consumer.client.fetchJob(job);
    assert.ok(state);
    assert.equal(variantOf(state.state), "open");
    assert.equal(variantOf(state.mode), "replicated");
    assert.equal(state.replication, 3);
    assert.equal(state.nonce, nonce);
    assert.equal(state.escrowed, escrowed);
    assert.equal(state.maxPrice, 1_000_000n);
    assert.equal(state.instantPrice, 400_000n);
    assert.equal(state.bidDeadlineSlot, slot + MARKET_PARAMS.bidWindowSlots);
    assert.ok(state.consumer.equals(consumer.publicKey));
    const [event] = eventsOf(env, consumer.client.program, signature);
    assert.equal(event.name, "jobPosted");
    assert.equal(event.data.escrowed, escrowed);
  });

  it("uses the market's default replication and the requested bid window", async () => {
    const { env, market: m, consumer } = await market();
    const { job } = await consumer.client.postJob(jobInput(m, { replication: 0, bidWindowSlots: 20n, consumerToken: consumer.paymentToken }));
    const state = await consumer.client.fetchJob(job);
    assert.equal(state?.replication, MARKET_PARAMS.defaultReplication);
    assert.equal(state?.bidDeadlineSlot, env.ledger.slot + 20n);
  });

  it("refuses new jobs while the protocol is paused", async () => {
    const { env, market: m, authority, consumer } = await market();
    await authority.client.updateConfig({ protocolFeeBps: 250, treasury: authority.publicKey, authority: authority.publicKey, paused: true });
    const before = snapshot(env, [consumer.paymentToken]);
    await expectProgramError(consumer.client.postJob(jobInput(m, { consumerToken: consumer.paymentToken })), "ProtocolPaused");
    assertNothingMoved(env, before, [consumer.publicKey]);
  });

  it("rejects a budget paid in another mint", async () => {
    const { env, market: m, consumer } = await market();
    const before = snapshot(env, [consumer.stakeToken]);
    await expectProgramError(consumer.client.postJob(jobInput(m, { consumerToken: consumer.stakeToken })), "WrongMint");
    assertNothingMoved(env, before, [consumer.publicKey]);
  });

  it("rejects a payment mint other than the market's", async () => {
    const { env, market: m, consumer } = await market();
    const ix = await postJobInstruction(consumer.client.program, { ...jobInput(m), nonce: 1n }, {
      ...accounts(env, m, consumer, 1n),
      paymentMint: env.stakeMint,
    });
    await expectProgramError(sendInstructions(consumer.provider, [ix]), "WrongMint");
  });

  it("rejects paying from someone else's account", async () => {
    const { env, market: m, consumer } = await market();
    const victim = await env.actor();
    const before = snapshot(env, [victim.paymentToken]);
    await expectProgramError(consumer.client.postJob(jobInput(m, { consumerToken: victim.paymentToken })), "TokenAccountOwnerMismatch");
    assertNothingMoved(env, before);
  });

  it("rejects a budget larger than the consumer holds", async () => {
    const { env, market: m, consumer } = await market();
    const held = env.tokenBalance(consumer.paymentToken);
    const before = snapshot(env, [consumer.paymentToken]);
    await expectProgramError(consumer.client.postJob(jobInput(m, { maxPrice: held, consumerToken: consumer.paymentToken })), "InsufficientFunds");
    assertNothingMoved(env, before, [consumer.publicKey]);
  });

  it("reports an overflowing budget instead of wrapping it", async () => {
    const { market: m, consumer } = await market();
    await expectProgramError(
      consumer.client.postJob(jobInput(m, { maxPrice: (1n << 64n) - 1n, replication: 2, consumerToken: consumer.paymentToken })),
      "MathOverflow",
    );
  });

  const invalid: [string, Parameters<typeof jobInput>[1], Parameters<typeof expectProgramError>[1]][] = [
    ["a zero max price", { maxPrice: 0n }, "InvalidPrice"],
    ["an instant price above the max price", { maxPrice: 100n, instantPrice: 101n }, "InvalidPrice"],
    ["a replication above 7", { replication: 8 }, "InvalidReplication"],
    ["a verifiable job run by two providers", { mode: "verifiable", replication: 2 }, "InvalidReplication"],
    ["a refereed job run by one provider", { mode: "refereed", replication: 1 }, "InvalidReplication"],
    ["a bid window beyond 30 days", { bidWindowSlots: 30n * 216_000n + 1n }, "InvalidBidWindow"],
    [
      "a job with no maximum duration",
      { requirements: { cpuCores: 1, memoryMb: 1, maxDurationSlots: 0n } },
      "InvalidJobRequirements",
    ],
  ];
  for (const [what, overrides, error] of invalid) {
    it(`rejects ${what}`, async () => {
      const { env, market: m, consumer } = await market();
      const before = snapshot(env, [consumer.paymentToken]);
      await expectProgramError(consumer.client.postJob(jobInput(m, { ...overrides, consumerToken: consumer.paymentToken })), error);
      assertNothingMoved(env, before, [consumer.publicKey]);
    });
  }

  it("rejects a verification mode byte that names no mode", async () => {
    const { env, market: m, consumer } = await market();
    const ix = await postJobInstruction(consumer.client.program, { ...jobInput(m), nonce: 9n }, accounts(env, m, consumer, 9n));
    // discriminator 8 + nonce 8 + spec hash 32 + requirements 39 = offset of the mode byte
    ix.data[87] = 3;
    await expectProgramError(sendInstructions(consumer.provider, [ix]), "InvalidEnumValue");
  });

  it("rejects a second job with the same nonce (replay)", async () => {
    const { env, market: m, consumer } = await market();
    const { job, escrow } = await consumer.client.postJob(jobInput(m, { nonce: 42n, consumerToken: consumer.paymentToken }));
    const before = snapshot(env, [consumer.paymentToken, escrow, job]);
    await expectProgramError(
      consumer.client.postJob(jobInput(m, { nonce: 42n, consumerToken: consumer.paymentToken })),
      "AccountAlreadyInitialized",
    );
    assertNothingMoved(env, before, [consumer.publicKey]);
  });

  it("rejects a job address that does not match the consumer and nonce", async () => {
    const { env, market: m, consumer } = await market();
    const ix = await postJobInstruction(consumer.client.program, { ...jobInput(m), nonce: 1n }, {
      ...accounts(env, m, consumer, 1n),
      job: accounts(env, m, consumer, 2n).job,
    });
    await expectProgramError(sendInstructions(consumer.provider, [ix]), "InvalidPda");
  });

  it("rejects an escrow address other than the job's escrow PDA", async () => {
    const { env, market: m, consumer } = await market();
    const ix = await postJobInstruction(consumer.client.program, { ...jobInput(m), nonce: 1n }, {
      ...accounts(env, m, consumer, 1n),
      escrow: Keypair.generate().publicKey,
    });
    await expectProgramError(sendInstructions(consumer.provider, [ix]), "InvalidPda");
  });

  it("rejects a consumer that did not sign", async () => {
    const { env, market: m, consumer } = await market();
    const payer = await env.actor();
    const ix = withoutSignature(
      await postJobInstruction(payer.client.program, { ...jobInput(m), nonce: 1n }, accounts(env, m, consumer, 1n)),
      consumer.publicKey,
    );
    const before = snapshot(env, [consumer.paymentToken]);
    await expectProgramError(sendInstructions(payer.provider, [ix]), "MissingSignature");
    assertNothingMoved(env, before);
  });

  it("rejects a market substitute owned by another program", async () => {
    const { env, market: m, consumer } = await market();
    const forged = Keypair.generate().publicKey;
    env.ledger.setAccount(forged, { ...env.ledger.getAccount(m)!, owner: consumer.publicKey });
    const ix = await postJobInstruction(consumer.client.program, { ...jobInput(forged), nonce: 1n }, accounts(env, forged, consumer, 1n));
    await expectProgramError(sendInstructions(consumer.provider, [ix]), "InvalidAccountOwner");
  });
});
