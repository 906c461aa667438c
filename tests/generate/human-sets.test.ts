import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { compileToolSchema } from "../../src/core/json-schema.js";
import { makeToolsFile, type McpTool, writeToolsFile } from "../../src/core/toolset.js";
import { type EvalSet, readEvalSet } from "../../src/eval/samples.js";
import { connectToServer, type McpConnection } from "../../src/mcp/connect.js";
import { listAllTools } from "../../src/mcp/list-tools.js";
import { textJaccard } from "../../src/samples/near-dup.js";
import { userText } from "../../src/samples/sample.js";
import { generateDataset } from "../../src/stages/generate/generate.js";
import * as pools from "../../src/stages/generate/values/pools.js";
import { NO_TOOL_TABLES } from "../../src/stages/generate/wording/no-tool-bank.js";
import { ROOT } from "../support/cli.js";

const human = join(ROOT, "tests/fixtures/human");
const serverCmd = (name: string, args = "") =>
  `node ${join(ROOT, "node_modules/@modelcontextprotocol", name, "dist/index.js")}${args ? ` ${args}` : ""}`;

interface Loaded {
  set: EvalSet;
  tools: McpTool[];
  connection: McpConnection;
}

let scratch: string;
const loaded: Record<string, Loaded> = {};

/** The set with `{{ROOT}}` replaced by the served directory, read as the evaluator reads it. */
async function load(name: string, command: string, env: Record<string, string>, servedRoot?: string): Promise<Loaded> {
  const connection = await connectToServer(
    { kind: "stdio", command, env },
    { timeoutMs: 30_000, logDir: join(scratch, "logs") },
  );
  const tools = await listAllTools(connection, { timeoutMs: 30_000 });
  let text = await readFile(join(human, `${name}.jsonl`), "utf8");
  if (servedRoot) text = text.replaceAll("{{ROOT}}", JSON.stringify(servedRoot).slice(1, -1));
  const path = join(scratch, `${name}.jsonl`);
  await writeFile(path, text);
  return { set: await readEvalSet(path, tools), tools, connection };
}

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), "forge-human-"));
  const served = join(scratch, "served");
  await cp(join(human, "files"), served, { recursive: true });
  const graph = join(scratch, "memory-graph.jsonl");
  await cp(join(human, "memory-graph.jsonl"), graph);
  loaded.memory = await load("memory", serverCmd("server-memory"), { MEMORY_FILE_PATH: graph });
  loaded.filesystem = await load("filesystem", serverCmd("server-filesystem", served), {}, served);
}, 60_000);

afterAll(async () => {
  for (const l of Object.values(loaded)) await l.connection.close();
  await rm(scratch, { recursive: true, force: true });
});

describe.each(["memory", "filesystem"])("the hand-written %s set", (name) => {
  it("has at least 40 requests: calls to many tools, and requests that need no tool", () => {
    const { set } = loaded[name]!;
    expect(set.cases.length).toBeGreaterThanOrEqual(40);
    const calls = set.cases.filter((c) => c.expectedCalls.length > 0);
    expect(calls.length).toBeGreaterThanOrEqual(30);
    expect(set.cases.length - calls.length).toBeGreaterThanOrEqual(8);
    expect(new Set(calls.map((c) => c.expectedCalls[0]!.function.name)).size).toBeGreaterThanOrEqual(8);
    expect(new Set(set.cases.map((c) => c.id)).size).toBe(set.cases.length);
    for (const c of set.cases) expect(c.scenario, c.id).toBe(c.expectedCalls.length > 0 ? "standard" : "no_tool");
  });

  it("calls only tools the server lists, with arguments (expected and acceptable) valid for their schemas", () => {
    const { set, tools } = loaded[name]!;
    const byName = new Map(tools.map((t) => [t.name, t]));
    for (const c of set.cases) {
      c.expectedCalls.forEach((call, i) => {
        const tool = byName.get(call.function.name);
        expect(tool, `${c.id}: ${call.function.name}`).toBeDefined();
        const validate = compileToolSchema(tool!.inputSchema, call.function.name);
        expect(validate(call.function.arguments), `${c.id}: ${JSON.stringify(validate.errors)}`).toBe(true);
        for (const [param, options] of Object.entries(c.acceptable?.[i] ?? {})) {
          expect(param in (tool!.inputSchema.properties as object), `${c.id}: ${param}`).toBe(true);
          for (const option of options)
            expect(
              validate({ ...call.function.arguments, [param]: option }),
              `${c.id}: ${param} = ${JSON.stringify(option)}`,
            ).toBe(true);
        }
      });
      if (c.expectedCalls.length === 0) expect(c.prompt.at(-1)?.role, c.id).toBe("user");
    }
  });

  it("every read-only call succeeds on the real server over the shipped fixture", async () => {
    const { set, tools, connection } = loaded[name]!;
    const readOnly = new Set(tools.filter((t) => t.annotations?.readOnlyHint === true).map((t) => t.name));
    let ran = 0;
    for (const c of set.cases) {
      const call = c.expectedCalls[0];
      if (!call || !readOnly.has(call.function.name)) continue;
      const result = (await connection.client.callTool({
        name: call.function.name,
        arguments: call.function.arguments,
      })) as { isError?: boolean; content: Array<{ type: string; text?: string }> };
      const text = result.content.map((p) => p.text ?? p.type).join("\n");
      expect(result.isError ?? false, `${c.id}: ${text}`).toBe(false);
      for (const entity of (call.function.arguments.names as string[] | undefined) ?? [])
        expect(text, c.id).toContain(entity);
      ran++;
    }
    expect(ran).toBeGreaterThanOrEqual(10);
  });

  it("is not what the generator writes: no generated request is close to a hand-written one", async () => {
    const { set, tools } = loaded[name]!;
    const toolsPath = join(scratch, `${name}-tools.json`);
    await writeToolsFile(
      toolsPath,
      makeToolsFile({ server: { name, version: "0" }, protocolVersion: "2025-06-18", source: { kind: "file" }, tools }),
    );
    const result = await generateDataset({
      workdir: join(scratch, `${name}-gen`),
      toolsPath,
      samples: 1000,
      seed: 1,
      gate: false,
      progress: "quiet",
    });
    const generated: string[] = [];
    for (const path of [result.trainPath, result.evalPath]) {
      for (const line of (await readFile(path, "utf8")).trim().split("\n"))
        generated.push(userText(JSON.parse(line).messages));
    }
    for (const c of set.cases) {
      const request = userText(c.prompt);
      const closest = Math.max(...generated.map((g) => textJaccard(request, g)));
      expect(closest, `${c.id}: ${request}`).toBeLessThan(0.5);
    }
  });
});

