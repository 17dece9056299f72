// Wallets through the Wallet Standard: every wallet the browser registers (extensions, and the
// development wallet) is listed; a connected one signs the SDK's transactions through its
// `solana:signTransaction` feature.
import { PublicKey, Transaction, VersionedTransaction } from "@solana/web3.js";
import { getWallets } from "@wallet-standard/app";
import type { Wallet, WalletAccount } from "@wallet-standard/base";
import type { StandardConnectFeature } from "@wallet-standard/features";
import type { SolanaSignMessageFeature, SolanaSignTransactionFeature } from "@solana/wallet-standard-features";

/** Anchor's wallet interface, which the SDK's client signs with, and the message signing that
 * providers' result servers ask for (null when the wallet cannot sign messages). */
export interface SigningWallet {
  publicKey: PublicKey;
  signMessage: ((message: Uint8Array) => Promise<Uint8Array>) | null;
  signTransaction<T extends Transaction | VersionedTransaction>(transaction: T): Promise<T>;
  signAllTransactions<T extends Transaction | VersionedTransaction>(transactions: T[]): Promise<T[]>;
}

/** The registered wallets that can connect and sign Solana transactions. */
export function solanaWallets(): Wallet[] {
  return getWallets()
    .get()
    .filter((wallet) => "standard:connect" in wallet.features && "solana:signTransaction" in wallet.features);
}

/** Calls `onChange` whenever a wallet registers; returns the unsubscribe. */
export function onWalletsChanged(onChange: () => void): () => void {
  return getWallets().on("register", onChange);
}

/** Connects `wallet` and wraps its first account as the SDK's signer. */
export async function connect(wallet: Wallet, chain = "solana:localnet"): Promise<SigningWallet> {
  const { accounts } = await (wallet.features as StandardConnectFeature)["standard:connect"].connect();
  const account: WalletAccount | undefined = accounts[0];
  if (!account) throw new Error(`${wallet.name} connected no account`);
  const feature = (wallet.features as SolanaSignTransactionFeature)["solana:signTransaction"];
  const sign = async <T extends Transaction | VersionedTransaction>(transaction: T): Promise<T> => {
    const bytes = transaction instanceof VersionedTransaction ? transaction.serialize() : transaction.serialize({ requireAllSignatures: false });
    const [{ signedTransaction }] = await feature.signTransaction({ account, transaction: bytes, chain: chain as `${string}:${string}` });
    return (transaction instanceof VersionedTransaction ? VersionedTransaction.deserialize(signedTransaction) : Transaction.from(signedTransaction)) as T;
  };
  const messages = (wallet.features as Partial<SolanaSignMessageFeature>)["solana:signMessage"];
  return {
    publicKey: new PublicKey(account.address),
    signMessage: messages ? async (message) => (await messages.signMessage({ account, message }))[0].signature : null,
    signTransaction: sign,
    signAllTransactions: async (transactions) => Promise.all(transactions.map(sign)),
  };
}
