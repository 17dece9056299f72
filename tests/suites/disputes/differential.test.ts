// Differential check of the one-step proof: for a step k, an honest defender faces a challenger
// that accepts the run up to k and disputes every later state, so the game narrows to [k, k+1]
// and the defender's proof wins only if the program, executing step k inside LiteSVM, computes
// exactly the post-state hash the native machine (its WebAssembly build) computed. Every step of
// the small example is checked, a sample of steps of the large ones.
import assert from "node:assert/strict";
import { variantOf } from "@compute-market/sdk";
import { commit, freeReplays, honestClaim, playGame, setupVerifiableJob, TargetingChallenger, type VerifiableSetup } from "../../support/verifiable";

const TEXT = new TextEncoder().encode("verifiable compute on Solana");

/** A committed honest job whose challenge window outlasts hundreds of games. */
async function honestJob(guest: string, input: Uint8Array): Promise<VerifiableSetup> {
  const started = await setupVerifiableJob({ guest, input, params: { challengeWindowSlots: 200_000n } });
  return commit(started, honestClaim(started.honest));
}

/** Plays the game that ends at [k, k+1]; asserts the program agreed with the native step. */
async function proveStepAt(setup: VerifiableSetup, k: bigint): Promise<void> {
  const challenger = setup.providers[1].owner;
  const { dispute } = await challenger.client.openDispute({ job: setup.job, provider: setup.providers[0].provider, challengerToken: challenger.stakeToken });
  const record = await playGame(
    setup.env,
    dispute,
    { actor: setup.providers[0].owner, trace: setup.honest },
    { actor: challenger, trace: new TargetingChallenger(setup.honest, k) },
    setup.authority,
  );
  const game = (await setup.authority.client.fetchDispute(dispute))!;
  assert.equal(game.lo, k, `the game narrowed to step ${k}`);
  assert.equal(record.byTimeout, false);
  assert.equal(variantOf(game.status), "providerWon", `step ${k}: the program's post-state differs from the native machine's`);
  await setup.authority.client.settleDispute({ dispute });
}

function sample(steps: bigint, count: number, seed: number): bigint[] {
  const picked = new Set<bigint>([0n, steps - 1n]);
  let state = seed >>> 0;
  while (picked.size < count) {
    state = (state * 1_103_515_245 + 12_345) >>> 0;
    picked.add(BigInt(state) % steps);
  }
  return [...picked].sort((a, b) => (a < b ? -1 : 1));
}

describe("one-step proof: program vs native machine", function () {
  this.timeout(900_000);
  afterEach(freeReplays);

  it("agrees on every step of the arith example", async () => {
    const setup = await honestJob("arith", TEXT);
    assert.ok(setup.steps > 300n && setup.steps < 1_000n);
    for (let k = 0n; k < setup.steps; k++) await proveStepAt(setup, k);
  });

  for (const [guest, input] of [
    ["sha256", TEXT],
    ["matmul", new Uint8Array([3, 0, 0, 0, ...Array.from({ length: 72 }, (_, i) => (i * 37) % 251)])],
    ["montecarlo", new Uint8Array([7, 0, 0, 0, 50, 0, 0, 0])],
  ] as const) {
    it(`agrees on 24 sampled steps of ${guest}`, async () => {
      const setup = await honestJob(guest, input);
      for (const k of sample(setup.steps, 24, 99)) await proveStepAt(setup, k);
    });
  }
});
