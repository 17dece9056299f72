// The demo's service act: a small HTTP service leased with two replicas, paid per slot the
// consumer's watchdog acknowledged. The watchdog (run here, with its own key) probes each
// replica's health URL and hands signed acknowledgements to its node; one node is killed, with
// its container, as a machine that dies would be; its replica stops being acknowledged, and
// after the lease's grace the watchdog ends it and asks for a replacement. The spare node wins
// the seat round the keeper awards and serves. The consumer's bill is read from the program's
// events and compared with each replica's healthy time.
import Docker from "dockerode";
import type { Connection, Keypair, PublicKey } from "@solana/web3.js";
import { Keypair as KeypairClass } from "@solana/web3.js";
import {
  deliverAcknowledgement,
  fetchReplicaReport,
  httpHealthy,
  parseEvents,
  publishSpec,
  ServiceWatchdog,
  type ComputeMarketClient,
  variantOf,
  type ComputeMarketEvent,
  type ContainerJobSpec,
} from "@compute-market/sdk";
import type { Spawned } from "@compute-market/common";
import { SERVICE_LABEL } from "../provider/src/runtime/service-container";

/** Slots one acknowledgement covers at most, and the grace a failing replica is given. */
const PERIOD = 20n;
const GRACE = 20n;
const MAX_RATE = 5_000n;
const WATCH_MS = 500;

export interface ServiceNode {
  name: string;
  provider: PublicKey;
  endpoint: string;
  process: Spawned;
}

export interface ServicesDemoContext {
  connection: Connection;
  market: PublicKey;
  consumer: { keypair: Keypair; client: ComputeMarketClient };
  image: string;
  /** The nodes set to serve services: two replicas are leased, the third node is the spare. */
  nodes: ServiceNode[];
  /** The market's bid window: a seat round's lasts as long. */
  bidWindowSlots: bigint;
  /** The keeper's process, whose last lines are shown if the act fails. */
  keeper: Spawned;
  say(text: string): void;
  progress(text: string): void;
  usdc(value: bigint): string;
}

/** What the act measured, in slots of the cluster: the death, and each step of the replacement. */
export interface ServicesDemoReport {
  deathSlot: bigint;
  /** The watchdog ended the dead replica (after the grace) and asked for a replacement. */
  endedSlot: bigint;
  /** The keeper awarded the seat round (after its bid window). */
  seatAwardedSlot: bigint;
  /** The seat's winner started it on-chain. */
  seatStartedSlot: bigint;
  /** The watchdog first acknowledged the replacement: it answers its health check. */
  servingSlot: bigint;
  graceSlots: bigint;
  bidWindowSlots: bigint;
}

/** The replica: busybox's httpd serving /tmp, whose `health` file is the health check. */
function serviceSpec(image: string): ContainerJobSpec {
  return {
    version: 1,
    image,
    command: ["sh", "-c", "echo replica up; echo ok > /tmp/health; exec httpd -f -p 8080 -h /tmp"],
    env: {},
    inputs: [],
    network: true,
    gpus: 0,
    cpus: 1,
    memoryMb: 64,
    timeoutSeconds: 20,
    maxOutputBytes: 1_000_000,
    service: { ports: [8080], healthCheck: { kind: "http", port: 8080, path: "/health", expectedStatus: 200 } },
  };
}

/** The replica's public URLs, asked of its node as a watchdog would; none when the node is down. */
async function replicaUrls(endpoint: string, job: PublicKey): Promise<string[]> {
  try {
    return (await fetchReplicaReport(endpoint, job, { signal: AbortSignal.timeout(1_000) }))?.urls ?? [];
  } catch {
    return [];
  }
}

