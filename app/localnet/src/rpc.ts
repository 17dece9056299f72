// Solana's JSON-RPC HTTP methods over a Ledger, as a pure function from a parsed request (or batch)
// to its response: the subset web3.js's Connection and Anchor use, in a node's JSON shapes.
// Commitment options are accepted and ignored: whatever the ledger processed is final at once.
import { TOKEN_2022_PROGRAM_ID, TOKEN_PROGRAM_ID } from "@solana/spl-token";
import bs58 from "bs58";
import type { PublicKey, VersionedTransaction } from "@solana/web3.js";
import { accountEncodingConfig, filtersParam, requestedAccount, requestedKeyedAccount, type AccountEncodingConfig } from "./account-json";
import { namedError, type TransactionErrorInfo } from "./errors";
import { faucetOf, type FaucetGrant } from "./faucet-registry";
import { feeForMessage } from "./fees";
import { matchesFilters } from "./filters";
import {
  ErrorCode,
  RpcError,
  configParam,
  failure,
  integerParam,
  invalidParams,
  isObject,
  parseRequest,
  pubkeyParam,
  requestId,
  respond,
  stringParam,
  type JsonRpcResponse,
} from "./jsonrpc";
import type { Ledger, SignaturePage, Simulation } from "./ledger";
import type { RecentPrioritizationFee } from "./prioritization-fees";
import type { AccountLookup } from "./token-json";
import { isTokenAccount, tokenAccountBalance } from "./tokens";
import {
  binaryEncodingParam,
  blockQuery,
  decodeBytes,
  decodeMessage,
  decodeTransaction,
  signatureInfo,
  signatureStatus,
  simulationValue,
  transactionQuery,
  transactionWithMeta,
  uiBlock,
  type LandedTransaction,
  type UiSignatureInfo,
} from "./transaction-json";

/** The Agave release LiteSVM 1.5 runs, reported by getVersion and in every response's context. */
const SOLANA_CORE_VERSION = "4.3.0";
/** A node's limits on the number of keys or signatures in one request. */
const MAX_MULTIPLE_ACCOUNTS = 100;
const MAX_SIGNATURE_STATUSES = 256;
const MAX_PRIORITIZATION_FEE_ADDRESSES = 128;
/** The most entries getSignaturesForAddress answers with, and its default. */
const MAX_SIGNATURES_FOR_ADDRESS = 1_000;
const SIGNATURE_BYTES = 64;

type Method = (ledger: Ledger, params: unknown[]) => unknown;

interface Context<T> {
  context: { slot: number; apiVersion: string };
  value: T;
}

/** Answers one request, or a batch (an array) of them with an array of responses. */
export function handleRpc(ledger: Ledger, request: unknown): JsonRpcResponse | JsonRpcResponse[] {
  if (!Array.isArray(request)) return handleOne(ledger, request);
  if (request.length === 0) return failure(null, { code: ErrorCode.invalidRequest, message: "Invalid Request" });
  return request.map((one) => handleOne(ledger, one));
}

function handleOne(ledger: Ledger, value: unknown): JsonRpcResponse {
  return respond(requestId(isObject(value) ? value.id : null), () => {
    const { method, params } = parseRequest(value);
    if (!Object.hasOwn(METHODS, method)) throw new RpcError(ErrorCode.methodNotFound, "Method not found");
    return METHODS[method](ledger, params);
  });
}

function withContext<T>(ledger: Ledger, value: T): Context<T> {
  return { context: { slot: Number(ledger.slot), apiVersion: SOLANA_CORE_VERSION }, value };
}

