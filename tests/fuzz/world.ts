// The fuzzer's world: one LiteSVM ledger with the program, three mints, two markets of different
// parameters, consumers, providers of several temperaments, keepers and an attacker present in
// every market; a decoded view of the whole chain; and a sender that reports the program's error.
import { createPrivateKey, sign, type KeyObject } from "node:crypto";
import {
  createAssociatedTokenAccountIdempotentInstruction,
  getAssociatedTokenAddressSync,
  TOKEN_PROGRAM_ID,
} from "@solana/spl-token";
import { Keypair, PublicKey, Transaction, type AccountInfo, type TransactionInstruction } from "@solana/web3.js";
import {
  ComputeMarketClient,
  errorFromLogs,
  toNative,
  type BidAccount,
  type ConfigAccount,
  type DisputeAccount,
  type JobAccount,
  type MarketAccount,
  type MarketParamsInput,
  type ProviderAccount,
  type rules,
  type ServiceAccount,
} from "@compute-market/sdk";
import { createMint, createTokenAccount, localProvider, mintTo, type ChangedAccount } from "@compute-market/localnet";
import { TestEnv, SOL } from "../support/env";
import { GPU_BOX, MARKET_CLASS, MARKET_PARAMS, PROTOCOL_FEE_BPS } from "../support/fixtures";
import { currentJobLayout, OTHER_BUILD } from "./legacy";
import { Rng } from "./prng";

export type TokenState = rules.TokenState;

/** How a provider behaves when it wins. */
export type Temperament = "honest" | "wrongRoot" | "noShow" | "timeout";

export interface Actor {
  name: string;
  keypair: Keypair;
  publicKey: PublicKey;
  client: ComputeMarketClient;
}

export interface MarketInfo {
  address: PublicKey;
  paymentMint: PublicKey;
  stakeMint: PublicKey;
  params: MarketParamsInput;
}

export interface ProviderInfo {
  owner: Actor;
  market: number;
  address: PublicKey;
  vault: PublicKey;
  temperament: Temperament;
}

/** A job as posted (each post is a new record, even at an address used before). */
export interface JobRecord {
  address: PublicKey;
  escrow: PublicKey;
  consumer: Actor;
  market: number;
  nonce: bigint;
  /** Sealed-bid salts and prices, sealed-result roots and salts, by provider address. */
  bidSecrets: Map<string, { price: bigint; salt: Uint8Array }>;
  resultSecrets: Map<string, { root: Uint8Array; salt: Uint8Array }>;
  /** A service lease: its terms and what the fuzzer saw go in and out of its escrow. */
  service?: ServiceRecord;
}

/** A lease as posted: the terms' address, the watchdog whose key the world keeps, and the
 * escrow's flows while this incarnation lives (each measured on the ledger, not assumed). */
export interface ServiceRecord {
  address: PublicKey;
  watchdog: Keypair;
  period: bigint;
  incarnation: bigint;
  /** The deposit and every accepted top-up. */
  deposited: bigint;
  /** Tokens sent straight to the escrow (the dust move). */
  donated: bigint;
  /** What claims took out of the escrow (pay and fee). */
  claimed: bigint;
  /** Acknowledgements signed so far (replayed by the hostile claims), by provider. */
  acks: { provider: PublicKey; upToSlot: bigint }[];
}

/** The decoded chain at one moment. */
export interface View {
  slot: bigint;
  config: ConfigAccount;
  markets: Map<string, MarketAccount>;
  providers: Map<string, ProviderAccount>;
  jobs: Map<string, JobAccount>;
  bids: Map<string, BidAccount>;
  disputes: Map<string, DisputeAccount>;
  buffers: Map<string, { dispute: PublicKey; writer: PublicKey }>;
  /** Service lease terms, by address. */
  services: Map<string, ServiceAccount>;
  tokens: Map<string, TokenState>;
  supply: Map<string, bigint>;
  /** Program accounts the IDL could not decode (a layout of another build). */
  undecodable: number;
}

