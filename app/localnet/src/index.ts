// @compute-market/localnet: a Solana cluster on LiteSVM, in process for tests, benchmarks and the demo,
// or served over JSON-RPC and PubSub (startLocalCluster, the `localnet` command) for other processes.
export { LiteSvmConnection, type LocalTransactionResponse, type ProgramAccountsConfig, type SimulateConfig } from "./connection";
export type { RpcInstructionError, RpcTransactionError, TransactionErrorInfo } from "./errors";
export type { JsonRpcResponse, RequestLogEntry, RequestLogger } from "./jsonrpc";
export {
  Ledger,
  type ChangedAccount,
  type KeyedAccount,
  type LedgerObserver,
  type LedgerOptions,
  type ProcessedTransaction,
  type ProgramToLoad,
  type RentParameters,
  type ReturnData,
  type SimulateOptions,
  type Simulation,
} from "./ledger";
export { localProvider } from "./provider";
export { PubSub, type PubSubOptions } from "./pubsub";
export { handleRpc } from "./rpc";
export { blockhashValidityFor, startLocalCluster, type LocalCluster, type LocalClusterOptions } from "./server";
export { createMint, createTokenAccount, mintTo, tokenAccountBalance, tokenBalance } from "./tokens";
export { startFaultProxy, type FaultCounts, type FaultOptions, type FaultProxy } from "./fault-proxy";
export { requestTokens } from "./faucet-client";
export { LEDGER_FILE, LedgerStore, readSavedLedger, restoreLedger, type SavedLedger, type SavedSandbox } from "./persistence";
export { bootstrapSandbox, reopenSandbox, Faucet, SANDBOX_MARKET_PARAMS, SANDBOX_MARKETS, SANDBOX_MINTS, type Sandbox, type SandboxOptions, type SandboxSummary } from "./sandbox";
