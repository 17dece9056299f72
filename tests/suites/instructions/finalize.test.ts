// finalize: after the challenge window, anyone settles: winner paid, fee to the treasury, crank
// fee to the keeper, the rest refunded, every account closed.
import assert from "node:assert/strict";
import { getAssociatedTokenAddressSync } from "@solana/spl-token";
import { Keypair, PublicKey } from "@solana/web3.js";
import { findBidPda, finalizeInstruction, sendInstructions, type FinalizeAccounts, type FinalizeWinner } from "@compute-market/sdk";
import { assertNothingMoved, expectProgramError, snapshot } from "../../support/assertions";
import { assertLedgerInvariants, awarded, PROVIDER_STAKE, setupAuction, type AuctionSetup } from "../../support/auction";
import { commitResults } from "../../support/results";
import type { Actor } from "../../support/env";
import { eventsOf } from "../../support/events";
import { escrowFor, MARKET_PARAMS, PROTOCOL_FEE_BPS } from "../../support/fixtures";

const ROOT = new Uint8Array(32).fill(0x11);

/** A job whose winners committed `roots` (one per winner) and, unless told otherwise, whose
 * challenge window passed. */
async function committed(
  options: Parameters<typeof setupAuction>[0] = {},
  prices = [1_500_000n],
  roots = [ROOT],
  windowPassed = true,
): Promise<AuctionSetup> {
  const setup = await setupAuction(options);
  await awarded(setup, prices);
  for (let i = 0; i < roots.length; i++) await setup.providers[i].owner.client.startJob({ job: setup.job });
  await commitResults(setup, roots);
  if (windowPassed) setup.env.ledger.advanceSlots(MARKET_PARAMS.challengeWindowSlots);
  return setup;
}

const ata = (setup: AuctionSetup, owner: PublicKey) => getAssociatedTokenAddressSync(setup.env.paymentMint, owner, true);

async function accountsFor(setup: AuctionSetup, keeper: Actor): Promise<{ accounts: FinalizeAccounts; winners: FinalizeWinner[] }> {
  const { owner, provider } = setup.providers[0];
  return {
    accounts: {
      keeper: keeper.publicKey,
      keeperToken: keeper.paymentToken,
      config: keeper.client.configAddress,
      job: setup.job,
      escrow: setup.escrow,
      consumer: setup.consumer.publicKey,
      consumerToken: setup.consumer.paymentToken,
      treasuryToken: setup.authority.paymentToken,
    },
    winners: [
      {
        bid: findBidPda({ job: setup.job, provider, programId: setup.env.programId })[0],
        provider,
        ownerToken: owner.paymentToken,
        owner: owner.publicKey,
        vault: setup.providers[0].vault,
      },
    ],
  };
}

