// Byte offsets of account fields, worked out from the IDL (the one description of the layout):
// the program's accounts are fixed-size records laid out field after field as the IDL lists them,
// after the 8-byte discriminator, so a `memcmp` filter never spells an offset by hand.
import idl from "./generated/compute_market.json";

type IdlType = string | { defined: { name: string } } | { array: [IdlType, number] } | { option: IdlType } | { vec: IdlType };
interface IdlTypeDef {
  name: string;
  type: { kind: "struct"; fields?: { name: string; type: IdlType }[] } | { kind: "enum"; variants: { name: string; fields?: unknown[] }[] };
}

const DISCRIMINATOR_BYTES = 8;
const PRIMITIVE_BYTES: Record<string, number> = { bool: 1, u8: 1, i8: 1, u16: 2, i16: 2, u32: 4, i32: 4, u64: 8, i64: 8, u128: 16, i128: 16, pubkey: 32 };
const TYPES = new Map<string, IdlTypeDef>((idl.types as IdlTypeDef[]).map((type) => [type.name, type]));

/** The size of a value of `type`; an error for a type whose size varies (vectors, options). */
function sizeOf(type: IdlType): number {
  if (typeof type === "string") {
    const size = PRIMITIVE_BYTES[type];
    if (size === undefined) throw new Error(`the IDL type ${type} has no fixed size`);
    return size;
  }
  if ("array" in type) return sizeOf(type.array[0]) * type.array[1];
  if ("defined" in type) {
    const definition = TYPES.get(type.defined.name);
    if (!definition) throw new Error(`the IDL defines no type ${type.defined.name}`);
    if (definition.type.kind === "enum") {
      // One tag byte: the program's enums carry no data.
      if (definition.type.variants.some((variant) => variant.fields?.length)) throw new Error(`the enum ${definition.name} carries data: no fixed size`);
      return 1;
    }
    return (definition.type.fields ?? []).reduce((total, field) => total + sizeOf(field.type), 0);
  }
  throw new Error(`the IDL type ${JSON.stringify(type)} has no fixed size`);
}

/** Where `field` of the account `account` (its IDL name, e.g. "Provider") starts, discriminator included. */
export function accountFieldOffset(account: string, field: string): number {
  const definition = TYPES.get(account);
  if (!definition || definition.type.kind !== "struct") throw new Error(`the IDL has no account ${account}`);
  let offset = DISCRIMINATOR_BYTES;
  for (const candidate of definition.type.fields ?? []) {
    if (candidate.name === field) return offset;
    offset += sizeOf(candidate.type);
  }
  throw new Error(`the account ${account} has no field ${field}`);
}