const METHODS: Record<string, Method> = {
  getHealth: () => "ok",
  getVersion: () => ({ "solana-core": SOLANA_CORE_VERSION }),
  getGenesisHash: (ledger) => ledger.genesisHash,
  getSlot: (ledger) => Number(ledger.slot),
  getBlockHeight: (ledger) => Number(ledger.blockHeight),
  getEpochInfo,
  getLatestBlockhash,
  isBlockhashValid: (ledger, [blockhash]) => withContext(ledger, ledger.isBlockhashValid(stringParam(blockhash, "blockhash"))),
  getBalance: (ledger, [pubkey]) => withContext(ledger, ledger.getAccount(pubkeyParam(pubkey, "pubkey"))?.lamports ?? 0),
  getAccountInfo,
  getMultipleAccounts,
  getProgramAccounts,
  getMinimumBalanceForRentExemption: (ledger, [bytes]) => Number(ledger.minimumBalanceForRentExemption(integerParam(bytes, "data length"))),
  getTokenAccountBalance,
  getTokenAccountsByOwner,
  sendTransaction,
  simulateTransaction,
  getSignatureStatuses,
  getTransaction,
  getSignaturesForAddress,
  getBlock,
  requestAirdrop: (ledger, [pubkey, lamports]) => ledger.airdrop(pubkeyParam(pubkey, "pubkey"), BigInt(integerParam(lamports, "lamports"))),
  getFeeForMessage,
  getRecentPrioritizationFees,
  localnet_advanceSlots: (ledger, [slots]) => {
    ledger.advanceSlots(BigInt(integerParam(slots, "slots")));
    return Number(ledger.slot);
  },
  localnet_warpToSlot,
  localnet_requestTokens,
};

/** The sandbox's faucet: `[owner, amount of each token in base units, lamports?]`. */
function localnet_requestTokens(ledger: Ledger, [owner, amount, lamports]: unknown[]): FaucetGrant {
  const faucet = faucetOf(ledger);
  if (!faucet) throw new RpcError(ErrorCode.invalidRequest, "this cluster has no faucet: start it with `npm run localnet -- --bootstrap`");
  const tokens = BigInt(integerParam(amount, "amount"));
  try {
    return faucet.fund(pubkeyParam(owner, "owner"), tokens, lamports === undefined ? 0n : BigInt(integerParam(lamports, "lamports")));
  } catch (error) {
    if (error instanceof RangeError) throw invalidParams(error.message);
    throw error;
  }
}

function getEpochInfo(ledger: Ledger): object {
  const slot = Number(ledger.slot);
  const schedule = ledger.epochSchedule();
  const [epoch, slotIndex] = schedule.getEpochAndSlotIndex(slot);
  return { absoluteSlot: slot, blockHeight: Number(ledger.blockHeight), epoch, slotIndex, slotsInEpoch: schedule.getSlotsInEpoch(epoch) };
}

function getLatestBlockhash(ledger: Ledger): Context<{ blockhash: string; lastValidBlockHeight: number }> {
  return withContext(ledger, latestBlockhash(ledger));
}

function latestBlockhash(ledger: Ledger): { blockhash: string; lastValidBlockHeight: number } {
  return { blockhash: ledger.latestBlockhash(), lastValidBlockHeight: ledger.lastValidBlockHeight() };
}

/** How `jsonParsed` finds a token account's mint, for its decimals. */
function accountLookup(ledger: Ledger): AccountLookup {
  return (pubkey) => ledger.getAccount(pubkey);
}

function getAccountInfo(ledger: Ledger, [pubkey, config]: unknown[]): Context<object | null> {
  const encoding = accountEncodingConfig(configParam(config));
  const info = ledger.getAccount(pubkeyParam(pubkey, "pubkey"));
  return withContext(ledger, info && requestedAccount(info, encoding, accountLookup(ledger)));
}

function getMultipleAccounts(ledger: Ledger, [pubkeys, config]: unknown[]): Context<(object | null)[]> {
  if (!Array.isArray(pubkeys)) throw invalidParams("expected an array of public keys");
  if (pubkeys.length > MAX_MULTIPLE_ACCOUNTS) throw invalidParams(`Too many inputs provided; max ${MAX_MULTIPLE_ACCOUNTS}`);
  const encoding = accountEncodingConfig(configParam(config));
  const keys = pubkeys.map((pubkey, i) => pubkeyParam(pubkey, `pubkeys[${i}]`));
  const lookup = accountLookup(ledger);
  return withContext(ledger, keys.map((key) => {
    const info = ledger.getAccount(key);
    return info && requestedAccount(info, encoding, lookup);
  }));
}

