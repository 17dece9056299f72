// A local cluster's state kept in a directory across restarts (`localnet --ledger <dir>`): every
// account a transaction, an airdrop or a direct write changed, the slot, and the sandbox (its
// faucet's key and its summary), in one JSON file written whole (a temporary file renamed over
// it) shortly after each change, every few seconds while slots pass, and at close.
// Not kept: the transaction history (signatures, blocks, logs: a restarted cluster's history
// starts empty) and blockhashes (a transaction signed before the restart is refused as expired).
// Programs loaded from files are loaded again from their files.
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import path from "node:path";
import { Keypair, PublicKey } from "@solana/web3.js";
import type { Ledger } from "./ledger";
import type { SandboxSummary } from "./sandbox";

export const LEDGER_FILE = "ledger.json";
const FORMAT = "compute-market-localnet/1";
/** How soon after a change the state is written, and how often while only the clock moves. */
const AFTER_CHANGE_MS = 300;
const WHILE_SLOTS_PASS_MS = 5_000;

interface SavedAccount {
  pubkey: string;
  lamports: string;
  owner: string;
  executable: boolean;
  /** base64 */
  data: string;
}

/** The sandbox of a saved cluster: the faucet's mint authority and what `--bootstrap` printed. */
export interface SavedSandbox {
  authority: Keypair;
  summary: SandboxSummary;
}

export interface SavedLedger {
  slot: bigint;
  accounts: SavedAccount[];
  sandbox: SavedSandbox | null;
}

interface LedgerFile {
  format: string;
  savedAt: string;
  slot: string;
  accounts: SavedAccount[];
  sandbox: { authority: number[]; summary: SandboxSummary } | null;
}

/** The state saved in `dir`, or null when nothing was saved there yet. */
export function readSavedLedger(dir: string): SavedLedger | null {
  const file = path.join(dir, LEDGER_FILE);
  if (!existsSync(file)) return null;
  let parsed: LedgerFile;
  try {
    parsed = JSON.parse(readFileSync(file, "utf8")) as LedgerFile;
  } catch (error) {
    throw new Error(`${file} is not a saved cluster state (${error instanceof Error ? error.message : String(error)}): move it away to start an empty cluster`);
  }
  if (parsed?.format !== FORMAT) throw new Error(`${file} is not a saved cluster state of this version (format ${JSON.stringify(parsed?.format)}, expected ${FORMAT})`);
  return {
    slot: BigInt(parsed.slot),
    accounts: parsed.accounts,
    sandbox: parsed.sandbox ? { authority: Keypair.fromSecretKey(Uint8Array.from(parsed.sandbox.authority)), summary: parsed.sandbox.summary } : null,
  };
}

/** Writes the saved accounts into a new ledger and moves its clock to the saved slot. */
export function restoreLedger(ledger: Ledger, saved: SavedLedger): void {
  // Data accounts before executable ones: an upgradeable program's account names its data account.
  const ordered = [...saved.accounts].sort((a, b) => Number(a.executable) - Number(b.executable));
  for (const account of ordered) {
    ledger.setAccount(new PublicKey(account.pubkey), {
      lamports: Number(account.lamports),
      owner: new PublicKey(account.owner),
      executable: account.executable,
      data: Buffer.from(account.data, "base64"),
    });
  }
  if (saved.slot > ledger.slot) ledger.warpToSlot(saved.slot);
}

/** Keeps `ledger`'s state in `dir` until `close`. */
export class LedgerStore {
  private timer: NodeJS.Timeout | null = null;
  private due = 0;
  private readonly detach: () => void;

  constructor(
    private readonly dir: string,
    private readonly ledger: Ledger,
    private readonly sandbox: SavedSandbox | null,
  ) {
    mkdirSync(dir, { recursive: true });
    this.detach = ledger.observe({
      onTransaction: () => this.schedule(AFTER_CHANGE_MS),
      onAccountWritten: () => this.schedule(AFTER_CHANGE_MS),
      onSlot: () => this.schedule(WHILE_SLOTS_PASS_MS),
    });
  }

  /** Writes the state now. */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const sandbox = this.sandbox;
    const file: LedgerFile = {
      format: FORMAT,
      savedAt: new Date().toISOString(),
      slot: this.ledger.slot.toString(),
      accounts: this.ledger.writtenAccounts().map(({ pubkey, account }) => ({
        pubkey: pubkey.toBase58(),
        lamports: String(account.lamports),
        owner: account.owner.toBase58(),
        executable: account.executable,
        data: Buffer.from(account.data).toString("base64"),
      })),
      sandbox: sandbox ? { authority: [...sandbox.authority.secretKey], summary: sandbox.summary } : null,
    };
    const target = path.join(this.dir, LEDGER_FILE);
    const temporary = `${target}.${process.pid}.tmp`;
    writeFileSync(temporary, JSON.stringify(file));
    renameSync(temporary, target);
  }

  /** Writes the state one last time and stops following the ledger. */
  close(): void {
    this.detach();
    this.flush();
  }

  /** A write within `ms`, unless one is due sooner already. */
  private schedule(ms: number): void {
    const due = Date.now() + ms;
    if (this.timer && this.due <= due) return;
    if (this.timer) clearTimeout(this.timer);
    this.due = due;
    this.timer = setTimeout(() => this.flush(), ms);
    this.timer.unref();
  }
}
