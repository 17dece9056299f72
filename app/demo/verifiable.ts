// The demo's verifiable-compute act: the consumer posts the sha256 guest (rv32im) over 64 KiB as
// a verifiable job; a provider node runs it and commits its final state, the keeper replays it
// and agrees, it finalizes. Then a dishonest provider (this process) undercuts everyone on a
// second such job and commits a wrong final state; the keeper's challenger replays it, opens a
// dissection game, narrows it to one step in a few rounds and wins it on-chain: the cheat is
// slashed (its per-job lock to the treasury), the consumer refunded, and the keeper earns the
// challenger reward the cheat's bid locked on top.
import { readFileSync } from "node:fs";
import path from "node:path";
import type { Connection, Keypair, PublicKey } from "@solana/web3.js";
import { sha256 } from "@noble/hashes/sha256";
import { bytesToHex } from "@noble/hashes/utils";
import { fetchVerifiableOutput, parseEvents, providerEndpoint, publishMachineJob, variantOf, type ComputeMarketClient, type ComputeMarketEvent } from "@compute-market/sdk";
import { disputeStatus, playMove } from "@compute-market/common";
import { Replay, VmModule, type Trace } from "@compute-market/vm";
import { dataset } from "./jobs";

export interface DemoContext {
  root: string;
  connection: Connection;
  market: PublicKey;
  consumer: { client: ComputeMarketClient; keypair: Keypair };
  /** A dishonest provider: registered and staked, its node never started. */
  mallory: { client: ComputeMarketClient; keypair: Keypair; address: PublicKey };
  endpoints: string[];
  nameOf: (provider: PublicKey) => string;
  say(text: string): void;
  progress(text: string): void;
  usdc(value: bigint): string;
}

