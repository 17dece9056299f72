// Nothing locks funds forever: a keeper's cranks and the clock end jobs left in any state, then providers take back every bid and all stake.
import assert from "node:assert/strict";
import { getAssociatedTokenAddressSync } from "@solana/spl-token";
import { PublicKey } from "@solana/web3.js";
import { rules, variantOf, type FailurePolicyName } from "@compute-market/sdk";
import { PROVIDER_STAKE } from "../../support/auction";
import { TestEnv, type Actor } from "../../support/env";
import { jobInput, MARKET_PARAMS, setupMarket, setupProvider, type ProviderSetup } from "../../support/fixtures";

const MINTED = 1_000_000_000n; // of each mint, to every actor (TestEnv.actor)
const bps = (amount: bigint, rate: number | bigint) => (amount * BigInt(rate)) / 10_000n;
/** Each of the treasury and the consumer gets half of a slash (slashConsumerShareBps = 50 %). */
const NO_SHOW_SHARE = bps(bps(MARKET_PARAMS.jobStakeLock, MARKET_PARAMS.slashNoShowBps), MARKET_PARAMS.slashConsumerShareBps);
const TIMEOUT_SHARE = bps(bps(MARKET_PARAMS.jobStakeLock, MARKET_PARAMS.slashTimeoutBps), MARKET_PARAMS.slashConsumerShareBps);
/** The keeper's crank share of each failure's slash (out of the treasury's part). */
const NO_SHOW_KEEPER = bps(bps(MARKET_PARAMS.jobStakeLock, MARKET_PARAMS.slashNoShowBps), rules.FAIL_CRANK_SHARE_BPS);
const TIMEOUT_KEEPER = bps(bps(MARKET_PARAMS.jobStakeLock, MARKET_PARAMS.slashTimeoutBps), rules.FAIL_CRANK_SHARE_BPS);
const FORFEIT = bps(MARKET_PARAMS.jobStakeLock, MARKET_PARAMS.slashNoShowBps);
const RESULT = { outputRoot: new Uint8Array(32).fill(0x11), resultUriHash: new Uint8Array(32) };

interface World {
  env: TestEnv;
  market: PublicKey;
  authority: Actor;
  consumer: Actor;
  keeper: Actor;
  providers: ProviderSetup[];
}

async function world(providers = 4): Promise<World> {
  const env = await TestEnv.create();
  const { authority, market } = await setupMarket(env);
  const staked: ProviderSetup[] = [];
  for (let i = 0; i < providers; i++) staked.push(await setupProvider(env, market, PROVIDER_STAKE));
  return { env, market, authority, consumer: await env.actor(), keeper: await env.actor(), providers: staked };
}

const actorsOf = (w: World): Actor[] => [w.authority, w.consumer, w.keeper, ...w.providers.map((p) => p.owner)];

/** Every token account an actor may hold: its own two, and its associated accounts of each mint. */
function walletsOf(w: World, mint: PublicKey): PublicKey[] {
  return actorsOf(w).flatMap((a) => [
    mint.equals(w.env.paymentMint) ? a.paymentToken : a.stakeToken,
    getAssociatedTokenAddressSync(mint, a.publicKey, true),
  ]);
}

const sum = (w: World, accounts: PublicKey[]) => accounts.reduce((total, a) => total + w.env.tokenBalance(a), 0n);

/** Tokens of each mint in wallets, and in the program's hands (job escrows, stake vaults). */
function ledgerTotals(w: World, escrows: PublicKey[]) {
  const vaults = w.providers.map((p) => p.vault);
  return {
    payment: { wallets: sum(w, walletsOf(w, w.env.paymentMint)), held: sum(w, escrows) },
    stake: { wallets: sum(w, walletsOf(w, w.env.stakeMint)), held: sum(w, vaults) },
  };
}

type Posted = { job: PublicKey; escrow: PublicKey };

async function post(w: World, onFailure: FailurePolicyName, overrides: Parameters<typeof jobInput>[1] = {}): Promise<Posted> {
  return w.consumer.client.postJob(jobInput(w.market, { consumerToken: w.consumer.paymentToken, onFailure, ...overrides }));
}

async function bids(w: World, job: PublicKey, prices: bigint[]): Promise<void> {
  for (const [i, price] of prices.entries()) await w.providers[i].owner.client.placeBid({ job, price });
}

async function closeAuction(w: World, job: PublicKey): Promise<void> {
  const state = await w.consumer.client.fetchJob(job);
  w.env.ledger.warpToSlot((state!.sealed ? state!.revealDeadlineSlot : state!.bidDeadlineSlot) + 1n);
}

