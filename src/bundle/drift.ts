import { canonicalJson } from "../core/canonical.js";
import type { McpTool } from "../core/toolset.js";

/** One difference between the bundle's tool and the live one, and whether it can break calls. */
export interface DriftReason {
  /** JSON pointer into the tool object, e.g. `/inputSchema/properties/city/type`. */
  path: string;
  breaking: boolean;
  /** Descriptions and titles: what the model reads, not what the server checks. */
  cosmetic: boolean;
  message: string;
}

export interface ChangedTool {
  name: string;
  /** Every JSON pointer (into the tool object) whose value differs. */
  paths: string[];
  breaking: boolean;
  /** True when every change is to descriptions, titles or examples. */
  cosmetic: boolean;
  reasons: DriftReason[];
}

export interface ToolsetDiff {
  added: string[];
  removed: string[];
  changed: ChangedTool[];
  /** A call the bundle's model makes may now fail: a removed tool, or a breaking schema change. */
  breaking: boolean;
}

const COSMETIC_KEYS = new Set(["description", "title", "examples", "$comment"]);
type Json = Record<string, unknown>;

/**
 * What changed between the toolset a bundle was trained on and a live one: tools added, removed,
 * and changed (with the schema paths and whether a call that was valid before can now fail).
 * Added tools never break calls (the model just does not know them); removed tools always do.
 */
export function diffToolsets(bundleTools: readonly McpTool[], liveTools: readonly McpTool[]): ToolsetDiff {
  const before = new Map(bundleTools.map((t) => [t.name, t]));
  const after = new Map(liveTools.map((t) => [t.name, t]));
  const added = [...after.keys()].filter((n) => !before.has(n));
  const removed = [...before.keys()].filter((n) => !after.has(n));
  const changed: ChangedTool[] = [];
  for (const [name, old] of before) {
    const live = after.get(name);
    if (!live || canonicalJson(old) === canonicalJson(live)) continue;
    const reasons = compareTool(old, live);
    changed.push({
      name,
      paths: diffPaths(old, live, ""),
      breaking: reasons.some((r) => r.breaking),
      cosmetic: reasons.every((r) => r.cosmetic),
      reasons,
    });
  }
  return { added, removed, changed, breaking: removed.length > 0 || changed.some((c) => c.breaking) };
}