export type Outcome = { ok: true } | { ok: false; error: string };

const DISCRIMINATORS: Record<string, string> = {
  Config: "9b0caae01efacc82",
  Market: "dbbed53700e3c69a",
  Provider: "a4b447114bd850c3",
  Job: "4b7c50cba1b4ca50",
  Bid: "8ff630f52a91b458",
  Dispute: "2431f1432824f14a",
  WitnessBuffer: "b64d8cc87ac59b6b",
  Service: "903e4c81a72497fa",
};
const BY_DISCRIMINATOR = new Map(Object.entries(DISCRIMINATORS).map(([name, hex]) => [hex, name]));

/** The two markets: different locks, windows and slash rates (short windows, so deadlines come fast). */
export const FUZZ_MARKETS: MarketParamsInput[] = [
  { ...MARKET_PARAMS, bidWindowSlots: 30n, revealWindowSlots: 15n, startWindowSlots: 25n, challengeWindowSlots: 30n, unbondingSlots: 60n },
  {
    ...MARKET_PARAMS,
    minStake: 600_000n,
    jobStakeLock: 300_000n,
    crankFee: 5_000n,
    bidWindowSlots: 20n,
    revealWindowSlots: 10n,
    startWindowSlots: 20n,
    challengeWindowSlots: 20n,
    unbondingSlots: 40n,
    slashNoShowBps: 2_000,
    slashTimeoutBps: 8_000,
    slashConsumerShareBps: 2_500,
    defaultReplication: 2,
  },
];

export const MINTED = 1_000_000_000n;
export const PROVIDER_STAKE = 3_000_000n;
const TEMPERAMENTS: Temperament[] = ["honest", "honest", "wrongRoot", "noShow", "timeout"];

export class World {
  readonly actors: Actor[] = [];
  readonly markets: MarketInfo[] = [];
  readonly providers: ProviderInfo[] = [];
  readonly consumers: Actor[] = [];
  readonly keepers: Actor[] = [];
  readonly jobs: JobRecord[] = [];
  /** Games opened, by address (challenger and the job record they are against). */
  readonly games = new Map<string, { challenger: Actor; job: JobRecord; honestChallenger: boolean }>();
  /** Dust sent to each program-held token account, by address. */
  readonly dust = new Map<string, bigint>();
  readonly mints: PublicKey[] = [];
  authority!: Actor;
  attacker!: Actor;
  readonly config: PublicKey;
  /** Decoded accounts by address (null: closed), kept current by the ledger's notifications. */
  private cache: Map<string, Decoded | null> | null = null;

  private constructor(
    readonly env: TestEnv,
    readonly rng: Rng,
  ) {
    this.config = PublicKey.findProgramAddressSync([Buffer.from("config")], env.programId)[0];
  }

  get ledger(): TestEnv["ledger"] {
    return this.env.ledger;
  }

  get programId(): PublicKey {
    return this.env.programId;
  }

  get client(): ComputeMarketClient {
    return this.authority.client;
  }

