// Pure readings of dissection games, shared by the keeper's challenger and cranks and the
// provider's defender: whose game a wallet sits in, what a player's move is, when a clock runs
// out, and what a committed state blob says. They mirror the program (src/state/dispute.rs).
import type { PublicKey } from "@solana/web3.js";
import { variantOf, type DisputeAccount } from "@compute-market/sdk";
import { STATE_BYTES, type GameView, type Role } from "@compute-market/vm";

export type DisputeStatusName = "open" | "providerWon" | "challengerWon";
export type DisputeTurnName = GameView["turn"];

export function disputeStatus(dispute: DisputeAccount): DisputeStatusName {
  return variantOf(dispute.status) as DisputeStatusName;
}

export function disputeTurn(dispute: DisputeAccount): DisputeTurnName {
  return variantOf(dispute.turn) as DisputeTurnName;
}

/** What a player needs of the game's account. */
export function gameView(dispute: DisputeAccount): GameView {
  return {
    turn: disputeTurn(dispute),
    lo: dispute.lo,
    hi: dispute.hi,
    loHash: Uint8Array.from(dispute.loHash),
    hiHash: Uint8Array.from(dispute.hiHash),
    points: dispute.points.map((point) => Uint8Array.from(point)),
  };
}

/** The side `wallet` plays in a game: the provider's owner defends, the challenger challenges. */
export function seatOf(dispute: DisputeAccount, wallet: PublicKey): Role | null {
  if (dispute.owner.equals(wallet)) return "defender";
  if (dispute.challenger.equals(wallet)) return "challenger";
  return null;
}

/** First slot at which `timeout_dispute` succeeds: the mover's clock is spent strictly. */
export function timeoutSlot(dispute: DisputeAccount): bigint {
  const clock = disputeTurn(dispute) === "challenger" ? dispute.challengerClock : dispute.providerClock;
  return dispute.turnStartedSlot + clock + 1n;
}

export function timeoutDue(dispute: DisputeAccount, slot: bigint): boolean {
  return disputeStatus(dispute) === "open" && slot >= timeoutSlot(dispute);
}

/** The machine state a blob describes (vm-core's 173-byte layout). */
export interface StateSummary {
  steps: bigint;
  /** 0 running, 1 halted, 2.. stopped by an error. */
  status: number;
  exitCode: number;
}

export function summarizeState(blob: Uint8Array): StateSummary {
  if (blob.length !== STATE_BYTES) throw new RangeError(`a state blob is ${STATE_BYTES} bytes, got ${blob.length}`);
  const view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  return { steps: view.getBigUint64(160, true), status: blob[168], exitCode: view.getUint32(169, true) };
}
