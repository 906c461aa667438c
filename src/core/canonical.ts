import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";

/** JSON with object keys sorted and no whitespace, so equal values give equal text. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value) ?? "null";
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v === undefined ? null : v)).join(",")}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
}

export function sha256(text: string | Uint8Array): string {
  return createHash("sha256").update(text).digest("hex");
}

/** A file's content hash as state.json records it: `sha256:<hex>`. */
export async function fileHash(path: string): Promise<string> {
  return `sha256:${sha256(await readFile(path))}`;
}

/** The contract's `toolsetHash`: sha256 over the canonical JSON of the tools array. */
export function toolsetHash(tools: readonly unknown[]): string {
  return `sha256:${sha256(canonicalJson(tools))}`;
}
