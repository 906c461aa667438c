import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { generateDataset } from "../../src/stages/generate/generate.js";
import { ROOT } from "../support/cli.js";

const serverCmd = (name: string, args = "") =>
  `node ${join(ROOT, "node_modules/@modelcontextprotocol", name, "dist/index.js")}${args ? ` ${args}` : ""}`;
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- parsed JSONL rows are walked freely in assertions
type Row = Record<string, any>;

let scratch: string;
beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), "forge-natural-"));
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

/** Both splits of a dataset generated against a live reference server. */
async function generate(name: string, command: string, env: Record<string, string> = {}): Promise<Row[]> {
  const result = await generateDataset({
    workdir: join(scratch, name),
    server: { kind: "stdio", command, env },
    samples: 300,
    seed: 21,
    callTimeoutMs: 1500,
    progress: "quiet",
    gate: false,
  });
  const rows: Row[] = [];
  for (const path of [result.trainPath, result.evalPath])
    for (const line of (await readFile(path, "utf8")).trim().split("\n")) rows.push(JSON.parse(line));
  return rows;
}

const userOf = (r: Row) =>
  r.messages
    .filter((m: Row) => m.role === "user")
    .map((m: Row) => m.content as string)
    .join("\n");
/** Any JSON object or array opening, by a check independent of the QC detector: a brace or bracket followed by a quote, a digit or another opening. */
const JSON_START = /[{[]\s*["{[\d-]|[{[]\s*[}\]]|"\s*:\s*["{[\d]/;

const servers: Array<[string, () => Promise<Row[]>]> = [
  [
    "server-memory",
    () => generate("memory", serverCmd("server-memory"), { MEMORY_FILE_PATH: join(scratch, "memory.jsonl") }),
  ],
  [
    "server-filesystem",
    async () => {
      const served = join(scratch, "served");
      await mkdir(join(served, "docs"), { recursive: true });
      await writeFile(join(served, "notes.txt"), "alpha\nbeta\n");
      await writeFile(join(served, "docs", "readme.md"), "# hello\n");
      return generate("filesystem", serverCmd("server-filesystem", served));
    },
  ],
  ["server-everything", () => generate("everything", serverCmd("server-everything"))],
];

describe.each(servers)("requests and answers a person would recognise: %s", (_name, make) => {
  let rows: Row[];
  let toolNames: string[];
  beforeAll(async () => {
    rows = await make();
    toolNames = rows[0]!.tools.map((t: Row) => t.function.name as string);
  }, 300_000);

  it("no user text holds a JSON literal", () => {
    const offending = rows.map(userOf).filter((t) => JSON_START.test(t));
    expect(offending).toEqual([]);
  });

  it("tool identifiers appear in at most 10% of user texts", () => {
    const identifiers = toolNames.filter((n) => /[_\-.]/.test(n));
    const named = rows.map(userOf).filter((t) => identifiers.some((n) => t.toLowerCase().includes(n.toLowerCase())));
    expect(named.length / rows.length).toBeLessThanOrEqual(0.1);
  });

  it("no answer dumps the raw result: no JSON, no 'The result is:', no long verbatim copy", () => {
    let answers = 0;
    for (const r of rows) {
      const tool = r.messages.find((m: Row) => m.role === "tool");
      if (!tool) continue;
      const answer = r.messages[r.messages.length - 1].content as string;
      answers++;
      expect(answer, r.id).not.toMatch(JSON_START);
      expect(answer, r.id).not.toMatch(/the result is:/i);
      if (tool.content.length > 150) expect(answer.includes(tool.content.slice(0, 150)), r.id).toBe(false);
    }
    expect(answers).toBeGreaterThan(100);
  });

  it("requests come in several sentence shapes, some lower case or with a typo, and the no-tool questions vary", () => {
    const texts = rows.map(userOf);
    const openings = new Set(texts.map((t) => t.split(/\s+/).slice(0, 2).join(" ").toLowerCase()));
    expect(openings.size).toBeGreaterThan(25);
    expect(texts.filter((t) => t.trim().endsWith("?")).length).toBeGreaterThan(texts.length / 10);
    expect(texts.filter((t) => /^(i need|i want|i'd like|what i need)/i.test(t)).length).toBeGreaterThan(0);
    expect(texts.filter((t) => /^[a-z]/.test(t)).length).toBeGreaterThan(texts.length / 20);
    const noTool = rows.filter((r) => r.scenario === "no_tool").map(userOf);
    expect(new Set(noTool.map((t) => t.split(/\s+/)[0]!.toLowerCase())).size).toBeGreaterThan(4);
  });
});
