import { REDACTED, redactSecrets } from "../core/redact.js";
import type { ActionConfig } from "./inputs.js";

/** How the runner masks a secret in the log; the PR comment and artifacts use the same. */
const MASK = "***";

/** Values the log and the artifacts must never show: the token and credentials in the server URL. */
export function secretsOf(config: Pick<ActionConfig, "source">, env: NodeJS.ProcessEnv = process.env): string[] {
  const out: string[] = [];
  if (env.INPUT_GITHUB_TOKEN) out.push(env.INPUT_GITHUB_TOKEN);
  if (config.source.kind === "url") {
    const url = new URL(config.source.url);
    if (url.password) out.push(decodeURIComponent(url.password));
    if (url.username) out.push(decodeURIComponent(url.username));
    for (const value of url.searchParams.values()) if (value.length >= 8) out.push(value);
    for (const header of config.source.headers) {
      const value = header.slice(header.indexOf(":") + 1).trim();
      out.push(value, ...value.split(/\s+/).filter((part) => part.length >= 8));
    }
  }
  return out.filter((s) => s.length >= 4);
}

/**
 * Text with every secret replaced by `***`, as the runner masks the log: the given values, then
 * whatever the one redaction layer (core/redact.ts) finds (registered values, secret shapes).
 */
export function redact(text: string, secrets: readonly string[]): string {
  const given = [...secrets].sort((a, b) => b.length - a.length).reduce((t, s) => t.split(s).join(MASK), text);
  return redactSecrets(given).split(REDACTED).join(MASK);
}
