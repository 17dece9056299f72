// The IDL: generated from the program's source, committed in the SDK, and Anchor-compatible.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";

const ROOT = path.resolve(__dirname, "../../..");
const read = (file: string) => readFileSync(path.join(ROOT, file), "utf8");

interface Named {
  name: string;
  discriminator: number[];
}

function anchorDiscriminator(preimage: string): number[] {
  return Array.from(createHash("sha256").update(preimage).digest().subarray(0, 8));
}

describe("IDL", () => {
  const generated = JSON.parse(read("target/idl/compute_market.json"));

  it("committed in the SDK is the one generated from the program's source (run `npm run idl:sync`)", () => {
    assert.deepEqual(JSON.parse(read("app/sdk/src/generated/compute_market.json")), generated);
    assert.equal(read("app/sdk/src/generated/compute_market.ts"), read("target/types/compute_market.ts"));
  });

  it("uses Anchor's discriminators: sha256 of global:, account: and event: names", () => {
    for (const ix of generated.instructions as Named[]) assert.deepEqual(ix.discriminator, anchorDiscriminator(`global:${ix.name}`), ix.name);
    for (const acc of generated.accounts as Named[]) assert.deepEqual(acc.discriminator, anchorDiscriminator(`account:${acc.name}`), acc.name);
    for (const ev of generated.events as Named[]) assert.deepEqual(ev.discriminator, anchorDiscriminator(`event:${ev.name}`), ev.name);
  });

  it("numbers errors from 6000 with unique codes and names", () => {
    const errors = generated.errors as { code: number; name: string }[];
    assert.ok(errors.length > 0);
    assert.ok(errors.every((e) => e.code >= 6000));
    assert.equal(new Set(errors.map((e) => e.code)).size, errors.length);
    assert.equal(new Set(errors.map((e) => e.name)).size, errors.length);
  });

  it("declares every instruction the issue's core needs", () => {
    const names = (generated.instructions as Named[]).map((i) => i.name);
    for (const name of [
      "initialize_config",
      "create_market",
      "register_provider",
      "stake",
      "request_unstake",
      "withdraw_unstaked",
      "post_job",
      "cancel_job",
    ]) {
      assert.ok(names.includes(name), name);
    }
  });
});
