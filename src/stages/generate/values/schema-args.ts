import { base, en, Faker, type Randomizer } from "@faker-js/faker";
import type { ValidateFunction } from "ajv";
import RandExpModule from "randexp";

import { canonicalJson } from "../../../core/canonical.js";
import { compileToolSchema } from "../../../core/json-schema.js";
import { flatten, isObject, type Schema, typesOf } from "../../../core/schema-walk.js";
import { VALUE_SOURCES, type ValueSource } from "../../../samples/sample.js";
import type { Rng } from "../rng.js";
import { singular } from "../wording/phrasing.js";
import type { Grounding, Leaf, ServerUse } from "./grounding.js";

/** standard: typical values; edge: boundary values, optional properties omitted, unusual but valid text. */
export type ArgMode = "standard" | "edge";

/** faker draws from whichever Rng is current, so every value comes from the caller's seeded stream. */
let current: Rng | undefined;
const randomizer: Randomizer = {
  next: () => {
    if (!current) throw new Error("schema-args: no rng set");
    return current.next();
  },
  seed: () => undefined,
};
const faker = new Faker({ locale: [en, base], randomizer });

/** Runs `fn` with faker drawing from `rng`. */
export function withFaker<T>(rng: Rng, fn: (f: Faker) => T): T {
  const previous = current;
  current = rng;
  try {
    return fn(faker);
  } finally {
    current = previous;
  }
}

// randexp is CommonJS with `module.exports = RandExp`: the default import is the class itself.
const RandExp = RandExpModule as unknown as typeof RandExpModule.default;

const MAX_ATTEMPTS = 40;
const MAX_DEPTH = 6;

export class ArgumentError extends Error {}

/** A drawn argument object and where each top-level value came from. */
export interface Drawn {
  value: Record<string, unknown>;
  sources: Record<string, ValueSource>;
}

/**
 * Generates values valid for a JSON Schema: types, enum, const, required, numeric bounds, string
 * lengths, pattern, common formats, arrays, nested objects, oneOf/anyOf/allOf, $ref/$defs, default.
 * Every result is checked with ajv; a miss is redrawn, so callers only ever see valid values.
 * With a grounding, scalar values come from the best source that fits (server, schema, description,
 * semantic provider) before faker and random words; the second half of the attempts go without it.
 */
export class ArgGenerator {
  private readonly validate: ValidateFunction;

  constructor(
    private readonly schema: Schema,
    where: string,
    private readonly grounding?: Grounding,
  ) {
    this.validate = compileToolSchema(schema, where);
  }

  generate(rng: Rng, mode: ArgMode = "standard"): Record<string, unknown> {
    return this.draw(rng, mode).value;
  }

  /** Valid arguments with the source of each top-level value. */
  draw(rng: Rng, mode: ArgMode = "standard", server: ServerUse = "normal"): Drawn {
    return withFaker(rng, () => {
      let lastError = "";
      for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
        const late = attempt >= MAX_ATTEMPTS / 2;
        const maker = new ValueMaker(
          rng,
          late ? "standard" : mode,
          this.schema,
          late ? undefined : this.grounding,
          server,
        );
        let value: unknown;
        try {
          value = maker.make(this.schema, "", 0);
        } catch (error) {
          lastError = (error as Error).message;
          continue;
        }
        if (isObject(value) && this.validate(value)) return { value, sources: maker.sources };
        lastError =
          this.validate.errors?.map((e) => `${e.instancePath || "/"} ${e.message}`).join("; ") ?? "not an object";
      }
      throw new ArgumentError(`no valid value found after ${MAX_ATTEMPTS} tries (${lastError})`);
    });
  }

  /** A value for one property at `pointer` (e.g. "/city"), for swapping values in augmentation. */
  generateAt(
    rng: Rng,
    pointer: string,
    mode: ArgMode = "standard",
    server: ServerUse = "normal",
  ): { found: boolean; value?: unknown; source?: ValueSource } {
    const sub = schemaAt(this.schema, pointer);
    if (!sub) return { found: false };
    return withFaker(rng, () => {
      try {
        const maker = new ValueMaker(rng, mode, this.schema, this.grounding, server);
        const value = maker.makeTop(sub, lastKey(pointer));
        return { found: true, value, source: maker.sources[lastKey(pointer)]! };
      } catch {
        return { found: false };
      }
    });
  }

  isValid(value: unknown): boolean {
    return this.validate(value) as boolean;
  }
}

