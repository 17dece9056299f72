// Reading accounts written by the baseline build (before the security fixes): the new fields were
// carved out of `reserved`, so every account keeps its size except the Job, whose
// `progress.open_disputes` grew from u8 to u16. A baseline Job is one byte short; widening that
// field (inserting its zero high byte) gives the current layout, with incarnation 0 everywhere.
import idl from "../../app/sdk/src/generated/compute_market.json";

type IdlType = string | { array: [IdlType, number] } | { defined: { name: string } } | { option: IdlType };
interface IdlField {
  name: string;
  type: IdlType;
}
interface IdlTypeDef {
  name: string;
  type: { kind: "struct"; fields: IdlField[] } | { kind: "enum"; variants: unknown[] };
}

const TYPES = new Map((idl.types as unknown as IdlTypeDef[]).map((t) => [t.name, t]));
const PRIMITIVE: Record<string, number> = { u8: 1, i8: 1, bool: 1, u16: 2, i16: 2, u32: 4, i32: 4, u64: 8, i64: 8, u128: 16, pubkey: 32 };

/** The encoded size of a fixed-size IDL type. */
function sizeOf(type: IdlType): number {
  if (typeof type === "string") {
    const size = PRIMITIVE[type];
    if (size === undefined) throw new Error(`no fixed size for ${type}`);
    return size;
  }
  if ("array" in type) return sizeOf(type.array[0]) * type.array[1];
  if ("defined" in type) {
    const def = TYPES.get(type.defined.name);
    if (!def) throw new Error(`unknown type ${type.defined.name}`);
    return def.type.kind === "enum" ? 1 : def.type.fields.reduce((sum, f) => sum + sizeOf(f.type), 0);
  }
  throw new Error("variable-size type");
}

/** The byte offset of a nested field within a struct (path of field names). */
function offsetOf(struct: string, path: string[]): number {
  let offset = 0;
  let current = struct;
  for (const name of path) {
    const def = TYPES.get(current);
    if (!def || def.type.kind !== "struct") throw new Error(`${current} is not a struct`);
    const at = def.type.fields.findIndex((f) => f.name === name);
    if (at < 0) throw new Error(`${current} has no field ${name}`);
    offset += def.type.fields.slice(0, at).reduce((sum, f) => sum + sizeOf(f.type), 0);
    const type = def.type.fields[at].type;
    current = typeof type === "object" && "defined" in type ? type.defined.name : "";
  }
  return offset;
}

const DISCRIMINATOR = 8;
const JOB_SIZE = DISCRIMINATOR + sizeOf({ defined: { name: "Job" } });
/** Where the high byte of the widened `open_disputes` goes. */
const OPEN_DISPUTES_HIGH = DISCRIMINATOR + offsetOf("Job", ["progress", "open_disputes"]) + 1;

/** A Job's data in the current layout: as is, or a baseline Job with `open_disputes` widened. */
export function currentJobLayout(data: Buffer): Buffer {
  if (data.length !== JOB_SIZE - 1) return data;
  return Buffer.concat([data.subarray(0, OPEN_DISPUTES_HIGH), Buffer.alloc(1), data.subarray(OPEN_DISPUTES_HIGH)]);
}

/** Whether the loaded program is another build than the one the SDK was generated for. */
export const OTHER_BUILD = process.env.COMPUTE_MARKET_SO !== undefined;
