// The fee the runtime charges for a message, computed before executing it (getFeeForMessage): a
// signature fee per transaction and precompile signature, plus the prioritization fee, the compute
// unit price times the compute unit limit.
import {
  BPF_LOADER_DEPRECATED_PROGRAM_ID,
  BPF_LOADER_PROGRAM_ID,
  ComputeBudgetProgram,
  Ed25519Program,
  PublicKey,
  Secp256k1Program,
  SystemProgram,
  type VersionedMessage,
} from "@solana/web3.js";

const LAMPORTS_PER_SIGNATURE = 5_000n;
const MICRO_LAMPORTS_PER_LAMPORT = 1_000_000n;
/** Default compute unit limits per instruction, and the cap, as in agave's compute budget. */
const DEFAULT_INSTRUCTION_COMPUTE_UNITS = 200_000n;
const BUILTIN_INSTRUCTION_COMPUTE_UNITS = 3_000n;
const MAX_COMPUTE_UNIT_LIMIT = 1_400_000n;
/** ComputeBudget instruction tags. */
const SET_COMPUTE_UNIT_LIMIT = 2;
const SET_COMPUTE_UNIT_PRICE = 3;

/**
 * Programs whose instructions get the builtin default limit, measured against LiteSVM 1.5's runtime
 * (agave 4.3): stake, vote and address lookup tables run as on-chain programs there and get the
 * full default.
 */
const BUILTINS = [
  SystemProgram.programId,
  ComputeBudgetProgram.programId,
  BPF_LOADER_DEPRECATED_PROGRAM_ID,
  BPF_LOADER_PROGRAM_ID,
  new PublicKey("BPFLoaderUpgradeab1e11111111111111111111111"),
  Ed25519Program.programId,
  Secp256k1Program.programId,
];

/** Precompiles whose instruction data starts with the number of signatures they verify. */
const SIGNATURE_PRECOMPILES = [Ed25519Program.programId, Secp256k1Program.programId, new PublicKey("Secp256r1SigVerify1111111111111111111111111")];

interface ProgramInstruction {
  programId: PublicKey;
  data: Uint8Array;
}

/** The lamports the runtime charges for `message`; lookup-table programs are not resolved. */
export function feeForMessage(message: VersionedMessage): bigint {
  const instructions = message.compiledInstructions.map(({ programIdIndex, data }) => ({
    programId: message.staticAccountKeys[programIdIndex],
    data,
  }));
  const signatures = BigInt(message.header.numRequiredSignatures) + precompileSignatures(instructions);
  return signatures * LAMPORTS_PER_SIGNATURE + prioritizationFee(instructions);
}

/** The compute-unit price `message` bids, in micro-lamports per unit (0 without one). */
export function computeUnitPrice(message: VersionedMessage): bigint {
  const budget = message.compiledInstructions
    .map(({ programIdIndex, data }) => ({ programId: message.staticAccountKeys[programIdIndex], data }))
    .filter(({ programId }) => programId?.equals(ComputeBudgetProgram.programId));
  return budgetValue(budget, SET_COMPUTE_UNIT_PRICE) ?? 0n;
}

function precompileSignatures(instructions: ProgramInstruction[]): bigint {
  return instructions
    .filter(({ programId }) => SIGNATURE_PRECOMPILES.some((precompile) => precompile.equals(programId)))
    .reduce((total, { data }) => total + BigInt(data[0] ?? 0), 0n);
}

function prioritizationFee(instructions: ProgramInstruction[]): bigint {
  const budget = instructions.filter(({ programId }) => programId.equals(ComputeBudgetProgram.programId));
  const price = budgetValue(budget, SET_COMPUTE_UNIT_PRICE);
  if (price === null || price === 0n) return 0n;
  const limit = budgetValue(budget, SET_COMPUTE_UNIT_LIMIT) ?? defaultComputeUnitLimit(instructions);
  const capped = limit < MAX_COMPUTE_UNIT_LIMIT ? limit : MAX_COMPUTE_UNIT_LIMIT;
  // Rounded up, as the runtime does.
  return (price * capped + MICRO_LAMPORTS_PER_LAMPORT - 1n) / MICRO_LAMPORTS_PER_LAMPORT;
}

/**
 * The value of the first compute budget instruction with `tag` (a u32 limit or a u64 price); null
 * where there is none, or it is too short, which the runtime refuses anyway.
 */
function budgetValue(budget: ProgramInstruction[], tag: number): bigint | null {
  const data = Buffer.from(budget.find((instruction) => instruction.data[0] === tag)?.data ?? []);
  if (tag === SET_COMPUTE_UNIT_PRICE) return data.length >= 9 ? data.readBigUInt64LE(1) : null;
  return data.length >= 5 ? BigInt(data.readUInt32LE(1)) : null;
}

function defaultComputeUnitLimit(instructions: ProgramInstruction[]): bigint {
  return instructions.reduce(
    (total, { programId }) => total + (BUILTINS.some((builtin) => builtin.equals(programId)) ? BUILTIN_INSTRUCTION_COMPUTE_UNITS : DEFAULT_INSTRUCTION_COMPUTE_UNITS),
    0n,
  );
}