const lastKey = (pointer: string) => pointer.split("/").pop() ?? "";

/** The sub-schema for a JSON pointer into an instance (properties and array items; no combinators). */
export function schemaAt(root: Schema, pointer: string): Schema | undefined {
  let node: Schema = flatten(root, root);
  for (const raw of pointer.split("/").slice(1)) {
    const key = raw.replace(/~1/g, "/").replace(/~0/g, "~");
    if (/^\d+$/.test(key) && (node.items || node.prefixItems)) {
      const tuple = Array.isArray(node.prefixItems)
        ? node.prefixItems
        : Array.isArray(node.items)
          ? node.items
          : undefined;
      node = flatten(tuple ? (tuple[Number(key)] ?? node.additionalItems) : node.items, root);
    } else if (isObject(node.properties) && node.properties[key] !== undefined) {
      node = flatten(node.properties[key], root);
    } else {
      return undefined;
    }
    if (node.oneOf || node.anyOf) return undefined;
  }
  return node;
}

class ValueMaker {
  /** The source of each top-level value made. */
  readonly sources: Record<string, ValueSource> = {};
  /** The worst source rank noted while making the current top-level value (-1: none yet). */
  private rank = -1;
  private param = "";

  constructor(
    private readonly rng: Rng,
    private readonly mode: ArgMode,
    private readonly root: Schema,
    private readonly grounding: Grounding | undefined,
    private readonly serverUse: ServerUse,
  ) {}

  private get edge(): boolean {
    return this.mode === "edge" && this.rng.bool(0.7);
  }

  private note(source: ValueSource): void {
    this.rank = Math.max(this.rank, VALUE_SOURCES.indexOf(source));
  }

  /** A top-level property's value, its source recorded (a value with no scalar in it counts as the schema's). */
  makeTop(raw: unknown, key: string): unknown {
    const [rank, param] = [this.rank, this.param];
    [this.rank, this.param] = [-1, key];
    const value = this.make(raw, key, 1);
    this.sources[key] = this.rank < 0 ? "schema" : VALUE_SOURCES[this.rank]!;
    [this.rank, this.param] = [Math.max(rank, this.rank), param];
    return value;
  }

  make(raw: unknown, name: string, depth: number, context?: string): unknown {
    let s = flatten(raw, this.root);
    if (s.not !== undefined && Object.keys(s).length === 1 && isObject(s.not) && Object.keys(s.not).length === 0) {
      throw new Error("schema `false` admits no value");
    }
    const description = typeof s.description === "string" ? s.description : context;
    if ("const" in s) return this.schemaValue(s.const);
    if (Array.isArray(s.enum) && s.enum.length > 0)
      return this.schemaValue(
        this.mode === "edge" && this.rng.bool() ? s.enum[s.enum.length - 1] : this.rng.pick(s.enum),
      );
    const branches = (s.oneOf ?? s.anyOf) as unknown[] | undefined;
    if (Array.isArray(branches) && branches.length > 0) {
      const rest = { ...s };
      delete rest.oneOf;
      delete rest.anyOf;
      const branch = flatten(this.rng.pick(branches), this.root);
      s = { ...rest, ...branch };
      if (rest.properties && branch.properties)
        s.properties = { ...(rest.properties as Schema), ...(branch.properties as Schema) };
      if (rest.required && branch.required)
        s.required = [...(rest.required as string[]), ...(branch.required as string[])];
      return this.make(s, name, depth, description);
    }
    if ("default" in s && this.rng.bool(this.mode === "edge" ? 0.3 : 0.1)) return this.schemaValue(s.default);
    const types = typesOf(s);
    const nonNull = types.filter((t) => t !== "null");
    const type =
      types.length === 0
        ? "string"
        : nonNull.length === 0
          ? "null"
          : this.mode === "edge" && types.includes("null") && this.rng.bool(0.2)
            ? "null"
            : this.rng.pick(nonNull);
    switch (type) {
      case "null":
        return this.schemaValue(null);
      case "boolean":
        return this.schemaValue(this.rng.bool());
      case "integer":
      case "number":
        return this.numeric(s, type === "integer", name, description);
      case "array":
        return this.array(s, name, depth, description);
      case "object":
        return this.object(s, depth);
      default:
        return this.string(s, name, description);
    }
  }

