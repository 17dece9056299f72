// The core lifecycle end to end: market, provider stake and unstake, jobs posted and cancelled;
// every token is accounted for at the end.
import assert from "node:assert/strict";
import { PublicKey } from "@solana/web3.js";
import { TestEnv } from "../../support/env";
import { escrowFor, jobInput, MARKET_PARAMS, setupMarket, setupProvider } from "../../support/fixtures";
import { eventsOf } from "../../support/events";

describe("core lifecycle", () => {
  it("stakes, unbonds, posts and cancels jobs, and conserves every token", async () => {
    // Given a market, a provider and two consumers
    const env = await TestEnv.create();
    const { market } = await setupMarket(env);
    const { owner, provider, vault } = await setupProvider(env, market);
    const alice = await env.actor();
    const bob = await env.actor();
    const wallets: PublicKey[] = [owner.paymentToken, owner.stakeToken, alice.paymentToken, alice.stakeToken, bob.paymentToken, bob.stakeToken, vault];
    const total = (accounts: PublicKey[]) => accounts.reduce((sum, a) => sum + env.tokenBalance(a), 0n);
    const start = total(wallets);

    // When the provider stakes and later unbonds part of it
    await owner.client.stake({ provider, amount: 4_000_000n, ownerToken: owner.stakeToken });
    await owner.client.requestUnstake({ provider, amount: 1_500_000n });

    // And the consumers post three jobs, two of which are cancelled
    const a1 = await alice.client.postJob(jobInput(market, { consumerToken: alice.paymentToken }));
    const a2 = await alice.client.postJob(jobInput(market, { maxPrice: 750_000n, replication: 2, consumerToken: alice.paymentToken }));
    const b1 = await bob.client.postJob(jobInput(market, { mode: "verifiable", maxPrice: 5_000n, consumerToken: bob.paymentToken, program: { codeRoot: new Uint8Array(32).fill(3), inputRoot: new Uint8Array(32).fill(4), maxSteps: 1_000n } }));
    const escrows = [a1.escrow, a2.escrow, b1.escrow];
    assert.equal(total(escrows), escrowFor(2_000_000n) + escrowFor(750_000n, 2n) + escrowFor(5_000n));
    assert.equal(total([...wallets, ...escrows]), start);

    const cancel = await alice.client.cancelJob({ job: a2.job, consumerToken: alice.paymentToken });
    await bob.client.cancelJob({ job: b1.job, consumerToken: bob.paymentToken });
    env.ledger.advanceSlots(MARKET_PARAMS.unbondingSlots);
    await owner.client.withdrawUnstaked({ provider, ownerToken: owner.stakeToken });

    // Then the balances are exact and nothing was created or lost
    assert.equal(env.tokenBalance(vault), 2_500_000n);
    assert.equal(env.exists(a2.job) || env.exists(b1.job), false);
    assert.equal(env.tokenBalance(a1.escrow), escrowFor(2_000_000n));
    assert.equal(total([...wallets, a1.escrow]), start);
    assert.deepEqual(eventsOf(env, alice.client.program, cancel).map((e) => e.name), ["jobCancelled"]);
    const remaining = await alice.client.fetchJob(a1.job);
    assert.ok(remaining);
  });
});
