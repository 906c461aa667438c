import { flatten, isObject, type Schema, typesOf } from "../../core/schema-walk.js";

export type RepairKind =
  | "invalid_utf8_replaced"
  | "arguments_parsed"
  | "string_to_number"
  | "string_to_boolean"
  | "whitespace_trimmed"
  | "unknown_property_dropped"
  | "default_filled";

/**
 * Repairs what can be repaired without guessing: numbers and booleans written as strings where the
 * schema says so, surrounding whitespace, properties the schema forbids, required properties that
 * have a default. Returns a new value; the input is never changed.
 */
export function repairValue(value: unknown, schema: unknown, root: Schema, repairs: RepairKind[]): unknown {
  const s = flatten(schema, root);
  const types = typesOf(s);
  if (typeof value === "string") {
    const trimmed = value.trim();
    if (
      (types.includes("integer") || types.includes("number")) &&
      !types.includes("string") &&
      /^-?\d+(\.\d+)?([eE][-+]?\d+)?$/.test(trimmed)
    ) {
      const n = Number(trimmed);
      if (!types.includes("integer") || types.includes("number") || Number.isInteger(n)) {
        repairs.push("string_to_number");
        return n;
      }
    }
    if (types.includes("boolean") && !types.includes("string") && (trimmed === "true" || trimmed === "false")) {
      repairs.push("string_to_boolean");
      return trimmed === "true";
    }
    if (trimmed !== value && (types.length === 0 || types.includes("string"))) {
      repairs.push("whitespace_trimmed");
      return trimmed;
    }
    return value;
  }
  if (Array.isArray(value)) {
    const items = s.items ?? s.additionalItems;
    if (!isObject(items)) return value;
    return value.map((v) => repairValue(v, items, root, repairs));
  }
  if (!isObject(value)) return value;
  const props = isObject(s.properties) ? s.properties : {};
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    if (key in props) out[key] = repairValue(v, props[key], root, repairs);
    else if (s.additionalProperties === false && !s.patternProperties) repairs.push("unknown_property_dropped");
    else out[key] = isObject(s.additionalProperties) ? repairValue(v, s.additionalProperties, root, repairs) : v;
  }
  for (const key of Array.isArray(s.required) ? (s.required as string[]) : []) {
    const def = isObject(props[key]) ? flatten(props[key], root).default : undefined;
    if (!(key in out) && def !== undefined) {
      out[key] = structuredClone(def);
      repairs.push("default_filled");
    }
  }
  return out;
}