const START_STATES = ["open with no bids", "open with ranked bids", "awarded", "running", "committed"] as const;
type StartState = (typeof START_STATES)[number];

/** One job (bids by providers 0 and 1) left in `state` by its consumer and providers. */
async function abandoned(w: World, state: StartState, onFailure: FailurePolicyName): Promise<Posted> {
  const posted = await post(w, onFailure);
  if (state === "open with no bids") return posted;
  await bids(w, posted.job, [1_500_000n, 1_700_000n]);
  if (state === "open with ranked bids") return posted;
  await closeAuction(w, posted.job);
  await w.consumer.client.award({ job: posted.job });
  if (state === "awarded") return posted;
  await w.providers[0].owner.client.startJob({ job: posted.job });
  if (state === "running") return posted;
  await w.providers[0].owner.client.commitResult({ job: posted.job, ...RESULT });
  return posted;
}

type Crank = { wait: bigint } | { name: string; run: () => Promise<unknown> };

/** What a keeper can do for `job` now, or the first slot at which it can do something. */
async function dueCrank(keeper: Actor, job: PublicKey, now: bigint): Promise<Crank> {
  const state = await keeper.client.fetchJob(job);
  assert.ok(state, "live job");
  const winners = async () => {
    const ranked = state.auction.ranking.slice(0, state.auction.rankedCount);
    const assigned = [];
    for (const entry of ranked) {
      const bid = await keeper.client.fetchBid(keeper.client.bidAddress(job, entry.provider));
      const status = bid && variantOf(bid.status);
      const current = bid?.awardedSlot === state.progress.awardedSlot;
      if (current && (status === "won" || status === "started" || status === "committed")) assigned.push({ provider: entry.provider, status });
    }
    return assigned;
  };
  switch (variantOf(state.state)) {
    case "open": {
      const end = state.sealed ? state.revealDeadlineSlot : state.bidDeadlineSlot;
      if (now <= end) return { wait: end + 1n };
      if (state.auction.rankedCount >= state.replication) return { name: "award", run: () => keeper.client.award({ job }) };
      return { name: "expireJob", run: () => keeper.client.expireJob({ job }) };
    }
    case "awarded": {
      if (now <= state.progress.startDeadlineSlot) return { wait: state.progress.startDeadlineSlot + 1n };
      const noShow = (await winners()).find((w) => w.status === "won");
      assert.ok(noShow, "an awarded job past its start deadline has a winner that did not start");
      return { name: "failNoShow", run: () => keeper.client.failNoShow({ job, provider: noShow.provider }) };
    }
    case "running": {
      if (now <= state.progress.commitDeadlineSlot) return { wait: state.progress.commitDeadlineSlot + 1n };
      const late = (await winners()).find((w) => w.status !== "committed");
      assert.ok(late, "a running job past its commit deadline has a winner that did not commit");
      return { name: "failTimeout", run: () => keeper.client.failTimeout({ job, provider: late.provider }) };
    }
    case "committed": {
      if (now < state.progress.challengeDeadlineSlot) return { wait: state.progress.challengeDeadlineSlot };
      return { name: "finalize", run: () => keeper.client.finalize({ job }) };
    }
    default:
      return assert.fail(`a live job in state ${variantOf(state.state)}`);
  }
}

/** The keeper cranks whatever is due, else the clock moves to the next deadline, until every job
 * is closed. Returns the cranks applied to each job, in order. */
async function crankToTheEnd(w: World, jobs: PublicKey[]): Promise<string[][]> {
  const applied = jobs.map((): string[] => []);
  for (let step = 0; step < 100; step++) {
    const live = jobs.map((job, i) => ({ job, i })).filter(({ job }) => w.env.exists(job));
    if (live.length === 0) return applied;
    let next: bigint | null = null;
    let acted = false;
    for (const { job, i } of live) {
      const crank = await dueCrank(w.keeper, job, w.env.ledger.slot);
      if ("wait" in crank) {
        next = next === null || crank.wait < next ? crank.wait : next;
        continue;
      }
      await crank.run();
      applied[i].push(crank.name);
      acted = true;
    }
    if (!acted) {
      assert.ok(next !== null, "a live job with nothing due has a deadline ahead");
      w.env.ledger.warpToSlot(next);
    }
  }
  return assert.fail("the keeper did not close every job in 100 steps");
}

