// create_market: the authority opens markets, numbered by the config's market count.
import assert from "node:assert/strict";
import { createMarketInstruction, findMarketPda, sendInstructions } from "@compute-market/sdk";
import { TestEnv, type Actor } from "../../support/env";
import { expectProgramError, snapshot, assertNothingMoved, substitute } from "../../support/assertions";
import { eventsOf } from "../../support/events";
import { MARKET_CLASS, MARKET_PARAMS } from "../../support/fixtures";

async function configured(): Promise<{ env: TestEnv; authority: Actor }> {
  const env = await TestEnv.create();
  const authority = await env.actor();
  await authority.client.initializeConfig({ protocolFeeBps: 250, treasury: authority.publicKey });
  return { env, authority };
}

describe("create_market", () => {
  it("opens markets 0 and 1 with their class, mints and rules", async () => {
    const { env, authority } = await configured();
    const args = { class: MARKET_CLASS, params: MARKET_PARAMS, paymentMint: env.paymentMint, stakeMint: env.stakeMint };

    const first = await authority.client.createMarket(args);
    const second = await authority.client.createMarket({ ...args, paymentMint: env.stakeMint });

    assert.equal(first.id, 0n);
    assert.equal(second.id, 1n);
    assert.ok(first.market.equals(findMarketPda({ id: 0n, programId: env.programId })[0]));
    const market = await authority.client.fetchMarket(first.market);
    assert.ok(market);
    assert.equal(market.id, 0n);
    assert.ok(market.paymentMint.equals(env.paymentMint));
    assert.ok(market.stakeMint.equals(env.stakeMint));
    assert.equal(market.params.minStake, MARKET_PARAMS.minStake);
    assert.equal(market.params.unbondingSlots, MARKET_PARAMS.unbondingSlots);
    assert.equal(market.class.minVramMb, MARKET_CLASS.minVramMb);
    assert.equal((await authority.client.fetchConfig())?.marketCount, 2n);
    const [event] = eventsOf(env, authority.client.program, first.signature);
    assert.equal(event.name, "marketCreated");
    assert.equal(event.data.id, 0n);
  });

  it("rejects any signer but the authority", async () => {
    const { env } = await configured();
    const intruder = await env.actor();
    await expectProgramError(
      intruder.client.createMarket({ class: MARKET_CLASS, params: MARKET_PARAMS, paymentMint: env.paymentMint, stakeMint: env.stakeMint }),
      "NotAuthority",
    );
    assert.equal(env.exists(findMarketPda({ id: 0n, programId: env.programId })[0]), false);
  });

  const badParams: [string, Partial<typeof MARKET_PARAMS>][] = [
    ["a zero minimum stake", { minStake: 0n }],
    ["a zero per-job stake lock", { jobStakeLock: 0n }],
    ["a zero bid window", { bidWindowSlots: 0n }],
    ["an unbonding delay beyond 30 days", { unbondingSlots: 30n * 216_000n + 1n }],
    ["a slash rate above 100 %", { slashTimeoutBps: 10_001 }],
    ["a default replication of 0", { defaultReplication: 0 }],
    ["a default replication above 7", { defaultReplication: 8 }],
  ];
  for (const [what, params] of badParams) {
    it(`rejects ${what}`, async () => {
      const { env, authority } = await configured();
      await expectProgramError(
        authority.client.createMarket({
          class: MARKET_CLASS,
          params: { ...MARKET_PARAMS, ...params },
          paymentMint: env.paymentMint,
          stakeMint: env.stakeMint,
        }),
        "InvalidMarketParams",
      );
    });
  }

  it("rejects a payment mint that is a token account, not a mint", async () => {
    const { env, authority } = await configured();
    await expectProgramError(
      authority.client.createMarket({ class: MARKET_CLASS, params: MARKET_PARAMS, paymentMint: authority.paymentToken, stakeMint: env.stakeMint }),
      "InvalidMint",
    );
  });

  it("rejects a stake mint that is a plain wallet", async () => {
    const { env, authority } = await configured();
    await expectProgramError(
      authority.client.createMarket({ class: MARKET_CLASS, params: MARKET_PARAMS, paymentMint: env.paymentMint, stakeMint: authority.publicKey }),
      "InvalidMint",
    );
  });

  it("rejects a market address other than the next id's PDA", async () => {
    // Given market 0 exists, an attempt to create at market 0's address again (replay) or at id 5
    const { env, authority } = await configured();
    const args = { class: MARKET_CLASS, params: MARKET_PARAMS, paymentMint: env.paymentMint, stakeMint: env.stakeMint };
    await authority.client.createMarket(args);
    for (const id of [0n, 5n]) {
      const ix = await createMarketInstruction(authority.client.program, args, {
        authority: authority.publicKey,
        config: authority.client.configAddress,
        market: findMarketPda({ id, programId: env.programId })[0],
        paymentMint: env.paymentMint,
        stakeMint: env.stakeMint,
      });
      const before = snapshot(env, [findMarketPda({ id, programId: env.programId })[0]]);
      await expectProgramError(sendInstructions(authority.provider, [ix]), "InvalidPda");
      assertNothingMoved(env, before);
    }
    assert.equal((await authority.client.fetchConfig())?.marketCount, 1n);
  });

  it("rejects a config substitute of another type", async () => {
    const { env, authority } = await configured();
    const args = { class: MARKET_CLASS, params: MARKET_PARAMS, paymentMint: env.paymentMint, stakeMint: env.stakeMint };
    const { market } = await authority.client.createMarket(args);
    const ix = substitute(
      await createMarketInstruction(authority.client.program, args, {
        authority: authority.publicKey,
        config: authority.client.configAddress,
        market: findMarketPda({ id: 1n, programId: env.programId })[0],
        paymentMint: env.paymentMint,
        stakeMint: env.stakeMint,
      }),
      authority.client.configAddress,
      market,
    );
    await expectProgramError(sendInstructions(authority.provider, [ix]), "InvalidAccountData");
    assert.equal((await authority.client.fetchConfig())?.marketCount, 1n);
  });
});
