// The web console in the browser suites: Debian's Chromium (installed by scripts/setup) through
// playwright-core, the page's URL for a cluster and a development wallet, and where screenshots go.
import assert from "node:assert/strict";
import { existsSync, mkdirSync } from "node:fs";
import path from "node:path";
import type { Keypair } from "@solana/web3.js";
import bs58 from "bs58";
import { chromium, type Browser } from "playwright-core";

export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
/** Written by each run for a person to look at; not committed. */
export const SCREENSHOTS = path.resolve(__dirname, "../../target/screenshots");

export async function launchChromium(): Promise<Browser> {
  assert.ok(existsSync(CHROMIUM), `no Chromium at ${CHROMIUM}: scripts/setup installs Debian's chromium`);
  mkdirSync(SCREENSHOTS, { recursive: true });
  return chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
}

/** The console at `base` talking to `rpcUrl`, with the development wallet of `wallet` when given. */
export function consoleUrl(base: string, rpcUrl: string, wallet?: Keypair): string {
  return `${base}/?rpc=${encodeURIComponent(rpcUrl)}${wallet ? `#dev-wallet=${bs58.encode(wallet.secretKey)}` : ""}`;
}
