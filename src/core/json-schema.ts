import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import { Ajv2019 } from "ajv/dist/2019.js";
import { Ajv2020 } from "ajv/dist/2020.js";
import addFormats from "ajv-formats";

import { canonicalJson } from "./canonical.js";
import { badInput } from "./errors.js";

export type { ValidateFunction } from "ajv";

const DRAFT_2020_12 = "https://json-schema.org/draft/2020-12/schema";
const DRAFT_2019_09 = "https://json-schema.org/draft/2019-09/schema";
const DRAFT_07 = "http://json-schema.org/draft-07/schema";

type Draft = "2020-12" | "2019-09" | "draft-07";

/** One ajv instance per draft, made on first use. */
const instances = new Map<Draft, Ajv>();
const compiled = new Map<string, ValidateFunction>();
const byObject = new WeakMap<object, ValidateFunction>();

function ajvFor(draft: Draft): Ajv {
  let ajv = instances.get(draft);
  if (!ajv) {
    // strict: false lets real-world schemas with unknown keywords or formats compile;
    // addUsedSchema: false keeps two tools that reuse an `$id` from clashing.
    const options = { strict: false, allErrors: true, logger: false, addUsedSchema: false } as const;
    ajv = draft === "2020-12" ? new Ajv2020(options) : draft === "2019-09" ? new Ajv2019(options) : new Ajv(options);
    addFormats.default(ajv);
    instances.set(draft, ajv);
  }
  return ajv;
}