  /** Builds the world for `seed`: every keypair comes from the seed, so a case replays exactly. */
  static async create(seed: number): Promise<World> {
    const env = await TestEnv.create();
    const w = new World(env, new Rng(seed ^ 0x5eed));
    const pay2 = createMint(env.ledger, env.mintAuthority, 6);
    w.mints.push(env.paymentMint, pay2, env.stakeMint);
    w.authority = w.newActor("authority");
    await w.authority.client.initializeConfig({ protocolFeeBps: PROTOCOL_FEE_BPS, treasury: w.authority.publicKey });
    for (const [i, params] of FUZZ_MARKETS.entries()) {
      // Market 0 pays in the first payment mint, market 1 in the second; both stake the same mint,
      // so a vault or stake account of one market passes the other's mint checks.
      const paymentMint = i === 0 ? env.paymentMint : pay2;
      const { market } = await w.authority.client.createMarket({ class: MARKET_CLASS, params, paymentMint, stakeMint: env.stakeMint });
      w.markets.push({ address: market, paymentMint, stakeMint: env.stakeMint, params });
    }
    w.attacker = w.newActor("attacker");
    for (let i = 0; i < 3; i++) w.consumers.push(w.newActor(`consumer${i}`));
    for (let i = 0; i < 2; i++) w.keepers.push(w.newActor(`keeper${i}`));
    for (const [m] of w.markets.entries()) {
      for (let i = 0; i < 4; i++) await w.addProvider(w.newActor(`p${m}.${i}`), m, TEMPERAMENTS[(i + m) % TEMPERAMENTS.length]);
      // The attacker is a provider in every market too, and consumer 0 owns a provider in market 0.
      await w.addProvider(w.attacker, m, "honest");
      if (m === 0) await w.addProvider(w.consumers[0], m, "honest");
    }
    return w;
  }

  private newActor(name: string): Actor {
    const keypair = Keypair.fromSeed(this.rng.bytes(32));
    this.ledger.airdrop(keypair.publicKey, 1_000n * SOL);
    const client = new ComputeMarketClient(localProvider(this.ledger, keypair), { programId: this.programId });
    // Another build's Jobs may not decode with the IDL; the client reads them through the adapter.
    if (OTHER_BUILD) client.fetchJob = async (address: PublicKey) => this.decodeJob(address);
    const actor = { name, keypair, publicKey: keypair.publicKey, client };
    for (const mint of this.mints) {
      const ata = getAssociatedTokenAddressSync(mint, keypair.publicKey, true);
      this.sendSetup(this.env.mintAuthority, [createAssociatedTokenAccountIdempotentInstruction(this.env.mintAuthority.publicKey, ata, keypair.publicKey, mint)]);
      mintTo(this.ledger, this.env.mintAuthority, mint, ata, MINTED);
      // A spare account of each mint, where the actor parks its tokens to close its main one.
      createTokenAccount(this.ledger, this.env.mintAuthority, mint, keypair.publicKey, 0n);
    }
    this.actors.push(actor);
    return actor;
  }

  private async addProvider(owner: Actor, market: number, temperament: Temperament): Promise<void> {
    const { provider, vault } = await owner.client.registerProvider({ market: this.markets[market].address, spec: GPU_BOX, endpoint: "https://node.example/api" });
    await owner.client.stake({ provider, amount: PROVIDER_STAKE, ownerToken: this.ata(owner.publicKey, this.markets[market].stakeMint) });
    this.providers.push({ owner, market, address: provider, vault, temperament });
  }

  ata(owner: PublicKey, mint: PublicKey): PublicKey {
    return getAssociatedTokenAddressSync(mint, owner, true);
  }

  /** The spare (non-associated) token account `owner` holds of `mint`. */
  spare(view: View, owner: PublicKey, mint: PublicKey): PublicKey | undefined {
    const ata = this.ata(owner, mint).toBase58();
    for (const [address, t] of view.tokens) if (address !== ata && t.owner.equals(owner) && t.mint.equals(mint)) return new PublicKey(address);
    return undefined;
  }

  /** Sends set-up instructions signed by `payer`; throws if they fail (set-up never should). */
  sendSetup(payer: Keypair, instructions: TransactionInstruction[], signers: Keypair[] = []): void {
    const outcome = this.send(payer, instructions, signers);
    if (!outcome.ok) throw new Error(`set-up failed: ${outcome.error}`);
  }

