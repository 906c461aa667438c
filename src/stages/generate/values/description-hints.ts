import type { Rng } from "../rng.js";
import { TIMEZONES } from "./pools.js";

/** Formats a parameter description can name, each with a generator and a check. */
export type HintFormat = "hh:mm" | "hh:mm:ss" | "date" | "date-time" | "month" | "timezone" | "cents" | "unix-seconds";

/** What a description says about its value: examples it quotes and a format it names. */
export interface DescriptionHints {
  examples: string[];
  format?: HintFormat;
}

const EMPTY: DescriptionHints = { examples: [] };

/** Where examples start: "e.g.", "eg:", "for example", "for instance", "such as", "example(s):", "like" before a quote. */
const EXAMPLE_LEAD =
  /(?<![\w/.-])(?:e\.\s?g\.?|eg(?=[,:])|for (?:example|instance)|such as|examples?\s*:|like(?=\s*['"“‘`]))[,:]?\s*/gi;
const QUOTED = /['"“‘`]([^'"”’`\n]{1,80})['"”’`]/g;
/** A clause ends at a closing parenthesis, a semicolon, or a sentence end. */
const CLAUSE_END = /\)|;|\.(?:\s|$)|\n/;

/** Formats, most specific first. */
const FORMAT_RULES: Array<[RegExp, HintFormat]> = [
  [/\bhh:mm:ss\b/i, "hh:mm:ss"],
  [/\bhh:mm\b|\b24[- ]hour\b/i, "hh:mm"],
  [/\byyyy-mm-dd(?:t|\s)hh/i, "date-time"],
  [/\byyyy-mm-dd\b/i, "date"],
  [/\byyyy-mm\b/i, "month"],
  [
    /\bISO[- ]?8601\b[^.]*\b(?:date[- ]?time|timestamp|date and time)\b|\b(?:date[- ]?time|timestamp)\b[^.]*\bISO[- ]?8601\b/i,
    "date-time",
  ],
  [/\bISO[- ]?8601\b[^.]*\bdate\b|\bdate\b[^.]*\bISO[- ]?8601\b/i, "date"],
  [/\bISO[- ]?8601\b/i, "date-time"],
  [/\bIANA\b|\btz ?database\b|\bOlson\b/i, "timezone"],
  [/\bin cents\b|\bcents\b/i, "cents"],
  [/\bunix (?:epoch |time)?(?:timestamp|seconds)\b|\bseconds since (?:the )?epoch\b/i, "unix-seconds"],
];

const cache = new Map<string, DescriptionHints>();

/** The examples and format a description gives; cached, since schemas repeat their descriptions. */
export function parseDescriptionHints(description: string | undefined): DescriptionHints {
  if (!description) return EMPTY;
  const cached = cache.get(description);
  if (cached) return cached;
  const hints: DescriptionHints = { examples: examplesIn(description) };
  const format = FORMAT_RULES.find(([re]) => re.test(description))?.[1];
  if (format) hints.format = format;
  if (cache.size < 10_000) cache.set(description, hints);
  return hints;
}

function examplesIn(text: string): string[] {
  const out: string[] = [];
  let consumed = 0;
  for (const lead of text.matchAll(EXAMPLE_LEAD)) {
    if (lead.index! < consumed) continue;
    const start = lead.index! + lead[0].length;
    const rest = text.slice(start);
    const quoted = [...rest.matchAll(QUOTED)];
    if (quoted.length > 0 && quoted[0]!.index === 0) {
      // Quoted examples run on while only separators lie between them: "'a', 'b' or 'c'".
      let end = 0;
      for (const q of quoted) {
        if (!/^(?:\s*(?:,|or|and|\/)?\s*)$/.test(rest.slice(end, q.index))) break;
        out.push(q[1]!.trim());
        end = q.index! + q[0].length;
      }
      consumed = start + end;
      continue;
    }
    const clause = rest.split(CLAUSE_END)[0]!;
    consumed = start + clause.length;
    for (const part of clause.split(/,\s*|\s+or\s+/)) {
      const value = part.trim();
      if (/^[^\s]{1,60}$/.test(value) && !/^(?:a|an|the)$/i.test(value)) out.push(value);
    }
  }
  return [...new Set(out.filter((v) => v.length > 0))];
}

const pad = (n: number) => String(n).padStart(2, "0");

/** A value in a named format (a string, or a whole number for cents and Unix seconds). */
export function valueForFormat(format: HintFormat, rng: Rng): string | number {
  const date = () => `${rng.int(2024, 2026)}-${pad(rng.int(1, 12))}-${pad(rng.int(1, 28))}`;
  switch (format) {
    case "hh:mm":
      return `${pad(rng.int(0, 23))}:${pad(rng.pick([0, 0, 15, 30, 45, rng.int(0, 59)]))}`;
    case "hh:mm:ss":
      return `${pad(rng.int(0, 23))}:${pad(rng.int(0, 59))}:${pad(rng.int(0, 59))}`;
    case "date":
      return date();
    case "date-time":
      return `${date()}T${pad(rng.int(0, 23))}:${pad(rng.pick([0, 15, 30, 45]))}:00Z`;
    case "month":
      return `${rng.int(2024, 2026)}-${pad(rng.int(1, 12))}`;
    case "timezone":
      return rng.pick(TIMEZONES);
    case "cents":
      return rng.pick([99, 250, 500, 1000, 1999, 4500, 12_000]) + rng.int(0, 1) * 100;
    case "unix-seconds":
      return 1_704_067_200 + rng.int(0, 3 * 365 * 86_400);
  }
}

const CHECKS: Record<HintFormat, (v: unknown) => boolean> = {
  "hh:mm": (v) => typeof v === "string" && /^(?:[01]\d|2[0-3]):[0-5]\d$/.test(v),
  "hh:mm:ss": (v) => typeof v === "string" && /^(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d$/.test(v),
  date: (v) =>
    typeof v === "string" &&
    /^\d{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])$/.test(v) &&
    !Number.isNaN(Date.parse(v)),
  "date-time": (v) =>
    typeof v === "string" &&
    /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2})?(?:Z|[+-]\d{2}:\d{2})$/.test(v) &&
    !Number.isNaN(Date.parse(v)),
  month: (v) => typeof v === "string" && /^\d{4}-(?:0[1-9]|1[0-2])$/.test(v),
  timezone: (v) => typeof v === "string" && isTimezone(v),
  cents: (v) => Number.isInteger(v) && (v as number) >= 0,
  "unix-seconds": (v) => Number.isInteger(v) && (v as number) > 0,
};

/** Whether a value is in a named format. */
export function fitsFormat(format: HintFormat, value: unknown): boolean {
  return CHECKS[format](value);
}

const zones = new Map<string, boolean>();

/** Whether the runtime knows a time zone name (IANA names and UTC); cached, as Intl is slow to ask. */
export function isTimezone(name: string): boolean {
  let known = zones.get(name);
  if (known === undefined) {
    try {
      new Intl.DateTimeFormat("en", { timeZone: name });
      known = name.length > 0;
    } catch {
      known = false;
    }
    if (zones.size < 1000) zones.set(name, known);
  }
  return known;
}

/** Whether a format's values are numbers rather than text. */
export const isNumericFormat = (format: HintFormat) => format === "cents" || format === "unix-seconds";
