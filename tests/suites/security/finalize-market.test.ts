// finalize took any market: for jobs with several winners the slash rates and the consumer's
// share came from whatever market account the cranker passed — a minority winner cranked with a
// 0-bps market and escaped its slash. Now finalize takes only the job's own market.
import assert from "node:assert/strict";
import { createAssociatedTokenAccountIdempotentInstruction, getAssociatedTokenAddressSync } from "@solana/spl-token";
import type { PublicKey } from "@solana/web3.js";
import { finalizeInstruction, sendInstructions, type FinalizeWinner } from "@compute-market/sdk";
import { assertNothingMoved, expectProgramError, snapshot } from "../../support/assertions";
import { awarded, PROVIDER_STAKE, setupAuction, type AuctionSetup } from "../../support/auction";
import { MARKET_CLASS, MARKET_PARAMS } from "../../support/fixtures";
import { commitResults } from "../../support/results";

const ROOT = new Uint8Array(32).fill(0x11);
const OTHER = new Uint8Array(32).fill(0x22);

const ata = (setup: AuctionSetup, owner: PublicKey, mint: PublicKey) => getAssociatedTokenAddressSync(mint, owner, true);

describe("security: finalize with another market", () => {
  it("is refused with MarketMismatch, so a minority winner cannot pick 0-bps slash rates", async () => {
    const setup = await setupAuction({ providers: 3, job: { replication: 3 } });
    await awarded(setup, [1_000_000n, 1_100_000n, 1_200_000n]);
    for (let i = 0; i < 3; i++) await setup.providers[i].owner.client.startJob({ job: setup.job });
    await commitResults(setup, [ROOT, OTHER, ROOT]);
    setup.env.ledger.advanceSlots(MARKET_PARAMS.challengeWindowSlots);
    const lenient = { ...MARKET_PARAMS, slashNoShowBps: 0, slashTimeoutBps: 0, slashConsumerShareBps: 0 };
    const { market: zero } = await setup.authority.client.createMarket({ class: MARKET_CLASS, params: lenient, paymentMint: setup.env.paymentMint, stakeMint: setup.env.stakeMint });

    const minority = setup.providers[1];
    const { env } = setup;
    const payer = minority.owner;
    const tokens = [setup.consumer.publicKey, setup.authority.publicKey, ...setup.providers.map((p) => p.owner.publicKey), payer.publicKey];
    const create = tokens.flatMap((owner) => [env.paymentMint, env.stakeMint].map((mint) => createAssociatedTokenAccountIdempotentInstruction(payer.publicKey, ata(setup, owner, mint), owner, mint)));
    for (let i = 0; i < create.length; i += 4) await sendInstructions(payer.provider, create.slice(i, i + 4));
    const winners: FinalizeWinner[] = setup.providers.map((p) => ({
      bid: payer.client.bidAddress(setup.job, p.provider),
      provider: p.provider,
      ownerToken: ata(setup, p.owner.publicKey, env.paymentMint),
      owner: p.owner.publicKey,
      vault: p.vault,
    }));
    const accounts = {
      keeper: payer.publicKey,
      keeperToken: ata(setup, payer.publicKey, env.paymentMint),
      config: payer.client.configAddress,
      job: setup.job,
      escrow: setup.escrow,
      consumer: setup.consumer.publicKey,
      consumerToken: setup.consumer.paymentToken,
      treasuryToken: ata(setup, setup.authority.publicKey, env.paymentMint),
    };
    const slashes = (market: PublicKey) => ({ market, consumerStakeToken: ata(setup, setup.consumer.publicKey, env.stakeMint), treasuryStakeToken: ata(setup, setup.authority.publicKey, env.stakeMint) });

    const watched = [setup.job, setup.escrow, minority.vault, minority.provider, ...winners.map((w) => w.bid)];
    const before = snapshot(env, watched);
    const escape = await finalizeInstruction(payer.client.program, accounts, winners, slashes(zero));
    await expectProgramError(sendInstructions(payer.provider, [escape]), "MarketMismatch");
    assertNothingMoved(env, before);

    await sendInstructions(payer.provider, [await finalizeInstruction(payer.client.program, accounts, winners, slashes(setup.market))]);
    const slash = (MARKET_PARAMS.jobStakeLock * BigInt(MARKET_PARAMS.slashNoShowBps)) / 10_000n;
    assert.equal(env.tokenBalance(minority.vault), PROVIDER_STAKE - slash, "the minority is slashed at its own market's rate");
    assert.equal(env.exists(setup.job), false);
  });
});