/** Resolves once `condition` holds, checking every 250 ms; fails after `timeoutMs`. */
async function until(what: string, condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** Kills a node as a machine dies: its process at once, and its replica's container with it. */
async function killNode(node: ServiceNode, job: PublicKey): Promise<void> {
  const [url] = await replicaUrls(node.endpoint, job);
  node.process.child.kill("SIGKILL");
  if (!url) return;
  const hostPort = Number(new URL(url).port);
  const docker = new Docker();
  for (const container of await docker.listContainers({ filters: { label: [`${SERVICE_LABEL}=${job.toBase58()}`] } })) {
    if (container.Ports.some((port) => port.PublicPort === hostPort)) await docker.getContainer(container.Id).remove({ force: true });
  }
}

export async function servicesDemo(ctx: ServicesDemoContext): Promise<ServicesDemoReport> {
  const { connection, consumer, say, progress, usdc } = ctx;
  const byProvider = new Map(ctx.nodes.map((node) => [node.provider.toBase58(), node]));
  const nameOf = (provider: PublicKey) => byProvider.get(provider.toBase58())?.name ?? provider.toBase58().slice(0, 6);

  say(`the consumer leases a small HTTP service: 2 replicas, at most ${usdc(MAX_RATE)} USDC a slot each, paid only for the slots its watchdog acknowledges (one acknowledgement covers at most ${PERIOD} slots; a failing replica gets ${GRACE})`);
  const published = await publishSpec(ctx.nodes.map((node) => node.endpoint), serviceSpec(ctx.image), new Map());
  if (published.failed.length > 0) throw new Error(`publishing the service spec failed: ${JSON.stringify(published.failed)}`);
  const watchdogKey: Keypair = KeypairClass.generate();
  const deposit = 2_000_000n;
  const { job } = await consumer.client.postService({
    market: ctx.market,
    specHash: published.specHash,
    requirements: { cpuCores: 1, memoryMb: 64, maxDurationSlots: 3_000n },
    replicas: 2,
    maxRate: MAX_RATE,
    watchdog: watchdogKey.publicKey,
    ackPeriodSlots: PERIOD,
    graceSlots: GRACE,
    deposit,
    bidWindowSlots: 20n,
  });
  progress(`lease ${job.toBase58().slice(0, 8)}… posted with a deposit of ${usdc(deposit)} USDC; anyone may top it up`);

  // The program's events for this lease: the bill is read from them.
  const claimed = new Map<string, { slots: bigint; paid: bigint; fee: bigint }>();
  const endedAt = new Map<string, bigint>();
  const startedAt = new Map<string, bigint>();
  let refunded: bigint | null = null;
  let crankFee = 0n;
  // When each step of the replacement landed: the slot of the event's transaction.
  const slotsOf = { seatsAwarded: 0n, started: new Map<string, bigint>() };
  const subscription = connection.onLogs(consumer.client.programId, (logs, context) => {
    if (logs.err) return;
    for (const event of parseEvents(consumer.client.program, logs.logs)) report(event, BigInt(context.slot));
  });
  const report = (event: ComputeMarketEvent, slot: bigint) => {
    const data = event.data as { job?: PublicKey; provider?: PublicKey; replaced?: PublicKey; price?: bigint; slots?: bigint; paid?: bigint; fee?: bigint; refunded?: bigint; crankFee?: bigint; awarded?: number; dropped?: number; endedSlot?: bigint; byOwner?: boolean; bidDeadlineSlot?: bigint };
    if (!data.job?.equals(job)) return;
    const who = data.provider ? nameOf(data.provider) : "";
    switch (event.name) {
      case "bidPlaced":
        progress(`${who} bids ${usdc(data.price ?? 0n)} USDC a slot`);
        break;
      case "winnerSelected":
        progress(`a replica goes to ${who} at ${usdc(data.price ?? 0n)} USDC a slot`);
        break;
      case "jobStarted":
        slotsOf.started.set(who, slot);
        progress(`${who} started its replica`);
        break;
      case "serviceClaimed": {
        const total = claimed.get(who) ?? { slots: 0n, paid: 0n, fee: 0n };
        claimed.set(who, { slots: total.slots + (data.slots ?? 0n), paid: total.paid + (data.paid ?? 0n), fee: total.fee + (data.fee ?? 0n) });
        progress(`${who} claims ${data.slots} acknowledged slots: ${usdc(data.paid ?? 0n)} USDC`);
        break;
      }
      case "replicaEnded":
        endedAt.set(who, data.endedSlot ?? 0n);
        progress(`${who}'s replica ended at slot ${data.endedSlot}${data.byOwner ? " (by its owner, with notice)" : ""}`);
        break;
      case "seatRequested":
        progress(`a replacement is asked for ${data.replaced ? nameOf(data.replaced) : "the ended replica"}'s seat: bids until slot ${data.bidDeadlineSlot}`);
        break;
      case "seatsAwarded":
        slotsOf.seatsAwarded = slot;
        progress(`the keeper closes the seat round: ${data.awarded} awarded, ${data.dropped} given up`);
        break;
      case "serviceSettled":
        refunded = data.refunded ?? 0n;
        crankFee = data.crankFee ?? 0n;
        progress(`the lease settled: ${usdc(refunded)} USDC back to the consumer, ${usdc(crankFee)} to the keeper`);
        break;
      default:
        break;
    }
  };

  // The watchdog runs here, as the consumer's side would, with a key of its own.
  const acknowledged = new Map<string, bigint>();
  const firstAcknowledged = new Map<string, bigint>();
  const watchdog = new ServiceWatchdog({
    client: consumer.client,
    watchdog: watchdogKey,
    job,
    probe: async (provider) => {
      const node = byProvider.get(provider.toBase58());
      const [url] = node ? await replicaUrls(node.endpoint, job) : [];
      return url !== undefined && httpHealthy(`${url}/health`, 200, 1_000);
    },
    deliver: (ack) => deliverAcknowledgement(byProvider.get(ack.provider.toBase58())!.endpoint, ack),
    onEvent: (event) => {
      if (event.kind === "acknowledged") {
        const key = nameOf(event.provider);
        if (!firstAcknowledged.has(key)) firstAcknowledged.set(key, event.upToSlot);
        acknowledged.set(key, event.upToSlot);
      } else if (event.kind === "unhealthy" && event.unhealthyForSlots > 0n) {
        progress(`watchdog: ${nameOf(event.provider)} has failed its health check for ${event.unhealthyForSlots} slots`);
      } else if (event.kind === "ended") {
        progress(`watchdog: ended ${nameOf(event.provider)}'s replica past the grace${event.replaced ? ", asking for a replacement" : ""}`);
      }
    },
  });
  let watching = true;
  const watchLoop = (async () => {
    while (watching) {
      await watchdog.tick().catch((error: unknown) => progress(`watchdog pass failed: ${error instanceof Error ? error.message : String(error)}`));
      await new Promise((resolve) => setTimeout(resolve, WATCH_MS));
    }
  })();

  try {
    await until("two healthy replicas", () => acknowledged.size >= 2, 120_000);
    const serving = [...acknowledged.keys()].sort();
    for (const { account } of await consumer.client.bidsOf(job)) startedAt.set(nameOf(account.provider), account.startedSlot);
    progress(`both replicas answer; the watchdog acknowledges ${serving.join(" and ")} every ${WATCH_MS} ms`);
    const slotNow = async () => BigInt(await connection.getSlot("confirmed"));
    const healthySince = await slotNow();
    await until("30 slots of service", () => [...acknowledged.values()].every((slot) => slot >= healthySince + 30n), 30_000);

    const victim = ctx.nodes.find((node) => node.name === serving[0])!;
    say(`${victim.name}'s machine dies: its node and its replica's container are killed`);
    await killNode(victim, job);
    const deathSlot = await slotNow();
    progress(`${victim.name} is gone at slot ${deathSlot}`);

    const spare = ctx.nodes.find((node) => !serving.includes(node.name))!;
    await until(`${spare.name}'s replacement serving`, () => firstAcknowledged.has(spare.name), 120_000);
    const servingSlot = firstAcknowledged.get(spare.name)!;
    const measured: ServicesDemoReport = {
      deathSlot,
      endedSlot: endedAt.get(victim.name) ?? 0n,
      seatAwardedSlot: slotsOf.seatsAwarded,
      seatStartedSlot: slotsOf.started.get(spare.name) ?? 0n,
      servingSlot,
      graceSlots: GRACE,
      bidWindowSlots: ctx.bidWindowSlots,
    };
    progress(`${spare.name}'s replacement answers at slot ${servingSlot}: ${servingSlot - deathSlot} slots after the death (ended after ${measured.endedSlot - deathSlot}: the grace ${GRACE}; awarded ${measured.seatAwardedSlot - measured.endedSlot} later: the seat round's bid window ${ctx.bidWindowSlots}; started ${measured.seatStartedSlot - measured.seatAwardedSlot} later; answering ${servingSlot - measured.seatStartedSlot} later)`);

    await until("20 slots of the replacement's service", () => (acknowledged.get(spare.name) ?? 0n) >= servingSlot + 20n, 30_000);
    say("the consumer ends the lease: its replicas end, the keeper closes them once their owners claimed, and the last close refunds the rest of the deposit");
    const replicas = await consumer.client.bidsOf(job);
    for (const { account } of replicas) startedAt.set(nameOf(account.provider), account.startedSlot);
    const live = replicas.filter(({ account }) => account.endedSlot === 0n && variantOf(account.status) === "started");
    for (const { account } of live) await consumer.client.endReplica({ job, provider: account.provider });
    watching = false;
    await watchLoop;
    await until("the lease's settlement", () => refunded !== null, 120_000);

    say("the consumer's bill (USDC): each replica was paid for the slots acknowledged and claimed, never for time it was down");
    let paid = 0n;
    for (const node of ctx.nodes) {
      const bill = claimed.get(node.name) ?? { slots: 0n, paid: 0n, fee: 0n };
      const start = startedAt.get(node.name);
      if (start === undefined) continue;
      // A replica was healthy from its start until it died or was ended; it is paid for no slot beyond.
      const until = node === victim ? deathSlot : (endedAt.get(node.name) ?? deathSlot);
      const healthy = until - start;
      const note = node === victim ? `died at slot ${deathSlot}, up ${healthy} slots; what it had not claimed died with it` : `up ${healthy} slots until its end`;
      console.log(`    ${node.name.padEnd(12)} paid ${String(bill.slots).padStart(4)} slots  ${usdc(bill.paid).padStart(9)} + fee ${usdc(bill.fee).padEnd(9)} (${note})`);
      if (bill.slots > healthy) throw new Error(`${node.name} was paid for ${bill.slots} slots, more than its ${healthy} healthy ones`);
      paid += bill.paid + bill.fee;
    }
    const spent = deposit - (refunded ?? 0n);
    console.log(`    ${"deposit".padEnd(12)} ${usdc(deposit).padStart(17)}; refunded ${usdc(refunded ?? 0n)}; spent ${usdc(spent)} = replicas and fees ${usdc(paid)} + crank fee ${usdc(crankFee)}${spent === paid + crankFee ? "" : "  (MISMATCH)"}`);
    if (spent !== paid + crankFee) throw new Error(`the lease's books do not add up: spent ${spent}, paid ${paid} + crank fee ${crankFee}`);
    return measured;
  } catch (error) {
    // What each node said of the lease is usually why.
    for (const node of ctx.nodes) {
      const lines = node.process.output.filter((line) => line.includes(job.toBase58())).slice(-8);
      if (lines.length > 0) console.error(`${node.name} on the lease:\n${lines.join("\n")}`);
    }
    console.error(`the keeper's last lines:\n${ctx.keeper.output.slice(-10).join("\n")}`);
    throw error;
  } finally {
    watching = false;
    await watchLoop;
    await connection.removeOnLogsListener(subscription);
  }
}
