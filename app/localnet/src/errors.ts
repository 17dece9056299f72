// Turns LiteSVM's transaction errors into what callers need: a readable message, the failing
// instruction and its custom code, and the JSON form a Solana RPC node reports.
import type { FailedTransactionMetadata } from "litesvm";
// The error classes are exported by LiteSVM's native binding but not re-exported by its entry point.
import {
  InstructionErrorBorshIo,
  InstructionErrorCustom,
  TransactionErrorDuplicateInstruction,
  TransactionErrorInstructionError,
  TransactionErrorInsufficientFundsForRent,
  TransactionErrorProgramExecutionTemporarilyRestricted,
  type InstructionErrorFieldless,
  type TransactionErrorFieldless,
} from "litesvm/dist/internal.js";

/** An instruction error as the RPC reports it: a variant name, or a variant with its field. */
export type RpcInstructionError = string | { Custom: number } | { BorshIoError: string };

/** A transaction error as the RPC reports it in `meta.err` (web3.js's `TransactionError`). */
export type RpcTransactionError =
  | string
  | { InstructionError: [number, RpcInstructionError] }
  | { DuplicateInstruction: number }
  | { InsufficientFundsForRent: { account_index: number } }
  | { ProgramExecutionTemporarilyRestricted: { account_index: number } };

/** Why a transaction failed. */
export interface TransactionErrorInfo {
  /** Readable, worded like the validator's own messages where it has one. */
  message: string;
  /** The instruction that failed, when the failure is an instruction's. */
  instructionIndex: number | null;
  /** The program's custom error code, when the failing instruction returned one. */
  customCode: number | null;
  /** The error in the RPC's JSON form, for `meta.err` and signature statuses. */
  rpc: RpcTransactionError;
  /** LiteSVM's own rendering of the error (Rust debug form), kept for diagnosis. */
  raw: string;
}

// Indexed by LiteSVM's numeric variants; typing the tables by the enums makes the compiler check
// that every variant has a name.
const TRANSACTION_ERROR_NAMES: Record<TransactionErrorFieldless, string> = {
  0: "AccountInUse",
  1: "AccountLoadedTwice",
  2: "AccountNotFound",
  3: "ProgramAccountNotFound",
  4: "InsufficientFundsForFee",
  5: "InvalidAccountForFee",
  6: "AlreadyProcessed",
  7: "BlockhashNotFound",
  8: "CallChainTooDeep",
  9: "MissingSignatureForFee",
  10: "InvalidAccountIndex",
  11: "SignatureFailure",
  12: "InvalidProgramForExecution",
  13: "SanitizeFailure",
  14: "ClusterMaintenance",
  15: "AccountBorrowOutstanding",
  16: "WouldExceedMaxBlockCostLimit",
  17: "UnsupportedVersion",
  18: "InvalidWritableAccount",
  19: "WouldExceedMaxAccountCostLimit",
  20: "WouldExceedAccountDataBlockLimit",
  21: "TooManyAccountLocks",
  22: "AddressLookupTableNotFound",
  23: "InvalidAddressLookupTableOwner",
  24: "InvalidAddressLookupTableData",
  25: "InvalidAddressLookupTableIndex",
  26: "InvalidRentPayingAccount",
  27: "WouldExceedMaxVoteCostLimit",
  28: "WouldExceedAccountDataTotalLimit",
  29: "MaxLoadedAccountsDataSizeExceeded",
  30: "ResanitizationNeeded",
  31: "InvalidLoadedAccountsDataSizeLimit",
  32: "UnbalancedTransaction",
  33: "ProgramCacheHitMaxLimit",
  34: "CommitCancelled",
};

