// `npm run bench` (dispute tables): the dissection game on the local cluster (LiteSVM), with
// compute units read from the runtime's logs. First, a full game on the largest example input
// (sha256 of 64 KiB, ≈5.2 M steps): a provider corrupting the middle step against an honest
// challenger, then an honest provider against a challenger disputing the middle step. Second,
// `prove_step` compute units and witness bytes by instruction kind (worst and median of sampled
// steps), on the arith and sha256 examples.
import { DEFAULT_PROGRAM_ID, WITNESS_CHUNK_BYTES } from "@compute-market/sdk";
import type { Replay } from "@compute-market/vm";
import type { TestEnv } from "../tests/support/env";
import {
  commit,
  freeReplays,
  honestClaim,
  LyingTrace,
  playGame,
  setupVerifiableJob,
  TargetingChallenger,
  wrongExitCode,
  type GameRecord,
  type VerifiableSetup,
} from "../tests/support/verifiable";

const PARAMS = { challengeWindowSlots: 200_000n };

function programUnits(env: TestEnv, signature: string): number {
  const processed = env.ledger.getTransaction(signature);
  if (!processed) throw new Error(`no metadata for ${signature}`);
  const pattern = new RegExp(`^Program ${DEFAULT_PROGRAM_ID.toBase58()} consumed (\\d+) of \\d+ compute units$`);
  const line = processed.logs.find((l) => pattern.test(l));
  if (!line) throw new Error(`no compute-unit line in ${signature}`);
  return Number(pattern.exec(line)![1]);
}

function pseudoRandom(len: number, seed: number): Uint8Array {
  const bytes = new Uint8Array(len);
  let state = seed >>> 0;
  for (let i = 0; i < len; i++) {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    bytes[i] = state & 0xff;
  }
  return bytes;
}

async function openBy(setup: VerifiableSetup, index: number) {
  const challenger = setup.providers[index].owner;
  const opened = await challenger.client.openDispute({ job: setup.job, provider: setup.providers[0].provider, challengerToken: challenger.stakeToken });
  return { challenger, ...opened };
}

interface GameRow {
  game: string;
  steps: string;
  rounds: number;
  transactions: number;
  "total CU": number;
  "max CU / tx": number;
  winner: string;
  seconds: string;
}

/** CU samples per instruction, from every game played here. */
const perInstruction = new Map<string, number[]>();
function sampleUnits(env: TestEnv, instruction: string, signature: string): void {
  perInstruction.set(instruction, [...(perInstruction.get(instruction) ?? []), programUnits(env, signature)]);
}

async function fullGames(): Promise<GameRow[]> {
  const input = pseudoRandom(64 * 1024, 7);
  const rows: GameRow[] = [];
  const row = (name: string, setup: VerifiableSetup, record: GameRecord, extra: string[], seconds: number): GameRow => {
    const all = [...extra, ...record.signatures];
    record.moves.forEach((m) => sampleUnits(setup.env, m.instruction, m.signature));
    const units = all.map((s) => programUnits(setup.env, s));
    return {
      game: name,
      steps: setup.steps.toLocaleString("en-US"),
      rounds: record.rounds,
      transactions: all.length,
      "total CU": units.reduce((a, b) => a + b, 0),
      "max CU / tx": Math.max(...units),
      winner: record.winner,
      seconds: seconds.toFixed(1),
    };
  };
  {
    const started = await setupVerifiableJob({ guest: "sha256", input, params: PARAMS });
    const setup = await commit(started, wrongExitCode(honestClaim(started.honest)));
    sampleUnits(setup.env, "post_job (verifiable: initial state hash computed)", setup.postSignature);
    sampleUnits(setup.env, "commit_verifiable (output root checked)", setup.commitSignature);
    const t0 = performance.now();
    const { challenger, dispute, signature } = await openBy(setup, 1);
    const liar = new LyingTrace(setup.honest, setup.steps / 2n, setup.steps, setup.claimHash);
    const record = await playGame(setup.env, dispute, { actor: setup.providers[0].owner, trace: liar }, { actor: challenger, trace: setup.honest }, setup.authority);
    const settled = await setup.authority.client.settleDispute({ dispute });
    sampleUnits(setup.env, "open_dispute", signature);
    sampleUnits(setup.env, "settle_dispute (challenger won: slash, refund, close job)", settled);
    rows.push(row("cheating provider (step T/2) vs honest challenger", setup, record, [signature, settled], (performance.now() - t0) / 1000));
    freeReplays();
  }
  {
    const started = await setupVerifiableJob({ guest: "sha256", input, params: PARAMS });
    const setup = await commit(started, honestClaim(started.honest));
    const t0 = performance.now();
    const { challenger, dispute, signature } = await openBy(setup, 1);
    const record = await playGame(
      setup.env,
      dispute,
      { actor: setup.providers[0].owner, trace: setup.honest },
      { actor: challenger, trace: new TargetingChallenger(setup.honest, setup.steps / 2n) },
      setup.authority,
    );
    const settled = await setup.authority.client.settleDispute({ dispute });
    sampleUnits(setup.env, "settle_dispute (provider won: bond split)", settled);
    rows.push(row("honest provider vs challenger disputing step T/2", setup, record, [signature, settled], (performance.now() - t0) / 1000));
    freeReplays();
  }
  return rows;
}

