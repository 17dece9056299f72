// Pausing a service lease: pause_service (anyone, once the escrow cannot pay one more period of
// every open replica at the cap), a top-up through fund_service resuming it, and a lease never
// topped up ending at the pause's end and settled by anyone one claim period later. Each way to
// abuse it fails with a named error and moves no token.
import assert from "node:assert/strict";
import { Keypair } from "@solana/web3.js";
import { fundServiceInstruction, pauseServiceInstruction, rules, sendInstructions, signAcknowledgement, variantOf, type Acknowledgement } from "@compute-market/sdk";
import { assertNothingMoved, expectProgramError, snapshot, substitute } from "../../support/assertions";
import { eventsOf } from "../../support/events";
import { MARKET_CLASS, MARKET_PARAMS, SPEC_HASH } from "../../support/fixtures";
import { bidOf, consumerTokens, fee, minDeposit, PERIOD, posted, running, serviceInput, startedSlot, type Lease } from "../../support/service-lease";

const PAUSE = MARKET_PARAMS.servicePauseSlots!;

async function ack(lease: Lease, i: number, upToSlot: bigint): Promise<Acknowledgement> {
  const job = await lease.consumer.client.fetchJob(lease.job);
  return signAcknowledgement(lease.watchdog.secretKey, { job: lease.job, jobIncarnation: job!.incarnation, provider: lease.providers[i].provider, upToSlot });
}

const moneyOf = (lease: Lease) => [lease.escrow, lease.consumer.paymentToken, ...lease.providers.map((p) => p.owner.paymentToken), lease.service];

/** A lease at 1 token a slot funded with exactly one period at the cap, its replica claimed for
 * `claimed` slots: its escrow then holds less than a period, so it may be paused. */
async function short(claimed = 10n): Promise<{ lease: Lease; start: bigint }> {
  const lease = await running([1n], { deposit: minDeposit(1n) });
  const start = await startedSlot(lease, 0);
  lease.env.ledger.warpToSlot(start + claimed);
  const owner = lease.providers[0].owner;
  await owner.client.claimService(await ack(lease, 0, start + claimed), { ownerToken: owner.paymentToken });
  return { lease, start };
}

async function pauseIx(lease: Lease, cranker: Keypair) {
  const job = (await lease.consumer.client.fetchJob(lease.job))!;
  return pauseServiceInstruction(lease.consumer.client.program, { cranker: cranker.publicKey, market: job.market, job: lease.job, escrow: lease.escrow, service: lease.service });
}

