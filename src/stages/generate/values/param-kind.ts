/** What a parameter holds, read from its name and description: the key semantic providers and server values share. */
export type ParamKind =
  | "timezone"
  | "time"
  | "datetime"
  | "date"
  | "duration"
  | "city"
  | "country"
  | "language"
  | "currency"
  | "url"
  | "email"
  | "sql"
  | "gitref"
  | "repo"
  | "dir"
  | "path"
  | "glob"
  | "id"
  | "query"
  | "person"
  | "entity_type"
  | "relation"
  | "fact"
  | "message"
  | "quantity";

/** Rules on the snake-cased name and on the description, first match wins; a rule holds when either test does. */
const RULES: Array<{ kind: ParamKind; name?: RegExp; description?: RegExp; numeric?: boolean }> = [
  { kind: "timezone", name: /(^|_)(time_?zone|tz)(_|$)/, description: /\btime ?zone\b|\bIANA\b/i },
  { kind: "sql", name: /(^|_)(sql|statement)(_|$)/, description: /\bSQL (?:query|statement|command)\b|\bSELECT\b/i },
  { kind: "url", name: /(^|_)(url|uri|link|href|website|endpoint)s?(_|$)/ },
  { kind: "email", name: /(^|_)e_?mail(_|$)/ },
  { kind: "repo", name: /(^|_)repo(sitory)?(_|$)/ },
  { kind: "gitref", name: /(^|_)(branch(_name)?|refs?|revision|commit(_(sha|hash|id))?|sha)$/ },
  { kind: "glob", name: /(^|_)(glob|pattern)$/, description: /\bglob\b|wildcard/i },
  { kind: "dir", name: /(^|_)(dir|directory|folder)(_(path|name))?$/ },
  { kind: "path", name: /(^|_)path(s|_|$)|(^|_)file(_?name)?s?$|^(source|destination|src|dest)$/ },
  {
    kind: "datetime",
    name: /(^|_)(at|timestamp|datetime|date_time)$/,
    description: /\btimestamp\b|\bdate and time\b/i,
  },
  { kind: "date", name: /(^|_)(date|deadline|due|birthday|day)(_|$)|^(since|until)$/ },
  { kind: "time", name: /(^|_)time$/, description: /\btime of day\b/i },
  { kind: "duration", name: /(^|_)(duration|timeout|interval|delay|period|ttl)(_|$)/ },
  { kind: "city", name: /(^|_)(city|town|location|place|destination|origin)(_|$)/ },
  { kind: "country", name: /(^|_)country(_|$)/ },
  { kind: "language", name: /(^|_)(lang|language|locale)(_|$)/ },
  { kind: "currency", name: /(^|_)currency(_|$)/ },
  { kind: "id", name: /(^|_)(id|ids|identifier|uuid)$/ },
  { kind: "query", name: /(^|_)(query|search|keywords?|term|q|topic|subject)$/ },
  { kind: "relation", name: /(^|_)relation_?type$/, description: /\btype of (?:the )?relation/i },
  { kind: "entity_type", name: /(^|_)entity_?type$/, description: /\btype of (?:the )?entity/i },
  {
    kind: "person",
    name: /(^|_)(person|author|assignee|owner|contact|full_name|entity_name)$|^(from|to)$/,
    description:
      /\bname of (?:the |an? )?(?:entity|person|user|contact|author)\b|\b(?:entity|person|user|contact) names?\b/i,
  },
  { kind: "fact", name: /(^|_)(observations?|facts?|notes?|memo|remarks?)$/, description: /\bobservation/i },
  { kind: "message", name: /(^|_)(message|msg|text|body|content|contents|comment)$/ },
  {
    kind: "quantity",
    numeric: true,
    name: /(^|_)(limit|count|max|min|top|num|number|size|amount|quantity|page|depth|offset|lines|head|tail|days|hours|minutes|seconds|n|k)(_|$)/,
    description: /\b(?:number|amount|quantity|count|value)\b/i,
  },
];

/** "entityName", "entity-name" and "entity_name" all read "entity_name". */
export const snakeCase = (name: string) =>
  name
    .replace(/([a-z0-9])([A-Z])/g, "$1_$2")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "_")
    .replace(/^_|_$/g, "");

const cache = new Map<string, ParamKind | undefined>();

/** The kind of a parameter, or undefined when nothing about it is recognised; cached per name and description. */
export function paramKind(name: string, description: string | undefined, numeric: boolean): ParamKind | undefined {
  const key = `${numeric ? 1 : 0}\u0000${name}\u0000${description ?? ""}`;
  if (cache.has(key)) return cache.get(key);
  const snake = snakeCase(name);
  let kind: ParamKind | undefined;
  for (const rule of RULES) {
    if (rule.numeric !== undefined && rule.numeric !== numeric) continue;
    if (numeric && rule.kind !== "quantity" && rule.kind !== "duration" && rule.kind !== "id") continue;
    if (rule.name?.test(snake) || (description && rule.description?.test(description))) {
      kind = rule.kind;
      break;
    }
  }
  if (cache.size < 10_000) cache.set(key, kind);
  return kind;
}