const INSTRUCTION_ERROR_NAMES: Record<InstructionErrorFieldless, string> = {
  0: "GenericError",
  1: "InvalidArgument",
  2: "InvalidInstructionData",
  3: "InvalidAccountData",
  4: "AccountDataTooSmall",
  5: "InsufficientFunds",
  6: "IncorrectProgramId",
  7: "MissingRequiredSignature",
  8: "AccountAlreadyInitialized",
  9: "UninitializedAccount",
  10: "UnbalancedInstruction",
  11: "ModifiedProgramId",
  12: "ExternalAccountLamportSpend",
  13: "ExternalAccountDataModified",
  14: "ReadonlyLamportChange",
  15: "ReadonlyDataModified",
  16: "DuplicateAccountIndex",
  17: "ExecutableModified",
  18: "RentEpochModified",
  19: "NotEnoughAccountKeys",
  20: "AccountDataSizeChanged",
  21: "AccountNotExecutable",
  22: "AccountBorrowFailed",
  23: "AccountBorrowOutstanding",
  24: "DuplicateAccountOutOfSync",
  25: "InvalidError",
  26: "ExecutableDataModified",
  27: "ExecutableLamportChange",
  28: "ExecutableAccountNotRentExempt",
  29: "UnsupportedProgramId",
  30: "CallDepth",
  31: "MissingAccount",
  32: "ReentrancyNotAllowed",
  33: "MaxSeedLengthExceeded",
  34: "InvalidSeeds",
  35: "InvalidRealloc",
  36: "ComputationalBudgetExceeded",
  37: "PrivilegeEscalation",
  38: "ProgramEnvironmentSetupFailure",
  39: "ProgramFailedToComplete",
  40: "ProgramFailedToCompile",
  41: "Immutable",
  42: "IncorrectAuthority",
  43: "AccountNotRentExempt",
  44: "InvalidAccountOwner",
  45: "ArithmeticOverflow",
  46: "UnsupportedSysvar",
  47: "IllegalOwner",
  48: "MaxAccountsDataAllocationsExceeded",
  49: "MaxAccountsExceeded",
  50: "MaxInstructionTraceLengthExceeded",
  51: "BuiltinProgramsMustConsumeComputeUnits",
  52: "BorshIoError",
};

type LiteSvmTransactionError = ReturnType<FailedTransactionMetadata["err"]>;
type LiteSvmInstructionError = ReturnType<TransactionErrorInstructionError["err"]>;

/** A transaction-level error without fields, such as `BlockhashNotFound`. */
export function namedError(name: string): TransactionErrorInfo {
  return { message: name, instructionIndex: null, customCode: null, rpc: name, raw: name };
}

/** The error of a transaction LiteSVM refused or failed. */
export function describeFailure(failed: FailedTransactionMetadata): TransactionErrorInfo {
  return { ...describe(failed.err()), raw: debugForm(failed) };
}

function describe(err: LiteSvmTransactionError): Omit<TransactionErrorInfo, "raw"> {
  if (typeof err === "number") return namedError(TRANSACTION_ERROR_NAMES[err]);
  if (err instanceof TransactionErrorInstructionError) return describeInstructionError(err.index, err.err());
  if (err instanceof TransactionErrorDuplicateInstruction) {
    return atTransaction(`Transaction contains a duplicate instruction (${err.index}) that is not allowed`, {
      DuplicateInstruction: err.index,
    });
  }
  if (err instanceof TransactionErrorInsufficientFundsForRent) {
    return atTransaction(`Transaction results in an account (${err.accountIndex}) with insufficient funds for rent`, {
      InsufficientFundsForRent: { account_index: err.accountIndex },
    });
  }
  if (err instanceof TransactionErrorProgramExecutionTemporarilyRestricted) {
    return atTransaction(`Execution of the program at account index ${err.accountIndex} is temporarily restricted`, {
      ProgramExecutionTemporarilyRestricted: { account_index: err.accountIndex },
    });
  }
  // The union above is exhaustive today; a new LiteSVM variant must be added here, not hidden.
  throw new Error(`unrecognised LiteSVM transaction error: ${String(err)}`);
}

function atTransaction(message: string, rpc: RpcTransactionError): Omit<TransactionErrorInfo, "raw"> {
  return { message, instructionIndex: null, customCode: null, rpc };
}

function describeInstructionError(index: number, err: LiteSvmInstructionError): Omit<TransactionErrorInfo, "raw"> {
  const prefix = `Error processing Instruction ${index}`;
  if (typeof err === "number") {
    const name = INSTRUCTION_ERROR_NAMES[err];
    return { message: `${prefix}: ${name}`, instructionIndex: index, customCode: null, rpc: { InstructionError: [index, name] } };
  }
  if (err instanceof InstructionErrorCustom) {
    return {
      message: `${prefix}: custom program error: 0x${err.code.toString(16)}`,
      instructionIndex: index,
      customCode: err.code,
      rpc: { InstructionError: [index, { Custom: err.code }] },
    };
  }
  if (err instanceof InstructionErrorBorshIo) {
    return {
      message: `${prefix}: Failed to serialize or deserialize account data: ${err.msg}`,
      instructionIndex: index,
      customCode: null,
      rpc: { InstructionError: [index, { BorshIoError: err.msg }] },
    };
  }
  throw new Error(`unrecognised LiteSVM instruction error: ${String(err)}`);
}

/** The `err` field of LiteSVM's debug rendering, e.g. `InstructionError(0, Custom(1))`. */
function debugForm(failed: FailedTransactionMetadata): string {
  const text = failed.toString();
  return /err: (.*?), meta: TransactionMetadata/.exec(text)?.[1] ?? text;
}
