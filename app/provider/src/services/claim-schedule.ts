// When a replica's owner claims what its watchdog acknowledged. Each claim costs a transaction,
// and each slot acknowledged but unclaimed is pay the node could lose (the deposit drained by
// other claims, the lease closed), so the node claims once a few periods have built up, sooner
// when the unclaimed pay reaches its risk cap, and at once when the replica is over.

export interface ClaimScheduleInput {
  /** The slot the latest acknowledgement held covers the replica up to. */
  upToSlot: bigint;
  /** The slot the replica is paid through on-chain: its last claim, or its start. */
  paidThrough: bigint;
  /** The replica's rate, tokens per slot (its awarded price). */
  rate: bigint;
  /** The lease's acknowledgement period. */
  periodSlots: bigint;
  /** Claim once this many periods are acknowledged and unclaimed. */
  claimEveryPeriods: bigint;
  /** Claim once the acknowledged, unclaimed pay reaches this many tokens (the node's risk cap). */
  maxUnclaimedTokens: bigint;
  /** The last slot the replica is paid for (its end, or the end of its longest term). */
  replicaEnd: bigint;
  /** The current slot. */
  slot: bigint;
}

/** Slots a claim with the acknowledgement would pay: never past the replica's end, none for an old one. */
export function unclaimedSlots(input: Pick<ClaimScheduleInput, "upToSlot" | "paidThrough" | "replicaEnd">): bigint {
  const until = input.upToSlot < input.replicaEnd ? input.upToSlot : input.replicaEnd;
  return until > input.paidThrough ? until - input.paidThrough : 0n;
}

/** Whether to claim now. */
export function claimDue(input: ClaimScheduleInput): boolean {
  const slots = unclaimedSlots(input);
  if (slots === 0n) return false;
  // The program refuses an acknowledgement of slots still to come.
  if (input.upToSlot > input.slot) return false;
  if (slots >= input.claimEveryPeriods * input.periodSlots) return true;
  if (input.rate * slots >= input.maxUnclaimedTokens) return true;
  return input.replicaEnd <= input.slot;
}