  /** Sends one transaction; a failure is returned as the program's error name, or a description. */
  send(payer: Keypair, instructions: TransactionInstruction[], signers: Keypair[] = []): Outcome {
    const tx = new Transaction().add(...instructions);
    tx.feePayer = payer.publicKey;
    tx.recentBlockhash = this.ledger.latestBlockhash();
    signFast(tx, [payer, ...signers.filter((s) => !s.publicKey.equals(payer.publicKey))]);
    const result = this.ledger.process(tx);
    if (result.error === null && result.landed) return { ok: true };
    const named = errorFromLogs(result.logs);
    if (named) return { ok: false, error: named.errorName };
    // A refusal by the runtime, not the program (UnbalancedInstruction, insufficient funds for rent…).
    const runtime = /InstructionError\(\d+, ([^)]+)\)/.exec(JSON.stringify(result.error));
    return { ok: false, error: runtime ? `runtime: ${runtime[1]}` : `other: ${JSON.stringify(result.error).slice(0, 200)}` };
  }

  /** The Job at `address` (in the current layout), or null. */
  decodeJob(address: PublicKey): JobAccount | null {
    const account = this.ledger.getAccount(address);
    if (!account || !account.owner.equals(this.programId)) return null;
    try {
      return toNative(this.client.program.coder.accounts.decode("job", currentJobLayout(Buffer.from(account.data)))) as JobAccount;
    } catch {
      return null;
    }
  }

  /**
   * The decoded chain. The world keeps a decoded copy of every program and token account and
   * updates it from the ledger's notifications of the accounts each transaction changed, so a
   * view costs a copy, not a scan of the chain (`scan` is the full read it must always equal).
   */
  view(): View {
    return viewOf(this.ledger.slot, this.accounts());
  }

  /** The decoded accounts, kept from the ledger's notifications once first read. */
  private accounts(): Map<string, Decoded | null> {
    if (!this.cache) {
      this.cache = new Map();
      for (const { pubkey, account } of [...this.ledger.getProgramAccounts(this.programId), ...this.ledger.getProgramAccounts(TOKEN_PROGRAM_ID)]) this.cache.set(pubkey.toBase58(), this.decode(account));
      const apply = ({ pubkey, account }: ChangedAccount) => this.cache!.set(pubkey.toBase58(), account ? this.decode(account) : null);
      this.ledger.observe({ onTransaction: (_, changed) => changed.forEach(apply), onAccountWritten: apply });
    }
    return this.cache;
  }

  /** One account as the view has it now (after the last transaction), without building a view. */
  current<T>(address: PublicKey): T | null {
    const entry = this.accounts().get(address.toBase58());
    return entry && entry.kind === "program" ? (entry.decoded as T) : null;
  }

  /** A token account's balance now, or null when there is none. */
  balance(address: PublicKey): bigint | null {
    const entry = this.accounts().get(address.toBase58());
    return entry && entry.kind === "token" ? entry.state.amount : null;
  }

  /** Decodes every program and token account from a full scan of the ledger. */
  scan(): View {
    const all = new Map<string, Decoded | null>();
    for (const { pubkey, account } of [...this.ledger.getProgramAccounts(this.programId), ...this.ledger.getProgramAccounts(TOKEN_PROGRAM_ID)]) all.set(pubkey.toBase58(), this.decode(account));
    return viewOf(this.ledger.slot, all);
  }

  private decode(account: AccountInfo<Buffer>): Decoded | null {
    const data = Buffer.from(account.data);
    if (account.owner.equals(TOKEN_PROGRAM_ID)) {
      if (data.length === 165) return { kind: "token", state: { mint: new PublicKey(data.subarray(0, 32)), owner: new PublicKey(data.subarray(32, 64)), amount: data.readBigUInt64LE(64) } };
      if (data.length === 82) return { kind: "supply", amount: data.readBigUInt64LE(36) };
      return null;
    }
    if (!account.owner.equals(this.programId)) return null;
    const name = BY_DISCRIMINATOR.get(data.subarray(0, 8).toString("hex"));
    if (!name) return { kind: "undecodable" };
    try {
      const decoded = toNative(this.client.program.coder.accounts.decode(name[0].toLowerCase() + name.slice(1), name === "Job" ? currentJobLayout(data) : data));
      return { kind: "program", name, decoded };
    } catch {
      return { kind: "undecodable" };
    }
  }
}

