// A market on an in-process local cluster (real JSON-RPC and PubSub), for suites that drive
// daemons' code against a URL: config, one market, and wallets funded with SOL and tokens. The same
// market on another cluster (the real validator) by its URL, through JSON-RPC alone.
import { AnchorProvider, Wallet } from "@coral-xyz/anchor";
import { createMint as createMintOverRpc, getAssociatedTokenAddressSync, getOrCreateAssociatedTokenAccount, mintTo } from "@solana/spl-token";
import { Connection, Keypair, LAMPORTS_PER_SOL, PublicKey } from "@solana/web3.js";
import { ComputeMarketClient, DEFAULT_PROGRAM_ID, type MarketParamsInput } from "@compute-market/sdk";
import { createMint, startLocalCluster, tokenBalance, type LocalCluster } from "@compute-market/localnet";
import { PROGRAM_PATH } from "./env";

export const CLUSTER_MARKET_PARAMS: MarketParamsInput = {
  minStake: 10_000n,
  jobStakeLock: 1_000n,
  crankFee: 1_000n,
  bidWindowSlots: 20n,
  revealWindowSlots: 10n,
  startWindowSlots: 20n,
  challengeWindowSlots: 5n,
  unbondingSlots: 10n,
  slashNoShowBps: 1_000,
  slashTimeoutBps: 5_000,
  slashConsumerShareBps: 5_000,
  defaultReplication: 1,
};

export interface ClusterWallet {
  keypair: Keypair;
  client: ComputeMarketClient;
}

/** A market on any cluster, reached by its URL. */
export interface MarketOnCluster {
  cluster: { url: string };
  connection: Connection;
  authority: ClusterWallet;
  market: PublicKey;
  paymentMint: PublicKey;
  stakeMint: PublicKey;
  /** A new wallet with SOL and `payment` / `stake` tokens in its associated accounts. */
  wallet(tokens?: { payment?: bigint; stake?: bigint }): Promise<ClusterWallet>;
  close(): Promise<void>;
}

/** A market on an in-process local cluster, whose ledger the test reads and whose clock it moves. */
export interface ClusterMarket extends MarketOnCluster {
  cluster: LocalCluster;
  paymentBalance(owner: PublicKey): bigint;
  stakeBalance(owner: PublicKey): bigint;
  advance(slots: bigint): void;
}

/** `slotMs` 0 stops the clock: slots then move only by `advance`. */
export async function startClusterMarket(params: MarketParamsInput = CLUSTER_MARKET_PARAMS, slotMs = 0): Promise<ClusterMarket> {
  const cluster = await startLocalCluster({ port: 0, slotMs, programs: [{ programId: DEFAULT_PROGRAM_ID, path: PROGRAM_PATH }] });
  const mintAuthority = Keypair.generate();
  cluster.ledger.airdrop(mintAuthority.publicKey, BigInt(LAMPORTS_PER_SOL));
  const mints = { payment: createMint(cluster.ledger, mintAuthority, 6), stake: createMint(cluster.ledger, mintAuthority, 6) };
  const airdrop = async (to: PublicKey, lamports: bigint) => void cluster.ledger.airdrop(to, lamports);
  const market = await openMarket(new Connection(cluster.url, "confirmed"), params, mintAuthority, mints, airdrop, () => cluster.close());
  return {
    ...market,
    cluster,
    paymentBalance: (owner) => tokenBalance(cluster.ledger, getAssociatedTokenAddressSync(market.paymentMint, owner)),
    stakeBalance: (owner) => tokenBalance(cluster.ledger, getAssociatedTokenAddressSync(market.stakeMint, owner)),
    advance: (slots) => cluster.ledger.advanceSlots(slots),
  };
}

/**
 * The same market on the cluster at `url` (its config not initialized yet), through JSON-RPC
 * alone: SOL from the cluster's airdrop, mints made with spl-token.
 */
export async function openClusterMarket(url: string, params: MarketParamsInput = CLUSTER_MARKET_PARAMS, authority?: ClusterWallet): Promise<MarketOnCluster> {
  const connection = new Connection(url, "confirmed");
  const airdrop = async (to: PublicKey, lamports: bigint) => {
    const signature = await connection.requestAirdrop(to, Number(lamports));
    await connection.confirmTransaction({ signature, ...(await connection.getLatestBlockhash("confirmed")) }, "confirmed");
  };
  const mintAuthority = Keypair.generate();
  await airdrop(mintAuthority.publicKey, 10n * BigInt(LAMPORTS_PER_SOL));
  const mint = () => createMintOverRpc(connection, mintAuthority, mintAuthority.publicKey, null, 6, undefined, { commitment: "confirmed" });
  const mints = { payment: await mint(), stake: await mint() };
  return openMarket(connection, params, mintAuthority, mints, airdrop, async () => undefined, authority);
}

async function openMarket(
  connection: Connection,
  params: MarketParamsInput,
  mintAuthority: Keypair,
  { payment: paymentMint, stake: stakeMint }: { payment: PublicKey; stake: PublicKey },
  airdrop: (to: PublicKey, lamports: bigint) => Promise<void>,
  close: () => Promise<void>,
  /** The authority of a config that exists already (default: a new wallet initializes it). */
  protocolAuthority?: ClusterWallet,
): Promise<MarketOnCluster> {
  const wallet = async (tokens: { payment?: bigint; stake?: bigint } = {}): Promise<ClusterWallet> => {
    const keypair = Keypair.generate();
    await airdrop(keypair.publicKey, 100n * BigInt(LAMPORTS_PER_SOL));
    for (const [mint, amount] of [[paymentMint, tokens.payment ?? 0n], [stakeMint, tokens.stake ?? 0n]] as const) {
      const account = await getOrCreateAssociatedTokenAccount(connection, mintAuthority, mint, keypair.publicKey);
      if (amount > 0n) await mintTo(connection, mintAuthority, mint, account.address, mintAuthority, amount);
    }
    const client = new ComputeMarketClient(new AnchorProvider(connection, new Wallet(keypair), { commitment: "confirmed" }));
    return { keypair, client };
  };
  const authority = protocolAuthority ?? (await wallet());
  if (!protocolAuthority) await authority.client.initializeConfig({ protocolFeeBps: 250, treasury: authority.keypair.publicKey });
  const { market } = await authority.client.createMarket({
    class: { minGpuCount: 0, minVramMb: 0, minCpuCores: 1, minMemoryMb: 1 },
    params,
    paymentMint,
    stakeMint,
  });
  return { cluster: { url: connection.rpcEndpoint }, connection, authority, market, paymentMint, stakeMint, wallet, close };
}