describe("pause_service", () => {
  it("refuses to pause a lease whose escrow pays one more period, donations included", async () => {
    const lease = await running([1n], { deposit: minDeposit(1n) });
    const keeper = await lease.env.actor();
    const before = snapshot(lease.env, moneyOf(lease));
    await expectProgramError(keeper.client.pauseService({ job: lease.job }), "DepositCoversPeriod");
    assertNothingMoved(lease.env, before);

    // Short after a claim, but a transfer straight into the escrow covers the period again.
    const start = await startedSlot(lease, 0);
    lease.env.ledger.warpToSlot(start + 3n);
    await lease.providers[0].owner.client.claimService(await ack(lease, 0, start + 3n), { ownerToken: lease.providers[0].owner.paymentToken });
    await lease.env.mintTo(lease.env.paymentMint, lease.escrow, 3n);
    await expectProgramError(keeper.client.pauseService({ job: lease.job }), "DepositCoversPeriod");
    assert.equal((await lease.consumer.client.fetchService(lease.service))!.pausedSlot, 0n);
  });

  it("pauses a lease short of a period, once: its seats are kept until the pause ends", async () => {
    const { lease } = await short();
    const keeper = await lease.env.actor();
    const [job, service] = [await lease.consumer.client.fetchJob(lease.job), await lease.consumer.client.fetchService(lease.service)];
    assert.ok(rules.pauseDue(job!, service!, lease.env.tokenBalance(lease.escrow)), "the rule the keeper plans with agrees");
    const now = lease.env.ledger.slot;
    const signature = await keeper.client.pauseService({ job: lease.job });
    const terms = (await lease.consumer.client.fetchService(lease.service))!;
    assert.equal(terms.pausedSlot, now);
    assert.equal(terms.pauseEndsSlot, now + PAUSE);
    const [event] = eventsOf(lease.env, keeper.client.program, signature);
    assert.ok(event.name === "servicePaused" && event.data.pauseEndsSlot === now + PAUSE && event.data.balance === lease.env.tokenBalance(lease.escrow));
    assert.equal(variantOf((await lease.consumer.client.fetchJob(lease.job))!.state), "running", "nothing closes");

    const before = snapshot(lease.env, moneyOf(lease));
    await expectProgramError(keeper.client.pauseService({ job: lease.job }), "ServicePaused");
    // Its replica is not closable while its seat is kept.
    await expectProgramError(keeper.client.closeReplica({ job: lease.job, provider: lease.providers[0].provider, keeperToken: keeper.paymentToken }), "ReplicaStillClaimable");
    assertNothingMoved(lease.env, before);
  });

  it("resumes on a top-up that pays a period again, not on a smaller one", async () => {
    const { lease } = await short(10n);
    const keeper = await lease.env.actor();
    await keeper.client.pauseService({ job: lease.job });
    // 10 slots at 1 token were paid out: 10 (fees round to nothing at this rate) short of a period.
    const missing = minDeposit(1n) - lease.env.tokenBalance(lease.escrow);
    assert.equal(missing, 10n);
    await lease.consumer.client.fundService({ job: lease.job, amount: missing - 1n, funderToken: lease.consumer.paymentToken });
    assert.ok((await lease.consumer.client.fetchService(lease.service))!.pausedSlot > 0n, "still short: still paused");
    const signature = await lease.consumer.client.fundService({ job: lease.job, amount: 1n, funderToken: lease.consumer.paymentToken });
    const terms = (await lease.consumer.client.fetchService(lease.service))!;
    assert.equal(terms.pausedSlot, 0n);
    assert.equal(terms.pauseEndsSlot, 0n);
    const names = eventsOf(lease.env, keeper.client.program, signature).map((e) => e.name);
    assert.deepEqual(names, ["serviceFunded", "serviceResumed"]);
  });

  it("ends a lease never topped up at the pause's end: claims stop there, top-ups are refused, anyone settles it", async () => {
    const { lease, start } = await short(10n);
    const keeper = await lease.env.actor();
    const pausedAt = lease.env.ledger.slot;
    await keeper.client.pauseService({ job: lease.job });
    const end = pausedAt + PAUSE;
    lease.env.ledger.warpToSlot(end + 200n);
    const owner = lease.providers[0].owner;
    const ownerBefore = lease.env.tokenBalance(owner.paymentToken);
    await owner.client.claimService(await ack(lease, 0, end + 200n), { ownerToken: owner.paymentToken });
    assert.equal(lease.env.tokenBalance(owner.paymentToken) - ownerBefore, end - (start + 10n), "paid up to the pause's end, not after");

    const before = snapshot(lease.env, moneyOf(lease));
    await expectProgramError(lease.consumer.client.fundService({ job: lease.job, amount: 50_000n, funderToken: lease.consumer.paymentToken }), "PauseExpired");
    assertNothingMoved(lease.env, before);

    const consumerBefore = consumerTokens(lease);
    const left = lease.env.tokenBalance(lease.escrow);
    await keeper.client.closeReplica({ job: lease.job, provider: lease.providers[0].provider, keeperToken: keeper.paymentToken });
    for (const account of [lease.job, lease.escrow, lease.service, bidOf(lease, 0)]) assert.equal(lease.env.exists(account), false);
    assert.equal(consumerTokens(lease), consumerBefore + left - MARKET_PARAMS.crankFee);
    const paid = end - start;
    assert.equal(1_000_000_000n - consumerTokens(lease), paid + fee(paid) + MARKET_PARAMS.crankFee, "the consumer paid for acknowledged time, its fee and the crank only");
  });

  it("an unclaimed paused replica is closed one period after the pause's end (nothing locks)", async () => {
    const { lease } = await short(10n);
    const keeper = await lease.env.actor();
    const pausedAt = lease.env.ledger.slot;
    await keeper.client.pauseService({ job: lease.job });
    lease.env.ledger.warpToSlot(pausedAt + PAUSE + PERIOD);
    await expectProgramError(keeper.client.closeReplica({ job: lease.job, provider: lease.providers[0].provider, keeperToken: keeper.paymentToken }), "ReplicaStillClaimable");
    lease.env.ledger.warpToSlot(pausedAt + PAUSE + PERIOD + 1n);
    await keeper.client.closeReplica({ job: lease.job, provider: lease.providers[0].provider, keeperToken: keeper.paymentToken });
    assert.equal(lease.env.exists(lease.job), false);
    assert.equal((await lease.consumer.client.fetchProvider(lease.providers[0].provider))!.locked, 0n);
  });

  it("refuses another market, another escrow, another lease's terms, a lease still in its auction and a batch job", async () => {
    const { lease } = await short();
    const keeper = await lease.env.actor();
    const { market: other } = await lease.authority.client.createMarket({ class: MARKET_CLASS, params: MARKET_PARAMS, paymentMint: lease.env.paymentMint, stakeMint: lease.env.stakeMint });
    const second = await lease.consumer.client.postService(serviceInput(lease.market, lease.watchdog.publicKey, { consumerToken: lease.consumer.paymentToken }));
    const batch = await lease.consumer.client.postJob({ market: lease.market, specHash: SPEC_HASH, requirements: serviceInput(lease.market, lease.watchdog.publicKey).requirements, mode: "replicated", replication: 1, onFailure: "refund", maxPrice: 10n, instantPrice: 0n, bidWindowSlots: 0n, consumerToken: lease.consumer.paymentToken });
    const before = snapshot(lease.env, [...moneyOf(lease), second.escrow, batch.escrow]);
    await expectProgramError(sendInstructions(keeper.provider, [substitute(await pauseIx(lease, keeper.keypair), lease.market, other)]), "MarketMismatch");
    await expectProgramError(sendInstructions(keeper.provider, [substitute(await pauseIx(lease, keeper.keypair), lease.escrow, keeper.paymentToken)]), "InvalidVault");
    await expectProgramError(sendInstructions(keeper.provider, [substitute(await pauseIx(lease, keeper.keypair), lease.service, second.service)]), "ServiceMismatch");
    await expectProgramError(keeper.client.pauseService({ job: second.job }), "InvalidJobState");
    await expectProgramError(keeper.client.pauseService({ job: batch.job }), "NotAService");
    assertNothingMoved(lease.env, before);
    assert.equal((await lease.consumer.client.fetchService(lease.service))!.pausedSlot, 0n);
  });
});

describe("fund_service with the lease's terms", () => {
  it("refuses another lease's terms", async () => {
    const lease = await posted();
    const second = await lease.consumer.client.postService(serviceInput(lease.market, lease.watchdog.publicKey, { consumerToken: lease.consumer.paymentToken }));
    const before = snapshot(lease.env, moneyOf(lease));
    const ix = await fundServiceInstruction(lease.consumer.client.program, 5n, { funder: lease.consumer.publicKey, funderToken: lease.consumer.paymentToken, job: lease.job, escrow: lease.escrow, service: second.service });
    await expectProgramError(sendInstructions(lease.consumer.provider, [ix]), "ServiceMismatch");
    assertNothingMoved(lease.env, before, [lease.consumer.publicKey]);
  });
});