  private schemaValue<T>(value: T): T {
    this.note("schema");
    return value;
  }

  private leaf(name: string, description: string | undefined, numeric: boolean, integer: boolean): Leaf {
    return { name, param: this.param || name, ...(description !== undefined ? { description } : {}), numeric, integer };
  }

  /** A grounded number (server, schema examples, description, semantic) that fits the bounds, else one drawn from them. */
  private numeric(s: Schema, integer: boolean, name: string, description: string | undefined): number {
    const fits = (v: unknown) =>
      typeof v === "number" && Number.isFinite(v) && (!integer || Number.isInteger(v)) && inBounds(s, v);
    const grounded = this.grounded(
      s,
      this.leaf(name, description, true, integer),
      fits,
      this.mode !== "edge" || this.rng.bool(0.3),
    );
    if (grounded !== undefined) return grounded as number;
    const bounded = ["minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"].some(
      (k) => typeof s[k] === "number",
    );
    this.note(bounded ? "schema" : "random");
    return integer ? this.integer(s) : this.number(s);
  }

  /**
   * The best grounded value that fits: the server's, then the schema's examples, then (when
   * `hinted`) the description's and a semantic provider's. Formats and patterns come between them,
   * in `string`.
   */
  private grounded(s: Schema, leaf: Leaf, fits: (v: unknown) => boolean, hinted: boolean): unknown {
    const server = this.grounding?.server(leaf, this.rng, this.serverUse, fits);
    if (server) {
      this.note(server.source);
      return server.value;
    }
    const examples = Array.isArray(s.examples) ? s.examples.filter(fits) : [];
    if (examples.length > 0 && this.rng.bool(0.5)) return this.schemaValue(this.rng.pick(examples));
    if (!hinted) return undefined;
    const hint = this.grounding?.hinted(leaf, this.rng, fits);
    if (!hint) return undefined;
    this.note(hint.source);
    return hint.value;
  }

  private bounds(s: Schema, integer: boolean): [number, number] {
    const step = integer ? 1 : 0.01;
    let lo = typeof s.minimum === "number" ? s.minimum : -Infinity;
    let hi = typeof s.maximum === "number" ? s.maximum : Infinity;
    if (typeof s.exclusiveMinimum === "number") lo = Math.max(lo, s.exclusiveMinimum + step);
    if (typeof s.exclusiveMaximum === "number") hi = Math.min(hi, s.exclusiveMaximum - step);
    if (s.exclusiveMinimum === true && Number.isFinite(lo)) lo += step;
    if (s.exclusiveMaximum === true && Number.isFinite(hi)) hi -= step;
    if (!Number.isFinite(lo) && !Number.isFinite(hi)) [lo, hi] = [1, 100];
    else if (!Number.isFinite(lo)) lo = Math.min(hi, hi - 100);
    else if (!Number.isFinite(hi)) hi = Math.max(lo, lo + 100);
    if (integer) [lo, hi] = [Math.ceil(lo), Math.floor(hi)];
    if (lo > hi) throw new Error(`empty numeric range [${lo}, ${hi}]`);
    return [lo, hi];
  }

  private integer(s: Schema): number {
    const [lo, hi] = this.bounds(s, true);
    const m = typeof s.multipleOf === "number" && s.multipleOf > 0 ? s.multipleOf : undefined;
    if (m) {
      const first = Math.ceil(lo / m);
      const last = Math.floor(hi / m);
      if (first > last) throw new Error("no multiple in range");
      return (this.edge ? (this.rng.bool() ? first : last) : this.rng.int(first, last)) * m;
    }
    if (this.edge) return this.rng.pick([lo, hi, lo <= 0 && hi >= 0 ? 0 : lo]);
    return this.rng.int(lo, Math.min(hi, lo + 1000));
  }

  private number(s: Schema): number {
    if (typeof s.multipleOf === "number") return this.integer({ ...s, multipleOf: s.multipleOf });
    // Most real numbers in requests are whole ("5 days", "top 10"); keep fractions for a minority.
    if (this.rng.bool(0.7)) {
      try {
        return this.integer(s);
      } catch {
        // No whole number in range: fall through to a fraction.
      }
    }
    const [lo, hi] = this.bounds(s, false);
    if (this.edge) return this.rng.pick([lo, hi]);
    const top = Math.min(hi, lo + 1000);
    const value = Math.round((lo + this.rng.next() * (top - lo)) * 100) / 100;
    return Math.min(top, Math.max(lo, value));
  }