type Kind = "ALU (register/immediate)" | "mul/div" | "load" | "store" | "branch" | "jal/jalr" | "lui/auipc" | "halt";

function kindOf(witness: Uint8Array): Kind | null {
  if (witness[173] === 0) return null;
  const view = new DataView(witness.buffer, witness.byteOffset);
  const pc = view.getUint32(0, true);
  const word = view.getUint32(178 + (pc % 32), true);
  const opcode = word & 0x7f;
  if (opcode === 0x33) return word >>> 25 === 1 ? "mul/div" : "ALU (register/immediate)";
  if (opcode === 0x13) return "ALU (register/immediate)";
  if (opcode === 0x03) return "load";
  if (opcode === 0x23) return "store";
  if (opcode === 0x63) return "branch";
  if (opcode === 0x6f || opcode === 0x67) return "jal/jalr";
  if (opcode === 0x37 || opcode === 0x17) return "lui/auipc";
  if (opcode === 0x73) return "halt";
  return null;
}

/** Up to `perKind` steps of each kind, spread over the run. */
function stepsByKind(replay: Replay, steps: bigint, perKind: number): Map<Kind, bigint[]> {
  const found = new Map<Kind, bigint[]>();
  const stride = steps > 4_000n ? steps / 4_000n : 1n;
  for (let step = 0n; step < steps; step += stride) {
    const kind = kindOf(replay.witnessAt(step));
    if (!kind) continue;
    const list = found.get(kind) ?? [];
    if (list.length < perKind) found.set(kind, [...list, step]);
  }
  const last = steps - 1n;
  if (kindOf(replay.witnessAt(last)) === "halt") found.set("halt", [last]);
  return found;
}

async function proofCosts(): Promise<Record<string, string | number>[]> {
  const samples = new Map<Kind, { units: number[]; bytes: number[] }>();
  for (const [guest, input] of [
    ["arith", new TextEncoder().encode("verifiable compute on Solana")],
    ["sha256", pseudoRandom(300, 3)],
  ] as const) {
    const started = await setupVerifiableJob({ guest, input, params: PARAMS });
    const setup = await commit(started, honestClaim(started.honest));
    for (const [kind, steps] of stepsByKind(setup.honest, setup.steps, 6)) {
      for (const k of steps) {
        const { challenger, dispute } = await openBy(setup, 1);
        const record = await playGame(
          setup.env,
          dispute,
          { actor: setup.providers[0].owner, trace: setup.honest },
          { actor: challenger, trace: new TargetingChallenger(setup.honest, k) },
          setup.authority,
        );
        if (record.winner !== "providerWon") throw new Error(`step ${k} of ${guest}: the program disagreed with the machine`);
        const entry = samples.get(kind) ?? { units: [], bytes: [] };
        entry.units.push(programUnits(setup.env, record.signatures[record.signatures.length - 1]));
        entry.bytes.push(setup.honest.witnessAt(k).length);
        samples.set(kind, entry);
        await setup.authority.client.settleDispute({ dispute });
      }
    }
    freeReplays();
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  return [...samples].map(([kind, { units, bytes }]) => ({
    "step kind": kind,
    samples: units.length,
    "prove_step CU (max)": Math.max(...units),
    "prove_step CU (median)": median(units),
    "witness bytes (max)": Math.max(...bytes),
    "write_witness txs": Math.ceil(Math.max(...bytes) / WITNESS_CHUNK_BYTES),
  }));
}

async function main(): Promise<void> {
  console.log("\nDissection game, full (LiteSVM; total CU summed over open_dispute, every move, witness chunks, prove_step and settle_dispute)\n");
  console.table(await fullGames());
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  console.log("\nDispute instructions (CU from the runtime; the games above)\n");
  console.table([...perInstruction].map(([instruction, units]) => ({ instruction, samples: units.length, min: Math.min(...units), median: median(units), max: Math.max(...units) })));
  console.log("\nOne-step proof by instruction kind (honest defender; CU of the prove_step transaction)\n");
  console.table(await proofCosts());
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
