// Refereed jobs: a verifiable program run by two providers. Equal results are paid without a
// game; differing results cannot be finalized until the game between the two winners (the
// first-ranked defends, the second challenges) is played and settled: the loser's stake lock is
// slashed, the winner alone is paid, and the loser's share goes back to the consumer.
import assert from "node:assert/strict";
import { getAssociatedTokenAddressSync } from "@solana/spl-token";
import type { PublicKey } from "@solana/web3.js";
import { variantOf } from "@compute-market/sdk";
import { expectProgramError } from "../../support/assertions";
import { MARKET_PARAMS } from "../../support/auction";
import { escrowFor, PROTOCOL_FEE_BPS } from "../../support/fixtures";
import {
  claimHash,
  commitFor,
  freeReplays,
  honestClaim,
  LyingTrace,
  playGame,
  setupRefereedJob,
  wrongExitCode,
  type RefereedSetup,
} from "../../support/verifiable";

const TEXT = new TextEncoder().encode("two providers, one answer");
const LOCK = MARKET_PARAMS.jobStakeLock;
const MAX_PRICE = 2_000_000n;
const PRICES = [1_500_000n, 1_600_000n];
const fee = (price: bigint) => (price * BigInt(PROTOCOL_FEE_BPS)) / 10_000n;
const ata = (owner: PublicKey, mint: PublicKey) => getAssociatedTokenAddressSync(mint, owner, true);

async function finalizeAfterWindow(setup: RefereedSetup): Promise<void> {
  const job = (await setup.consumer.client.fetchJob(setup.job))!;
  setup.env.ledger.warpToSlot(job.progress.challengeDeadlineSlot);
  await setup.authority.client.finalize({ job: setup.job });
}

/** Plays the referee game of a job whose winner `liar` (0 or 1) committed a wrong final state. */
async function refereeAgainstLiar(liar: 0 | 1): Promise<void> {
  const setup = await setupRefereedJob({ guest: "sha256", input: TEXT });
  const honest = honestClaim(setup.honest);
  const wrong = wrongExitCode(honest);
  await commitFor(setup, 0, liar === 0 ? wrong : honest);
  await commitFor(setup, 1, liar === 1 ? wrong : honest);
  const job = (await setup.consumer.client.fetchJob(setup.job))!;
  setup.env.ledger.warpToSlot(job.progress.challengeDeadlineSlot);
  await expectProgramError(setup.authority.client.finalize({ job: setup.job }), "ResultsDiffer");

  const { dispute } = await setup.authority.client.referee({ job: setup.job });
  await expectProgramError(setup.authority.client.referee({ job: setup.job }), "AccountAlreadyInitialized");
  const game = (await setup.authority.client.fetchDispute(dispute))!;
  assert.equal(game.refereed, true);
  assert.equal(game.bond, 0n);
  assert.ok(game.challenger.equals(setup.providers[1].owner.publicKey));
  const lying = new LyingTrace(setup.honest, setup.steps / 2n, setup.steps, claimHash(wrong));
  const [defenderTrace, challengerTrace] = liar === 0 ? [lying, setup.honest] : [setup.honest, lying];
  const record = await playGame(
    setup.env,
    dispute,
    { actor: setup.providers[0].owner, trace: defenderTrace },
    { actor: setup.providers[1].owner, trace: challengerTrace },
    setup.authority,
  );
  assert.equal(record.winner, liar === 0 ? "challengerWon" : "providerWon");
  await expectProgramError(setup.authority.client.finalize({ job: setup.job }), "DisputeOpen");

  const { env } = setup;
  const winner = 1 - liar;
  const owners = setup.providers.slice(0, 2).map((p) => p.owner.publicKey);
  const before = {
    winnerStake: env.tokenBalance(ata(owners[winner], env.stakeMint)),
    treasuryStake: env.tokenBalance(ata(setup.authority.publicKey, env.stakeMint)),
    liarVault: env.tokenBalance(setup.providers[liar].vault),
  };
  await setup.authority.client.settleDispute({ dispute });
  assert.equal(env.tokenBalance(ata(owners[winner], env.stakeMint)) - before.winnerStake, LOCK / 2n, "half the liar's lock to the winner");
  assert.equal(env.tokenBalance(ata(setup.authority.publicKey, env.stakeMint)) - before.treasuryStake, LOCK / 2n, "half to the treasury");
  assert.equal(before.liarVault - env.tokenBalance(setup.providers[liar].vault), LOCK, "the liar's whole lock is slashed");
  assert.equal(variantOf((await setup.consumer.client.fetchBid(setup.bids[liar]))!.status), "refuted");

  const paymentBefore = {
    winner: env.tokenBalance(ata(owners[winner], env.paymentMint)),
    consumer: env.tokenBalance(setup.consumer.paymentToken),
  };
  await finalizeAfterWindow(setup);
  assert.equal(env.tokenBalance(ata(owners[winner], env.paymentMint)) - paymentBefore.winner, PRICES[winner], "the winner alone is paid");
  const refund = env.tokenBalance(ata(setup.consumer.publicKey, env.paymentMint));
  assert.equal(refund, escrowFor(MAX_PRICE, 2n) - PRICES[winner] - fee(PRICES[winner]) - MARKET_PARAMS.crankFee, "the liar's share comes back to the consumer");
  const liarProvider = (await setup.consumer.client.fetchProvider(setup.providers[liar].provider))!;
  assert.equal(liarProvider.reputation.disputesLost, 1);
  assert.equal(liarProvider.locked, 0n);
}

describe("refereed jobs", function () {
  this.timeout(120_000);
  afterEach(freeReplays);

  it("two equal results are both paid, with nothing to referee", async () => {
    const setup = await setupRefereedJob({ guest: "sha256", input: TEXT });
    const claim = honestClaim(setup.honest);
    await commitFor(setup, 0, claim);
    await commitFor(setup, 1, claim);
    await expectProgramError(setup.authority.client.referee({ job: setup.job }), "ResultsAgree");
    const owners = setup.providers.slice(0, 2).map((p) => ata(p.owner.publicKey, setup.env.paymentMint));
    await finalizeAfterWindow(setup);
    assert.deepEqual(owners.map((o) => setup.env.tokenBalance(o)), PRICES);
  });

  it("a wrong second winner challenges the right first one and loses its lock", async () => {
    await refereeAgainstLiar(1);
  });

  it("a wrong first winner is refuted by the second, which alone is paid", async () => {
    await refereeAgainstLiar(0);
  });

  it("only a refereed job's winners are refereed", async () => {
    const setup = await setupRefereedJob({ guest: "sha256", input: TEXT });
    await expectProgramError(setup.authority.client.referee({ job: setup.job }), "InvalidJobState");
    await commitFor(setup, 0, honestClaim(setup.honest));
    await expectProgramError(setup.authority.client.referee({ job: setup.job }), "InvalidJobState");
  });
});