  private array(s: Schema, name: string, depth: number, description: string | undefined): unknown[] {
    const min = typeof s.minItems === "number" ? s.minItems : 0;
    const max = typeof s.maxItems === "number" ? s.maxItems : Math.max(min, 3);
    let count: number;
    if (depth >= MAX_DEPTH) count = min;
    else if (this.edge) count = this.rng.bool() ? min : Math.min(max, min + 8);
    else {
      const lo = Math.min(max, Math.max(min, 1));
      count = this.rng.int(lo, Math.max(lo, Math.min(max, min + 3)));
    }
    const tuple = Array.isArray(s.prefixItems) ? s.prefixItems : Array.isArray(s.items) ? s.items : undefined;
    const rest = tuple ? (Array.isArray(s.prefixItems) ? s.items : s.additionalItems) : s.items;
    if (tuple) count = Math.max(count, Math.min(tuple.length, max));
    if (tuple && rest === false) count = Math.min(count, tuple.length);
    const out: unknown[] = [];
    const seen = new Set<string>();
    const itemName = singular(name);
    const maxTries = count * 10 + 10;
    for (let tries = 0; out.length < count && tries < maxTries; tries++) {
      const itemSchema = tuple && out.length < tuple.length ? tuple[out.length] : rest;
      const value = this.make(itemSchema ?? {}, itemName, depth + 1, description);
      // Lists people write do not repeat an item: repeated text is drawn again (for half the tries without uniqueItems).
      const key = canonicalJson(value);
      if (seen.has(key) && (s.uniqueItems || (typeof value === "string" && tries < maxTries / 2))) continue;
      seen.add(key);
      out.push(value);
    }
    if (out.length < min) throw new Error(`could not make ${min} distinct items`);
    return out;
  }

  private object(s: Schema, depth: number): Record<string, unknown> {
    const props = isObject(s.properties) ? s.properties : {};
    const required = new Set(Array.isArray(s.required) ? (s.required as string[]) : []);
    const out: Record<string, unknown> = {};
    // A retry after the server refused a call leaves options out: they are what most often conflict.
    const omitOptional =
      depth >= MAX_DEPTH ||
      (this.mode === "edge" && this.rng.bool(0.6)) ||
      (depth === 0 && this.serverUse === "prefer");
    // People set few of a tool's options.
    const optionalShare = depth === 0 ? 0.35 : 0.5;
    // At the top, each property's source is recorded.
    const make = (sub: unknown, key: string) => (depth === 0 ? this.makeTop(sub, key) : this.make(sub, key, depth + 1));
    for (const [key, sub] of Object.entries(props)) {
      const include = required.has(key) || (!omitOptional && this.rng.bool(optionalShare));
      if (include) out[key] = make(sub, key);
    }
    for (const key of required) {
      if (!(key in out)) out[key] = make(additionalSchema(s), key);
    }
    const minProps = typeof s.minProperties === "number" ? s.minProperties : 0;
    for (const [key, sub] of Object.entries(props)) {
      if (Object.keys(out).length >= minProps) break;
      if (!(key in out)) out[key] = make(sub, key);
    }
    for (let i = 1; Object.keys(out).length < minProps && s.additionalProperties !== false; i++) {
      out[`key${i}`] = make(additionalSchema(s), `key${i}`);
    }
    return out;
  }

  private string(s: Schema, name: string, description: string | undefined): string {
    const min = typeof s.minLength === "number" ? s.minLength : 0;
    const max = typeof s.maxLength === "number" ? s.maxLength : Infinity;
    const fits = (v: unknown) =>
      typeof v === "string" && [...v].length >= min && [...v].length <= max && matchesPattern(s.pattern, v);
    const leaf = this.leaf(name, description, false, false);
    const server = this.grounded(s, leaf, fits, false);
    if (server !== undefined) return server as string;
    if (typeof s.format === "string" && FORMATS[s.format]) return this.schemaValue(FORMATS[s.format]!(this.rng));
    if (typeof s.pattern === "string") return this.schemaValue(this.fromPattern(s.pattern, min, max));
    const hinted = this.grounding?.hinted(leaf, this.rng, fits);
    if (hinted) {
      this.note(hinted.source);
      return hinted.value as string;
    }
    if (this.edge) {
      this.note("random");
      return this.edgeText(min, max);
    }
    const text = realisticText(name, this.rng);
    this.note(text.source);
    return fitLength(text.value, min, max, this.rng);
  }

