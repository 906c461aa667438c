import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { looksLikeError } from "../../src/samples/error-text.js";
import { generateDataset, type GenerateResult } from "../../src/stages/generate/generate.js";

const fixture = (name: string) => `node ${resolve(import.meta.dirname, "../fixtures/servers", name)}`;

interface Row {
  scenario: string;
  resultSource?: string;
  resultIsError?: boolean;
  argSources?: Record<string, string>;
  serverState?: string;
  tool: string;
  args: Record<string, unknown>;
  result: string;
}

let scratch: string;
beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), "forge-truth-"));
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

async function run(
  name: string,
  server: string,
  samples: number,
  execute?: "all",
): Promise<{ result: GenerateResult; rows: Row[] }> {
  const result = await generateDataset({
    workdir: join(scratch, name),
    server: { kind: "stdio", command: fixture(server) },
    samples,
    seed: 5,
    progress: "quiet",
    gate: false,
    ...(execute ? { execute } : {}),
  });
  const rows: Row[] = [];
  for (const path of [result.trainPath, result.evalPath]) {
    for (const line of (await readFile(path, "utf8")).trim().split("\n")) {
      const s = JSON.parse(line);
      const i = s.messages.findIndex((m: { tool_calls?: unknown[] }) => m.tool_calls);
      if (i < 0) continue;
      const call = s.messages[i].tool_calls[0].function;
      rows.push({ ...s, tool: call.name, args: call.arguments, result: s.messages[i + 1].content });
    }
  }
  return { result, rows };
}

describe("error text without isError", () => {
  it("is recognised in the forms servers use, and plain answers are not", () => {
    for (const text of [
      "Error: Only CREATE TABLE statements are allowed",
      "ERROR 1064 (42000): syntax",
      "ValueError: bad input",
      "Traceback (most recent call last):\n  File",
      "Failed to fetch weather",
      '{"error":"not found"}',
      '{"success":false,"message":"no"}',
      "[error] disk full",
      "Not found: entity x",
      "Invalid arguments",
      "Unauthorized",
      "Forbidden: the store is read-only",
      "MCP error -32602: Invalid params",
      'Exception in thread "main" java.lang.IllegalStateException',
      '{"err":"boom"}',
      '{"error":"timeout","trace":"at call (a.js:1)…',
    ]) {
      expect(looksLikeError(text), text).toBe(true);
    }
    for (const text of [
      "Error handling guide: chapter 2",
      "No matches found",
      '{"entities":[],"relations":[]}',
      '{"error":null,"result":3}',
      "The sum of 2 and 3 is 5.",
      "Errors: none",
      "Exception handling guide",
      "Found 2 invalid rows",
      '{"err":null,"result":1}',
      '{"error":null,"result":"a long answer…',
    ]) {
      expect(looksLikeError(text), text).toBe(false);
    }
  });

  it("property: an answer opening with 'Error:' is an error whatever follows; a JSON answer with a result is not", () => {
    fc.assert(fc.property(fc.string(), (rest) => looksLikeError(`Error: ${rest}`)));
    fc.assert(fc.property(fc.jsonValue(), (value) => !looksLikeError(JSON.stringify({ result: value }))));
  });
});

describe("execution that tells the truth", () => {
  it("error text without isError is an error: never a success sample, never a stub in its place", async () => {
    const { result, rows } = await run("sqlish", "sqlish.mjs", 80);
    const queries = rows.filter((r) => r.tool === "run_query");
    expect(queries.length).toBeGreaterThan(10);
    for (const r of queries) {
      expect(r.resultIsError, r.result).toBe(true);
      expect(r.scenario).toBe("error");
      expect(r.resultSource).toBe("server");
      expect(r.result).toBe("Error: Only CREATE TABLE statements are allowed");
    }
    for (const r of rows) if (!r.resultIsError) expect(looksLikeError(r.result), r.result).toBe(false);
    expect(result.serverSuccess.run_query?.succeeded).toBe(0);
    // The error that names the tables feeds later draws: most describe calls then name a real table.
    const described = rows.filter((r) => r.tool === "describe_table" && r.scenario !== "error");
    expect(described.length).toBeGreaterThan(5);
    for (const r of described) {
      expect(["customers", "invoices"]).toContain(r.args.table);
      expect(r.argSources?.table).toBe("server");
    }
    const tally = result.serverSuccess.describe_table!;
    expect(tally.succeeded / tally.calls).toBeGreaterThan(0.8);
  });

  it("a tool that says read-only but keeps state is found by a probe, and no sample sees another's state", async () => {
    const { result, rows } = await run("thinking", "thinking.mjs", 40);
    expect(result.discovery?.stateful).toEqual(["think"]);
    expect(result.serverRestarts).toBeGreaterThan(0);
    const thoughts = rows.filter((r) => r.tool === "think" && r.resultSource === "server");
    expect(thoughts.length).toBeGreaterThan(5);
    for (const r of thoughts) expect(JSON.parse(r.result)).toEqual({ thoughtHistoryLength: 1 });
    for (const r of rows) expect(["fresh", "reset"]).toContain(r.serverState);
  }, 120_000);

  it("with --execute all, a note saved in one sample is never listed in another", async () => {
    const { rows } = await run("thinking-all", "thinking.mjs", 30, "all");
    const saved = rows.filter((r) => r.tool === "add_note" && r.resultSource === "server");
    const listed = rows.filter((r) => r.tool === "list_notes" && r.resultSource === "server");
    expect(saved.length).toBeGreaterThan(3);
    expect(listed.length).toBeGreaterThan(3);
    for (const r of listed) expect(r.result).toBe("No notes yet.");
    expect(listed.some((r) => r.serverState === "reset")).toBe(true);
  }, 120_000);
});
