// What the console reads from the chain, through the SDK: markets, their providers and jobs.
import { AnchorProvider } from "@coral-xyz/anchor";
import { Connection, Keypair, PublicKey, type Transaction, type VersionedTransaction } from "@solana/web3.js";
import { accountFieldOffset, ComputeMarketClient, fetchAllOf, type JobAccount, type MarketAccount, type ProviderAccount } from "@compute-market/sdk";
import type { Settings } from "./settings";
import type { SigningWallet } from "./wallet/connect";

export interface MarketView {
  address: PublicKey;
  account: MarketAccount;
  providers: { address: PublicKey; account: ProviderAccount }[];
  jobs: { address: PublicKey; account: JobAccount }[];
}

/** A wallet for reading only: it refuses to sign. */
function readOnlyWallet(): SigningWallet {
  const refuse = async (): Promise<never> => {
    throw new Error("connect a wallet to sign");
  };
  return { publicKey: Keypair.generate().publicKey, signMessage: null, signTransaction: refuse as <T extends Transaction | VersionedTransaction>(t: T) => Promise<T>, signAllTransactions: refuse as <T extends Transaction | VersionedTransaction>(t: T[]) => Promise<T[]> };
}

/** The SDK's client on the page's cluster, signing with `wallet` when one is connected. */
export function clientFor(settings: Settings, wallet: SigningWallet | null): ComputeMarketClient {
  const connection = new Connection(settings.rpcUrl, "confirmed");
  return new ComputeMarketClient(new AnchorProvider(connection, wallet ?? readOnlyWallet(), { commitment: "confirmed" }), { programId: settings.programId });
}

const JOB_MARKET_OFFSET = accountFieldOffset("Job", "market");

/** Every market with its providers and jobs. */
export async function loadMarkets(client: ComputeMarketClient): Promise<MarketView[]> {
  const markets = await fetchAllOf(client.program, "market", []);
  return Promise.all(
    markets.map(async ({ address, account }) => ({
      address,
      account,
      providers: await client.providersOf(address),
      jobs: await fetchAllOf(client.program, "job", [{ offset: JOB_MARKET_OFFSET, address }]),
    })),
  );
}
