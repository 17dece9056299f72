// @compute-market/localnet: an in-process Solana cluster on LiteSVM for tests, benchmarks and the demo.
export { LiteSvmConnection, type LocalTransactionResponse, type ProgramAccountsConfig, type SimulateConfig } from "./connection";
export type { RpcInstructionError, RpcTransactionError, TransactionErrorInfo } from "./errors";
export {
  Ledger,
  type KeyedAccount,
  type LedgerOptions,
  type ProcessedTransaction,
  type ProgramToLoad,
  type SimulateOptions,
  type Simulation,
} from "./ledger";
export { localProvider } from "./provider";
export { createMint, createTokenAccount, mintTo, tokenAccountBalance, tokenBalance } from "./tokens";
