// Configuration in layers: defaults in code < JSON file < environment < CLI flags, validated by
// one zod schema; printed at start with secrets redacted.
import { existsSync, readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { Keypair } from "@solana/web3.js";
import { z } from "zod";

/** Each config field: its environment variable. CLI flags are passed in already parsed. */
export type EnvBindings<T> = { [K in keyof T]?: string };

export function expandHome(file: string): string {
  return file.startsWith("~/") ? path.join(os.homedir(), file.slice(2)) : file;
}

/** A list of `item`s, given as an array (JSON file) or comma-separated (environment, flags). */
export function listOf<T extends z.ZodType<unknown, string>>(item: T) {
  return z
    .union([z.string(), z.array(z.string())])
    .transform((v) => (Array.isArray(v) ? v : v.split(",").map((s) => s.trim()).filter(Boolean)))
    .pipe(z.array(item));
}

/** Merges the layers and validates; an invalid value fails with the field's name. */
export function loadConfig<S extends z.ZodType>(
  schema: S,
  layers: { file?: string; env: EnvBindings<z.input<S>>; flags: Partial<z.input<S>> },
): z.output<S> {
  const fromFile = layers.file ? (JSON.parse(readFileSync(expandHome(layers.file), "utf8")) as Record<string, unknown>) : {};
  const fromEnv: Record<string, unknown> = {};
  for (const [key, variable] of Object.entries(layers.env as Record<string, string | undefined>)) {
    const value = variable ? process.env[variable] : undefined;
    if (value !== undefined && value !== "") fromEnv[key] = value;
  }
  const fromFlags = Object.fromEntries(Object.entries(layers.flags).filter(([, v]) => v !== undefined));
  const result = schema.safeParse({ ...fromFile, ...fromEnv, ...fromFlags });
  if (!result.success) {
    const problems = result.error.issues.map((i) => `${i.path.join(".") || "(config)"}: ${i.message}`).join("; ");
    throw new Error(`invalid configuration: ${problems}`);
  }
  return result.data;
}

const SECRET_KEYS = /keypair|secret|password|token/i;

/** The config with secret-looking fields replaced, for the start-up log line. */
export function redact(config: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(config).map(([k, v]) => [k, SECRET_KEYS.test(k) && typeof v !== "boolean" ? "[redacted]" : v]));
}

/** A keypair from a solana-keygen JSON file (`~/` expanded), with an error that says what to do. */
export function loadKeypair(file: string): Keypair {
  const resolved = expandHome(file);
  if (!existsSync(resolved)) throw new Error(`no keypair file at ${resolved}: create one with \`solana-keygen new -o ${resolved}\` (a provider: \`provider init --keypair ${resolved}\`), or pass --keypair <file>`);
  try {
    return Keypair.fromSecretKey(Uint8Array.from(JSON.parse(readFileSync(resolved, "utf8")) as number[]));
  } catch (error) {
    throw new Error(`${resolved} is not a keypair file (a JSON array of 64 numbers, as solana-keygen writes): ${error instanceof Error ? error.message : String(error)}`);
  }
}
