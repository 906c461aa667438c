/** Helpers to read a JSON Schema as a generator or a fixer needs it: local $refs followed, allOf merged. */

export type Schema = Record<string, unknown>;

const isObject = (v: unknown): v is Schema => typeof v === "object" && v !== null && !Array.isArray(v);

/** Follows a local `$ref` ("#", "#/$defs/x", "#/definitions/x", any JSON pointer into the root). */
export function resolveRef(schema: Schema, root: Schema, seen = 0): Schema {
  const ref = schema.$ref;
  if (typeof ref !== "string" || seen > 32) return schema;
  if (!ref.startsWith("#")) return withoutRef(schema);
  let node: unknown = root;
  for (const raw of ref.slice(1).split("/").slice(1)) {
    const key = decodeURIComponent(raw).replace(/~1/g, "/").replace(/~0/g, "~");
    node = isObject(node) ? node[key] : undefined;
  }
  if (!isObject(node)) return withoutRef(schema);
  // Keywords beside $ref apply too (2020-12), so merge them over the target.
  const rest = withoutRef(schema);
  const target = resolveRef(node, root, seen + 1);
  return Object.keys(rest).length === 0 ? target : mergeSchemas(target, rest);
}

function withoutRef(schema: Schema): Schema {
  const rest = { ...schema };
  delete rest.$ref;
  return rest;
}

/** A schema with its $ref followed and its allOf folded in, so one object holds every constraint. */
export function flatten(schema: unknown, root: Schema): Schema {
  if (schema === true || schema === undefined) return {};
  if (schema === false) return { not: {} };
  if (!isObject(schema)) return {};
  let s = resolveRef(schema, root);
  if (Array.isArray(s.allOf)) {
    const { allOf, ...rest } = s;
    s = (allOf as unknown[]).reduce<Schema>((acc, part) => mergeSchemas(acc, flatten(part, root)), rest);
  }
  return s;
}

/** The stricter of two schemas' constraints, for allOf. */
export function mergeSchemas(a: Schema, b: Schema): Schema {
  const out: Schema = { ...a };
  for (const [key, value] of Object.entries(b)) {
    const prev = out[key];
    if (prev === undefined) {
      out[key] = value;
      continue;
    }
    switch (key) {
      case "properties":
        out.properties = mergeProperties(prev as Schema, value as Schema);
        break;
      case "required":
        out.required = [...new Set([...(prev as string[]), ...(value as string[])])];
        break;
      case "minimum":
      case "exclusiveMinimum":
      case "minLength":
      case "minItems":
      case "minProperties":
        out[key] = typeof prev === "number" && typeof value === "number" ? Math.max(prev, value) : value;
        break;
      case "maximum":
      case "exclusiveMaximum":
      case "maxLength":
      case "maxItems":
      case "maxProperties":
        out[key] = typeof prev === "number" && typeof value === "number" ? Math.min(prev, value) : value;
        break;
      case "type":
        out.type = intersectTypes(prev, value);
        break;
      case "enum":
        out.enum = (prev as unknown[]).filter((v) =>
          (value as unknown[]).some((w) => JSON.stringify(w) === JSON.stringify(v)),
        );
        break;
      case "additionalProperties":
        out.additionalProperties = prev === false || value === false ? false : value;
        break;
      case "allOf":
        out.allOf = [...(prev as unknown[]), ...(value as unknown[])];
        break;
      default:
        out[key] = value;
    }
  }
  return out;
}

function mergeProperties(a: Schema, b: Schema): Schema {
  const out: Schema = { ...a };
  for (const [name, schema] of Object.entries(b)) {
    const prev = out[name];
    out[name] = isObject(prev) && isObject(schema) ? mergeSchemas(prev, schema) : schema;
  }
  return out;
}

function intersectTypes(a: unknown, b: unknown): unknown {
  const list = (t: unknown) => (Array.isArray(t) ? (t as string[]) : [t as string]);
  const left = list(a);
  const right = list(b);
  const both = left.filter((t) => right.includes(t) || (t === "integer" && right.includes("number")));
  for (const t of right)
    if (t === "integer" && left.includes("number") && !both.includes("integer")) both.push("integer");
  return both.length === 1 ? both[0] : both;
}

/** The types a schema allows, inferred from its keywords when `type` is absent. */
export function typesOf(s: Schema): string[] {
  if (typeof s.type === "string") return [s.type];
  if (Array.isArray(s.type)) return s.type as string[];
  if (s.properties || s.additionalProperties !== undefined || s.required) return ["object"];
  if (s.items || s.prefixItems || s.minItems !== undefined) return ["array"];
  if (s.minLength !== undefined || s.maxLength !== undefined || s.pattern || s.format) return ["string"];
  if (s.minimum !== undefined || s.maximum !== undefined || s.multipleOf !== undefined) return ["number"];
  return [];
}

export { isObject };