  private fromPattern(pattern: string, min: number, max: number): string {
    const gen = new RandExp(pattern);
    gen.max = 6;
    gen.randInt = (a: number, b: number) => this.rng.int(a, b);
    gen.defaultRange.subtract(0, 31);
    gen.defaultRange.subtract(127, 65535);
    for (let i = 0; i < 20; i++) {
      const text = gen.gen();
      const length = [...text].length;
      if (length >= min && length <= max) return text;
    }
    throw new Error(`no string of length ${min}..${max} for pattern ${pattern}`);
  }

  private edgeText(min: number, max: number): string {
    if (min > 0 && this.rng.bool()) return fitLength("", min, min, this.rng);
    if (Number.isFinite(max) && max <= 60 && this.rng.bool()) return fitLength("", max, max, this.rng);
    return this.rng.pick(UNUSUAL_TEXT);
  }
}

function additionalSchema(s: Schema): unknown {
  return isObject(s.additionalProperties) ? s.additionalProperties : { type: "string" };
}

/** Unusual but valid text: accents, apostrophes, non-Latin scripts, inner spaces. */
const UNUSUAL_TEXT = [
  "São Paulo",
  "O'Brien & Sons",
  "naïve café",
  "Zürich",
  "東京",
  "Ångström",
  "x",
  "São Tomé and Príncipe",
  "déjà vu",
  "Dvořák",
];

const ALNUM = "abcdefghijklmnopqrstuvwxyz0123456789";

function fitLength(text: string, min: number, max: number, rng: Rng): string {
  let chars = [...text];
  if (chars.length > max) chars = chars.slice(0, max);
  while (chars.length < min) chars.push(ALNUM[rng.int(0, ALNUM.length - 1)]!);
  return chars.join("").replace(/\s+$/, (ws) => (chars.length - ws.length >= min ? "" : ws));
}

const pad = (n: number, width = 2) => String(n).padStart(width, "0");

function isoDate(rng: Rng): string {
  return `${rng.int(2019, 2027)}-${pad(rng.int(1, 12))}-${pad(rng.int(1, 28))}`;
}

function uuid(rng: Rng): string {
  const hex = (n: number) => Array.from({ length: n }, () => rng.int(0, 15).toString(16)).join("");
  return `${hex(8)}-${hex(4)}-4${hex(3)}-${"89ab"[rng.int(0, 3)]}${hex(3)}-${hex(12)}`;
}

const FORMATS: Record<string, (rng: Rng) => string> = {
  date: isoDate,
  "date-time": (rng) => `${isoDate(rng)}T${pad(rng.int(0, 23))}:${pad(rng.int(0, 59))}:${pad(rng.int(0, 59))}Z`,
  time: (rng) => `${pad(rng.int(0, 23))}:${pad(rng.int(0, 59))}:${pad(rng.int(0, 59))}Z`,
  email: (rng) => withFaker(rng, (f) => f.internet.email().toLowerCase()),
  "idn-email": (rng) => withFaker(rng, (f) => f.internet.email().toLowerCase()),
  uri: (rng) => withFaker(rng, (f) => f.internet.url()),
  url: (rng) => withFaker(rng, (f) => f.internet.url()),
  iri: (rng) => withFaker(rng, (f) => f.internet.url()),
  "uri-reference": (rng) => withFaker(rng, (f) => `/${f.word.noun()}/${f.word.noun()}`),
  uuid,
  hostname: (rng) => withFaker(rng, (f) => f.internet.domainName()),
  "idn-hostname": (rng) => withFaker(rng, (f) => f.internet.domainName()),
  ipv4: (rng) => `${rng.int(1, 223)}.${rng.int(0, 255)}.${rng.int(0, 255)}.${rng.int(1, 254)}`,
  ipv6: (rng) => Array.from({ length: 8 }, () => rng.int(0, 0xffff).toString(16)).join(":"),
  duration: (rng) => `P${rng.int(1, 30)}D`,
  byte: (rng) => Buffer.from(withFaker(rng, (f) => f.word.words(2))).toString("base64"),
  regex: (rng) => rng.pick(["^[a-z]+$", "\\d{3}-\\d{4}", "^foo.*bar$"]),
  "json-pointer": (rng) => withFaker(rng, (f) => `/${f.word.noun()}/${rng.int(0, 9)}`),
  "relative-json-pointer": (rng) => `${rng.int(0, 3)}/x`,
  "uri-template": (rng) => withFaker(rng, (f) => `${f.internet.url()}/{id}`),
};

