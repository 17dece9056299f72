// A development wallet for tests and the demo: a local keypair behind the Wallet Standard, so the
// console reaches it exactly as it reaches Phantom or Solflare (registered with `registerWallet`,
// found by `getWallets`, asked through `standard:connect` and `solana:signTransaction`). It is
// registered only when the page's URL fragment carries `dev-wallet=<base58 secret key>`; the
// fragment never leaves the browser.
import { ed25519 } from "@noble/curves/ed25519";
import { Keypair, VersionedTransaction } from "@solana/web3.js";
import bs58 from "bs58";
import { registerWallet } from "@wallet-standard/wallet";
import type { Wallet, WalletAccount } from "@wallet-standard/base";
import type { StandardConnectFeature, StandardEventsFeature } from "@wallet-standard/features";
import type { SolanaSignMessageFeature, SolanaSignTransactionFeature } from "@solana/wallet-standard-features";

export const DEV_WALLET_NAME = "Development wallet";
const CHAINS = ["solana:localnet", "solana:devnet"] as const;
const ICON = "data:image/svg+xml;base64,PHN2ZyB4bWxucz0iaHR0cDovL3d3dy53My5vcmcvMjAwMC9zdmciIHZpZXdCb3g9IjAgMCAxNiAxNiI+PHJlY3Qgd2lkdGg9IjE2IiBoZWlnaHQ9IjE2IiByeD0iMyIgZmlsbD0iIzRhNWQ3ZSIvPjwvc3ZnPg==" as const;

type Features = StandardConnectFeature & StandardEventsFeature & SolanaSignTransactionFeature & SolanaSignMessageFeature;

class DevelopmentWallet implements Wallet {
  readonly version = "1.0.0" as const;
  readonly name = DEV_WALLET_NAME;
  readonly icon = ICON;
  readonly chains = CHAINS;
  private connected = false;

  constructor(private readonly keypair: Keypair) {}

  private get account(): WalletAccount {
    return { address: this.keypair.publicKey.toBase58(), publicKey: this.keypair.publicKey.toBytes(), chains: CHAINS, features: ["solana:signTransaction", "solana:signMessage"] };
  }

  get accounts(): readonly WalletAccount[] {
    return this.connected ? [this.account] : [];
  }

  get features(): Features {
    return {
      "standard:connect": {
        version: "1.0.0",
        connect: async () => {
          this.connected = true;
          return { accounts: this.accounts };
        },
      },
      "standard:events": { version: "1.0.0", on: () => () => undefined },
      "solana:signTransaction": {
        version: "1.0.0",
        supportedTransactionVersions: ["legacy", 0],
        signTransaction: async (...inputs) =>
          inputs.map(({ transaction }) => {
            const parsed = VersionedTransaction.deserialize(transaction);
            parsed.sign([this.keypair]);
            return { signedTransaction: parsed.serialize() };
          }),
      },
      "solana:signMessage": {
        version: "1.0.0",
        signMessage: async (...inputs) => inputs.map(({ message }) => ({ signedMessage: message, signature: ed25519.sign(message, this.keypair.secretKey.slice(0, 32)) })),
      },
    };
  }
}

/** Registers the development wallet if the URL fragment names its key; returns its address. */
export function registerDevWalletFrom(hash: string): string | null {
  const secret = new URLSearchParams(hash.replace(/^#/, "")).get("dev-wallet");
  if (!secret) return null;
  const keypair = Keypair.fromSecretKey(bs58.decode(secret));
  registerWallet(new DevelopmentWallet(keypair));
  return keypair.publicKey.toBase58();
}