/** Leaf JSON pointers where two values differ; arrays of different length count as one leaf. */
export function diffPaths(a: unknown, b: unknown, pointer: string): string[] {
  if (isObject(a) && isObject(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    return keys.flatMap((k) => diffPaths(a[k], b[k], `${pointer}/${escapePointer(k)}`));
  }
  if (Array.isArray(a) && Array.isArray(b) && a.length === b.length) {
    return a.flatMap((v, i) => diffPaths(v, b[i], `${pointer}/${i}`));
  }
  return canonicalJson(a ?? null) === canonicalJson(b ?? null) && (a === undefined) === (b === undefined)
    ? []
    : [pointer || "/"];
}

function compareTool(old: McpTool, live: McpTool): DriftReason[] {
  const reasons: DriftReason[] = [];
  const keys = [...new Set([...Object.keys(old), ...Object.keys(live)])].sort();
  for (const key of keys) {
    const a = old[key];
    const b = live[key];
    if (canonicalJson(a ?? null) === canonicalJson(b ?? null)) continue;
    const path = `/${escapePointer(key)}`;
    if (key === "inputSchema") compareSchema(a, b, path, reasons);
    else if (COSMETIC_KEYS.has(key)) reasons.push(cosmetic(path, `${key} changed`));
    else if (key === "annotations") compareAnnotations(a, b, path, reasons);
    else if (key === "outputSchema")
      reasons.push(nonBreaking(path, "output schema changed: results may look different"));
    else reasons.push(nonBreaking(path, `${key} changed`));
  }
  return reasons.sort((x, y) => (x.path < y.path ? -1 : x.path > y.path ? 1 : 0));
}

function compareAnnotations(a: unknown, b: unknown, path: string, out: DriftReason[]): void {
  const before = isObject(a) ? a : {};
  const after = isObject(b) ? b : {};
  for (const key of [...new Set([...Object.keys(before), ...Object.keys(after)])].sort()) {
    if (canonicalJson(before[key] ?? null) === canonicalJson(after[key] ?? null)) continue;
    const at = `${path}/${escapePointer(key)}`;
    out.push(key === "title" ? cosmetic(at, "annotation title changed") : nonBreaking(at, `annotation ${key} changed`));
  }
}

/**
 * Compares two JSON Schemas of a tool's arguments, asking one question: can arguments that were
 * valid under the old schema be rejected by the new one? Unknown keywords that changed count as
 * breaking, since we cannot tell.
 */
function compareSchema(a: unknown, b: unknown, path: string, out: DriftReason[]): void {
  if (!isObject(a) || !isObject(b)) {
    out.push(breaking(path, "schema replaced"));
    return;
  }
  const handled = new Set<string>();
  const take = (...keys: string[]) => keys.forEach((k) => handled.add(k));

  take("type");
  compareTypes(a.type, b.type, `${path}/type`, out);

  take("enum", "const");
  compareEnum(a, b, path, out);

  take("required", "properties");
  compareProperties(a, b, path, out);

  take("items");
  if (a.items !== undefined || b.items !== undefined) {
    if (isObject(a.items) && isObject(b.items)) compareSchema(a.items, b.items, `${path}/items`, out);
    else if (canonicalJson(a.items ?? null) !== canonicalJson(b.items ?? null)) {
      out.push(breaking(`${path}/items`, "array item schema changed"));
    }
  }

  take("additionalProperties");
  if (canonicalJson(a.additionalProperties ?? null) !== canonicalJson(b.additionalProperties ?? null)) {
    const at = `${path}/additionalProperties`;
    if (b.additionalProperties === false) out.push(breaking(at, "extra properties are no longer allowed"));
    else if (isObject(a.additionalProperties) && isObject(b.additionalProperties))
      compareSchema(a.additionalProperties, b.additionalProperties, at, out);
    else if (b.additionalProperties === undefined || b.additionalProperties === true)
      out.push(nonBreaking(at, "extra properties now allowed"));
    else out.push(breaking(at, "additionalProperties changed"));
  }

  for (const [key, tighter] of BOUNDS) {
    take(key);
    compareBound(a[key], b[key], key, tighter, `${path}/${key}`, out);
  }

  take("pattern", "format");
  for (const key of ["pattern", "format"] as const) {
    if (a[key] === b[key]) continue;
    const at = `${path}/${key}`;
    if (b[key] === undefined) out.push(nonBreaking(at, `${key} ${JSON.stringify(a[key])} dropped`));
    else
      out.push(
        breaking(
          at,
          a[key] === undefined
            ? `${key} ${JSON.stringify(b[key])} added`
            : `${key} changed from ${JSON.stringify(a[key])} to ${JSON.stringify(b[key])}`,
        ),
      );
  }

  take("default");
  if (canonicalJson(a.default ?? null) !== canonicalJson(b.default ?? null))
    out.push(nonBreaking(`${path}/default`, "default value changed"));

  for (const key of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) {
    if (handled.has(key) || canonicalJson(a[key] ?? null) === canonicalJson(b[key] ?? null)) continue;
    const at = `${path}/${escapePointer(key)}`;
    if (COSMETIC_KEYS.has(key)) out.push(cosmetic(at, `${key} changed`));
    else if (key === "$schema") out.push(nonBreaking(at, "declared JSON Schema draft changed"));
    else if (canonicalJson(stripCosmetic(a[key])) === canonicalJson(stripCosmetic(b[key])))
      out.push(cosmetic(at, `descriptions inside ${key} changed`));
    else out.push(breaking(at, `${key} changed; cannot tell whether earlier calls still validate`));
  }
}

/** Keywords whose value bounds what is valid: for each, which direction narrows it. */
const BOUNDS: ReadonlyArray<[string, "up" | "down"]> = [
  ["minimum", "up"],
  ["exclusiveMinimum", "up"],
  ["minLength", "up"],
  ["minItems", "up"],
  ["minProperties", "up"],
  ["maximum", "down"],
  ["exclusiveMaximum", "down"],
  ["maxLength", "down"],
  ["maxItems", "down"],
  ["maxProperties", "down"],
  ["multipleOf", "up"],
];

function compareBound(
  a: unknown,
  b: unknown,
  key: string,
  tighter: "up" | "down",
  at: string,
  out: DriftReason[],
): void {
  if (canonicalJson(a ?? null) === canonicalJson(b ?? null)) return;
  if (b === undefined) {
    out.push(nonBreaking(at, `${key} ${JSON.stringify(a)} dropped`));
    return;
  }
  if (typeof a !== "number" || typeof b !== "number") {
    out.push(breaking(at, `${key} ${a === undefined ? "added" : "changed"}: ${JSON.stringify(b)}`));
    return;
  }
  const narrowed = key === "multipleOf" ? b % a !== 0 : tighter === "up" ? b > a : b < a;
  out.push(
    narrowed ? breaking(at, `${key} tightened from ${a} to ${b}`) : nonBreaking(at, `${key} relaxed from ${a} to ${b}`),
  );
}

function typeSet(type: unknown): Set<string> | undefined {
  if (typeof type === "string") return new Set([type]);
  if (Array.isArray(type)) return new Set(type.filter((t): t is string => typeof t === "string"));
  return undefined;
}

function compareTypes(a: unknown, b: unknown, at: string, out: DriftReason[]): void {
  if (canonicalJson(a ?? null) === canonicalJson(b ?? null)) return;
  const before = typeSet(a);
  const after = typeSet(b);
  if (!after) {
    out.push(nonBreaking(at, "type constraint dropped"));
    return;
  }
  if (!before) {
    out.push(breaking(at, `type ${[...after].join("|")} now required`));
    return;
  }
  // "integer" values stay valid when the type widens to "number".
  const lost = [...before].filter((t) => !after.has(t) && !(t === "integer" && after.has("number")));
  const label = (s: Set<string>) => [...s].join("|");
  if (lost.length > 0) out.push(breaking(at, `type narrowed from ${label(before)} to ${label(after)}`));
  else out.push(nonBreaking(at, `type widened from ${label(before)} to ${label(after)}`));
}

function compareEnum(a: Json, b: Json, path: string, out: DriftReason[]): void {
  const before = allowedValues(a);
  const after = allowedValues(b);
  if (!after) {
    if (before)
      out.push(
        nonBreaking(`${path}/${a.enum !== undefined ? "enum" : "const"}`, "allowed values no longer restricted"),
      );
    return;
  }
  const at = `${path}/${b.enum !== undefined ? "enum" : "const"}`;
  if (!before) {
    out.push(breaking(at, `values now restricted to ${after.map((v) => JSON.stringify(v)).join(", ")}`));
    return;
  }
  const has = (list: unknown[], v: unknown) => list.some((x) => canonicalJson(x) === canonicalJson(v));
  const lost = before.filter((v) => !has(after, v));
  const gained = after.filter((v) => !has(before, v));
  if (lost.length > 0)
    out.push(
      breaking(at, `value${lost.length > 1 ? "s" : ""} ${lost.map((v) => JSON.stringify(v)).join(", ")} removed`),
    );
  if (gained.length > 0)
    out.push(
      nonBreaking(at, `value${gained.length > 1 ? "s" : ""} ${gained.map((v) => JSON.stringify(v)).join(", ")} added`),
    );
}

function allowedValues(schema: Json): unknown[] | undefined {
  if (Array.isArray(schema.enum)) return schema.enum;
  if ("const" in schema) return [schema.const];
  return undefined;
}

function compareProperties(a: Json, b: Json, path: string, out: DriftReason[]): void {
  const required = (s: Json) =>
    new Set(Array.isArray(s.required) ? s.required.filter((r): r is string => typeof r === "string") : []);
  const reqBefore = required(a);
  const reqAfter = required(b);
  const propsBefore = isObject(a.properties) ? a.properties : {};
  const propsAfter = isObject(b.properties) ? b.properties : {};
  const at = (name: string) => `${path}/properties/${escapePointer(name)}`;
  for (const name of [...reqAfter].filter((r) => !reqBefore.has(r))) {
    out.push(
      breaking(
        at(name),
        name in propsBefore ? `parameter "${name}" is now required` : `new required parameter "${name}"`,
      ),
    );
  }
  for (const name of [...reqBefore].filter((r) => !reqAfter.has(r))) {
    if (name in propsAfter || !(name in propsBefore))
      out.push(nonBreaking(`${path}/required`, `"${name}" is no longer required`));
  }
  for (const name of Object.keys(propsBefore)) {
    if (!(name in propsAfter)) out.push(breaking(at(name), `parameter "${name}" removed`));
    else compareSchema(propsBefore[name], propsAfter[name], at(name), out);
  }
  for (const name of Object.keys(propsAfter)) {
    if (!(name in propsBefore) && !reqAfter.has(name))
      out.push(nonBreaking(at(name), `new optional parameter "${name}"`));
  }
}

function stripCosmetic(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(stripCosmetic);
  if (!isObject(value)) return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([k]) => !COSMETIC_KEYS.has(k))
      .map(([k, v]) => [k, stripCosmetic(v)]),
  );
}

const breaking = (path: string, message: string): DriftReason => ({ path, breaking: true, cosmetic: false, message });
const nonBreaking = (path: string, message: string): DriftReason => ({
  path,
  breaking: false,
  cosmetic: false,
  message,
});
const cosmetic = (path: string, message: string): DriftReason => ({ path, breaking: false, cosmetic: true, message });

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function escapePointer(key: string): string {
  return key.replace(/~/g, "~0").replace(/\//g, "~1");
}