/** Values that read naturally in a request, chosen by the property's name. */
const BY_NAME: Array<[RegExp, (f: Faker, rng: Rng) => string]> = [
  [/e-?mail/i, (f) => f.internet.email().toLowerCase()],
  [/(url|uri|link|website|endpoint)/i, (f) => f.internet.url()],
  [/(dir|folder)/i, (f) => f.system.directoryPath()],
  [/(path|file)/i, (f) => f.system.filePath()],
  [/(city|location|place|destination|origin)/i, (f) => f.location.city()],
  [/country/i, (f) => f.location.country()],
  [/(address|street)/i, (f) => f.location.streetAddress()],
  [/(first_?name|given)/i, (f) => f.person.firstName()],
  [/(last_?name|surname|family)/i, (f) => f.person.lastName()],
  [/(author|person|user_?name|owner|assignee|customer|^name$|full_?name|entity_?name)/i, (f) => f.person.fullName()],
  [/(company|organi[sz]ation|org)/i, (f) => f.company.name()],
  [/(color|colour)/i, (f) => f.color.human()],
  [/(phone|mobile)/i, (f) => f.phone.number({ style: "national" })],
  [/(lang|locale)/i, (f) => f.helpers.arrayElement(["en", "fr", "de", "es", "it", "ja"])],
  [/(currency)/i, (f) => f.finance.currencyCode()],
  [/(^id$|_id$|Id$|identifier|key)/, (_f, rng) => `${ALNUM[rng.int(0, 25)]}${rng.int(1000, 99999)}`],
  [/(query|search|keyword|term|topic|subject|tag|category)/i, (f, rng) => f.word.words(rng.int(1, 3))],
  [/(title|headline)/i, (f) => f.book.title()],
  [
    /(message|text|content|body|note|comment|description|observation|contents|prompt|data)/i,
    (f) => f.company.catchPhrase(),
  ],
  [/(type|kind|mode|status|level|format|sort)/i, (f) => f.word.adjective()],
  [/(product|item)/i, (f) => f.commerce.productName()],
  [/(pattern|glob)/i, (f) => `*.${f.system.fileExt()}`],
];

function realisticText(name: string, rng: Rng): { value: string; source: "faker" | "random" } {
  return withFaker(rng, (f) => {
    for (const [re, make] of BY_NAME) if (re.test(name)) return { value: make(f, rng), source: "faker" as const };
    return { value: f.word.words(rng.int(1, 2)), source: "random" as const };
  });
}

function inBounds(s: Schema, v: number): boolean {
  if (typeof s.minimum === "number" && v < s.minimum) return false;
  if (typeof s.maximum === "number" && v > s.maximum) return false;
  if (typeof s.exclusiveMinimum === "number" && v <= s.exclusiveMinimum) return false;
  if (typeof s.exclusiveMaximum === "number" && v >= s.exclusiveMaximum) return false;
  if (s.exclusiveMinimum === true && typeof s.minimum === "number" && v <= s.minimum) return false;
  if (s.exclusiveMaximum === true && typeof s.maximum === "number" && v >= s.maximum) return false;
  if (
    typeof s.multipleOf === "number" &&
    s.multipleOf > 0 &&
    Math.abs(v / s.multipleOf - Math.round(v / s.multipleOf)) > 1e-9
  )
    return false;
  return true;
}

const patterns = new Map<string, RegExp | null>();

/** Whether text matches a schema pattern (none: always); a pattern this runtime cannot compile matches nothing. */
function matchesPattern(pattern: unknown, text: string): boolean {
  if (typeof pattern !== "string") return true;
  let re = patterns.get(pattern);
  if (re === undefined) {
    try {
      re = new RegExp(pattern, "u");
    } catch {
      re = null;
    }
    if (patterns.size < 1000) patterns.set(pattern, re);
  }
  return re !== null && re.test(text);
}
