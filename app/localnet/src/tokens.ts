// SPL token set-up and reads over the ledger: mints, funded token accounts, balances.
import {
  ACCOUNT_SIZE,
  AccountType,
  MINT_SIZE,
  TOKEN_2022_PROGRAM_ID,
  TOKEN_PROGRAM_ID,
  createInitializeAccount3Instruction,
  createInitializeMint2Instruction,
  createMintToInstruction,
  unpackAccount,
  unpackMint,
} from "@solana/spl-token";
import {
  Keypair,
  SystemProgram,
  Transaction,
  type AccountInfo,
  type PublicKey,
  type Signer,
  type TokenAmount,
  type TransactionInstruction,
} from "@solana/web3.js";
import type { Ledger } from "./ledger";

/** A new mint of the token program with `authority` as mint authority and payer. */
export function createMint(ledger: Ledger, authority: Keypair, decimals: number, mint: Keypair = Keypair.generate()): PublicKey {
  sendSetup(ledger, authority, [
    createAccountInstruction(ledger, authority.publicKey, mint.publicKey, MINT_SIZE),
    createInitializeMint2Instruction(mint.publicKey, decimals, authority.publicKey, null),
  ], [mint]);
  return mint.publicKey;
}

/**
 * A new token account of `mint` owned by `owner`, paid by `authority` (the mint authority), holding
 * `amount` freshly minted tokens.
 */
export function createTokenAccount(ledger: Ledger, authority: Keypair, mint: PublicKey, owner: PublicKey, amount = 0n): PublicKey {
  const account = Keypair.generate();
  const instructions = [
    createAccountInstruction(ledger, authority.publicKey, account.publicKey, ACCOUNT_SIZE),
    createInitializeAccount3Instruction(account.publicKey, mint, owner),
  ];
  if (amount > 0n) instructions.push(createMintToInstruction(mint, account.publicKey, authority.publicKey, amount));
  sendSetup(ledger, authority, instructions, [account]);
  return account.publicKey;
}

/** Mints `amount` tokens into `account`; `authority` is the mint authority and pays. */
export function mintTo(ledger: Ledger, authority: Keypair, mint: PublicKey, account: PublicKey, amount: bigint): void {
  sendSetup(ledger, authority, [createMintToInstruction(mint, account, authority.publicKey, amount)], []);
}

/**
 * The raw token balance held at an address: 0 where there is no token account (never created,
 * closed, or another program's account), so balances can be compared across any set of accounts.
 */
export function tokenBalance(ledger: Ledger, account: PublicKey): bigint {
  const info = ledger.getAccount(account);
  return info !== null && isTokenAccount(info) ? unpackAccount(account, info, info.owner).amount : 0n;
}

/** A token account's balance with its mint's decimals, shaped like the RPC's `TokenAmount`. */
export function tokenAccountBalance(ledger: Ledger, address: PublicKey): TokenAmount {
  const accountInfo = ledger.getAccount(address);
  const account = unpackAccount(address, accountInfo, tokenProgramOf(accountInfo));
  const mintInfo = ledger.getAccount(account.mint);
  const { decimals } = unpackMint(account.mint, mintInfo, tokenProgramOf(mintInfo));
  const uiAmountString = formatUnits(account.amount, decimals);
  return { amount: account.amount.toString(), decimals, uiAmount: Number(uiAmountString), uiAmountString };
}

/** `amount` scaled down by `decimals`, without trailing zeros: 1500000 at 6 decimals is "1.5". */
export function formatUnits(amount: bigint, decimals: number): string {
  const scale = 10n ** BigInt(decimals);
  const fraction = (amount % scale).toString().padStart(decimals, "0").replace(/0+$/, "");
  const whole = (amount / scale).toString();
  return fraction === "" ? whole : `${whole}.${fraction}`;
}

/** Whether an account is an SPL token account (of the token program or Token-2022), not a mint. */
export function isTokenAccount(info: AccountInfo<Buffer>): boolean {
  const ownedByTokenProgram = info.owner.equals(TOKEN_PROGRAM_ID) || info.owner.equals(TOKEN_2022_PROGRAM_ID);
  if (!ownedByTokenProgram || info.data.length < ACCOUNT_SIZE) return false;
  // Longer data is a Token-2022 account or mint with extensions, told apart by the byte after the base layout.
  return info.data.length === ACCOUNT_SIZE || info.data[ACCOUNT_SIZE] === AccountType.Account;
}

// The unpack functions reject an account whose owner is not the program given: pass Token-2022
// for its accounts and the token program for everything else, so non-token accounts are rejected.
function tokenProgramOf(info: AccountInfo<Buffer> | null): PublicKey {
  return info?.owner.equals(TOKEN_2022_PROGRAM_ID) ? TOKEN_2022_PROGRAM_ID : TOKEN_PROGRAM_ID;
}

function createAccountInstruction(ledger: Ledger, payer: PublicKey, account: PublicKey, space: number): TransactionInstruction {
  return SystemProgram.createAccount({
    fromPubkey: payer,
    newAccountPubkey: account,
    lamports: Number(ledger.minimumBalanceForRentExemption(space)),
    space,
    programId: TOKEN_PROGRAM_ID,
  });
}

/** Processes a set-up transaction paid by `payer`; a failure is a broken set-up, so it throws. */
function sendSetup(ledger: Ledger, payer: Keypair, instructions: TransactionInstruction[], signers: Signer[]): void {
  const tx = new Transaction().add(...instructions);
  tx.feePayer = payer.publicKey;
  tx.recentBlockhash = ledger.latestBlockhash();
  tx.sign(payer, ...signers);
  const processed = ledger.process(tx);
  if (processed.error) throw new Error(`set-up transaction failed: ${processed.error.message}\n${processed.logs.join("\n")}`);
}