/** The cheat's story: every state of the honest run, but a different final one. */
class CheatingTrace implements Trace {
  constructor(private readonly honest: Replay, private readonly steps: bigint, private readonly claimed: Uint8Array) {}
  hashAt(step: bigint): Uint8Array {
    return step >= this.steps ? this.claimed : this.honest.hashAt(step);
  }
  witnessAt(step: bigint): Uint8Array {
    return this.honest.witnessAt(step);
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitFor<T>(what: string, probe: () => Promise<T | null | undefined | false>, timeoutMs = 90_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

export async function verifiableDemo(ctx: DemoContext): Promise<void> {
  const { consumer, market, progress } = ctx;
  const vm = await VmModule.load();
  const code = new Uint8Array(readFileSync(path.join(ctx.root, "target/guests/sha256.bin")));
  const data = dataset(64 * 1024, 0x9e3779b9);
  const labels = new Map<string, string>();
  const subscription = ctx.connection.onLogs(consumer.client.programId, (logs) => {
    if (!logs.err) for (const event of parseEvents(consumer.client.program, logs.logs)) narrate(event);
  });
  const narrate = (event: ComputeMarketEvent) => {
    const d = event.data as Record<string, unknown> & { job?: PublicKey; provider?: PublicKey; dispute?: PublicKey };
    // Moves and decisions name only their game: it was tied to its job when opened.
    if (event.name === "disputeOpened" && d.job && d.dispute) labels.set(d.dispute.toBase58(), labels.get(d.job.toBase58()) ?? "");
    const label = d.job ? labels.get(d.job.toBase58()) : d.dispute ? labels.get(d.dispute.toBase58()) : undefined;
    if (!label) return;
    const who = d.provider ? ctx.nameOf(d.provider) : "";
    switch (event.name) {
      case "winnerSelected":
        return progress(`${label}: awarded to ${who}`);
      case "resultCommitted":
        return progress(`${label}: ${who} committed final state ${bytesToHex(Uint8Array.from(d.finalStateHash as number[])).slice(0, 16)}… after ${d.steps} steps`);
      case "disputeOpened":
        return progress(`${label}: the keeper disputes it (bond ${ctx.usdc(d.bond as bigint)} STK): a game over steps [0, ${d.steps}]`);
      case "disputeMoved":
        return progress(`${label}:   interval [${d.lo}, ${d.hi}], ${variantOf(d.turn as never)} to move`);
      case "disputeDecided":
        return progress(`${label}: game decided, ${variantOf(d.status as never)}${(d.byTimeout as boolean) ? " (by timeout)" : " by the one-step proof on-chain"}`);
      case "disputeSettled":
        return progress(`${label}: settled: ${ctx.usdc(d.slashed as bigint)} STK slashed, ${ctx.usdc(d.toChallenger as bigint)} STK to the keeper (its bond and the challenger reward), ${ctx.usdc(d.refunded as bigint)} USDC back to the consumer`);
      case "winnerPaid":
        return progress(`${label}: finalized, ${who} paid ${ctx.usdc(d.price as bigint)} USDC`);
      default:
        return;
    }
  };
  const post = async (title: string, instantPrice: bigint) => {
    const published = await publishMachineJob(ctx.endpoints, code, data);
    if (published.failed.length > 0) throw new Error(`publishing failed: ${JSON.stringify(published.failed)}`);
    const { job } = await consumer.client.postVerifiableJob({
      market,
      requirements: { cpuCores: 1, memoryMb: 128, maxDurationSlots: 300n },
      onFailure: "refund",
      maxPrice: 1_000_000n,
      instantPrice,
      bidWindowSlots: 60n,
      specHash: published.specHash,
      code,
      input: data,
      machine: vm,
    });
    labels.set(job.toBase58(), title);
    progress(`${title} posted (${job.toBase58().slice(0, 8)}…): ${code.length} bytes of code, ${data.length} bytes of input`);
    return job;
  };
  try {
    ctx.say("verifiable compute: the consumer posts the sha256 guest (rv32im) over 64 KiB as a verifiable job");
    const honestJob = await post("verifiable job 1", 600_000n);
    const committed = await waitFor("the commitment", async () => {
      const job = await consumer.client.fetchJob(honestJob);
      if (!job || variantOf(job.state) !== "committed") return null;
      const bid = await consumer.client.fetchBid(consumer.client.bidAddress(honestJob, job.auction.ranking[0].provider));
      return bid && { bid, provider: job.auction.ranking[0].provider };
    });
    const winner = await consumer.client.fetchProvider(committed.provider);
    if (!winner) throw new Error("the winner's provider account is gone");
    const output = await fetchVerifiableOutput({ endpoint: providerEndpoint(winner), job: honestJob, bid: committed.bid, machine: vm });
    if (bytesToHex(output) !== bytesToHex(sha256(data))) throw new Error("the verified output is not sha256 of the input");
    progress(`verifiable job 1: output ${bytesToHex(output)} — proven into the committed final state, and equal to sha256 of the input`);
    await waitFor("job 1 to finalize", async () => (await ctx.connection.getAccountInfo(honestJob)) === null);

    ctx.say("a dishonest provider undercuts everyone on a second verifiable job and commits a wrong final state");
    const cheatJob = await post("verifiable job 2", 100_000n);
    await ctx.mallory.client.placeBid({ job: cheatJob, price: 100_000n });
    await waitFor("the award", async () => variantOf((await consumer.client.fetchJob(cheatJob))!.state) === "awarded");
    await ctx.mallory.client.startJob({ job: cheatJob });
    const honest = new Replay(vm, code, data);
    try {
      const machine = honest.final();
      const steps = machine.steps;
      const state = machine.state().blob.slice();
      state[169] ^= 0x01; // another exit code: the output is intact, the state is not the run's
      await ctx.mallory.client.commitVerifiable({ job: cheatJob, finalState: state, ...machine.outputProof(), resultUriHash: new Uint8Array(32).fill(1) });
      const trace = new CheatingTrace(honest, steps, sha256(state));
      // Mallory defends its claim move by move (dissections from its story), and never proves it.
      for (let guard = 0; guard < 400; guard++) {
        const games = await consumer.client.disputesOf(cheatJob);
        if (games.length === 0 && (await ctx.connection.getAccountInfo(cheatJob)) === null) break;
        for (const { address, account } of games) {
          if (disputeStatus(account) === "open" && variantOf(account.turn) === "provider") await playMove(ctx.mallory.client, address, account, "defender", trace).catch(() => undefined);
        }
        await sleep(200);
      }
    } finally {
      honest.free();
    }
    if ((await ctx.connection.getAccountInfo(cheatJob)) !== null) throw new Error("the cheated job did not end");
  } finally {
    await ctx.connection.removeOnLogsListener(subscription);
  }
}
