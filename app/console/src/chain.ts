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

/** How many of a market's latest transactions the price history reads. */
const PRICE_HISTORY = 200;
/** Transactions already read, by signature: history does not change, so each is fetched once. */
const seen = new Map<string, PricePoint[]>();

/** The market's moving average after each award in its latest transactions, oldest first. */
async function priceHistory(client: ComputeMarketClient, market: PublicKey): Promise<PricePoint[]> {
  const connection = client.provider.connection;
  const signatures = await connection.getSignaturesForAddress(market, { limit: PRICE_HISTORY });
  const points: PricePoint[] = [];
  for (const { signature, err } of signatures.reverse()) {
    if (err) continue;
    let found = seen.get(signature);
    if (!found) {
      const tx = await connection.getTransaction(signature, { commitment: "confirmed", maxSupportedTransactionVersion: 0 });
      // Listed but not served yet: read again on the next load rather than remembered as empty.
      if (!tx) continue;
      found = parseEvents(client.program, tx.meta?.logMessages ?? [])
        .filter((event) => event.name === "winnerSelected")
        .map((event) => ({ slot: tx.slot, ewma: Number((event.data as { marketEwmaPrice: bigint }).marketEwmaPrice) }));
      seen.set(signature, found);
    }
    points.push(...found);
  }
  return points;
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
