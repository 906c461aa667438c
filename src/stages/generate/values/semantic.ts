import type { Rng } from "../rng.js";
import { isTimezone, valueForFormat } from "./description-hints.js";
import type { ParamKind } from "./param-kind.js";
import * as pools from "./pools.js";
import type { ServerValues } from "./server-values.js";

export interface SemanticParam {
  name: string;
  description?: string;
  numeric: boolean;
  integer: boolean;
}

export interface SemanticValue {
  value: string | number;
  /** "server" when built from what the server showed (its tables, its roots), else "semantic". */
  source: "server" | "semantic";
}

/** A realistic value for a parameter of a known kind, or undefined when the kind has none of the asked type. */
export function semanticValue(
  kind: ParamKind,
  p: SemanticParam,
  rng: Rng,
  values?: ServerValues,
): SemanticValue | undefined {
  if (p.numeric) {
    const n = quantity(kind, `${p.name} ${p.description ?? ""}`, rng);
    return n === undefined ? undefined : { value: p.integer ? Math.round(n) : n, source: "semantic" };
  }
  const text = `${p.name} ${p.description ?? ""}`;
  const semantic = (value: string): SemanticValue => ({ value, source: "semantic" });
  const root = values && values.roots.length > 0 ? rng.pick(values.roots).replace(/\/+$/, "") : undefined;
  switch (kind) {
    case "timezone":
      return semantic(rng.pick(knownTimezones()));
    case "time":
      return semantic(valueForFormat("hh:mm", rng) as string);
    case "datetime":
      return semantic(valueForFormat("date-time", rng) as string);
    case "date":
      return semantic(valueForFormat("date", rng) as string);
    case "duration":
      return semantic(rng.pick(/ISO|8601/.test(text) ? pools.DURATIONS_ISO : pools.DURATIONS_TEXT));
    case "city":
      return semantic(rng.pick(pools.CITIES));
    case "country": {
      const [name, code] = rng.pick(pools.COUNTRIES);
      return semantic(/code|ISO|alpha-?2|two-letter/i.test(text) ? code : name);
    }
    case "language": {
      const [name, code] = rng.pick(pools.LANGUAGES);
      return semantic(/code|ISO|BCP|locale|\blang\b/i.test(text) || /^lang$/i.test(p.name) ? code : name);
    }
    case "currency":
      return semantic(rng.pick(pools.CURRENCIES));
    case "url":
      return semantic(rng.pick(pools.URLS));
    case "email":
      return semantic(`${rng.pick(pools.MAILBOXES)}@${rng.pick(pools.EMAIL_DOMAINS)}`);
    case "sql":
      return sql(rng, values);
    case "gitref":
      return semantic(rng.pick(pools.GIT_REFS));
    case "repo":
      return root
        ? { value: root, source: "server" }
        : semantic(`/home/user/projects/${rng.pick(["website", "api", "notes-app"])}`);
    case "dir":
      return semantic(`${root ?? "/home/user"}/${rng.pick(pools.DIR_NAMES)}`);
    case "path":
      return semantic(`${root ?? `/home/user/${rng.pick(pools.DIR_NAMES)}`}/${rng.pick(pools.FILE_NAMES)}`);
    case "glob":
      return semantic(`*.${rng.pick(pools.FILE_NAMES).split(".").pop()}`);
    case "id":
      return semantic(/uuid/i.test(text) ? uuid(rng) : String(rng.int(100, 99_999)));
    case "query":
      return semantic(rng.pick(pools.SEARCH_TOPICS));
    case "person":
      return semantic(rng.pick(pools.PEOPLE));
    case "entity_type":
      return semantic(rng.pick(pools.ENTITY_TYPES));
    case "relation":
      return semantic(rng.pick(pools.RELATIONS));
    case "fact":
      return semantic(rng.pick(pools.FACTS));
    case "message":
      return semantic(rng.pick(pools.MESSAGES));
    case "quantity":
      return undefined;
  }
}