/** Each provider withdraws its remaining bids, unbonds all its stake and takes it out. */
async function providersLeave(w: World, jobs: PublicKey[]): Promise<void> {
  for (const { owner, provider } of w.providers) {
    for (const job of jobs) {
      if (w.env.exists(owner.client.bidAddress(job, provider))) await owner.client.withdrawBid({ job, market: w.market });
    }
    const state = await owner.client.fetchProvider(provider);
    assert.equal(state?.locked, 0n, "no stake is locked once the provider's bids are gone");
    if (state!.staked > 0n) await owner.client.requestUnstake({ provider, amount: state!.staked });
  }
  w.env.ledger.advanceSlots(MARKET_PARAMS.unbondingSlots);
  for (const { owner, provider } of w.providers) {
    if ((await owner.client.fetchProvider(provider))!.staked > 0n) await owner.client.withdrawUnstaked({ provider, ownerToken: owner.stakeToken });
  }
}

/** The end state the scenario promises: no job or bid left, nothing held, every token accounted for. */
async function assertEverythingReturned(w: World, jobs: Posted[]): Promise<void> {
  const program = w.keeper.client.program;
  assert.equal((await program.account.job.all()).length, 0, "no job is left");
  assert.equal((await program.account.bid.all()).length, 0, "no bid is left");
  for (const { job, escrow } of jobs) assert.ok(!w.env.exists(job) && !w.env.exists(escrow), "job and escrow closed");
  for (const { provider, vault } of w.providers) {
    assert.equal(w.env.tokenBalance(vault), 0n, "vault empty");
    const state = await program.account.provider.fetch(provider);
    assert.equal(BigInt(state.staked.toString()), 0n, "no stake recorded");
  }
  const minted = BigInt(actorsOf(w).length) * MINTED;
  const totals = ledgerTotals(w, jobs.map((j) => j.escrow));
  assert.deepEqual(totals, { payment: { wallets: minted, held: 0n }, stake: { wallets: minted, held: 0n } });
}

/** The consumer, the keeper and the treasury hold, in the stake mint, their shares of the slashes
 * the cranks applied, and the treasury the forfeits of unrevealed sealed bids. */
function assertSlashesShared(w: World, cranks: string[][], forfeits: bigint): void {
  const count = (name: string) => BigInt(cranks.flat().filter((c) => c === name).length);
  const shares = count("failNoShow") * NO_SHOW_SHARE + count("failTimeout") * TIMEOUT_SHARE;
  const keeperShares = count("failNoShow") * NO_SHOW_KEEPER + count("failTimeout") * TIMEOUT_KEEPER;
  const stakeAta = (owner: PublicKey) => getAssociatedTokenAddressSync(w.env.stakeMint, owner, true);
  assert.equal(w.env.tokenBalance(stakeAta(w.consumer.publicKey)), shares);
  assert.equal(w.env.tokenBalance(stakeAta(w.keeper.publicKey)), keeperShares, "the keeper is paid by the failed providers");
  assert.equal(w.env.tokenBalance(stakeAta(w.authority.publicKey)), shares - keeperShares + forfeits);
}

/** The cranks a keeper needs from each start state (bids of 1.5M and 1.7M where there are bids). */
const EXPECTED_CRANKS: Record<FailurePolicyName, Record<StartState, string[]>> = {
  reopen: {
    "open with no bids": ["expireJob"],
    "open with ranked bids": ["award", "failNoShow", "award", "failNoShow", "expireJob"],
    awarded: ["failNoShow", "award", "failNoShow", "expireJob"],
    running: ["failTimeout", "award", "failNoShow", "expireJob"],
    committed: ["finalize"],
  },
  refund: {
    "open with no bids": ["expireJob"],
    "open with ranked bids": ["award", "failNoShow"],
    awarded: ["failNoShow"],
    running: ["failTimeout"],
    committed: ["finalize"],
  },
};

