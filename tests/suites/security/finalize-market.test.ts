// finalize took any market: for jobs with several winners the slash rates and the consumer's
// share came from whatever market account the cranker passed — a minority winner cranked with a
// 0-bps market and escaped its slash (or anyone punished it with a 100 % one). Now finalize takes
// only the job's own market.
import assert from "node:assert/strict";
import { createAssociatedTokenAccountIdempotentInstruction, getAssociatedTokenAddressSync } from "@solana/spl-token";
import type { PublicKey } from "@solana/web3.js";
import { finalizeInstruction, sendInstructions, type FinalizeWinner } from "@compute-market/sdk";
import { assertNothingMoved, expectProgramError, snapshot } from "../../support/assertions";
import { awarded, PROVIDER_STAKE, setupAuction } from "../../support/auction";
import { MARKET_CLASS, MARKET_PARAMS } from "../../support/fixtures";
import { commitResults } from "../../support/results";

const ROOT = new Uint8Array(32).fill(0x11);
const OTHER = new Uint8Array(32).fill(0x22);

const ata = (owner: PublicKey, mint: PublicKey) => getAssociatedTokenAddressSync(mint, owner, true);

describe("security: finalize with another market", () => {
  const others: [string, number][] = [["0-bps slash rates (to escape its slash)", 0], ["10,000-bps slash rates (to punish)", 10_000]];
  for (const [name, bps] of others) it(`is refused with MarketMismatch, so a cranker cannot pick a market of ${name}`, async () => {
    const setup = await setupAuction({ providers: 3, job: { replication: 3 } });
    await awarded(setup, [1_000_000n, 1_100_000n, 1_200_000n]);
    for (let i = 0; i < 3; i++) await setup.providers[i].owner.client.startJob({ job: setup.job });
    await commitResults(setup, [ROOT, OTHER, ROOT]);
    setup.env.ledger.advanceSlots(MARKET_PARAMS.challengeWindowSlots);
    const rates = { ...MARKET_PARAMS, slashNoShowBps: bps, slashTimeoutBps: bps, slashConsumerShareBps: bps };
    const { market: other } = await setup.authority.client.createMarket({ class: MARKET_CLASS, params: rates, paymentMint: setup.env.paymentMint, stakeMint: setup.env.stakeMint });

    const minority = setup.providers[1];
    const { env } = setup;
    const payer = minority.owner;
    const tokens = [setup.consumer.publicKey, setup.authority.publicKey, ...setup.providers.map((p) => p.owner.publicKey), payer.publicKey];
    const create = tokens.flatMap((owner) => [env.paymentMint, env.stakeMint].map((mint) => createAssociatedTokenAccountIdempotentInstruction(payer.publicKey, ata(owner, mint), owner, mint)));
    for (let i = 0; i < create.length; i += 4) await sendInstructions(payer.provider, create.slice(i, i + 4));
    const winners: FinalizeWinner[] = setup.providers.map((p) => ({
      bid: payer.client.bidAddress(setup.job, p.provider),
      provider: p.provider,
      ownerToken: ata(p.owner.publicKey, env.paymentMint),
      owner: p.owner.publicKey,
      vault: p.vault,
    }));
    const accounts = {
      keeper: payer.publicKey,
      keeperToken: ata(payer.publicKey, env.paymentMint),
      config: payer.client.configAddress,
      job: setup.job,
      escrow: setup.escrow,
      consumer: setup.consumer.publicKey,
      consumerToken: setup.consumer.paymentToken,
      treasuryToken: ata(setup.authority.publicKey, env.paymentMint),
    };
    const slashes = (market: PublicKey) => ({ market, consumerStakeToken: ata(setup.consumer.publicKey, env.stakeMint), treasuryStakeToken: ata(setup.authority.publicKey, env.stakeMint) });

    const stakeTokens = [setup.consumer.publicKey, setup.authority.publicKey].map((owner) => ata(owner, env.stakeMint));
    const paid = [...winners.map((w) => w.ownerToken), accounts.treasuryToken, accounts.consumerToken];
    const watched = [setup.job, setup.escrow, ...setup.providers.flatMap((p) => [p.vault, p.provider]), ...winners.map((w) => w.bid), ...stakeTokens, ...paid];
    const before = snapshot(env, watched);
    const escape = await finalizeInstruction(payer.client.program, accounts, winners, slashes(other));
    await expectProgramError(sendInstructions(payer.provider, [escape]), "MarketMismatch");
    assertNothingMoved(env, before);

    await sendInstructions(payer.provider, [await finalizeInstruction(payer.client.program, accounts, winners, slashes(setup.market))]);
    const slash = (MARKET_PARAMS.jobStakeLock * BigInt(MARKET_PARAMS.slashNoShowBps)) / 10_000n;
    assert.equal(env.tokenBalance(minority.vault), PROVIDER_STAKE - slash, "the minority is slashed at its own market's rate");
    const share = (slash * BigInt(MARKET_PARAMS.slashConsumerShareBps)) / 10_000n;
    assert.equal(env.tokenBalance(ata(setup.consumer.publicKey, env.stakeMint)), share, "the consumer's share of the slash");
    assert.equal(env.tokenBalance(ata(setup.authority.publicKey, env.stakeMint)), slash - share, "the rest to the treasury");
    assert.equal(env.tokenBalance(winners[0].ownerToken), 1_000_000n, "the majority is paid");
    assert.equal(env.tokenBalance(winners[2].ownerToken), 1_200_000n);
    assert.equal(env.tokenBalance(winners[1].ownerToken), MARKET_PARAMS.crankFee, "the minority is not paid: as the cranker it earns the crank fee alone");
    for (const i of [0, 2]) assert.equal(env.tokenBalance(setup.providers[i].vault), PROVIDER_STAKE);
    assert.equal(env.exists(setup.job), false);
  });
});