function getProgramAccounts(ledger: Ledger, [programId, rawConfig]: unknown[]): unknown {
  const config = configParam(rawConfig);
  const encoding = accountEncodingConfig(config);
  const filters = filtersParam(config.filters);
  const lookup = accountLookup(ledger);
  const accounts = ledger
    .getProgramAccounts(pubkeyParam(programId, "program id"))
    .filter(({ account }) => matchesFilters(account.data, filters))
    .map(({ pubkey, account }) => requestedKeyedAccount(pubkey, account, encoding, lookup));
  return config.withContext === true ? withContext(ledger, accounts) : accounts;
}

function getTokenAccountBalance(ledger: Ledger, [pubkey]: unknown[]): unknown {
  const address = pubkeyParam(pubkey, "pubkey");
  const info = ledger.getAccount(address);
  if (info === null) throw invalidParams("could not find account");
  if (!isTokenAccount(info)) throw invalidParams("not a Token account");
  return withContext(ledger, tokenAccountBalance(ledger, address));
}

function getTokenAccountsByOwner(ledger: Ledger, [owner, filter, config]: unknown[]): unknown {
  const ownerKey = pubkeyParam(owner, "owner");
  const encoding: AccountEncodingConfig = accountEncodingConfig(configParam(config));
  const { programId, mint } = tokenAccountsFilter(ledger, filter);
  // A token account's layout starts with its mint (32 bytes) and its owner.
  const filters = [{ memcmp: { offset: 32, bytes: ownerKey.toBase58() } }, ...(mint ? [{ memcmp: { offset: 0, bytes: mint.toBase58() } }] : [])];
  const lookup = accountLookup(ledger);
  const accounts = ledger
    .getProgramAccounts(programId)
    .filter(({ account }) => isTokenAccount(account) && matchesFilters(account.data, filters))
    .map(({ pubkey, account }) => requestedKeyedAccount(pubkey, account, encoding, lookup));
  return withContext(ledger, accounts);
}

/** The token program to search and the mint to match, from a `{ mint }` or `{ programId }` filter. */
function tokenAccountsFilter(ledger: Ledger, filter: unknown): { programId: PublicKey; mint: PublicKey | null } {
  if (isObject(filter) && "mint" in filter) {
    const mint = pubkeyParam(filter.mint, "mint");
    const programId = ledger.getAccount(mint)?.owner;
    if (!programId || !isTokenProgram(programId)) throw invalidParams("could not find mint");
    return { programId, mint };
  }
  if (isObject(filter) && "programId" in filter) {
    const programId = pubkeyParam(filter.programId, "programId");
    if (!isTokenProgram(programId)) throw invalidParams("unrecognized Token program id");
    return { programId, mint: null };
  }
  throw invalidParams("expected a { mint } or { programId } filter");
}

function isTokenProgram(programId: PublicKey): boolean {
  return programId.equals(TOKEN_PROGRAM_ID) || programId.equals(TOKEN_2022_PROGRAM_ID);
}

/**
 * Executes a transaction as a node's sendTransaction does: the preflight simulation first, unless
 * skipped, answering its failure with error -32002 and the logs; the transaction is then processed
 * at once. A transaction the ledger refuses before executing it (bad signature, unknown blockhash)
 * is answered with an error even when the preflight is skipped: a node would return the signature
 * of a transaction that never lands, leaving the client to wait for its expiry.
 */
function sendTransaction(ledger: Ledger, [encoded, rawConfig]: unknown[]): string {
  const config = configParam(rawConfig);
  const transaction = decodeTransaction(encoded, binaryEncodingParam(config.encoding));
  const skipPreflight = config.skipPreflight === true;
  const signature = bs58.encode(transaction.signatures[0]);
  if (ledger.getTransaction(signature)) {
    // Resending a landed transaction is how clients retry; only the preflight reports it.
    if (skipPreflight) return signature;
    throw preflightFailure(failedSimulation(namedError("AlreadyProcessed")));
  }
  if (!skipPreflight) {
    const simulation = ledger.simulate(transaction, { sigVerify: true });
    if (simulation.error) throw preflightFailure(simulation);
  }
  const processed = ledger.process(transaction);
  if (processed.error && !processed.landed) throw preflightFailure(failedSimulation(processed.error, processed.logs));
  return processed.signature;
}

