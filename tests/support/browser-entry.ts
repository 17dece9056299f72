// What a dApp page does with the SDK, bundled for the browser by tests/suites/sdk/browser-bundle:
// read a cluster's markets and providers with nothing but a browser's globals, then install the
// one polyfill the README names (the `buffer` package as the global Buffer, which Anchor's borsh
// coder reads when it encodes an instruction's u64 fields), post a job signed by an in-page key
// and read it back. It reports through `globalThis.report`.
import { Buffer as BufferPolyfill } from "buffer";
import { AnchorProvider } from "@coral-xyz/anchor";
import { Connection, Keypair, PublicKey, type Transaction, type VersionedTransaction } from "@solana/web3.js";
import { ComputeMarketClient, rules } from "@compute-market/sdk";

interface Page {
  rpcUrl: string;
  market: string;
  secretKey: number[];
  report(value: Record<string, unknown>): void;
}

const page = globalThis as unknown as Page;

async function main(): Promise<Record<string, unknown>> {
  const keypair = Keypair.fromSecretKey(Uint8Array.from(page.secretKey));
  // A wallet as a browser extension would be: it signs what it is handed.
  const wallet = {
    publicKey: keypair.publicKey,
    signTransaction: async <T extends Transaction | VersionedTransaction>(tx: T): Promise<T> => {
      if ("version" in tx) tx.sign([keypair]);
      else tx.partialSign(keypair);
      return tx;
    },
    signAllTransactions: async <T extends Transaction | VersionedTransaction>(txs: T[]): Promise<T[]> => Promise.all(txs.map((tx) => wallet.signTransaction(tx))),
  };
  const client = new ComputeMarketClient(new AnchorProvider(new Connection(page.rpcUrl, "confirmed"), wallet, { commitment: "confirmed" }));
  const market = new PublicKey(page.market);
  // Reads need no polyfill.
  const bufferBefore = typeof (globalThis as { Buffer?: unknown }).Buffer;
  const marketAccount = await client.fetchMarket(market);
  const providers = await client.providersOf(market);
  (globalThis as { Buffer?: unknown }).Buffer = BufferPolyfill;
  const requirements = { cpuCores: 1, memoryMb: 128, maxDurationSlots: 100n };
  const { job } = await client.postJob({ market, specHash: new Uint8Array(32).fill(7), requirements, mode: "replicated", replication: 1, onFailure: "refund", maxPrice: 1_000_000n, instantPrice: 0n, bidWindowSlots: 0n });
  const posted = await client.fetchJob(job);
  return { bufferBefore, minStake: String(marketAccount?.params.minStake), providers: providers.length, job: job.toBase58(), state: posted ? rules.stateOf(posted) : null, escrowed: String(posted?.escrowed) };
}

main().then(page.report, (error: unknown) => page.report({ error: error instanceof Error ? `${error.name}: ${error.message}` : String(error), stack: error instanceof Error ? error.stack : undefined }));
