// SPL token accounts and mints in the RPC's `jsonParsed` form, shaped as agave's account decoder
// renders them. Anything it cannot render exactly (multisigs, Token-2022 extensions other than
// immutableOwner, an account whose mint is gone) is left unparsed, and the caller falls back to
// base 64, as a node does for an account it cannot parse.
import {
  ExtensionType,
  NATIVE_MINT,
  TOKEN_2022_PROGRAM_ID,
  TOKEN_PROGRAM_ID,
  getExtensionTypes,
  unpackAccount,
  unpackMint,
  type Account,
  type Mint,
} from "@solana/spl-token";
import type { AccountInfo, PublicKey } from "@solana/web3.js";
import { formatUnits } from "./tokens";

/** Reads an account by address: how a token account's mint (for its decimals) is found. */
export type AccountLookup = (pubkey: PublicKey) => AccountInfo<Buffer> | null;

export interface UiTokenAmount {
  amount: string;
  decimals: number;
  uiAmount: number | null;
  uiAmountString: string;
}

/** Fields a node leaves out when they are empty are optional here. */
export interface UiTokenAccount {
  mint: string;
  owner: string;
  tokenAmount: UiTokenAmount;
  delegate?: string;
  state: "initialized" | "frozen";
  isNative: boolean;
  rentExemptReserve?: UiTokenAmount;
  delegatedAmount?: UiTokenAmount;
  closeAuthority?: string;
  extensions?: UiExtension[];
}

export interface UiMint {
  mintAuthority: string | null;
  supply: string;
  decimals: number;
  isInitialized: boolean;
  freezeAuthority: string | null;
}

/** The Token-2022 extensions rendered: those that carry no state. */
interface UiExtension {
  extension: "immutableOwner";
}

export interface ParsedTokenData {
  program: "spl-token" | "spl-token-2022";
  parsed: { type: "account"; info: UiTokenAccount } | { type: "mint"; info: UiMint };
  space: number;
}

/** The decimals of the wrapped-SOL mint, which a node knows without reading the mint. */
const NATIVE_DECIMALS = 9;
/** Above this many decimals 10^decimals overflows a node's 64-bit integer and uiAmount is null. */
const MAX_UI_AMOUNT_DECIMALS = 19;

/** A token program's account or mint in `jsonParsed` form; null for anything else, or one it cannot render. */
export function parsedTokenData(info: AccountInfo<Buffer>, lookup: AccountLookup): ParsedTokenData | null {
  const program = tokenProgramName(info.owner);
  if (program === null) return null;
  const parsed = parsedTokenAccount(info, lookup) ?? parsedMint(info);
  return parsed && { program, parsed, space: info.data.length };
}

function tokenProgramName(owner: PublicKey): ParsedTokenData["program"] | null {
  if (owner.equals(TOKEN_PROGRAM_ID)) return "spl-token";
  if (owner.equals(TOKEN_2022_PROGRAM_ID)) return "spl-token-2022";
  return null;
}

function parsedTokenAccount(info: AccountInfo<Buffer>, lookup: AccountLookup): ParsedTokenData["parsed"] | null {
  const account = attempt(() => unpackAccount(info.owner, info, info.owner));
  // A node only parses initialized accounts.
  if (account === null || !account.isInitialized) return null;
  const extensions = renderedExtensions(account.tlvData);
  const decimals = mintDecimals(account.mint, lookup);
  if (extensions === null || decimals === null) return null;
  return { type: "account", info: uiTokenAccount(account, decimals, extensions) };
}

function uiTokenAccount(account: Account, decimals: number, extensions: UiExtension[]): UiTokenAccount {
  return {
    mint: account.mint.toBase58(),
    owner: account.owner.toBase58(),
    tokenAmount: uiTokenAmount(account.amount, decimals),
    ...(account.delegate ? { delegate: account.delegate.toBase58() } : {}),
    state: account.isFrozen ? "frozen" : "initialized",
    isNative: account.isNative,
    ...(account.rentExemptReserve !== null ? { rentExemptReserve: uiTokenAmount(account.rentExemptReserve, decimals) } : {}),
    ...(account.delegate ? { delegatedAmount: uiTokenAmount(account.delegatedAmount, decimals) } : {}),
    ...(account.closeAuthority ? { closeAuthority: account.closeAuthority.toBase58() } : {}),
    ...(extensions.length > 0 ? { extensions } : {}),
  };
}

function parsedMint(info: AccountInfo<Buffer>): ParsedTokenData["parsed"] | null {
  const mint = attempt(() => unpackMint(info.owner, info, info.owner));
  // Mint extensions carry state this renderer does not describe.
  if (mint === null || !mint.isInitialized || mint.tlvData.length > 0) return null;
  return { type: "mint", info: uiMint(mint) };
}

function uiMint(mint: Mint): UiMint {
  return {
    mintAuthority: mint.mintAuthority?.toBase58() ?? null,
    supply: mint.supply.toString(),
    decimals: mint.decimals,
    isInitialized: mint.isInitialized,
    freezeAuthority: mint.freezeAuthority?.toBase58() ?? null,
  };
}

/** The decimals of `mint`, read from its account; null where there is no such mint. */
function mintDecimals(mint: PublicKey, lookup: AccountLookup): number | null {
  if (mint.equals(NATIVE_MINT)) return NATIVE_DECIMALS;
  const info = lookup(mint);
  if (info === null || tokenProgramName(info.owner) === null) return null;
  return attempt(() => unpackMint(mint, info, info.owner).decimals);
}

/** A token amount as a node renders it: uiAmount is the f64 quotient, uiAmountString the exact decimal. */
export function uiTokenAmount(amount: bigint, decimals: number): UiTokenAmount {
  return {
    amount: amount.toString(),
    decimals,
    uiAmount: decimals > MAX_UI_AMOUNT_DECIMALS ? null : Number(amount) / 10 ** decimals,
    uiAmountString: formatUnits(amount, decimals),
  };
}

/** The extensions of a token account, or null if it has one this renderer does not describe. */
function renderedExtensions(tlvData: Buffer): UiExtension[] | null {
  if (tlvData.length === 0) return [];
  const types = attempt(() => getExtensionTypes(tlvData));
  if (types === null || types.some((type) => type !== ExtensionType.ImmutableOwner)) return null;
  return types.map(() => ({ extension: "immutableOwner" }));
}

/** The unpack functions throw for data of another kind; here that just means "not this kind". */
function attempt<T>(read: () => T): T | null {
  try {
    return read();
  } catch {
    return null;
  }
}
