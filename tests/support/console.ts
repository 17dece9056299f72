// The web console in the browser suites: Debian's Chromium (installed by scripts/setup) through
// playwright-core, the page's URL for a cluster and a development wallet, and where screenshots go.
import assert from "node:assert/strict";
import { existsSync, mkdirSync } from "node:fs";
import path from "node:path";
import type { Keypair } from "@solana/web3.js";
import bs58 from "bs58";
import { chromium, type Browser, type Page } from "playwright-core";

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

/** A new page on the console at `base` for `rpcUrl`, its development wallet of `wallet` connected. */
export async function openConnected(browser: Browser, base: string, rpcUrl: string, wallet: Keypair, viewport: { width: number; height: number } = { width: 1280, height: 1000 }): Promise<Page> {
  const page = await browser.newPage({ viewport });
  await page.goto(consoleUrl(base, rpcUrl, wallet));
  await page.getByTestId("connect-Development wallet").click();
  await page.getByTestId("wallet-address").waitFor();
  return page;
}