/** The PKCS#8 prefix of an Ed25519 private key; the 32-byte seed follows it. */
const ED25519_PKCS8_PREFIX = Buffer.from("302e020100300506032b657004220420", "hex");
const privateKeys = new WeakMap<Keypair, KeyObject>();

/** `keypair`'s Ed25519 signature of `message`, by Node's native signer (an acknowledgement). */
export function signBytes(keypair: Keypair, message: Uint8Array): Uint8Array {
  return new Uint8Array(sign(null, message, privateKeyOf(keypair)));
}

function privateKeyOf(signer: Keypair): KeyObject {
  let key = privateKeys.get(signer);
  if (!key) {
    key = createPrivateKey({ key: Buffer.concat([ED25519_PKCS8_PREFIX, Buffer.from(signer.secretKey.subarray(0, 32))]), format: "der", type: "pkcs8" });
    privateKeys.set(signer, key);
  }
  return key;
}

/** Signs with Node's native Ed25519 (the same signatures as `Transaction.sign`, far faster):
 * signing was a fifth of a fuzz case's time. */
function signFast(tx: Transaction, signers: Keypair[]): void {
  tx.setSigners(...signers.map((s) => s.publicKey));
  const message = tx.serializeMessage();
  for (const signer of signers) tx.addSignature(signer.publicKey, sign(null, message, privateKeyOf(signer)));
}

/** One account as the view holds it. */
type Decoded =
  | { kind: "program"; name: string; decoded: unknown }
  | { kind: "token"; state: TokenState }
  | { kind: "supply"; amount: bigint }
  | { kind: "undecodable" };

/** The view of decoded accounts, every map in address order: the ledger's own order varies
 * between runs, and a case must replay exactly from its seed. */
function viewOf(slot: bigint, accounts: Map<string, Decoded | null>): View {
  const view: View = {
    slot,
    config: undefined as unknown as ConfigAccount,
    markets: new Map(),
    providers: new Map(),
    jobs: new Map(),
    bids: new Map(),
    disputes: new Map(),
    buffers: new Map(),
    services: new Map(),
    tokens: new Map(),
    supply: new Map(),
    undecodable: 0,
  };
  for (const key of [...accounts.keys()].sort()) {
    const entry = accounts.get(key);
    if (!entry) continue;
    if (entry.kind === "token") view.tokens.set(key, entry.state);
    else if (entry.kind === "supply") view.supply.set(key, entry.amount);
    else if (entry.kind === "undecodable") view.undecodable++;
    else if (entry.name === "Config") view.config = entry.decoded as ConfigAccount;
    else if (entry.name === "Market") view.markets.set(key, entry.decoded as MarketAccount);
    else if (entry.name === "Provider") view.providers.set(key, entry.decoded as ProviderAccount);
    else if (entry.name === "Job") view.jobs.set(key, entry.decoded as JobAccount);
    else if (entry.name === "Bid") view.bids.set(key, entry.decoded as BidAccount);
    else if (entry.name === "Dispute") view.disputes.set(key, entry.decoded as DisputeAccount);
    else if (entry.name === "Service") view.services.set(key, entry.decoded as ServiceAccount);
    else if (entry.name === "WitnessBuffer") {
      const b = entry.decoded as { dispute: PublicKey; writer: PublicKey };
      view.buffers.set(key, { dispute: b.dispute, writer: b.writer });
    }
  }
  return view;
}

/** Lookups into a view, as the rules module takes them. */
export function keyed<T>(map: Map<string, T>, address: PublicKey): { address: PublicKey; account: T | null } {
  return { address, account: map.get(address.toBase58()) ?? null };
}

export function token(view: View, address: PublicKey): TokenState | null {
  return view.tokens.get(address.toBase58()) ?? null;
}