/** Keys whose values are the schema's own vocabulary (a type, a relation, a sort order, a glob), not names or facts. */
const VOCABULARY_KEYS = /^(entityType|relationType|sortBy|pattern|excludePatterns)$/;

/** Every argument value of the hand-written sets (expected and acceptable) and of the graph they are graded on; paths as their segments. */
async function humanValues(): Promise<string[]> {
  const out = new Set<string>();
  const walk = (value: unknown, key = ""): void => {
    if (VOCABULARY_KEYS.test(key)) return;
    if (typeof value === "string") {
      if (value.includes("{{ROOT}}"))
        value
          .replace("{{ROOT}}", "")
          .split("/")
          .forEach((s) => out.add(s));
      else out.add(value.trim());
    } else if (Array.isArray(value)) value.forEach((v) => walk(v, key));
    else if (value && typeof value === "object") for (const [k, v] of Object.entries(value)) walk(v, k);
  };
  for (const name of ["memory", "filesystem"]) {
    for (const line of (await readFile(join(human, `${name}.jsonl`), "utf8")).trim().split("\n")) {
      const c = JSON.parse(line);
      for (const m of c.messages) for (const call of m.tool_calls ?? []) walk(call.function.arguments);
      walk(c.acceptable ?? []);
    }
  }
  for (const line of (await readFile(join(human, "memory-graph.jsonl"), "utf8")).trim().split("\n"))
    walk(JSON.parse(line));
  return [...out].filter((v) => v.replace(/[^\p{L}]/gu, "").length >= 3 && !/\*/.test(v));
}

const MONTH_NAMES = new Set(NO_TOOL_TABLES.MONTHS.map(([m]) => m));

/** Every string the generator's value pools and banks hold, read through their exports. */
function poolValues(): string[] {
  const out: string[] = [];
  const walk = (v: unknown): void => {
    if (typeof v === "string") out.push(v);
    else if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === "object") {
      for (const [k, x] of Object.entries(v)) {
        out.push(k);
        walk(x);
      }
    }
  };
  walk(Object.values(pools));
  walk(Object.values(NO_TOOL_TABLES));
  // Month names are the calendar, not a name or fact of anyone's.
  return out.filter((s) => !MONTH_NAMES.has(s));
}

const words = (s: string) =>
  s
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter(Boolean);
const holdsWord = (text: string, word: string, caseSensitive = false) =>
  new RegExp(
    `(^|[^\\p{L}\\p{N}])${word.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}($|[^\\p{L}\\p{N}])`,
    caseSensitive ? "u" : "iu",
  ).test(text);
function jaccard(a: string, b: string): number {
  const [x, y] = [new Set(words(a)), new Set(words(b))];
  const shared = [...x].filter((w) => y.has(w)).length;
  return shared / (x.size + y.size - shared);
}
/** A name as people write one: one to four capitalised words. */
const isProperName = (s: string) => /^\p{Lu}\p{L}+( \p{Lu}\p{L}+){0,3}$/u.test(s);

describe("the generator's pools and banks hold nothing from the hand-written sets", () => {
  it("no human value, name or fact (or a close variant of one) is a generator value", async () => {
    const human = await humanValues();
    const pool = poolValues();
    expect(human.length).toBeGreaterThan(50);
    expect(pool.length).toBeGreaterThan(100);
    const leaks: string[] = [];
    for (const h of human) {
      for (const p of pool) {
        const same = holdsWord(p, h) || ((/^\p{Lu}/u.test(p) || /\s/.test(p)) && p.length >= 4 && holdsWord(h, p));
        const close = words(h).length >= 2 && words(p).length >= 2 && jaccard(h, p) >= 0.5;
        const sharesName =
          isProperName(h) && h.split(" ").some((token) => token.length >= 3 && holdsWord(p, token, true));
        if (same || close || sharesName) leaks.push(`${JSON.stringify(h)} ~ ${JSON.stringify(p)}`);
      }
    }
    expect(leaks).toEqual([]);
  });
});
