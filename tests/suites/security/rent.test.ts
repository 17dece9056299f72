// Rent under the older Rent sysvar: the program took the rent-exempt minimum from a helper that
// assumes the newer sysvar (6,960 lamports per byte, threshold 1.0); on a cluster that still holds
// 3,480 lamports per byte-year with a threshold of 2.0 every account it created was half-funded
// and the transaction refused. Now the minimum is computed from the whole sysvar.
import assert from "node:assert/strict";
import type { PublicKey } from "@solana/web3.js";
import { findBondVaultPda, findWitnessBufferPda, variantOf } from "@compute-market/sdk";
import type { RentParameters } from "@compute-market/localnet";
import { TestEnv } from "../../support/env";
import { jobInput, setupMarket, setupProvider } from "../../support/fixtures";
import { nextMove } from "@compute-market/vm";
import { claimHash, commit, freeReplays, gameView, honestClaim, LyingTrace, setupVerifiableJob, wrongExitCode } from "../../support/verifiable";

const OLDER: RentParameters = { lamportsPerByteYear: 3_480n, exemptionThreshold: 2.0, burnPercent: 50 };

/** (128 + data length) × lamports per byte-year × whole years of the threshold, rounded up. */
function exemptMinimum(rent: RentParameters, dataLength: number): bigint {
  return BigInt(128 + dataLength) * rent.lamportsPerByteYear * BigInt(Math.ceil(rent.exemptionThreshold));
}

function assertFunded(env: TestEnv, rent: RentParameters, created: PublicKey[]): void {
  for (const address of created) {
    const account = env.ledger.getAccount(address);
    assert.ok(account, `${address.toBase58()} exists`);
    const needed = exemptMinimum(rent, account.data.length);
    assert.ok(BigInt(account.lamports) >= needed, `${address.toBase58()} holds ${account.lamports} of the ${needed} lamports it needs`);
  }
}

/** Every account the program creates in a job's life up to a bid, each checked against `rent`. */
async function createEverything(env: TestEnv, rent: RentParameters): Promise<void> {
  const { market, authority } = await setupMarket(env);
  const { owner, provider, vault } = await setupProvider(env, market, 5_000_000n);
  const consumer = await env.actor();
  const { job, escrow } = await consumer.client.postJob(jobInput(market, { consumerToken: consumer.paymentToken }));
  const { bid } = await owner.client.placeBid({ job, price: 1_000_000n });
  assertFunded(env, rent, [authority.client.configAddress, market, provider, vault, job, escrow, bid]);
}

describe("security: rent-exempt minimum", () => {
  afterEach(freeReplays);

  const cases: [string, RentParameters][] = [
    ["the older sysvar (3,480 lamports per byte-year, threshold 2.0)", OLDER],
    ["a fractional threshold (1.5, rounded up)", { lamportsPerByteYear: 3_480n, exemptionThreshold: 1.5, burnPercent: 50 }],
    ["the newer sysvar (6,960 lamports per byte, threshold 1.0)", { lamportsPerByteYear: 6_960n, exemptionThreshold: 1.0, burnPercent: 50 }],
  ];
  for (const [name, rent] of cases) {
    it(`funds every account it creates under ${name}`, async () => {
      const env = await TestEnv.create();
      env.ledger.setRent(rent);
      assert.deepEqual(env.ledger.rent(), rent);
      await createEverything(env, rent);
    });
  }

  it("funds every account it creates under the cluster's default sysvar (left as LiteSVM sets it)", async () => {
    const env = await TestEnv.create();
    await createEverything(env, env.ledger.rent());
  });

  it("funds a game's dispute, bond vault and proof buffer under the older sysvar", async () => {
    const started = await setupVerifiableJob({ guest: "arith", input: new TextEncoder().encode("rent") });
    started.env.ledger.setRent(OLDER);
    const wrong = wrongExitCode(honestClaim(started.honest));
    const setup = await commit(started, wrong);
    const challenger = setup.providers[1].owner;
    const { dispute } = await challenger.client.openDispute({ job: setup.job, provider: setup.providers[0].provider, challengerToken: challenger.stakeToken });
    const [bondVault] = findBondVaultPda({ dispute, programId: setup.env.programId });
    assertFunded(setup.env, OLDER, [dispute, bondVault]);
    // The cheat defends its claim move by move; the honest challenger narrows the game to one
    // step and writes its proof buffer (checked before prove_step closes it).
    const liar = new LyingTrace(setup.honest, setup.steps / 2n, setup.steps, claimHash(wrong));
    for (let guard = 0; ; guard++) {
      assert.ok(guard < 64, "the game reaches its one-step proof");
      const game = gameView((await challenger.client.fetchDispute(dispute))!);
      const defence = nextMove("defender", game, liar);
      const attack = nextMove("challenger", game, setup.honest);
      if (defence.kind === "dissect") await setup.providers[0].owner.client.dissect({ dispute, hashes: defence.hashes });
      else if (attack.kind === "choose") await challenger.client.chooseSegment({ dispute, segment: attack.segment });
      else if (attack.kind === "prove") {
        await challenger.client.writeWitness({ dispute, witness: attack.witness });
        const [buffer] = findWitnessBufferPda({ dispute, writer: challenger.publicKey, programId: setup.env.programId });
        assertFunded(setup.env, OLDER, [dispute, buffer]);
        await challenger.client.proveStep({ dispute });
        break;
      } else assert.fail(`unexpected moves ${defence.kind} / ${attack.kind}`);
    }
    assert.equal(variantOf((await challenger.client.fetchDispute(dispute))!.status), "challengerWon");
  });
});
