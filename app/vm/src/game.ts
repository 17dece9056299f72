// The dissection game from one player's side, as pure functions of the game's on-chain view and
// the player's own replay: the defender posts its hashes at the split points, the challenger
// picks the first segment whose left end it agrees with and whose right end it does not, and at
// a single step either side proves it. Mirrors `vm_core::dissection` (segments, boundaries).

/** What a player knows of a run: its state hash at any step and the witness of any step. A
 * `Replay` is the honest one. */
export interface Trace {
  hashAt(step: bigint): Uint8Array;
  witnessAt(step: bigint): Uint8Array;
}

/** Segments an interval splits into: 16, or one per step when shorter. */
export function segmentCount(lo: bigint, hi: bigint): bigint {
  const span = hi > lo ? hi - lo : 0n;
  return span < 16n ? span : 16n;
}

/** The inner boundaries of [lo, hi] (at most 15): lo + j·⌊(hi − lo)/segments⌋. */
export function splitPoints(lo: bigint, hi: bigint): bigint[] {
  const count = segmentCount(lo, hi);
  if (count < 2n) return [];
  const width = (hi - lo) / count;
  const points: bigint[] = [];
  for (let j = 1n; j < count; j++) points.push(lo + j * width);
  return points;
}

export type Role = "defender" | "challenger";

/** What a player needs of the game (a `Dispute` account, decoded). */
export interface GameView {
  turn: "provider" | "challenger" | "proof";
  lo: bigint;
  hi: bigint;
  loHash: Uint8Array;
  hiHash: Uint8Array;
  /** The defender's posted hashes (valid on the challenger's turn). */
  points: Uint8Array[];
}

export type GameMove =
  | { kind: "dissect"; hashes: Uint8Array[] }
  | { kind: "choose"; segment: number }
  | { kind: "prove"; witness: Uint8Array }
  | { kind: "wait" };

const equal = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && a.every((v, i) => v === b[i]);

/**
 * The player's next move. The defender dissects on its turn; the challenger chooses on its turn;
 * at a single step the player proves when its own replay says the proof wins for it (the defender
 * when the step reaches hi_hash, the challenger when it does not), and waits otherwise (the other
 * side is then the one whose clock runs out).
 */
export function nextMove(role: Role, game: GameView, replay: Trace): GameMove {
  if (game.turn === "provider") {
    if (role !== "defender") return { kind: "wait" };
    return { kind: "dissect", hashes: splitPoints(game.lo, game.hi).map((step) => replay.hashAt(step)) };
  }
  if (game.turn === "challenger") {
    if (role !== "challenger") return { kind: "wait" };
    return { kind: "choose", segment: chooseSegment(game, replay) };
  }
  // Only a side that knows the agreed state can prove; the proof reaches the replay's next state.
  const agreesLo = equal(replay.hashAt(game.lo), game.loHash);
  const agreesHi = equal(replay.hashAt(game.hi), game.hiHash);
  const wins = agreesLo && (role === "defender" ? agreesHi : !agreesHi);
  return wins ? { kind: "prove", witness: replay.witnessAt(game.lo) } : { kind: "wait" };
}

/** The first segment whose right end the challenger's replay disputes (its left end agrees). */
function chooseSegment(game: GameView, replay: Trace): number {
  const points = splitPoints(game.lo, game.hi);
  for (let j = 0; j < points.length; j++) {
    if (!equal(replay.hashAt(points[j]), game.points[j])) return j;
  }
  // Every inner point agrees: the dispute is in the last segment (the right end is disputed).
  return points.length;
}
