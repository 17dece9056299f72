// The dApp developer's quick start (README, "Quick start"): what a page or a backend reads from
// the chain through the SDK, with a wallet that never signs: the protocol's config, a market and
// its going price, the market's providers and jobs, and each job's history from the program's
// events. Run: npx ts-node examples/quickstart/dapp.ts
import { AnchorProvider, Wallet } from "@coral-xyz/anchor";
import { Connection, Keypair, PublicKey } from "@solana/web3.js";
import { accountFieldOffset, ComputeMarketClient, fetchAllOf, parseEvents, providerEndpoint, suggestMaxPrice, variantOf } from "@compute-market/sdk";

const url = process.env.URL ?? "http://127.0.0.1:8899";
const market = new PublicKey(process.env.MARKET ?? "6K8a1zBm48k6J1rp3cXj6iu3NLpo5HRTCYpMHBQcy4jT");

async function main(): Promise<void> {
  // Reads need no funded wallet; a connected browser wallet would take this one's place to sign.
  const connection = new Connection(url, "confirmed");
  const client = new ComputeMarketClient(new AnchorProvider(connection, new Wallet(Keypair.generate()), { commitment: "confirmed" }));

  const config = await client.fetchConfig();
  console.log(`config: protocol fee ${config?.protocolFeeBps} bps, paused ${config?.paused}`);
  const account = await client.fetchMarket(market);
  if (!account) throw new Error(`no market at ${market.toBase58()}`);
  const suggested = suggestMaxPrice(account, { cpuCores: 1, memoryMb: 256, maxDurationSlots: 300n });
  console.log(`market ${market.toBase58()}: minimum stake ${account.params.minStake}, EWMA price ${account.ewmaPrice}, suggested max price of a 300-slot job ${suggested ?? "none before the first award"}`);

  for (const { address, account: provider } of await client.providersOf(market)) {
    console.log(`provider ${address.toBase58()}: endpoint ${providerEndpoint(provider)}, staked ${provider.staked}, locked ${provider.locked}`);
  }
  const jobs = await fetchAllOf(client.program, "job", [{ offset: accountFieldOffset("Job", "market"), address: market }]);
  for (const { address, account: job } of jobs) {
    // The job's history: its transactions' logs, decoded into the program's events.
    const events: string[] = [];
    for (const { signature } of (await connection.getSignaturesForAddress(address)).reverse()) {
      const logs = (await connection.getTransaction(signature, { commitment: "confirmed", maxSupportedTransactionVersion: 0 }))?.meta?.logMessages ?? [];
      events.push(...parseEvents(client.program, logs).map((event) => event.name));
    }
    console.log(`job ${address.toBase58()}: ${variantOf(job.state)}, max price ${job.maxPrice}; events ${events.join(", ")}`);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
