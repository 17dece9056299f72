// Memoizations of two pure web3.js functions that dominated a fuzz case's profile once the view
// became incremental: `PublicKey#toBase58` (message compilation sorts keys by it; each call
// re-encodes) and `PublicKey.findProgramAddressSync` (actions derive the same PDAs every step;
// each derivation checks points on the curve). Both results depend only on their inputs, and a
// PublicKey's bytes never change, so the cached answers are the answers. Imported for its effect
// by the fuzz runner only.
import { PublicKey } from "@solana/web3.js";

const base58 = new WeakMap<PublicKey, string>();
const originalToBase58 = PublicKey.prototype.toBase58;
PublicKey.prototype.toBase58 = function (this: PublicKey): string {
  let text = base58.get(this);
  if (text === undefined) {
    text = originalToBase58.call(this);
    base58.set(this, text);
  }
  return text;
};

const addresses = new Map<string, [PublicKey, number]>();
const originalFind = PublicKey.findProgramAddressSync.bind(PublicKey);
PublicKey.findProgramAddressSync = (seeds: Array<Buffer | Uint8Array>, programId: PublicKey): [PublicKey, number] => {
  const key = `${programId.toBase58()}:${seeds.map((seed) => Buffer.from(seed).toString("hex")).join(":")}`;
  let found = addresses.get(key);
  if (!found) {
    found = originalFind(seeds, programId);
    addresses.set(key, found);
  }
  return found;
};
