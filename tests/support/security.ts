// Reading the baseline program's accounts, so a security regression test can be seen failing for
// its own reason on the build before the fixes rather than on a layout mismatch.
//
// The fixes widened `Job.progress.open_disputes` from u8 to u16, so a job the earlier program wrote
// is one byte shorter and every field after it is shifted: the regenerated SDK cannot decode it
// (RangeError: offset out of range) and every test would fail in its first fetch. Loaded with
//
//   COMPUTE_MARKET_SO=/work/baseline/compute_market.orig.so \
//     npx ts-mocha -p tsconfig.json --timeout 120000 --exit \
//     --require tests/support/security.ts tests/suites/security/<file>.test.ts
//
// it decodes an account whose length is that of the baseline's layout (and not the current one)
// with the baseline's IDL (`BASELINE_IDL_COMMIT`, read from git), giving fields the baseline lacks
// (`incarnation`, `rewardPerGame`, …) their zero value. Without COMPUTE_MARKET_SO it does nothing,
// and no suite imports it: it is a tool for checking the regression tests, not part of them.
import { execFileSync } from "node:child_process";
import path from "node:path";
import { BorshAccountsCoder, type Idl } from "@coral-xyz/anchor";
import { convertIdlToCamelCase } from "@coral-xyz/anchor/dist/cjs/idl";

/** The last commit whose generated IDL is the baseline program's (before the security fixes). */
export const BASELINE_IDL_COMMIT = process.env.COMPUTE_MARKET_BASELINE_IDL ?? "ee2e75a~1";

function baselineIdl(): Idl {
  const root = path.resolve(__dirname, "../..");
  const text = execFileSync("git", ["show", `${BASELINE_IDL_COMMIT}:app/sdk/src/generated/compute_market.json`], { cwd: root, encoding: "utf8" });
  return convertIdlToCamelCase(JSON.parse(text) as Idl);
}

type Decoder = { decodeUnchecked(name: string, data: Buffer): Record<string, unknown> };

function install(): void {
  const proto = BorshAccountsCoder.prototype as unknown as Decoder & { size(name: string): number };
  const current = proto.decodeUnchecked;
  let old: (BorshAccountsCoder & Decoder) | undefined;
  proto.decodeUnchecked = function (this: BorshAccountsCoder & Decoder, name: string, data: Buffer) {
    old ??= new BorshAccountsCoder(baselineIdl()) as BorshAccountsCoder & Decoder;
    let oldSize: number | undefined;
    try {
      oldSize = old.size(name);
    } catch {
      oldSize = undefined;
    }
    const newSize = this.size(name);
    if (oldSize === undefined || oldSize === newSize || data.length !== oldSize) return current.call(this, name, data);
    // Fields of the current layout the baseline's lacks take their value in an all-zero account.
    const zero = current.call(this, name, Buffer.concat([data.subarray(0, 8), Buffer.alloc(newSize - 8)]));
    return fill(zero, old.decodeUnchecked(name, data));
  };
}

function fill(defaults: Record<string, unknown>, decoded: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...defaults };
  for (const [key, value] of Object.entries(decoded)) {
    const base = defaults[key];
    const nested = (v: unknown) => v !== null && typeof v === "object" && Object.getPrototypeOf(v) === Object.prototype;
    // A struct is merged field by field; an enum (one key, its variant) is taken as decoded.
    const struct = nested(base) && nested(value) && Object.keys(value as object).every((k) => k in (base as object));
    out[key] = struct ? fill(base as Record<string, unknown>, value as Record<string, unknown>) : value;
  }
  return out;
}

if (process.env.COMPUTE_MARKET_SO) install();