function failedSimulation(error: TransactionErrorInfo, logs: string[] = []): Simulation {
  return { logs, computeUnits: 0n, error, postAccounts: [], returnData: null };
}

function preflightFailure(simulation: Simulation): RpcError {
  if (simulation.error?.rpc === "SignatureFailure") {
    return new RpcError(ErrorCode.transactionSignatureVerificationFailure, "Transaction signature verification failure");
  }
  return new RpcError(
    ErrorCode.sendTransactionPreflightFailure,
    `Transaction simulation failed: ${simulation.error?.message ?? "unknown error"}`,
    simulationValue(simulation, null),
  );
}

function simulateTransaction(ledger: Ledger, [encoded, rawConfig]: unknown[]): unknown {
  const config = configParam(rawConfig);
  const sigVerify = config.sigVerify === true;
  const replace = config.replaceRecentBlockhash === true;
  if (sigVerify && replace) throw invalidParams("sigVerify may not be used with replaceRecentBlockhash");
  const transaction = decodeTransaction(encoded, binaryEncodingParam(config.encoding));
  const replacement = replace ? replaceBlockhash(ledger, transaction) : null;
  const requested = simulationAccountsParam(config.accounts);
  const simulation = ledger.simulate(transaction, { sigVerify });
  if (sigVerify && simulation.error?.rpc === "SignatureFailure") throw preflightFailure(simulation);
  const accounts = requested && postSimulationAccounts(ledger, simulation, requested);
  return withContext(ledger, { ...simulationValue(simulation, accounts), replacementBlockhash: replacement });
}

function replaceBlockhash(ledger: Ledger, transaction: VersionedTransaction): { blockhash: string; lastValidBlockHeight: number } {
  const latest = latestBlockhash(ledger);
  transaction.message.recentBlockhash = latest.blockhash;
  return latest;
}

interface SimulationAccounts {
  addresses: PublicKey[];
  encoding: AccountEncodingConfig;
}

function simulationAccountsParam(value: unknown): SimulationAccounts | null {
  if (value === undefined || value === null) return null;
  if (!isObject(value) || !Array.isArray(value.addresses)) throw invalidParams("accounts must be { addresses, encoding }");
  // A node encodes these accounts in base 64 unless asked otherwise.
  const encoding = accountEncodingConfig({ encoding: value.encoding ?? "base64" });
  return { addresses: value.addresses.map((address, i) => pubkeyParam(address, `accounts.addresses[${i}]`)), encoding };
}

/** The requested accounts as the simulated transaction would leave them. */
function postSimulationAccounts(ledger: Ledger, simulation: Simulation, { addresses, encoding }: SimulationAccounts): (object | null)[] {
  return addresses.map((address) => {
    const info = simulation.postAccounts.find(({ pubkey }) => pubkey.equals(address))?.account ?? ledger.getAccount(address);
    return info && requestedAccount(info, encoding, accountLookup(ledger));
  });
}

/** Every record is kept, so `searchTransactionHistory` finds nothing more than the default does. */
function getSignatureStatuses(ledger: Ledger, [signatures]: unknown[]): Context<unknown[]> {
  if (!Array.isArray(signatures)) throw invalidParams("expected an array of signatures");
  if (signatures.length > MAX_SIGNATURE_STATUSES) throw invalidParams(`Too many inputs provided; max ${MAX_SIGNATURE_STATUSES}`);
  return withContext(ledger, signatures.map((signature, i) => {
    const processed = ledger.getTransaction(stringParam(signature, `signatures[${i}]`));
    return processed && signatureStatus(processed);
  }));
}

/** A transaction the ledger executed; null for an unknown signature, and for an airdrop, which has no transaction. */
function getTransaction(ledger: Ledger, [signature, config]: unknown[]): unknown {
  const query = transactionQuery(configParam(config));
  const processed = ledger.getTransaction(stringParam(signature, "signature"));
  if (!processed?.transaction) return null;
  return transactionWithMeta({ ...processed, transaction: processed.transaction }, query);
}

