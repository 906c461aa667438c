import { oneLine } from "../../../core/untrusted-text.js";
import { plural, singular } from "./phrasing.js";
import { humanize } from "./text.js";

/**
 * A tool result said in words, the way an assistant reports it: counts, names and the field that
 * matters, never the raw result. "I found 2 entities (Ann and Bob) and no relations."
 */
export function describeResult(result: string): string {
  const text = result.trim();
  if (text === "") return "It came back empty.";
  const json = parseJson(text);
  if (json !== undefined) return describeJson(json.value);
  const media = /^\[(image|audio|resource|resource link): ([^\]]*)\]$/.exec(text);
  if (media) return `I got ${MEDIA[media[1]!]}${media[2] ? ` (${media[2]})` : ""}.`;
  const listing = describeListing(text);
  if (listing) return listing;
  const lines = text.split("\n").filter((l) => l.trim() !== "");
  if (lines.length > 1 && lines.every((l) => /^\/\S+$/.test(l.trim()))) {
    return `I found ${count(lines.length, "match")}: ${names(lines.map((l) => l.trim().split("/").pop() ?? l))}.`;
  }
  if (/[{[]|"\w+"\s*:/.test(text))
    return lines.length > 1 ? `It returned ${count(lines.length, "line")} of data.` : "It confirmed it.";
  const first = oneLine(lines[0] ?? "", 80);
  if (lines.length === 1 && text.length <= 100) return `It says: "${first.replace(/[.]$/, "")}".`;
  if (lines.length <= 5 && text.length <= 120)
    return `It has ${count(lines.length, "line")}: ${names(lines.map((l) => `"${oneLine(l, 40)}"`))}.`;
  return `It has ${count(lines.length, "line")}, starting with "${first.slice(0, 60)}${first.length > 60 ? "…" : ""}".`;
}

const MEDIA: Record<string, string> = {
  image: "an image",
  audio: "an audio clip",
  resource: "the content as a resource",
  "resource link": "a link to the resource",
};

function parseJson(text: string): { value: unknown } | undefined {
  if (!/^[[{"]|^-?\d|^(true|false|null)$/.test(text)) return undefined;
  try {
    return { value: JSON.parse(text) };
  } catch {
    return undefined;
  }
}

const count = (n: number, noun: string) => `${n === 0 ? "no" : n} ${plural(noun, n)}`;

/** Up to four names, then how many more. */
function names(items: string[]): string {
  const shown = items.slice(0, 4).map((s) => oneLine(s, 40).replace(/[{}[\]]/g, ""));
  const more = items.length - shown.length;
  if (more > 0) return `${shown.join(", ")} and ${more} more`;
  return shown.length <= 1 ? (shown[0] ?? "") : `${shown.slice(0, -1).join(", ")} and ${shown[shown.length - 1]}`;
}

const NAME_FIELDS = ["name", "title", "path", "id", "key", "label", "entityName", "from"];

function nameOf(item: unknown): string | undefined {
  if (typeof item === "string" || typeof item === "number") return String(item);
  if (!item || typeof item !== "object" || Array.isArray(item)) return undefined;
  const o = item as Record<string, unknown>;
  if (typeof o.from === "string" && typeof o.to === "string") {
    const rel = Object.entries(o).find(([k, v]) => /relation|type/i.test(k) && typeof v === "string")?.[1];
    return `${o.from} ${typeof rel === "string" ? humanize(rel) : "→"} ${o.to}`;
  }
  for (const key of NAME_FIELDS) if (typeof o[key] === "string" || typeof o[key] === "number") return String(o[key]);
  return undefined;
}

function describeList(items: unknown[], noun: string): string {
  if (items.length === 0) return count(0, noun);
  const named = items.map(nameOf).filter((n): n is string => n !== undefined);
  return named.length > 0 ? `${count(items.length, noun)} (${names(named)})` : count(items.length, noun);
}

function describeJson(value: unknown): string {
  if (Array.isArray(value)) return value.length === 0 ? "Nothing came back." : `I got ${describeList(value, "item")}.`;
  if (value === null) return "It returned nothing.";
  if (typeof value !== "object") return `The result is ${oneLine(String(value), 80).replace(/[{}[\]]/g, "")}.`;
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length === 0) return "It returned nothing.";
  const lists = entries.filter(([, v]) => Array.isArray(v)) as Array<[string, unknown[]]>;
  const scalars = entries.filter(([, v]) => v !== null && typeof v !== "object");
  const parts: string[] = [];
  if (lists.length > 0)
    parts.push(
      `I found ${lists
        .slice(0, 3)
        .map(([k, v]) => describeList(v, singular(humanize(k))))
        .join(" and ")}`,
    );
  const facts = scalars
    .slice(0, 3)
    .map(([k, v]) => `${humanize(k)} is ${oneLine(String(v), 60).replace(/[{}[\]]/g, "")}`);
  if (facts.length > 0) parts.push(`${parts.length > 0 ? "" : "The "}${facts.join(", ")}`);
  if (parts.length === 0)
    parts.push(`It returned ${count(entries.length, "field")} (${names(entries.map(([k]) => humanize(k)))})`);
  const out = parts.join("; ");
  return `${out.charAt(0).toUpperCase()}${out.slice(1)}.`;
}

/** A directory listing in the common "[FILE] name" / "[DIR] name" form, counted and named. */
function describeListing(text: string): string | undefined {
  const entries = [...text.matchAll(/^\s*\[(FILE|DIR)\]\s+(.+?)\s*$/gm)];
  if (entries.length === 0) return undefined;
  const files = entries.filter((e) => e[1] === "FILE").map((e) => e[2]!.replace(/\s{2,}.*$/, ""));
  const dirs = entries.filter((e) => e[1] === "DIR").map((e) => e[2]!.replace(/\s{2,}.*$/, ""));
  const parts = [
    files.length > 0 ? count(files.length, "file") : "",
    dirs.length > 0 ? count(dirs.length, "folder") : "",
  ].filter(Boolean);
  return `It holds ${parts.join(" and ")}: ${names([...dirs, ...files])}.`;
}

/** The reason an error gives, without JSON or stack detail, short enough to quote. */
export function errorReason(error: string): string {
  const cut = error.search(/[{[]/);
  const text = oneLine(cut > 0 ? error.slice(0, cut) : cut === 0 ? "" : error, 200)
    .replace(/^(mcp error -?\d+:\s*)/i, "")
    .replace(/^error( executing tool \S+)?:\s*/i, "")
    .replace(/[:.\s]+$/, "");
  if (text === "") return "an error without a message";
  return text.length > 90 ? `${text.slice(0, 89).trimEnd()}…` : text;
}

/** What to do about an error, from what it says. */
export function errorAdvice(error: string, primaryLabel: string | undefined): string {
  const e = error.toLowerCase();
  const what = primaryLabel ? `the ${primaryLabel}` : "the details";
  if (/(not found|no such|does not exist|doesn't exist|enoent|unknown)/.test(e))
    return `Check ${what} and try again, or ask me to list what exists first.`;
  if (/(denied|outside|not allowed|forbidden|unauthori|permission)/.test(e))
    return "That is outside what I'm allowed to touch; pick something inside the allowed locations.";
  if (/(timed? ?out|unavailable|503|busy|try again later)/.test(e))
    return "The service seems busy; try again in a moment.";
  if (/(rate limit|too many)/.test(e)) return "We hit a rate limit; wait a minute before trying again.";
  if (/(invalid|must be|expected|required|validation|malformed)/.test(e))
    return `One of the values wasn't accepted; check ${what}.`;
  if (/(already exists|exists)/.test(e)) return "Something with that name already exists; choose another name.";
  return `You could check ${what} and try again.`;
}
