// Program-derived addresses of every account the program owns, derived as the program does.
import { PublicKey } from "@solana/web3.js";

/** Seed prefixes, as in programs/compute-market/src/state/seeds.rs. */
export const SEEDS = {
  config: "config",
  market: "market",
  provider: "provider",
  stakeVault: "stake",
  job: "job",
  escrow: "escrow",
  bid: "bid",
  dispute: "dispute",
  bond: "bond",
  witness: "witness",
  service: "service",
} as const;

const encoder = new TextEncoder();

/** A u64 as 8 little-endian bytes, as the program encodes ids and nonces in seeds. */
export function u64Seed(value: bigint): Uint8Array {
  if (value < 0n || value > 0xffff_ffff_ffff_ffffn) throw new RangeError(`${value} is not a u64`);
  const bytes = new Uint8Array(8);
  new DataView(bytes.buffer).setBigUint64(0, value, true);
  return bytes;
}

function derive(seeds: Uint8Array[], programId: PublicKey): [PublicKey, number] {
  return PublicKey.findProgramAddressSync(seeds, programId);
}

export function findConfigPda({ programId }: { programId: PublicKey }): [PublicKey, number] {
  return derive([encoder.encode(SEEDS.config)], programId);
}

export function findMarketPda({ id, programId }: { id: bigint; programId: PublicKey }): [PublicKey, number] {
  return derive([encoder.encode(SEEDS.market), u64Seed(id)], programId);
}

export function findProviderPda({
  market,
  owner,
  programId,
}: {
  market: PublicKey;
  owner: PublicKey;
  programId: PublicKey;
}): [PublicKey, number] {
  return derive([encoder.encode(SEEDS.provider), market.toBytes(), owner.toBytes()], programId);
}

export function findStakeVaultPda({ provider, programId }: { provider: PublicKey; programId: PublicKey }): [PublicKey, number] {
  return derive([encoder.encode(SEEDS.stakeVault), provider.toBytes()], programId);
}

export function findJobPda({
  consumer,
  nonce,
  programId,
}: {
  consumer: PublicKey;
  nonce: bigint;
  programId: PublicKey;
}): [PublicKey, number] {
  return derive([encoder.encode(SEEDS.job), consumer.toBytes(), u64Seed(nonce)], programId);
}

export function findEscrowPda({ job, programId }: { job: PublicKey; programId: PublicKey }): [PublicKey, number] {
  return derive([encoder.encode(SEEDS.escrow), job.toBytes()], programId);
}

export function findServicePda({ job, programId }: { job: PublicKey; programId: PublicKey }): [PublicKey, number] {
  return derive([encoder.encode(SEEDS.service), job.toBytes()], programId);
}

export function findBidPda({ job, provider, programId }: { job: PublicKey; provider: PublicKey; programId: PublicKey }): [PublicKey, number] {
  return derive([encoder.encode(SEEDS.bid), job.toBytes(), provider.toBytes()], programId);
}

export function findDisputePda({ job, challenger, programId }: { job: PublicKey; challenger: PublicKey; programId: PublicKey }): [PublicKey, number] {
  return derive([encoder.encode(SEEDS.dispute), job.toBytes(), challenger.toBytes()], programId);
}

export function findBondVaultPda({ dispute, programId }: { dispute: PublicKey; programId: PublicKey }): [PublicKey, number] {
  return derive([encoder.encode(SEEDS.bond), dispute.toBytes()], programId);
}

export function findWitnessBufferPda({ dispute, writer, programId }: { dispute: PublicKey; writer: PublicKey; programId: PublicKey }): [PublicKey, number] {
  return derive([encoder.encode(SEEDS.witness), dispute.toBytes(), writer.toBytes()], programId);
}