/**
 * Landed transactions that loaded an address, newest first, paged by `limit`, `before` and
 * `until` as on a node. Airdrops are left out: they have no transaction for getTransaction to
 * return.
 */
function getSignaturesForAddress(ledger: Ledger, [address, config]: unknown[]): UiSignatureInfo[] {
  const page = signaturePageParam(configParam(config));
  return ledger.signaturesForAddress(pubkeyParam(address, "address"), page).map(signatureInfo);
}

function signaturePageParam(config: Record<string, unknown>): SignaturePage {
  const limit = config.limit ?? MAX_SIGNATURES_FOR_ADDRESS;
  if (typeof limit !== "number" || !Number.isInteger(limit) || limit < 1 || limit > MAX_SIGNATURES_FOR_ADDRESS) {
    throw new RpcError(ErrorCode.invalidParams, `Invalid limit; max ${MAX_SIGNATURES_FOR_ADDRESS}`);
  }
  return { limit, before: optionalSignatureParam(config.before, "before"), until: optionalSignatureParam(config.until, "until") };
}

function optionalSignatureParam(value: unknown, name: string): string | null {
  if (value === undefined || value === null) return null;
  const signature = stringParam(value, name);
  if (decodeBytes(signature, "base58").length !== SIGNATURE_BYTES) throw invalidParams(`${name} is not a valid signature`);
  return signature;
}

/**
 * A block the ledger keeps, the current slot's included: everything is final at once here, so a
 * client told a transaction is finalized can read its block at once. It grows while the slot lasts.
 */
function getBlock(ledger: Ledger, [slot, config]: unknown[]): object {
  const target = BigInt(integerParam(slot, "slot"));
  const query = blockQuery(configParam(config));
  const block = ledger.getBlock(target);
  if (block === null) throw missingBlock(ledger, target);
  const transactions = block.signatures.map((signature) => ledger.getTransaction(signature) as LandedTransaction);
  return uiBlock(block, transactions, query);
}

/** The error a node answers for a slot without a block: not produced yet, forgotten, or skipped. */
function missingBlock(ledger: Ledger, slot: bigint): RpcError {
  if (slot > ledger.slot) return new RpcError(ErrorCode.blockNotAvailable, `Block not available for slot ${slot}`);
  const first = ledger.firstAvailableBlock();
  if (slot < first) {
    return new RpcError(ErrorCode.blockCleanedUp, `Block ${slot} cleaned up, does not exist on node. First available block: ${first}`);
  }
  // Slots a warp jumps over produce no block, as skipped slots on a node.
  return new RpcError(ErrorCode.slotSkipped, `Slot ${slot} was skipped, or missing due to ledger jump to recent snapshot`);
}

/** The fee of a message; null when its blockhash has expired, as on a node. */
function getFeeForMessage(ledger: Ledger, [message]: unknown[]): Context<number | null> {
  const decoded = decodeMessage(message);
  return withContext(ledger, ledger.isBlockhashValid(decoded.recentBlockhash) ? Number(feeForMessage(decoded)) : null);
}

/** No transaction here competes for block space, so there are no recent prioritization fees to report. */
function getRecentPrioritizationFees(ledger: Ledger, [addresses]: unknown[]): RecentPrioritizationFee[] {
  const accounts: string[] = [];
  if (addresses !== undefined && addresses !== null) {
    if (!Array.isArray(addresses)) throw invalidParams("expected an array of public keys");
    if (addresses.length > MAX_PRIORITIZATION_FEE_ADDRESSES) throw invalidParams(`Too many inputs provided; max ${MAX_PRIORITIZATION_FEE_ADDRESSES}`);
    addresses.forEach((address, i) => accounts.push(pubkeyParam(address, `addresses[${i}]`).toBase58()));
  }
  return ledger.recentPrioritizationFees(accounts);
}

function localnet_warpToSlot(ledger: Ledger, [slot]: unknown[]): number {
  const target = BigInt(integerParam(slot, "slot"));
  if (target < ledger.slot) throw invalidParams(`the clock only moves forward: slot ${target} is before ${ledger.slot}`);
  ledger.warpToSlot(target);
  return Number(target);
}