/** The draft a schema declares with `$schema`; 2020-12 when it declares none. */
function draftOf(schema: Record<string, unknown>): Draft | { unsupported: unknown } {
  const declared = schema.$schema;
  if (declared === undefined) return "2020-12";
  if (typeof declared === "string") {
    const uri = declared.replace(/#$/, "").replace(/^https?:/, "");
    if (uri === DRAFT_2020_12.replace(/^https?:/, "")) return "2020-12";
    if (uri === DRAFT_2019_09.replace(/^https?:/, "")) return "2019-09";
    if (uri === DRAFT_07.replace(/^https?:/, "")) return "draft-07";
  }
  return { unsupported: declared };
}

/** What is wrong with a schema, at a JSON pointer into the file that holds it. */
export interface SchemaProblem {
  pointer: string;
  message: string;
}

/**
 * Checks that `schema` is a valid JSON Schema (draft 2020-12, or 2019-09 / draft-07 when its
 * `$schema` says so). Returns undefined when it is, else one message that starts with the JSON pointer of
 * the offending keyword: `pointer` (where the schema sits in its file) plus the path inside it.
 */
export function checkSchema(schema: unknown, pointer: string): string | undefined {
  const problem = findSchemaProblem(schema, pointer);
  return problem && `${problem.pointer}: ${problem.message}`;
}

/** {@link checkSchema} with the pointer and the message apart. */
export function findSchemaProblem(schema: unknown, pointer: string): SchemaProblem | undefined {
  const at = pointer || "/";
  if (!schema || typeof schema !== "object" || Array.isArray(schema)) {
    return { pointer: at, message: `a JSON Schema must be an object, got ${describe(schema)}` };
  }
  if (nestingDepth(schema) > MAX_SCHEMA_DEPTH) {
    return {
      pointer: at,
      message: `the schema nests deeper than ${MAX_SCHEMA_DEPTH} levels; flatten it (or use $ref)`,
    };
  }
  const draft = draftOf(schema as Record<string, unknown>);
  if (typeof draft !== "string") {
    return {
      pointer: `${pointer}/$schema`,
      message: `${describe(draft.unsupported)} is not supported; use "${DRAFT_2020_12}", "${DRAFT_2019_09}" or "${DRAFT_07}#"`,
    };
  }
  const ajv = ajvFor(draft);
  let valid: boolean;
  try {
    valid = ajv.validateSchema(schema) as boolean;
  } catch (error) {
    // ajv compares enum items with fast-deep-equal, which calls a "valueOf" or "toString" key as a method.
    return {
      pointer: at,
      message: `the schema cannot be checked (${(error as Error).message}); rename any "valueOf" or "toString" key in its values`,
    };
  }
  if (!valid) return metaProblem(ajv.errors ?? [], schema, pointer);
  try {
    compileCached(schema as Record<string, unknown>, draft);
  } catch (error) {
    if (error instanceof RangeError) {
      // ajv recurses without end on a $ref that leads only to $refs (a: {$ref: a}).
      return {
        pointer: `${pointer}${findRefCycle(schema) ?? ""}` || "/",
        message: "this $ref leads back to itself through $refs alone; a $ref must reach a schema",
      };
    }
    return { pointer: at, message: (error as Error).message };
  }
  return undefined;
}

/**
 * Compiles a tool's JSON Schema into a validator, cached by the schema's canonical JSON so the
 * same schema compiles once per process (a schema object is taken as unchanging once compiled).
 * Throws a ForgeError (exit 2) naming `where` when the schema is invalid.
 */
export function compileToolSchema(schema: object, where: string): ValidateFunction {
  const known = byObject.get(schema) ?? compiled.get(canonicalJson(schema));
  if (known) {
    byObject.set(schema, known);
    return known;
  }
  const problem = findSchemaProblem(schema, "");
  if (problem) throw badInput(`${where}: invalid JSON Schema at ${problem.pointer}: ${problem.message}`);
  const validate = compiled.get(canonicalJson(schema)) as ValidateFunction;
  byObject.set(schema, validate);
  return validate;
}

const SELF_ID = "mcp-forge:tool-schema";

function compileCached(schema: Record<string, unknown>, draft: Draft): ValidateFunction {
  const key = canonicalJson(schema);
  let validate = compiled.get(key);
  if (!validate) {
    // Without an $id of its own ajv cannot resolve "#" (a tree type's reference to itself).
    validate = guarded(ajvFor(draft).compile(schema.$id === undefined ? { ...schema, $id: SELF_ID } : schema));
    compiled.set(key, validate);
  }
  return validate;
}

/**
 * A validator that answers "invalid" instead of throwing. ajv compares `enum` items and
 * `uniqueItems` with fast-deep-equal, which calls a "valueOf" or "toString" key of the value as a
 * method, so a model's or a data file's arguments like `[{"valueOf": 1}, {"valueOf": 1}]` would
 * otherwise crash the stage that checks them.
 */
function guarded(validate: ValidateFunction): ValidateFunction {
  const safe = ((data: unknown) => {
    try {
      const valid = validate(data);
      safe.errors = validate.errors;
      return valid;
    } catch (error) {
      safe.errors = [
        {
          instancePath: "",
          schemaPath: "#",
          keyword: "valueOf",
          params: {},
          message: `cannot be compared (${(error as Error).message}): a "valueOf" or "toString" key is not allowed here`,
        },
      ];
      return false;
    }
  }) as ValidateFunction;
  return Object.assign(safe, { schema: validate.schema, schemaEnv: validate.schemaEnv });
}

/** The most specific meta-schema error: `"value" must …` at its pointer. */
function metaProblem(errors: ErrorObject[], schema: object, pointer: string): SchemaProblem {
  const deepest = errors.reduce((a, b) => (b.instancePath.length > a.instancePath.length ? b : a), errors[0]!);
  const atPath = errors.filter(
    (e) => e.instancePath === deepest.instancePath && e.keyword !== "anyOf" && e.keyword !== "oneOf",
  );
  const first = atPath[0] ?? deepest;
  const value = valueAt(schema, first.instancePath);
  const allowed = (first.params as { allowedValues?: unknown[] }).allowedValues;
  const what = allowed
    ? `must be one of ${allowed.map((v) => JSON.stringify(v)).join(", ")}`
    : (first.message ?? "is invalid");
  return { pointer: `${pointer}${first.instancePath}` || "/", message: `${describe(value)} ${what}` };
}

function valueAt(root: unknown, pointer: string): unknown {
  let node: unknown = root;
  for (const raw of pointer.split("/").slice(1)) {
    const key = raw.replace(/~1/g, "/").replace(/~0/g, "~");
    node = node && typeof node === "object" ? (node as Record<string, unknown>)[key] : undefined;
  }
  return node;
}

function describe(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}…` : text;
}

/** Deepest nesting of objects and arrays a schema may have: deeper ones are refused, not walked. */
export const MAX_SCHEMA_DEPTH = 64;

/** How deep `value` nests objects and arrays, counted without recursion; stops past `limit`. */
export function nestingDepth(value: unknown, limit = MAX_SCHEMA_DEPTH): number {
  let deepest = 0;
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    if (!node || typeof node !== "object") continue;
    deepest = Math.max(deepest, depth);
    if (deepest > limit) return deepest;
    for (const child of Object.values(node)) stack.push([child, depth + 1]);
  }
  return deepest;
}

/**
 * Where a schema's local `$ref`s lead back to a schema that contains them (a tree type: valid, but
 * endless to expand): the JSON pointer of the `$ref` that closes the loop, or undefined.
 */
export function findRefCycle(schema: unknown): string | undefined {
  const done = new Set<unknown>();
  const open = new Set<unknown>();
  const visit = (node: unknown, pointer: string): string | undefined => {
    if (!node || typeof node !== "object" || done.has(node)) return undefined;
    if (open.has(node)) return pointer;
    open.add(node);
    const ref = (node as Record<string, unknown>).$ref;
    const target = typeof ref === "string" && ref.startsWith("#") ? resolveLocalRef(schema, ref) : undefined;
    const found =
      (target !== undefined ? visit(target, `${pointer}/$ref`) : undefined) ??
      Object.entries(node).reduce<string | undefined>(
        (hit, [key, child]) => hit ?? visit(child, `${pointer}/${key.replace(/~/g, "~0").replace(/\//g, "~1")}`),
        undefined,
      );
    open.delete(node);
    done.add(node);
    return found;
  };
  return visit(schema, "");
}

function resolveLocalRef(root: unknown, ref: string): unknown {
  let node = root;
  for (const part of ref.slice(1).split("/").filter(Boolean)) {
    const key = decodeURIComponent(part).replace(/~1/g, "/").replace(/~0/g, "~");
    node = node && typeof node === "object" ? (node as Record<string, unknown>)[key] : undefined;
  }
  return node;
}
