// One move of a dissection game, from a player's own replay: the same code for the keeper's
// challenger and the provider's defender (and a refereed job's two providers). Everything it
// needs is the game's account and the replay, so a restarted player simply moves again; a move
// that was already made is refused by the program (`NotYourTurn`) and the next tick reads the
// game afresh. Writing the witness is idempotent (same bytes at the same offsets).
import type { PublicKey } from "@solana/web3.js";
import type { ComputeMarketClient, DisputeAccount } from "@compute-market/sdk";
import { nextMove, type Role, type Trace } from "@compute-market/vm";
import { disputeTurn, gameView } from "./view";

export type PlayedMove =
  | { kind: "dissect"; points: number; signature: string }
  | { kind: "choose"; segment: number; signature: string }
  | { kind: "prove"; witnessBytes: number; signatures: string[] }
  | { kind: "wait" };

/** Makes `role`'s move in `dispute` (account `account`) from `trace`, or waits. */
export async function playMove(client: ComputeMarketClient, dispute: PublicKey, account: DisputeAccount, role: Role, trace: Trace): Promise<PlayedMove> {
  const move = nextMove(role, gameView(account), trace);
  switch (move.kind) {
    case "dissect":
      return { kind: "dissect", points: move.hashes.length, signature: await client.dissect({ dispute, hashes: move.hashes }) };
    case "choose":
      return { kind: "choose", segment: move.segment, signature: await client.chooseSegment({ dispute, segment: move.segment }) };
    case "prove": {
      const { signatures } = await client.writeWitness({ dispute, witness: move.witness });
      signatures.push(await client.proveStep({ dispute }));
      return { kind: "prove", witnessBytes: move.witness.length, signatures };
    }
    case "wait":
      return { kind: "wait" };
  }
}

/** Whether `role` has a move to make in the game's current turn (without computing it). */
export function turnBelongsTo(account: DisputeAccount, role: Role): boolean {
  const turn = disputeTurn(account);
  // The proof may be submitted by either side (whoever's replay says it wins).
  return turn === "proof" || (turn === "provider") === (role === "defender");
}
