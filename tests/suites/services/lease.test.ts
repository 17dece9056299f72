// Service leases: post_service, fund_service, claim_service (Ed25519 acknowledgements verified
// on-chain), end_replica, close_replica and close_service — the happy paths, and each way to
// abuse them failing with a named error and moving no token.
import assert from "node:assert/strict";
import { Keypair, PublicKey, type TransactionInstruction } from "@solana/web3.js";
import {
  acknowledgementVerifyInstruction,
  claimServiceInstruction,
  endReplicaInstruction,
  rules,
  sendInstructions,
  signAcknowledgement,
  variantOf,
  verifyAcknowledgement,
  type Acknowledgement,
} from "@compute-market/sdk";
import { assertNothingMoved, expectProgramError, snapshot } from "../../support/assertions";
import { TestEnv } from "../../support/env";
import { eventsOf } from "../../support/events";
import { MARKET_PARAMS, SPEC_HASH, setupMarket } from "../../support/fixtures";
import { bidOf, consumerTokens, fee, MAX_DURATION, minDeposit, PERIOD, posted, RATE_CAP, running, serviceInput, startedSlot, treasuryAta, type Lease } from "../../support/service-lease";

/** The watchdog's acknowledgement of replica `i` up to `upToSlot`. */
async function ack(lease: Lease, i: number, upToSlot: bigint, signer: Keypair = lease.watchdog): Promise<Acknowledgement> {
  const job = await lease.consumer.client.fetchJob(lease.job);
  return signAcknowledgement(signer.secretKey, { job: lease.job, jobIncarnation: job!.incarnation, provider: lease.providers[i].provider, upToSlot });
}

/** The claim's instruction for replica `i`'s owner, with explicit accounts (for tampering). */
async function claimIx(lease: Lease, i: number, upToSlot: bigint, bid = bidOf(lease, i)): Promise<TransactionInstruction> {
  const owner = lease.providers[i].owner;
  return claimServiceInstruction(owner.client.program, upToSlot, {
    owner: owner.publicKey,
    ownerToken: owner.paymentToken,
    config: owner.client.configAddress,
    job: lease.job,
    escrow: lease.escrow,
    service: lease.service,
    bid,
    treasuryToken: lease.authority.paymentToken,
  });
}

const moneyOf = (lease: Lease) => [lease.escrow, lease.consumer.paymentToken, lease.authority.paymentToken, ...lease.providers.map((p) => p.owner.paymentToken), ...lease.providers.map((_, i) => bidOf(lease, i))];

describe("post_service", () => {
  it("posts a service job with its deposit in escrow and its terms beside it", async () => {
    const lease = await posted({ deposit: minDeposit(1n) + 5n });
    const job = await lease.consumer.client.fetchJob(lease.job);
    assert.equal(variantOf(job!.kind), "service");
    assert.equal(variantOf(job!.state), "open");
    assert.equal(variantOf(job!.onFailure), "refund");
    assert.equal(job!.maxPrice, RATE_CAP);
    assert.equal(lease.env.tokenBalance(lease.escrow), minDeposit(1n) + 5n);
    const terms = await lease.consumer.client.fetchService(lease.service);
    assert.ok(terms!.job.equals(lease.job) && terms!.watchdog.equals(lease.watchdog.publicKey) && terms!.consumer.equals(lease.consumer.publicKey));
    assert.equal(terms!.ackPeriodSlots, PERIOD);
    assert.equal(terms!.graceSlots, PERIOD, "the grace defaults to one period");
    assert.equal(terms!.jobIncarnation, job!.incarnation);
  });

  it("rejects a deposit below one period of every replica at the cap", async () => {
    const env = await TestEnv.create();
    const { market } = await setupMarket(env);
    const consumer = await env.actor();
    const before = snapshot(env, [consumer.paymentToken]);
    await expectProgramError(consumer.client.postService(serviceInput(market, Keypair.generate().publicKey, { replicas: 2, deposit: minDeposit(2n) - 1n, consumerToken: consumer.paymentToken })), "DepositTooSmall");
    assertNothingMoved(env, before);
  });

  for (const [what, overrides] of [
    ["a zero acknowledgement period", { ackPeriodSlots: 0n }],
    ["a period longer than 216,000 slots", { ackPeriodSlots: 216_001n }],
    ["no watchdog", { watchdog: PublicKey.default }],
  ] as const) {
    it(`rejects ${what}`, async () => {
      const env = await TestEnv.create();
      const { market } = await setupMarket(env);
      const consumer = await env.actor();
      const before = snapshot(env, [consumer.paymentToken]);
      await expectProgramError(consumer.client.postService(serviceInput(market, Keypair.generate().publicKey, { consumerToken: consumer.paymentToken, ...overrides })), "InvalidServiceTerms");
      assertNothingMoved(env, before);
    });
  }

  it("has no result to commit and no commit deadline to time out on", async () => {
    const lease = await running();
    await expectProgramError(lease.providers[0].owner.client.commitResult({ job: lease.job, outputRoot: new Uint8Array(32).fill(1), resultUriHash: new Uint8Array(32) }), "ServiceHasNoResult");
    const job = await lease.consumer.client.fetchJob(lease.job);
    lease.env.ledger.warpToSlot(job!.progress.commitDeadlineSlot + 1n);
    const keeper = await lease.env.actor();
    const bid = await lease.consumer.client.fetchBid(bidOf(lease, 0));
    assert.equal(rules.timeoutDue(job!, bid!, lease.env.ledger.slot), false, "the keeper's rules plan no timeout for a service");
    const before = snapshot(lease.env, [lease.providers[0].vault, ...moneyOf(lease)]);
    await expectProgramError(keeper.client.failTimeout({ job: lease.job, provider: lease.providers[0].provider }), "ServiceHasNoResult");
    assertNothingMoved(lease.env, before);
  });
});

