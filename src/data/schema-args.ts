import { Faker, base, en, type Randomizer } from "@faker-js/faker";
import RandExpModule from "randexp";
import type { ValidateFunction } from "ajv";
import { canonicalJson } from "../core/canonical.js";
import { compileToolSchema } from "../core/json-schema.js";
import type { Rng } from "./rng.js";
import { flatten, isObject, typesOf, type Schema } from "./schema-walk.js";

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

/**
 * Generates values valid for a JSON Schema: types, enum, const, required, numeric bounds, string
 * lengths, pattern, common formats, arrays, nested objects, oneOf/anyOf/allOf, $ref/$defs, default.
 * Every result is checked with ajv; a miss is redrawn, so callers only ever see valid values.
 */
export class ArgGenerator {
  private readonly validate: ValidateFunction;

  constructor(
    private readonly schema: Schema,
    where: string,
  ) {
    this.validate = compileToolSchema(schema, where);
  }

  generate(rng: Rng, mode: ArgMode = "standard"): Record<string, unknown> {
    return withFaker(rng, () => {
      let lastError = "";
      for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
        const useMode = attempt >= MAX_ATTEMPTS / 2 ? "standard" : mode;
        let value: unknown;
        try {
          value = new ValueMaker(rng, useMode, this.schema).make(this.schema, "", 0);
        } catch (error) {
          lastError = (error as Error).message;
          continue;
        }
        if (isObject(value) && this.validate(value)) return value;
        lastError = this.validate.errors?.map((e) => `${e.instancePath || "/"} ${e.message}`).join("; ") ?? "not an object";
      }
      throw new ArgumentError(`no valid value found after ${MAX_ATTEMPTS} tries (${lastError})`);
    });
  }

  /** A value for one property at `pointer` (e.g. "/city"), for swapping values in augmentation. */
  generateAt(rng: Rng, pointer: string, mode: ArgMode = "standard"): { found: boolean; value?: unknown } {
    const sub = schemaAt(this.schema, pointer);
    if (!sub) return { found: false };
    return withFaker(rng, () => {
      try {
        return { found: true, value: new ValueMaker(rng, mode, this.schema).make(sub, lastKey(pointer), 1) };
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
      const tuple = Array.isArray(node.prefixItems) ? node.prefixItems : Array.isArray(node.items) ? node.items : undefined;
      node = flatten(tuple ? tuple[Number(key)] ?? node.additionalItems : node.items, root);
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
  constructor(
    private readonly rng: Rng,
    private readonly mode: ArgMode,
    private readonly root: Schema,
  ) {}

  private get edge(): boolean {
    return this.mode === "edge" && this.rng.bool(0.7);
  }

  make(raw: unknown, name: string, depth: number): unknown {
    let s = flatten(raw, this.root);
    if (s.not !== undefined && Object.keys(s).length === 1 && isObject(s.not) && Object.keys(s.not).length === 0) {
      throw new Error("schema `false` admits no value");
    }
    if ("const" in s) return s.const;
    if (Array.isArray(s.enum) && s.enum.length > 0) return this.mode === "edge" && this.rng.bool() ? s.enum[s.enum.length - 1] : this.rng.pick(s.enum);
    const branches = (s.oneOf ?? s.anyOf) as unknown[] | undefined;
    if (Array.isArray(branches) && branches.length > 0) {
      const rest = { ...s };
      delete rest.oneOf;
      delete rest.anyOf;
      const branch = flatten(this.rng.pick(branches), this.root);
      s = { ...rest, ...branch };
      if (rest.properties && branch.properties) s.properties = { ...(rest.properties as Schema), ...(branch.properties as Schema) };
      if (rest.required && branch.required) s.required = [...(rest.required as string[]), ...(branch.required as string[])];
      return this.make(s, name, depth);
    }
    if ("default" in s && this.rng.bool(this.mode === "edge" ? 0.3 : 0.1)) return s.default;
    const types = typesOf(s);
    const nonNull = types.filter((t) => t !== "null");
    const type = types.length === 0 ? "string" : nonNull.length === 0 ? "null" : this.mode === "edge" && types.includes("null") && this.rng.bool(0.2) ? "null" : this.rng.pick(nonNull);
    switch (type) {
      case "null":
        return null;
      case "boolean":
        return this.rng.bool();
      case "integer":
        return this.integer(s);
      case "number":
        return this.number(s);
      case "array":
        return this.array(s, name, depth);
      case "object":
        return this.object(s, depth);
      default:
        return this.string(s, name);
    }
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

  private array(s: Schema, name: string, depth: number): unknown[] {
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
    const singular = name.replace(/(ies)$/, "y").replace(/s$/, "");
    for (let tries = 0; out.length < count && tries < count * 10 + 10; tries++) {
      const itemSchema = tuple && out.length < tuple.length ? tuple[out.length] : rest;
      const value = this.make(itemSchema ?? {}, singular, depth + 1);
      if (s.uniqueItems) {
        const key = canonicalJson(value);
        if (seen.has(key)) continue;
        seen.add(key);
      }
      out.push(value);
    }
    if (out.length < min) throw new Error(`could not make ${min} distinct items`);
    return out;
  }

  private object(s: Schema, depth: number): Record<string, unknown> {
    const props = isObject(s.properties) ? s.properties : {};
    const required = new Set(Array.isArray(s.required) ? (s.required as string[]) : []);
    const out: Record<string, unknown> = {};
    const omitOptional = depth >= MAX_DEPTH || (this.mode === "edge" && this.rng.bool(0.6));
    for (const [key, sub] of Object.entries(props)) {
      const include = required.has(key) || (!omitOptional && this.rng.bool(0.5));
      if (include) out[key] = this.make(sub, key, depth + 1);
    }
    for (const key of required) {
      if (!(key in out)) out[key] = this.make(additionalSchema(s), key, depth + 1);
    }
    const minProps = typeof s.minProperties === "number" ? s.minProperties : 0;
    for (const [key, sub] of Object.entries(props)) {
      if (Object.keys(out).length >= minProps) break;
      if (!(key in out)) out[key] = this.make(sub, key, depth + 1);
    }
    for (let i = 1; Object.keys(out).length < minProps && s.additionalProperties !== false; i++) {
      out[`key${i}`] = this.make(additionalSchema(s), "value", depth + 1);
    }
    return out;
  }

  private string(s: Schema, name: string): string {
    const min = typeof s.minLength === "number" ? s.minLength : 0;
    const max = typeof s.maxLength === "number" ? s.maxLength : Infinity;
    let text: string;
    if (typeof s.format === "string" && FORMATS[s.format]) text = FORMATS[s.format]!(this.rng);
    else if (typeof s.pattern === "string") text = this.fromPattern(s.pattern, min, max);
    else if (this.edge) text = this.edgeText(min, max);
    else text = realisticText(name, this.rng);
    if (typeof s.pattern === "string" || (typeof s.format === "string" && FORMATS[s.format])) return text;
    return fitLength(text, min, max, this.rng);
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
const UNUSUAL_TEXT = ["São Paulo", "O'Brien & Sons", "naïve café", "Zürich", "東京", "Ångström", "x", "São Tomé and Príncipe", "déjà vu", "Dvořák"];

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
  [/(message|text|content|body|note|comment|description|observation|contents|prompt|data)/i, (f) => f.company.catchPhrase()],
  [/(type|kind|mode|status|level|format|sort)/i, (f) => f.word.adjective()],
  [/(product|item)/i, (f) => f.commerce.productName()],
  [/(pattern|glob)/i, (f) => `*.${f.system.fileExt()}`],
];

function realisticText(name: string, rng: Rng): string {
  return withFaker(rng, (f) => {
    for (const [re, make] of BY_NAME) if (re.test(name)) return make(f, rng);
    return f.word.words(rng.int(1, 2));
  });
}
