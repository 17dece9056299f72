// One service lease's life over any JSON-RPC cluster (the real validator, or our local cluster
// with a running clock), through the SDK and its transaction layer only: a staked provider wins a
// one-replica lease, claims the time its watchdog acknowledged (the Ed25519 program verifying the
// watchdog's signature, read back by the program through the instructions sysvar), is refused for
// an acknowledgement signed by another key, a replayed one and one from the future, is ended by
// the consumer, claims up to its end and is closed, which settles the lease. Returns what each
// party received against what the slots it was paid for say, the refusals, and the compute units
// of each instruction, so that two clusters can be compared.
import { Keypair } from "@solana/web3.js";
import { signAcknowledgement, type Acknowledgement } from "@compute-market/sdk";
import { openClusterMarket, type ClusterWallet } from "./cluster-market";
import { balances, slotPast, unitsOf } from "./market-flow";

const RATE = 80n;
const RATE_CAP = 100n;
const PERIOD = 10n;
const CRANK_FEE = 1_000n;
const DEPOSIT = 500_000n;
/** The slots the first claim covers from the replica's start. */
const FIRST_CLAIM_SLOTS = 10n;

export interface ServiceFlowResult {
  /** Compute units the program consumed, by instruction, as its runtime logged them. */
  units: Map<string, number>;
  /** The replica's start and end slots, as the chain recorded them. */
  startedSlot: bigint;
  endedSlot: bigint;
  /** Tokens received: the provider's owner, the treasury, the keeper that closed, the consumer (its refund). */
  ownerPaid: bigint;
  treasuryFee: bigint;
  keeperFee: bigint;
  consumerRefund: bigint;
  /** The first claim's payment alone (rate × FIRST_CLAIM_SLOTS). */
  firstClaimPaid: bigint;
  /** What the refused claims threw, by attempt, and the owner's balance change across them. */
  refusals: Record<"otherKey" | "replay" | "ahead", string>;
  movedByRefusals: bigint;
  /** Whether the job's account is gone after the last replica closed (the lease settled). */
  jobClosed: boolean;
  rate: bigint;
  feeBps: number;
  crankFee: bigint;
  deposit: bigint;
  firstClaimSlots: bigint;
}

/** The message a refused send threw (`"accepted"` when it was not refused). */
async function refusal(send: Promise<unknown>): Promise<string> {
  return send.then(
    () => "accepted",
    (error: unknown) => (error instanceof Error ? error.message : String(error)),
  );
}

/** `authority`: the protocol authority of a config that exists on the cluster already. */
export async function runServiceFlow(url: string, authority?: ClusterWallet): Promise<ServiceFlowResult & { authority: ClusterWallet }> {
  const env = await openClusterMarket(
    url,
    {
      minStake: 10_000n, jobStakeLock: 1_000n, crankFee: CRANK_FEE, bidWindowSlots: 4n, revealWindowSlots: 4n, startWindowSlots: 50n,
      challengeWindowSlots: 4n, unbondingSlots: 4n, slashNoShowBps: 1_000, slashTimeoutBps: 5_000, slashConsumerShareBps: 5_000, defaultReplication: 1,
      servicePauseSlots: 100n,
    },
    authority,
  );
  const { connection, market, paymentMint } = env;
  const [consumer, owner, keeper] = [await env.wallet({ payment: DEPOSIT }), await env.wallet({ stake: 1_000_000n }), await env.wallet()];
  const watchdog = Keypair.generate();
  const config = (await env.authority.client.fetchConfig())!;
  const programId = env.authority.client.programId;
  const units = new Map<string, number>();
  const measure = async <T extends string | { signature: string }>(name: string, sent: Promise<T>): Promise<T> => {
    const value = await sent;
    units.set(name, await unitsOf(connection, typeof value === "string" ? value : value.signature, programId));
    return value;
  };

  const { provider } = await owner.client.registerProvider({ market, spec: { cpuCores: 2, memoryMb: 1_024, diskGb: 10, gpuCount: 0, vramMb: 0 }, endpoint: "http://127.0.0.1:1" });
  await owner.client.stake({ provider, amount: 50_000n });
  const { job } = await measure(
    "post_service",
    consumer.client.postService({
      market, specHash: new Uint8Array(32).fill(9), requirements: { cpuCores: 1, memoryMb: 64, maxDurationSlots: 100_000n },
      replicas: 1, maxRate: RATE_CAP, watchdog: watchdog.publicKey, ackPeriodSlots: PERIOD, deposit: DEPOSIT, bidWindowSlots: 4n,
    }),
  );
  await measure("place_bid", owner.client.placeBid({ job, price: RATE }).then((r) => r.signature));
  await slotPast(connection, (await consumer.client.fetchJob(job))!.bidDeadlineSlot);
  await measure("award", keeper.client.award({ job }));
  await measure("start_job", owner.client.startJob({ job }));
  const bidAddress = owner.client.bidAddress(job, provider);
  const startedSlot = (await owner.client.fetchBid(bidAddress))!.startedSlot;
  const jobIncarnation = (await consumer.client.fetchJob(job))!.incarnation;
  const ack = (upToSlot: bigint, signer: Keypair = watchdog): Acknowledgement => signAcknowledgement(signer.secretKey, { job, jobIncarnation, provider, upToSlot });
  const parties = [owner.keypair.publicKey, config.treasury, keeper.keypair.publicKey, consumer.keypair.publicKey];
  const ownerBalance = async () => (await balances(connection, [paymentMint], [owner.keypair.publicKey]))[0];

  const before = await balances(connection, [paymentMint], parties);
  // The first claim: exactly FIRST_CLAIM_SLOTS slots from the start, once they have passed.
  const firstUpTo = startedSlot + FIRST_CLAIM_SLOTS;
  await slotPast(connection, firstUpTo + 1n);
  await measure("claim_service", owner.client.claimService(ack(firstUpTo)));
  const firstClaimPaid = (await ownerBalance()) - before[0];

  // Refused, each moving nothing: another key's signature, the same acknowledgement again, and
  // one naming a slot that has not come.
  const beforeRefusals = await ownerBalance();
  const refusals = {
    otherKey: await refusal(owner.client.claimService(ack(firstUpTo + 1n, Keypair.generate()))),
    replay: await refusal(owner.client.claimService(ack(firstUpTo))),
    ahead: await refusal(owner.client.claimService(ack(BigInt(await connection.getSlot("confirmed")) + 10_000n))),
  };
  const movedByRefusals = (await ownerBalance()) - beforeRefusals;

  await measure("end_replica", consumer.client.endReplica({ job, provider }));
  const endedSlot = (await owner.client.fetchBid(bidAddress))!.endedSlot;
  // An acknowledgement past the end pays up to the end, no further.
  await slotPast(connection, endedSlot + 2n);
  await owner.client.claimService(ack(endedSlot + 2n));
  await measure("close_replica", keeper.client.closeReplica({ job, provider }));
  const after = await balances(connection, [paymentMint], parties);
  const [ownerPaid, treasuryFee, keeperFee, consumerRefund] = after.map((value, i) => value - before[i]);
  return {
    authority: env.authority,
    units,
    startedSlot,
    endedSlot,
    ownerPaid,
    treasuryFee,
    keeperFee,
    consumerRefund,
    firstClaimPaid,
    refusals,
    movedByRefusals,
    jobClosed: (await connection.getAccountInfo(job, "confirmed")) === null,
    rate: RATE,
    feeBps: config.protocolFeeBps,
    crankFee: CRANK_FEE,
    deposit: DEPOSIT,
    firstClaimSlots: FIRST_CLAIM_SLOTS,
  };
}
