// What the console reads from the chain, through the SDK: markets, their providers and jobs.
import { AnchorProvider } from "@coral-xyz/anchor";
import { Connection, Keypair, PublicKey, type Transaction, type VersionedTransaction } from "@solana/web3.js";
import { accountFieldOffset, ComputeMarketClient, fetchAllOf, parseEvents, type JobAccount, type MarketAccount, type ProviderAccount } from "@compute-market/sdk";
import type { Settings } from "./settings";
import type { PricePoint } from "./chart";
import type { SigningWallet } from "./wallet/connect";

export interface MarketView {
  address: PublicKey;
  account: MarketAccount;
  /** The market's moving average after each award, from the program's events. */
  prices: PricePoint[];
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

/** A landed transaction as the cluster serves it. */
export type LandedTransaction = NonNullable<Awaited<ReturnType<Connection["getTransaction"]>>>;

/** Transactions already read, by signature: history does not change, so each is fetched once. */
const landed = new Map<string, LandedTransaction>();

/**
 * The latest `limit` transactions that name `address`, newest first. One listed but not served
 * yet is left out, to be read again on the next call rather than remembered as missing.
 */
export async function recentTransactions(client: ComputeMarketClient, address: PublicKey, limit: number): Promise<LandedTransaction[]> {
  const connection = client.provider.connection;
  const found: LandedTransaction[] = [];
  for (const { signature } of await connection.getSignaturesForAddress(address, { limit })) {
    let tx = landed.get(signature);
    if (!tx) {
      const served = await connection.getTransaction(signature, { commitment: "confirmed", maxSupportedTransactionVersion: 0 });
      if (!served) continue;
      landed.set(signature, (tx = served));
    }
    found.push(tx);
  }
  return found;
}

/** How many of a market's latest transactions the price history reads. */
const PRICE_HISTORY = 200;

/** The market's moving average after each award in its latest transactions, oldest first. */
async function priceHistory(client: ComputeMarketClient, market: PublicKey): Promise<PricePoint[]> {
  return (await recentTransactions(client, market, PRICE_HISTORY))
    .filter((tx) => !tx.meta?.err)
    .reverse()
    .flatMap((tx) =>
      parseEvents(client.program, tx.meta?.logMessages ?? [])
        .filter((event) => event.name === "winnerSelected")
        .map((event) => ({ slot: tx.slot, ewma: Number((event.data as { marketEwmaPrice: bigint }).marketEwmaPrice) })),
    );
}

/** Every market with its providers, jobs and price history. */
export async function loadMarkets(client: ComputeMarketClient): Promise<MarketView[]> {
  const markets = await fetchAllOf(client.program, "market", []);
  return Promise.all(
    markets.map(async ({ address, account }) => ({
      address,
      account,
      prices: await priceHistory(client, address),
      providers: await client.providersOf(address),
      jobs: await fetchAllOf(client.program, "job", [{ offset: JOB_MARKET_OFFSET, address }]),
    })),
  );
}
