// A market on an in-process local cluster (real JSON-RPC and PubSub), for suites that drive
// daemons' code against a URL: config, one market, and wallets funded with SOL and tokens.
import { AnchorProvider, Wallet } from "@coral-xyz/anchor";
import { getAssociatedTokenAddressSync, getOrCreateAssociatedTokenAccount, mintTo } from "@solana/spl-token";
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

export interface ClusterMarket {
  cluster: LocalCluster;
  connection: Connection;
  authority: ClusterWallet;
  market: PublicKey;
  paymentMint: PublicKey;
  stakeMint: PublicKey;
  /** A new wallet with SOL and `payment` / `stake` tokens in its associated accounts. */
  wallet(tokens?: { payment?: bigint; stake?: bigint }): Promise<ClusterWallet>;
  paymentBalance(owner: PublicKey): bigint;
  stakeBalance(owner: PublicKey): bigint;
  advance(slots: bigint): void;
  close(): Promise<void>;
}

/** `slotMs` 0 stops the clock: slots then move only by `advance`. */
export async function startClusterMarket(params: MarketParamsInput = CLUSTER_MARKET_PARAMS, slotMs = 0): Promise<ClusterMarket> {
  const cluster = await startLocalCluster({ port: 0, slotMs, programs: [{ programId: DEFAULT_PROGRAM_ID, path: PROGRAM_PATH }] });
  const connection = new Connection(cluster.url, "confirmed");
  const mintAuthority = Keypair.generate();
  cluster.ledger.airdrop(mintAuthority.publicKey, BigInt(LAMPORTS_PER_SOL));
  const paymentMint = createMint(cluster.ledger, mintAuthority, 6);
  const stakeMint = createMint(cluster.ledger, mintAuthority, 6);
  const wallet = async (tokens: { payment?: bigint; stake?: bigint } = {}): Promise<ClusterWallet> => {
    const keypair = Keypair.generate();
    cluster.ledger.airdrop(keypair.publicKey, 100n * BigInt(LAMPORTS_PER_SOL));
    for (const [mint, amount] of [[paymentMint, tokens.payment ?? 0n], [stakeMint, tokens.stake ?? 0n]] as const) {
      const account = await getOrCreateAssociatedTokenAccount(connection, mintAuthority, mint, keypair.publicKey);
      if (amount > 0n) await mintTo(connection, mintAuthority, mint, account.address, mintAuthority, amount);
    }
    const client = new ComputeMarketClient(new AnchorProvider(connection, new Wallet(keypair), { commitment: "confirmed" }));
    return { keypair, client };
  };
  const authority = await wallet();
  await authority.client.initializeConfig({ protocolFeeBps: 250, treasury: authority.keypair.publicKey });
  const { market } = await authority.client.createMarket({
    class: { minGpuCount: 0, minVramMb: 0, minCpuCores: 1, minMemoryMb: 1 },
    params,
    paymentMint,
    stakeMint,
  });
  return {
    cluster,
    connection,
    authority,
    market,
    paymentMint,
    stakeMint,
    wallet,
    paymentBalance: (owner) => tokenBalance(cluster.ledger, getAssociatedTokenAddressSync(paymentMint, owner)),
    stakeBalance: (owner) => tokenBalance(cluster.ledger, getAssociatedTokenAddressSync(stakeMint, owner)),
    advance: (slots) => cluster.ledger.advanceSlots(slots),
    close: () => cluster.close(),
  };
}