describe("fund_service", () => {
  it("lets anyone top up the deposit", async () => {
    const lease = await posted();
    const sponsor = await lease.env.actor();
    const signature = await sponsor.client.fundService({ job: lease.job, amount: 7_000n, funderToken: sponsor.paymentToken });
    assert.equal(lease.env.tokenBalance(lease.escrow), minDeposit(1n) + 7_000n);
    assert.equal((await lease.consumer.client.fetchJob(lease.job))!.escrowed, minDeposit(1n) + 7_000n);
    const [event] = eventsOf(lease.env, sponsor.client.program, signature);
    assert.ok(event.name === "serviceFunded" && event.data.amount === 7_000n && event.data.funder.equals(sponsor.publicKey));
  });

  it("rejects a zero top-up and a batch job", async () => {
    const lease = await posted();
    const before = snapshot(lease.env, moneyOf(lease));
    await expectProgramError(lease.consumer.client.fundService({ job: lease.job, amount: 0n, funderToken: lease.consumer.paymentToken }), "ZeroAmount");
    const { job } = await lease.consumer.client.postJob({ market: lease.market, specHash: SPEC_HASH, requirements: serviceInput(lease.market, lease.watchdog.publicKey).requirements, mode: "replicated", replication: 1, onFailure: "refund", maxPrice: 10n, instantPrice: 0n, bidWindowSlots: 0n, consumerToken: lease.consumer.paymentToken });
    const batchBefore = snapshot(lease.env, [lease.consumer.paymentToken]);
    await expectProgramError(lease.consumer.client.fundService({ job, amount: 5n, funderToken: lease.consumer.paymentToken }), "NotAService");
    assertNothingMoved(lease.env, batchBefore);
    assert.equal(lease.env.tokenBalance(lease.escrow), before.find((s) => s.account.equals(lease.escrow))!.tokens);
  });
});

