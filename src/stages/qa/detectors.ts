/**
 * Detectors for text a person would not write or want to read: JSON in a request, a tool's
 * identifier in a request, an answer that dumps the tool's result. Error text kept as a success is
 * told by looksLikeError (src/samples/error-text.ts), the generator's own test.
 */

/** The JSON objects and arrays written in a text (a JSON key alone counts too: `{"name": …` cut short). */
export function jsonLiterals(text: string): string[] {
  const found: string[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c !== "{" && c !== "[") continue;
    const end = matchingBracket(text, i);
    const literal = end > i ? text.slice(i, end + 1) : undefined;
    if (literal !== undefined && isJsonContainer(literal)) {
      found.push(literal);
      i = end;
    } else if (c === "{" && JSON_KEY.test(text.slice(i, i + 200))) {
      found.push(text.slice(i, i + 40));
    }
  }
  return found;
}

const JSON_KEY = /^\{\s*"[^"\n]{0,80}"\s*:/;

/** The index of the bracket that closes the one at `start` (strings respected), or -1. */
function matchingBracket(text: string, start: number): number {
  const stack: string[] = [];
  let inString = false;
  for (let i = start; i < text.length; i++) {
    const c = text[i]!;
    if (inString) {
      if (c === "\\") i++;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') inString = true;
    else if (c === "{" || c === "[") stack.push(c === "{" ? "}" : "]");
    else if (c === "}" || c === "]") {
      if (stack.pop() !== c) return -1;
      if (stack.length === 0) return i;
    }
  }
  return -1;
}

/**
 * An object, or an array that is plainly data: empty, or with a string, object or array in it, or
 * several items. `[1]` and `[2023]` (footnotes, years) are prose.
 */
function isJsonContainer(literal: string): boolean {
  let value: unknown;
  try {
    value = JSON.parse(literal);
  } catch {
    return false;
  }
  if (!Array.isArray(value)) return typeof value === "object" && value !== null;
  return value.length !== 1 || typeof value[0] !== "number";
}

/**
 * Whether a tool name reads as an identifier rather than a word: it has a separator, a digit or
 * an inner capital (`search_nodes`, `get-sum`, `readGraph`). A plain word (`echo`) is just a verb.
 */
export function isIdentifierLike(name: string): boolean {
  return /[_\-.:/\d]/.test(name) || /[a-z][A-Z]/.test(name);
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** Matches the identifier-like names among `names` as whole tokens, case-insensitively. */
export function toolNameMatcher(names: readonly string[]): (text: string) => string[] {
  const ids = names.filter(isIdentifierLike);
  if (ids.length === 0) return () => [];
  const re = new RegExp(`(?<![\\w-])(${ids.map(escapeRe).join("|")})(?![\\w-])`, "gi");
  return (text) => [...new Set([...text.matchAll(re)].map((m) => m[1]!))];
}

/** A run of the tool's result this long, copied into the answer, is a dump rather than a report. */
export const ECHO_RUN = 120;

/**
 * How the answer echoes the result, or undefined: a JSON literal in the answer, or a verbatim run
 * of at least ECHO_RUN characters of the result. Any run that long contains one of the answer's
 * aligned windows of half the length, so only those are looked up.
 */
export function answerEcho(answer: string, result: string): string | undefined {
  const json = jsonLiterals(answer)[0];
  if (json !== undefined) return `JSON in the answer: ${json.slice(0, 60)}`;
  if (result.length < ECHO_RUN) return undefined;
  const half = ECHO_RUN / 2;
  for (let i = 0; i + half <= answer.length; i += half) {
    const at = result.indexOf(answer.slice(i, i + half));
    if (at < 0) continue;
    let start = i;
    let from = at;
    while (start > 0 && from > 0 && answer[start - 1] === result[from - 1]) [start, from] = [start - 1, from - 1];
    let length = 0;
    while (
      start + length < answer.length &&
      from + length < result.length &&
      answer[start + length] === result[from + length]
    )
      length++;
    if (length >= ECHO_RUN) return `${length} characters of the result copied verbatim`;
  }
  return undefined;
}
