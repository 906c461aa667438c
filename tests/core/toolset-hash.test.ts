import { readFileSync } from "node:fs";
import { join } from "node:path";

import fc from "fast-check";
import { describe, expect, it } from "vitest";

import { canonicalJson, toolsetHash } from "../../src/core/canonical.js";
import { TOOL_FIXTURES } from "../support/cli.js";

const TOOLS: unknown[] = JSON.parse(readFileSync(join(TOOL_FIXTURES, "mcp-tools.json"), "utf8")).tools;

/** The same value with every object's keys in a different order. */
function reorderKeys(value: unknown, seed: number): unknown {
  if (Array.isArray(value)) return value.map((v, i) => reorderKeys(v, seed + i));
  if (!value || typeof value !== "object") return value;
  const entries = Object.entries(value);
  const rotated = entries.map((_, i) => entries[(i + seed) % entries.length]!).reverse();
  return Object.fromEntries(rotated.map(([k, v]) => [k, reorderKeys(v, seed + 1)]));
}

/** Every path to a leaf (string, number, boolean) of a JSON value. */
function leafPaths(value: unknown, path: Array<string | number> = []): Array<Array<string | number>> {
  if (Array.isArray(value)) return value.flatMap((v, i) => leafPaths(v, [...path, i]));
  if (value && typeof value === "object") return Object.entries(value).flatMap(([k, v]) => leafPaths(v, [...path, k]));
  return [path];
}

function withLeafChanged(root: unknown, path: Array<string | number>): unknown {
  const copy = structuredClone(root) as Record<string | number, unknown>;
  let node = copy;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
  const last = path[path.length - 1]!;
  const leaf = node[last];
  node[last] = typeof leaf === "string" ? `${leaf}!` : typeof leaf === "number" ? leaf + 1 : !leaf;
  return copy;
}

describe("toolsetHash", () => {
  it("is the contract's format: sha256 over the canonical JSON", () => {
    expect(toolsetHash(TOOLS)).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(canonicalJson({ b: [1, { d: 1, c: "x" }], a: null })).toBe('{"a":null,"b":[1,{"c":"x","d":1}]}');
  });

  it("does not change with key order or whitespace", () => {
    const hash = toolsetHash(TOOLS);
    for (const seed of [1, 2, 3, 7]) expect(toolsetHash(reorderKeys(TOOLS, seed) as unknown[])).toBe(hash);
    for (const indent of [0, 1, 4, "\t"])
      expect(toolsetHash(JSON.parse(JSON.stringify(TOOLS, null, indent)))).toBe(hash);
  });

  it("does not change with key order or whitespace, for any JSON", () => {
    fc.assert(
      fc.property(fc.array(fc.jsonValue()), fc.nat(), (tools, seed) => {
        const reformatted = JSON.parse(JSON.stringify(reorderKeys(tools, seed), null, 2)) as unknown[];
        return toolsetHash(reformatted) === toolsetHash(JSON.parse(JSON.stringify(tools)));
      }),
    );
  });

  it("changes when any name, description or schema detail changes, each change to its own hash", () => {
    const paths = leafPaths(TOOLS);
    expect(paths.length).toBeGreaterThanOrEqual(20);
    const hashes = new Set([
      toolsetHash(TOOLS),
      ...paths.map((p) => toolsetHash(withLeafChanged(TOOLS, p) as unknown[])),
    ]);
    expect(hashes.size).toBe(paths.length + 1);
  });

  it("changes when a property, a tool or a schema keyword is added or removed", () => {
    const hash = toolsetHash(TOOLS);
    type Schema = {
      type?: string;
      properties: Record<string, object>;
      required?: string[];
      additionalProperties?: boolean;
    };
    type Tool = { name: string; description?: string; inputSchema: Schema };
    const edits: Array<(tools: Tool[]) => void> = [
      (t) => (t[0]!.inputSchema.properties.country = { type: "string" }),
      (t) => delete t[0]!.inputSchema.properties.units,
      (t) => (t[1]!.inputSchema.required = []),
      (t) => (t[2]!.inputSchema.additionalProperties = false),
      (t) => delete t[2]!.description,
      (t) => t.pop(),
      (t) => t.push({ name: "extra", inputSchema: { type: "object", properties: {} } }),
    ];
    for (const edit of edits) {
      const copy = structuredClone(TOOLS) as Tool[];
      edit(copy);
      expect(toolsetHash(copy)).not.toBe(hash);
    }
  });
});