describe("claim_service", () => {
  it("pays the replica its rate for every acknowledged slot, the protocol fee on top", async () => {
    const lease = await running([80n]);
    const start = await startedSlot(lease, 0);
    lease.env.ledger.warpToSlot(start + 60n);
    const owner = lease.providers[0].owner;
    const escrowBefore = lease.env.tokenBalance(lease.escrow);

    const signature = await owner.client.claimService(await ack(lease, 0, start + 50n), { ownerToken: owner.paymentToken });

    assert.equal(lease.env.tokenBalance(owner.paymentToken), 1_000_000_000n + 50n * 80n);
    assert.equal(lease.env.tokenBalance(treasuryAta(lease)), fee(4_000n));
    assert.equal(lease.env.tokenBalance(lease.escrow), escrowBefore - 4_000n - fee(4_000n));
    assert.equal((await lease.consumer.client.fetchBid(bidOf(lease, 0)))!.claimedSlot, start + 50n);
    assert.equal((await lease.consumer.client.fetchService(lease.service))!.paid, 4_000n);
    const event = eventsOf(lease.env, owner.client.program, signature).find((e) => e.name === "serviceClaimed");
    assert.ok(event?.name === "serviceClaimed");
    assert.deepEqual([event.data.slots, event.data.paid, event.data.fee, event.data.paidThroughSlot], [50n, 4_000n, fee(4_000n), start + 50n]);

    // A later acknowledgement pays only the slots since.
    lease.env.ledger.warpToSlot(start + 90n);
    await owner.client.claimService(await ack(lease, 0, start + 80n), { ownerToken: owner.paymentToken });
    assert.equal(lease.env.tokenBalance(owner.paymentToken), 1_000_000_000n + 80n * 80n);
  });

  it("refuses a replayed acknowledgement and an older one", async () => {
    const lease = await running([80n]);
    const start = await startedSlot(lease, 0);
    lease.env.ledger.warpToSlot(start + 60n);
    const owner = lease.providers[0].owner;
    const first = await ack(lease, 0, start + 50n);
    await owner.client.claimService(first, { ownerToken: owner.paymentToken });
    const before = snapshot(lease.env, moneyOf(lease));
    await expectProgramError(owner.client.claimService(first, { ownerToken: owner.paymentToken }), "StaleAcknowledgement");
    await expectProgramError(owner.client.claimService(await ack(lease, 0, start + 40n), { ownerToken: owner.paymentToken }), "StaleAcknowledgement");
    assertNothingMoved(lease.env, before, [owner.publicKey]);
  });

  it("refuses an acknowledgement signed by any key but the watchdog", async () => {
    const lease = await running([80n]);
    const start = await startedSlot(lease, 0);
    lease.env.ledger.warpToSlot(start + 60n);
    const owner = lease.providers[0].owner;
    const before = snapshot(lease.env, moneyOf(lease));
    // The provider signs its own acknowledgement: a valid signature, of the wrong key.
    const forged = await ack(lease, 0, start + 50n, owner.keypair);
    assert.equal(verifyAcknowledgement(forged), true);
    await expectProgramError(owner.client.claimService(forged, { ownerToken: owner.paymentToken }), "InvalidAcknowledgement");
    assertNothingMoved(lease.env, before, [owner.publicKey]);
  });

  it("refuses a signature that does not verify: the Ed25519 program fails the transaction", async () => {
    const lease = await running([80n]);
    const start = await startedSlot(lease, 0);
    lease.env.ledger.warpToSlot(start + 60n);
    const owner = lease.providers[0].owner;
    const genuine = await ack(lease, 0, start + 50n);
    const tampered = { ...genuine, signature: Uint8Array.from(genuine.signature, (b, i) => (i === 0 ? b ^ 1 : b)) };
    assert.equal(verifyAcknowledgement(tampered), false);
    const before = snapshot(lease.env, moneyOf(lease));
    await assert.rejects(sendInstructions(owner.provider, [acknowledgementVerifyInstruction(tampered), await claimIx(lease, 0, start + 50n)]));
    assertNothingMoved(lease.env, before, [owner.publicKey]);
  });

  it("refuses an acknowledgement of another replica, another job, or another slot than claimed", async () => {
    const lease = await running([80n, 90n]);
    const start = await startedSlot(lease, 0);
    lease.env.ledger.warpToSlot(start + 60n);
    const owner = lease.providers[0].owner;
    const other = await lease.consumer.client.postService(serviceInput(lease.market, lease.watchdog.publicKey, { consumerToken: lease.consumer.paymentToken }));
    const before = snapshot(lease.env, moneyOf(lease));
    // Replica 1's acknowledgement claimed by replica 0.
    const theirs = await ack(lease, 1, start + 50n);
    await expectProgramError(sendInstructions(owner.provider, [acknowledgementVerifyInstruction(theirs), await claimIx(lease, 0, start + 50n)]), "InvalidAcknowledgement");
    // An acknowledgement of another job (the other service) by the same watchdog.
    const otherJob = await lease.consumer.client.fetchJob(other.job);
    const elsewhere = signAcknowledgement(lease.watchdog.secretKey, { job: other.job, jobIncarnation: otherJob!.incarnation, provider: lease.providers[0].provider, upToSlot: start + 50n });
    await expectProgramError(sendInstructions(owner.provider, [acknowledgementVerifyInstruction(elsewhere), await claimIx(lease, 0, start + 50n)]), "InvalidAcknowledgement");
    // The right acknowledgement, but a later slot claimed than it covers.
    const mine = await ack(lease, 0, start + 10n);
    await expectProgramError(sendInstructions(owner.provider, [acknowledgementVerifyInstruction(mine), await claimIx(lease, 0, start + 50n)]), "InvalidAcknowledgement");
    // No verification at all before the claim.
    await expectProgramError(sendInstructions(owner.provider, [await claimIx(lease, 0, start + 50n)]), "InvalidAcknowledgement");
    assertNothingMoved(lease.env, before, [owner.publicKey]);
  });

  it("refuses an acknowledgement of a slot still to come, and a claim by anyone but the replica's owner", async () => {
    const lease = await running([80n]);
    const start = await startedSlot(lease, 0);
    lease.env.ledger.warpToSlot(start + 60n);
    const owner = lease.providers[0].owner;
    const before = snapshot(lease.env, moneyOf(lease));
    await expectProgramError(owner.client.claimService(await ack(lease, 0, start + 500n), { ownerToken: owner.paymentToken }), "AcknowledgementAhead");
    const stranger = lease.providers[1].owner;
    const good = await ack(lease, 0, start + 50n);
    const ix = await claimServiceInstruction(stranger.client.program, start + 50n, {
      owner: stranger.publicKey,
      ownerToken: stranger.paymentToken,
      config: stranger.client.configAddress,
      job: lease.job,
      escrow: lease.escrow,
      service: lease.service,
      bid: bidOf(lease, 0),
      treasuryToken: lease.authority.paymentToken,
    });
    await expectProgramError(sendInstructions(stranger.provider, [acknowledgementVerifyInstruction(good), ix]), "NotBidOwner");
    assertNothingMoved(lease.env, before, [owner.publicKey, stranger.publicKey]);
  });

  it("never pays more than the deposit holds (the crank fee kept), and pays on after a top-up", async () => {
    // The smallest deposit: one period at the cap (10,000 + fee); a replica at the cap.
    const lease = await running([RATE_CAP], { deposit: minDeposit(1n) });
    const start = await startedSlot(lease, 0);
    lease.env.ledger.warpToSlot(start + 300n);
    const owner = lease.providers[0].owner;
    await owner.client.claimService(await ack(lease, 0, start + 250n), { ownerToken: owner.paymentToken });
    assert.equal(lease.env.tokenBalance(owner.paymentToken), 1_000_000_000n + PERIOD * RATE_CAP, "one period is all the deposit pays");
    assert.equal(lease.env.tokenBalance(lease.escrow), MARKET_PARAMS.crankFee, "the settlement's crank fee stays");
    assert.equal((await lease.consumer.client.fetchBid(bidOf(lease, 0)))!.claimedSlot, start + PERIOD);
    const before = snapshot(lease.env, moneyOf(lease));
    await expectProgramError(owner.client.claimService(await ack(lease, 0, start + 250n), { ownerToken: owner.paymentToken }), "DepositExhausted");
    assertNothingMoved(lease.env, before, [owner.publicKey]);

    await lease.consumer.client.fundService({ job: lease.job, amount: 100n * RATE_CAP + fee(100n * RATE_CAP), funderToken: lease.consumer.paymentToken });
    await owner.client.claimService(await ack(lease, 0, start + 250n), { ownerToken: owner.paymentToken });
    assert.equal(lease.env.tokenBalance(owner.paymentToken), 1_000_000_000n + 200n * RATE_CAP);
  });
});

