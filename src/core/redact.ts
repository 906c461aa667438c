/**
 * The one redaction layer: what mcp-forge writes (samples, logs, state, reports, bundles) never
 * holds a secret. Two kinds are replaced by {@link REDACTED}: values the user handed us as secrets
 * (registered when --env, --header and --url are read, plus this process's secret-named
 * variables), and text shaped like a secret (known key prefixes, bearer tokens, URL passwords,
 * high-entropy values assigned to a secret-named key).
 */
export const REDACTED = "[redacted]";

/** Shortest value taken as a secret: shorter ones (DEBUG=1) would blank out ordinary text. */
const MIN_SECRET_LENGTH = 8;
const SECRET_NAME = /(key|token|secret|passw|credential|auth|cookie|session|bearer)/i;

const registered = new Set<string>();

/** A value that must never be written: kept for this process's lifetime. */
export function registerSecret(value: string): void {
  if (value.length >= MIN_SECRET_LENGTH) registered.add(value);
}

/**
 * Registers what a server's settings hold that may be secret: `--env` values under a secret-looking
 * name or high in entropy, and credentials inside any value (a database URL's password).
 */
export function registerEnvSecrets(env: Readonly<Record<string, string>>): void {
  for (const [name, value] of Object.entries(env)) {
    if (SECRET_NAME.test(name) || (looksRandom(value) && !looksLikePath(value))) registerSecret(value);
    registerUrlCredentials(value);
  }
}

/** `--header` values that carry credentials: under an auth-looking name, or `<scheme> <token>`. */
export function registerHeaderSecrets(headers: Readonly<Record<string, string>>): void {
  for (const [name, value] of Object.entries(headers)) {
    const scheme = /^(\S+)\s+(\S+)$/.exec(value);
    if (SECRET_NAME.test(name) || name.toLowerCase() === "authorization" || looksRandom(value)) registerSecret(value);
    if (scheme) registerSecret(scheme[2]!);
  }
}

/** The user name and password of a URL (and long query values, often tokens). */
export function registerUrlCredentials(text: string): void {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return;
  }
  for (const part of [url.password, url.username]) {
    if (part === "") continue;
    registerSecret(part);
    registerSecret(safeDecode(part));
  }
  for (const [name, value] of url.searchParams) if (SECRET_NAME.test(name) || looksRandom(value)) registerSecret(value);
}

/** A URL as it may be shown or stored: no password (user:[redacted]@host), no token-like query value. */
export function redactUrl(url: string): string {
  return redactSecrets(url);
}

/** `text` without the values registered as secrets, nor those of this process's secret-named variables. */
export function redactKnownSecrets(text: string, env: NodeJS.ProcessEnv = process.env): string {
  return replaceKnown(text, knownSecrets(env));
}

/** The registered values and the environment's secret-named ones, longest first (a token inside a header value goes with the value), JSON-escaped forms too. */
function knownSecrets(env: NodeJS.ProcessEnv): string[] {
  const values = new Set(registered);
  for (const [name, value] of Object.entries(env))
    if (value && value.length >= MIN_SECRET_LENGTH && SECRET_NAME.test(name)) values.add(value);
  for (const value of [...values]) values.add(JSON.stringify(value).slice(1, -1));
  return [...values].sort((a, b) => b.length - a.length);
}

function replaceKnown(text: string, known: readonly string[]): string {
  let out = text;
  for (const value of known) if (out.includes(value)) out = out.split(value).join(REDACTED);
  return out;
}

/* Shapes of secrets, written to run in linear time (server output can be megabytes). */
const PRIVATE_KEY = /-----BEGIN [A-Z ]{0,40}PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]{0,40}PRIVATE KEY-----|$)/g;
const PREFIXED =
  /\b(?:sk-(?:proj-|ant-|live-)?[A-Za-z0-9_-]{20,}|(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{16,}|gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{30,}|xox[abposr]-[A-Za-z0-9-]{10,}|(?:AKIA|ASIA)[0-9A-Z]{16}|AIza[0-9A-Za-z_-]{35}|glpat-[A-Za-z0-9_-]{20,}|hf_[A-Za-z0-9]{30,}|npm_[A-Za-z0-9]{36}|eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,})/g;
const AUTH_SCHEME = /\b(Bearer|Basic|Token)(\s+)([A-Za-z0-9._~+/-]{8,}=*)/gi;
const URL_PASSWORD = /(?<![a-z0-9+.-])([a-z][a-z0-9+.-]{0,20}:\/\/[^\s:@/"'\\<>]{0,256}:)([^\s@/"'\\<>]{1,256})(@)/gi;
/** A name (checked for a secret word in the code) assigned a value: `api_key=…`, `"token": "…"`. */
const ASSIGNMENT = /(?<![A-Za-z0-9_.-])([A-Za-z0-9_.-]{1,64})(["']?\s{0,4}[:=]\s{0,4}["']?)([^\s"',;&<>{}[\]]{12,})/g;

/** `text` with every secret replaced: the registered values and everything shaped like a secret. */
export function redactSecrets(text: string, env: NodeJS.ProcessEnv = process.env): string {
  return redactShapes(replaceKnown(text, knownSecrets(env)));
}

function redactShapes(text: string): string {
  if (text.length < MIN_SECRET_LENGTH) return text;
  return text
    .replace(PRIVATE_KEY, REDACTED)
    .replace(PREFIXED, REDACTED)
    .replace(AUTH_SCHEME, (_m, scheme: string, space: string) => `${scheme}${space}${REDACTED}`)
    .replace(URL_PASSWORD, (_m, head: string, _pw: string, at: string) => `${head}${REDACTED}${at}`)
    .replace(ASSIGNMENT, (whole, name: string, sign: string, value: string) =>
      SECRET_NAME.test(name) && looksRandom(value) && !value.includes("://") ? `${name}${sign}${REDACTED}` : whole,
    );
}

/** Redacts every string in a JSON-like value (keys too), keeping its shape. */
export function redactValue<T>(value: T, known: readonly string[] = knownSecrets(process.env)): T {
  if (typeof value === "string") return redactShapes(replaceKnown(value, known)) as T;
  if (Array.isArray(value)) return value.map((v: unknown) => redactValue(v, known)) as T;
  if (value && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [redactValue(k, known), redactValue(v, known)]),
    ) as T;
  }
  return value;
}

const looksLikePath = (value: string) => /^(?:[/~.]|[A-Za-z]:[\\/])/.test(value);

/**
 * A token rather than words: 12+ characters without spaces mixing letters with digits or symbols,
 * at least 3 bits of Shannon entropy per character.
 */
function looksRandom(value: string): boolean {
  if (value.length < 12 || /\s/.test(value) || !/[A-Za-z]/.test(value) || !/[^A-Za-z]/.test(value)) return false;
  const counts = new Map<string, number>();
  for (const c of value) counts.set(c, (counts.get(c) ?? 0) + 1);
  let bits = 0;
  for (const n of counts.values()) bits -= (n / value.length) * Math.log2(n / value.length);
  return bits >= 3;
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