let timezones: string[] | undefined;
/** The pool's zones this runtime knows (an old ICU may lack one). */
const knownTimezones = () => (timezones ??= pools.TIMEZONES.filter(isTimezone));

/** A number as people ask for it: a page of 10, the last 20 lines, 3 days, a 5-second wait. */
function quantity(kind: ParamKind, text: string, rng: Rng): number | undefined {
  if (kind === "id") return rng.int(1, 500);
  if (kind === "duration") {
    if (/milli|\bms\b/i.test(text)) return rng.pick([500, 1000, 2000, 5000]);
    if (/minute/i.test(text)) return rng.pick([5, 10, 15, 30, 60]);
    return rng.int(1, 10);
  }
  if (kind !== "quantity") return undefined;
  if (/\bpage\b|^page/i.test(text)) return rng.int(1, 5);
  if (/offset|skip/i.test(text)) return rng.pick([0, 10, 20, 50]);
  if (/lines|head|tail/i.test(text)) return rng.pick([5, 10, 20, 50]);
  if (/days/i.test(text)) return rng.int(1, 30);
  if (/hours/i.test(text)) return rng.int(1, 24);
  if (/minutes/i.test(text)) return rng.pick([5, 10, 15, 30, 45, 60]);
  if (/seconds/i.test(text)) return rng.int(1, 10);
  if (/depth|level/i.test(text)) return rng.int(1, 4);
  if (/limit|top|max|size|results/i.test(text)) return rng.pick([1, 3, 5, 10, 20, 25, 50]);
  return rng.pick([rng.int(1, 20), rng.int(10, 100), rng.pick([12, 15, 25, 50, 100, 250, 1000])]);
}

/** A read-only query over the discovered tables (server-grounded), else over a common example schema. */
function sql(rng: Rng, values: ServerValues | undefined): SemanticValue {
  const discovered = values && values.tables.size > 0;
  const tables = discovered ? Object.fromEntries(values.tables) : pools.FALLBACK_TABLES;
  const table = rng.pick(Object.keys(tables));
  const columns = tables[table]!;
  const limit = rng.pick([5, 10, 20]);
  const shapes = [`SELECT * FROM ${table} LIMIT ${limit}`, `SELECT COUNT(*) FROM ${table}`];
  if (columns.length > 0) {
    const picked = rng.shuffle([...columns]).slice(0, Math.min(columns.length, rng.int(1, 3)));
    shapes.push(`SELECT ${picked.join(", ")} FROM ${table} ORDER BY ${picked[0]} LIMIT ${limit}`);
  }
  return { value: rng.pick(shapes), source: discovered ? "server" : "semantic" };
}

function uuid(rng: Rng): string {
  const hex = (n: number) => Array.from({ length: n }, () => rng.int(0, 15).toString(16)).join("");
  return `${hex(8)}-${hex(4)}-4${hex(3)}-${"89ab"[rng.int(0, 3)]}${hex(3)}-${hex(12)}`;
}

const PERSON_NAMES: ReadonlySet<string> = new Set(pools.PEOPLE);
const POOL_TYPES: ReadonlySet<string> = new Set(pools.ENTITY_TYPES);

/**
 * A copy of drawn arguments where an entity named after a person from the pool has the type
 * "person" (a type drawn from the pool, never one the server showed): "Ada, a company" reads wrong.
 */
export function withFittingTypes<T>(value: T): T {
  if (Array.isArray(value)) return value.map(withFittingTypes) as T;
  if (!value || typeof value !== "object") return value;
  const out = Object.fromEntries(Object.entries(value).map(([k, v]) => [k, withFittingTypes(v)]));
  const name = Object.entries(out).find(([k, v]) => /^(entity_?)?name$/i.test(k) && typeof v === "string")?.[1] as
    string | undefined;
  const typeKey = Object.keys(out).find((k) => /^entity_?type$/i.test(k));
  if (name && typeKey && PERSON_NAMES.has(name) && POOL_TYPES.has(out[typeKey] as string)) out[typeKey] = "person";
  return out as T;
}