describe("finalize", () => {
  it("pays the winner its price, the treasury its fee, the keeper its crank fee and refunds the rest", async () => {
    // Given a committed job whose winner bid 1,500,000 out of a 2,000,000 maximum
    const setup = await committed();
    const keeper = await setup.env.actor();
    const { owner, provider } = setup.providers[0];
    const bid = findBidPda({ job: setup.job, provider, programId: setup.env.programId })[0];
    const consumerBefore = setup.env.tokenBalance(setup.consumer.paymentToken);
    const rentBack = setup.env.lamports(setup.job) + setup.env.lamports(setup.escrow);
    const consumerLamports = setup.env.lamports(setup.consumer.publicKey);

    // When a keeper finalizes (its client creates the associated token accounts it needs)
    const signature = await keeper.client.finalize({ job: setup.job, consumerToken: setup.consumer.paymentToken });

    // Then every token is where it should be
    const price = 1_500_000n;
    const fee = (price * BigInt(PROTOCOL_FEE_BPS)) / 10_000n;
    assert.equal(setup.env.tokenBalance(ata(setup, owner.publicKey)), price);
    assert.equal(setup.env.tokenBalance(ata(setup, setup.authority.publicKey)), fee);
    assert.equal(setup.env.tokenBalance(ata(setup, keeper.publicKey)), MARKET_PARAMS.crankFee);
    assert.equal(setup.env.tokenBalance(setup.consumer.paymentToken), consumerBefore + escrowFor(2_000_000n) - price - fee - MARKET_PARAMS.crankFee);
    // And the job, its escrow and the bid are closed, their rent returned
    for (const account of [setup.job, setup.escrow, bid]) assert.equal(setup.env.exists(account), false);
    assert.equal(setup.env.lamports(setup.consumer.publicKey), consumerLamports + rentBack);
    // And the provider's lock is released and its record improved
    const state = await owner.client.fetchProvider(provider);
    assert.equal(state?.locked, 0n);
    assert.equal(state?.reputation.completed, 1);
    const names = eventsOf(setup.env, keeper.client.program, signature).map((e) => e.name);
    assert.deepEqual(names, ["winnerPaid", "jobFinalized"]);
    await assertLedgerInvariants(setup);
  });

  it("pays each winner of a replicated job whose results agree", async () => {
    const setup = await committed({ job: { replication: 2 } }, [1_000_000n, 1_200_000n], [ROOT, ROOT]);
    const keeper = await setup.env.actor();
    await keeper.client.finalize({ job: setup.job });
    assert.equal(setup.env.tokenBalance(ata(setup, setup.providers[0].owner.publicKey)), 1_000_000n);
    assert.equal(setup.env.tokenBalance(ata(setup, setup.providers[1].owner.publicKey)), 1_200_000n);
  });

  it("pays nobody without a strict majority, but charges the fee and lightly slashes every revealer to the treasury", async () => {
    const setup = await committed({ job: { replication: 2 } }, [1_000_000n, 1_200_000n], [ROOT, new Uint8Array(32).fill(0x22)]);
    const keeper = await setup.env.actor();
    const before = setup.env.tokenBalance(setup.consumer.paymentToken);
    const consumerStake = getAssociatedTokenAddressSync(setup.env.stakeMint, setup.consumer.publicKey, true);
    const treasuryStake = getAssociatedTokenAddressSync(setup.env.stakeMint, setup.authority.publicKey, true);
    const treasuryStakeBefore = setup.env.tokenBalance(treasuryStake);
    const signature = await keeper.client.finalize({ job: setup.job, consumerToken: setup.consumer.paymentToken });
    assert.equal(setup.env.tokenBalance(ata(setup, setup.providers[0].owner.publicKey)), 0n, "nobody is paid");
    // The consumer still pays the protocol fee on both prices (2.5 % of 1.0 M and 1.2 M) and the crank fee.
    const fees = 25_000n + 30_000n;
    assert.equal(setup.env.tokenBalance(setup.consumer.paymentToken), before + escrowFor(2_000_000n, 2n) - MARKET_PARAMS.crankFee - fees);
    const finalized = eventsOf(setup.env, keeper.client.program, signature).find((e) => e.name === "jobFinalized");
    assert.equal(finalized?.name === "jobFinalized" && finalized.data.outputsAgreed, false);
    assert.equal(finalized?.name === "jobFinalized" && BigInt(finalized.data.fees.toString()), fees);
    const slash = (MARKET_PARAMS.jobStakeLock * BigInt(MARKET_PARAMS.slashNoShowBps)) / 10_000n;
    for (const { owner, provider, vault } of setup.providers.slice(0, 2)) {
      const state = await owner.client.fetchProvider(provider);
      assert.equal(state?.locked, 0n);
      assert.equal(state?.staked, PROVIDER_STAKE - slash, "every revealer loses the light slash");
      assert.equal(setup.env.tokenBalance(vault), state?.staked);
    }
    assert.equal(setup.env.tokenBalance(consumerStake), 0n, "the consumer gets no share: its own winner may have broken the majority");
    assert.equal(setup.env.tokenBalance(treasuryStake) - treasuryStakeBefore, 2n * slash);
    await assertLedgerInvariants(setup);
  });

  it("pays the majority of a replicated job and lightly slashes the minority", async () => {
    const other = new Uint8Array(32).fill(0x22);
    const setup = await committed({ providers: 3, job: { replication: 3 } }, [1_000_000n, 1_100_000n, 1_200_000n], [ROOT, other, ROOT]);
    const keeper = await setup.env.actor();
    const consumerStake = getAssociatedTokenAddressSync(setup.env.stakeMint, setup.consumer.publicKey, true);
    const signature = await keeper.client.finalize({ job: setup.job });
    assert.equal(setup.env.tokenBalance(ata(setup, setup.providers[0].owner.publicKey)), 1_000_000n);
    assert.equal(setup.env.tokenBalance(ata(setup, setup.providers[1].owner.publicKey)), 0n, "the minority is not paid");
    assert.equal(setup.env.tokenBalance(ata(setup, setup.providers[2].owner.publicKey)), 1_200_000n);
    const slash = (MARKET_PARAMS.jobStakeLock * BigInt(MARKET_PARAMS.slashNoShowBps)) / 10_000n;
    assert.equal(setup.env.tokenBalance(setup.providers[1].vault), PROVIDER_STAKE - slash, "the minority loses the light slash");
    assert.equal(setup.env.tokenBalance(consumerStake), (slash * BigInt(MARKET_PARAMS.slashConsumerShareBps)) / 10_000n);
    assert.equal(setup.env.tokenBalance(setup.providers[0].vault), PROVIDER_STAKE);
    const slashed = eventsOf(setup.env, keeper.client.program, signature).filter((e) => e.name === "winnerSlashed");
    assert.equal(slashed.length, 1);
    await assertLedgerInvariants(setup);
  });

  it("slashes hard a winner that never revealed its sealed result", async () => {
    const setup = await setupAuction({ providers: 3, job: { replication: 3 } });
    await awarded(setup, [1_000_000n, 1_100_000n, 1_200_000n]);
    for (let i = 0; i < 3; i++) await setup.providers[i].owner.client.startJob({ job: setup.job });
    await commitResults(setup, [ROOT, ROOT, ROOT], [true, true, false]);
    setup.env.ledger.advanceSlots(MARKET_PARAMS.challengeWindowSlots);
    const keeper = await setup.env.actor();
    await keeper.client.finalize({ job: setup.job });
    const slash = (MARKET_PARAMS.jobStakeLock * BigInt(MARKET_PARAMS.slashTimeoutBps)) / 10_000n;
    assert.equal(setup.env.tokenBalance(setup.providers[2].vault), PROVIDER_STAKE - slash);
    assert.equal(setup.env.tokenBalance(ata(setup, setup.providers[2].owner.publicKey)), 0n);
    assert.equal(setup.env.tokenBalance(ata(setup, setup.providers[0].owner.publicKey)), 1_000_000n, "two of three is a majority");
  });

  it("rejects a settlement before the challenge window has passed", async () => {
    const setup = await committed({}, [1_500_000n], [ROOT], false);
    setup.env.ledger.warpToSlot((await setup.consumer.client.fetchJob(setup.job))!.progress.challengeDeadlineSlot - 1n);
    const keeper = await setup.env.actor();
    const before = snapshot(setup.env, [setup.escrow, setup.consumer.paymentToken]);
    await expectProgramError(keeper.client.finalize({ job: setup.job, consumerToken: setup.consumer.paymentToken }), "ChallengeWindowOpen");
    assertNothingMoved(setup.env, before);
  });

  it("rejects a settlement of a job still running", async () => {
    const setup = await setupAuction();
    await awarded(setup);
    await setup.providers[0].owner.client.startJob({ job: setup.job });
    const keeper = await setup.env.actor();
    const { accounts, winners } = await accountsFor(setup, keeper);
    const ix = await finalizeInstruction(keeper.client.program, accounts, winners);
    await expectProgramError(sendInstructions(keeper.provider, [ix]), "InvalidJobState");
  });

  it("rejects a second settlement (replay)", async () => {
    const setup = await committed();
    const keeper = await setup.env.actor();
    const { accounts, winners } = await accountsFor(setup, keeper);
    await sendInstructions(keeper.provider, [await finalizeInstruction(keeper.client.program, accounts, winners)]);
    const before = snapshot(setup.env, [keeper.paymentToken, setup.consumer.paymentToken, setup.authority.paymentToken]);
    const replay = await finalizeInstruction(keeper.client.program, accounts, winners);
    await expectProgramError(sendInstructions(keeper.provider, [replay]), "InvalidAccountOwner");
    assertNothingMoved(setup.env, before, [keeper.publicKey]);
  });

  const tampered: [string, (a: FinalizeAccounts, w: FinalizeWinner[], s: AuctionSetup) => void, Parameters<typeof expectProgramError>[1]][] = [
    ["a treasury account not owned by the treasury", (a, _w, s) => (a.treasuryToken = s.consumer.paymentToken), "TokenAccountOwnerMismatch"],
    ["a fee account of another mint", (a, _w, s) => (a.keeperToken = s.consumer.stakeToken), "WrongMint"],
    ["a consumer other than the job's", (a) => (a.consumer = Keypair.generate().publicKey), "ConsumerMismatch"],
    ["an escrow other than the job's", (a, _w, s) => (a.escrow = s.providers[0].vault), "InvalidVault"],
    ["a winner paid into someone else's account", (_a, w, s) => (w[0].ownerToken = s.consumer.paymentToken), "TokenAccountOwnerMismatch"],
    ["a losing bid in the winner's place", (_a, w, s) => (w[0].bid = findBidPda({ job: s.job, provider: s.providers[1].provider, programId: s.env.programId })[0]), "NotAssignedWinner"],
    ["a provider other than the bid's", (_a, w, s) => (w[0].provider = s.providers[1].provider), "BidMismatch"],
    ["no winner at all", (_a, w) => w.splice(0, 1), "WinnersMissing"],
  ];
  for (const [what, tamper, error] of tampered) {
    it(`rejects ${what}`, async () => {
      const setup = await committed({}, [1_500_000n, 1_700_000n]);
      const keeper = await setup.env.actor();
      const { accounts, winners } = await accountsFor(setup, keeper);
      tamper(accounts, winners, setup);
      const before = snapshot(setup.env, [setup.escrow, setup.consumer.paymentToken, keeper.paymentToken, setup.providers[0].owner.paymentToken]);
      const ix = await finalizeInstruction(keeper.client.program, accounts, winners);
      await expectProgramError(sendInstructions(keeper.provider, [ix]), error);
      assertNothingMoved(setup.env, before, [keeper.publicKey]);
    });
  }
});