describe("end_replica and close_replica", () => {
  it("the consumer ends a replica at once: later time is not paid, the owner keeps a period to claim, then the lease settles", async () => {
    const lease = await running([80n]);
    const start = await startedSlot(lease, 0);
    const owner = lease.providers[0].owner;
    lease.env.ledger.warpToSlot(start + 40n);
    await lease.consumer.client.endReplica({ job: lease.job, provider: lease.providers[0].provider });
    assert.equal((await lease.consumer.client.fetchBid(bidOf(lease, 0)))!.endedSlot, start + 40n);
    const keeper = await lease.env.actor();
    // Nothing claimed yet and the claim period not over: not closable.
    const before = snapshot(lease.env, moneyOf(lease));
    await expectProgramError(keeper.client.closeReplica({ job: lease.job, provider: lease.providers[0].provider, keeperToken: keeper.paymentToken }), "ReplicaStillClaimable");
    assertNothingMoved(lease.env, before);

    // An acknowledgement past the end pays up to the end only.
    lease.env.ledger.warpToSlot(start + 60n);
    await owner.client.claimService(await ack(lease, 0, start + 55n), { ownerToken: owner.paymentToken });
    assert.equal(lease.env.tokenBalance(owner.paymentToken), 1_000_000_000n + 40n * 80n);

    // Paid through its end, the replica closes at once; being the last, it settles the lease.
    const consumerBefore = consumerTokens(lease);
    const escrowLeft = lease.env.tokenBalance(lease.escrow);
    const provider = await lease.consumer.client.fetchProvider(lease.providers[0].provider);
    assert.equal(provider!.locked, MARKET_PARAMS.jobStakeLock);
    await keeper.client.closeReplica({ job: lease.job, provider: lease.providers[0].provider, keeperToken: keeper.paymentToken });
    assert.equal((await lease.consumer.client.fetchProvider(lease.providers[0].provider))!.locked, 0n, "the stake lock is released");
    assert.equal(lease.env.tokenBalance(keeper.paymentToken), 1_000_000_000n + MARKET_PARAMS.crankFee);
    assert.equal(consumerTokens(lease), consumerBefore + escrowLeft - MARKET_PARAMS.crankFee);
    for (const account of [lease.job, lease.escrow, lease.service, bidOf(lease, 0)]) assert.equal(lease.env.exists(account), false);
    // Everything the consumer put in is accounted for: the replica's pay, the fee, the crank, the refund.
    assert.equal(1_000_000_000n - consumerTokens(lease), 40n * 80n + fee(40n * 80n) + MARKET_PARAMS.crankFee);
  });

  it("the owner ends its own replica with a period's notice, serving and paid until then", async () => {
    const lease = await running([80n]);
    const start = await startedSlot(lease, 0);
    const owner = lease.providers[0].owner;
    lease.env.ledger.warpToSlot(start + 10n);
    await owner.client.endReplica({ job: lease.job, provider: lease.providers[0].provider });
    assert.equal((await lease.consumer.client.fetchBid(bidOf(lease, 0)))!.endedSlot, start + 10n + PERIOD);
    lease.env.ledger.warpToSlot(start + 10n + PERIOD + 5n);
    await owner.client.claimService(await ack(lease, 0, start + 10n + PERIOD + 5n), { ownerToken: owner.paymentToken });
    assert.equal(lease.env.tokenBalance(owner.paymentToken), 1_000_000_000n + (10n + PERIOD) * 80n);
  });

  it("the watchdog may end a replica; a stranger may not, nor may a replica be ended twice", async () => {
    const lease = await running([80n]);
    const stranger = await lease.env.actor();
    const before = snapshot(lease.env, moneyOf(lease));
    await expectProgramError(stranger.client.endReplica({ job: lease.job, provider: lease.providers[0].provider }), "NotServiceParty");
    assertNothingMoved(lease.env, before);
    // The watchdog key signs (the consumer's wallet pays the fee).
    const ix = await endReplicaInstruction(lease.consumer.client.program, { signer: lease.watchdog.publicKey, market: lease.market, job: lease.job, service: lease.service, bid: bidOf(lease, 0) });
    const now = lease.env.ledger.slot;
    await sendInstructions(lease.consumer.provider, [ix], [lease.watchdog]);
    assert.equal((await lease.consumer.client.fetchBid(bidOf(lease, 0)))!.endedSlot, now);
    await expectProgramError(lease.consumer.client.endReplica({ job: lease.job, provider: lease.providers[0].provider }), "ReplicaEnded");
  });

  it("anyone closes a replica left running past the lease's longest term and its claim period (nothing locks forever)", async () => {
    const lease = await running([80n]);
    const start = await startedSlot(lease, 0);
    const keeper = await lease.env.actor();
    lease.env.ledger.warpToSlot(start + MAX_DURATION + PERIOD);
    await expectProgramError(keeper.client.closeReplica({ job: lease.job, provider: lease.providers[0].provider, keeperToken: keeper.paymentToken }), "ReplicaStillClaimable");
    lease.env.ledger.warpToSlot(start + MAX_DURATION + PERIOD + 1n);
    await keeper.client.closeReplica({ job: lease.job, provider: lease.providers[0].provider, keeperToken: keeper.paymentToken });
    assert.equal(lease.env.exists(lease.job), false);
    assert.equal((await lease.consumer.client.fetchProvider(lease.providers[0].provider))!.locked, 0n);
  });
});

describe("close_service", () => {
  it("returns the terms' rent once the job is gone, and refuses while it lives", async () => {
    const lease = await posted();
    const keeper = await lease.env.actor();
    await expectProgramError(keeper.client.closeService({ job: lease.job }), "ServiceStillOpen");
    await lease.consumer.client.cancelJob({ job: lease.job, consumerToken: lease.consumer.paymentToken });
    const rent = lease.env.lamports(lease.service);
    const lamports = lease.env.lamports(lease.consumer.publicKey);
    await keeper.client.closeService({ job: lease.job });
    assert.equal(lease.env.exists(lease.service), false);
    assert.equal(lease.env.lamports(lease.consumer.publicKey), lamports + rent);
  });
});
