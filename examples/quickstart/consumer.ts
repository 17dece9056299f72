// The consumer's quick start (README, "Quick start"): a new wallet, funded by the sandbox's faucet,
// posts the sha256 guest over a short text as a verifiable job in the sandbox's cpu market, waits
// for a provider node to commit the result, downloads the output and checks it against the chain.
// It needs the sandbox, a provider node and a keeper running. Run: npx ts-node examples/quickstart/consumer.ts
import { readFileSync } from "node:fs";
import { AnchorProvider, Wallet } from "@coral-xyz/anchor";
import { Connection, Keypair, PublicKey } from "@solana/web3.js";
import { sha256 } from "@noble/hashes/sha256";
import { bytesToHex } from "@noble/hashes/utils";
import { ComputeMarketClient, endpointsOf, fetchVerifiableOutput, providerEndpoint, publishMachineJob, variantOf } from "@compute-market/sdk";
import { VmModule } from "@compute-market/vm";

const url = process.env.URL ?? "http://127.0.0.1:8899";
const market = new PublicKey(process.env.MARKET ?? "6K8a1zBm48k6J1rp3cXj6iu3NLpo5HRTCYpMHBQcy4jT");

async function main(): Promise<void> {
  // A wallet with 1 SOL and 100 of each sandbox token (6 decimals), from the sandbox's faucet.
  const wallet = Keypair.generate();
  const request = { jsonrpc: "2.0", id: 1, method: "localnet_requestTokens", params: [wallet.publicKey.toBase58(), 100_000_000, 1_000_000_000] };
  const reply = (await (await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(request) })).json()) as { error?: { message: string } };
  if (reply.error) throw new Error(`the faucet refused: ${reply.error.message}`);
  const client = new ComputeMarketClient(new AnchorProvider(new Connection(url, "confirmed"), new Wallet(wallet), { commitment: "confirmed" }));

  // The program (built by scripts/build-guests) and its input. A verifiable job is public: its
  // program and input go to every provider of the market, so that anyone can replay it.
  const code = new Uint8Array(readFileSync("target/guests/sha256.bin"));
  const input = new TextEncoder().encode("Hello, compute market!\n".repeat(64));
  const endpoints = endpointsOf((await client.providersOf(market)).map(({ account }) => account));
  const published = await publishMachineJob(endpoints, code, input);
  if (published.published.length === 0) throw new Error(`no provider took the program: ${JSON.stringify(published.failed)}`);

  // Post it: at most 1 token, and a bid at or under the instant price is awarded at once.
  const machine = await VmModule.load();
  const { job } = await client.postVerifiableJob({
    market, code, input, machine, specHash: published.specHash,
    requirements: { cpuCores: 1, memoryMb: 256, maxDurationSlots: 300n },
    onFailure: "refund", maxPrice: 1_000_000n, instantPrice: 1_000_000n, bidWindowSlots: 0n, // 0: the market's
  });
  console.log(`posted job ${job.toBase58()}`);

  // A provider bids, the keeper awards, the provider runs the program and commits its final state.
  const deadline = Date.now() + 90_000;
  let state = "";
  for (;;) {
    const account = await client.fetchJob(job);
    if (!account) throw new Error("the job is gone: it expired or was refunded");
    if (variantOf(account.state) !== state) console.log(`job ${variantOf(account.state)}`);
    state = variantOf(account.state);
    if (state === "committed") break;
    if (Date.now() > deadline) throw new Error(`the job is still ${state}: is a provider node running?`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  const winner = (await client.fetchJob(job))!.auction.ranking[0].provider;
  const bid = (await client.fetchBid(client.bidAddress(job, winner)))!;

  // The output, checked against the output root the program proved to be in the final state.
  const output = await fetchVerifiableOutput({ endpoint: providerEndpoint((await client.fetchProvider(winner))!), job, bid, machine });
  if (bytesToHex(output) !== bytesToHex(sha256(input))) throw new Error("the output is not sha256 of the input");
  console.log(`output ${bytesToHex(output)}: sha256 of the input, as committed on-chain by ${winner.toBase58()}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