describe("cranks terminate every job", () => {
  for (const onFailure of ["reopen", "refund"] as const) {
    for (const start of START_STATES) {
      it(`ends a job left ${start} (${onFailure} on failure) and returns every token`, async () => {
        // Given a job abandoned in that state by its consumer and its bidders
        const w = await world(2);
        const posted = await abandoned(w, start, onFailure);
        const minted = BigInt(actorsOf(w).length) * MINTED;
        const before = ledgerTotals(w, [posted.escrow]);
        assert.equal(before.payment.wallets + before.payment.held, minted);
        assert.equal(before.stake.wallets + before.stake.held, minted);

        // When only a keeper's cranks and the clock act on it
        const [cranks] = await crankToTheEnd(w, [posted.job]);

        // Then it closed by the expected path
        assert.deepEqual(cranks, EXPECTED_CRANKS[onFailure][start]);
        // And once the providers withdraw their bids and stake, nothing is held and nothing lost
        await providersLeave(w, [posted.job]);
        await assertEverythingReturned(w, [posted]);
        assertSlashesShared(w, [cranks], 0n);
      });
    }

    it(`ends jobs left in every state at once, sealed and replicated ones too (${onFailure} on failure)`, async () => {
      // Given one market with jobs left open (no bid; ranked bids; a sealed auction with one bid
      // never revealed), awarded, running (alone, and two winners of which one committed) and committed
      const w = await world(4);
      const empty = await post(w, onFailure);
      const ranked = await post(w, onFailure);
      const awardedJob = await post(w, onFailure);
      const runningJob = await post(w, onFailure);
      const committedJob = await post(w, onFailure);
      const replicated = await post(w, onFailure, { replication: 2 });
      const sealed = await post(w, onFailure, { sealed: true });
      for (const { job } of [ranked, awardedJob, runningJob, committedJob]) await bids(w, job, [1_500_000n, 1_700_000n]);
      await bids(w, replicated.job, [1_500_000n, 1_700_000n, 1_900_000n]);
      const { salt } = await w.providers[2].owner.client.placeSealedBid({ job: sealed.job, price: 1_200_000n });
      await w.providers[3].owner.client.placeSealedBid({ job: sealed.job, price: 1_100_000n });
      await closeAuction(w, ranked.job);
      await w.providers[2].owner.client.revealBid({ job: sealed.job, price: 1_200_000n, salt });
      for (const { job } of [awardedJob, runningJob, committedJob, replicated]) await w.consumer.client.award({ job });
      for (const { job } of [runningJob, committedJob]) await w.providers[0].owner.client.startJob({ job });
      for (const i of [0, 1]) await w.providers[i].owner.client.startJob({ job: replicated.job });
      await w.providers[0].owner.client.commitResult({ job: committedJob.job, ...RESULT });
      await w.providers[0].owner.client.commitSealedResult({ job: replicated.job, outputRoot: RESULT.outputRoot, salt: new Uint8Array(32).fill(5), resultUriHash: RESULT.resultUriHash });
      const all = [empty, ranked, awardedJob, runningJob, committedJob, replicated, sealed];
      const states = await Promise.all(all.map(async ({ job }) => variantOf((await w.consumer.client.fetchJob(job))!.state)));
      assert.deepEqual(states, ["open", "open", "awarded", "running", "committed", "running", "open"]);
      const minted = BigInt(actorsOf(w).length) * MINTED;
      const before = ledgerTotals(w, all.map((j) => j.escrow));
      assert.equal(before.payment.wallets + before.payment.held, minted);
      assert.equal(before.stake.wallets + before.stake.held, minted);

      // When only a keeper's cranks and the clock act on them
      const cranks = await crankToTheEnd(w, all.map((j) => j.job));

      // Then each job closed by the expected path
      const expected = EXPECTED_CRANKS[onFailure];
      assert.deepEqual(cranks, [
        expected["open with no bids"],
        expected["open with ranked bids"],
        expected.awarded,
        expected.running,
        expected.committed,
        onFailure === "reopen" ? ["failTimeout", "award", "failNoShow", "failNoShow", "expireJob"] : ["failTimeout"],
        onFailure === "reopen" ? ["award", "failNoShow", "expireJob"] : ["award", "failNoShow"],
      ]);
      // And, once the providers withdraw their bids and stake, nothing is held and nothing lost
      await providersLeave(w, all.map((j) => j.job));
      await assertEverythingReturned(w, all);
      // And the slashes and the unrevealed bid's forfeit are with the consumer and the treasury
      assertSlashesShared(w, cranks, FORFEIT);
    });
  }

  // Regression: a losing bid withdrawn after the award leaves the ranking, so a reopened job
  // can still be awarded or expired by cranks alone.
  it("ends a reopened job whose losing bidder withdrew during the award (reopen on failure)", async () => {
    const w = await world(2);
    const posted = await abandoned(w, "awarded", "reopen");
    await w.providers[1].owner.client.withdrawBid({ job: posted.job });

    const [cranks] = await crankToTheEnd(w, [posted.job]);

    assert.deepEqual(cranks, ["failNoShow", "expireJob"]);
    await providersLeave(w, [posted.job]);
    await assertEverythingReturned(w, [posted]);
  });
});
