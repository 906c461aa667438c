import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { readLines } from "../../src/samples/jsonl.js";
import { SampleParser } from "../../src/stages/qa/parse-line.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "forge-parse-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const toolsA = [
  {
    type: "function",
    function: { name: "get_forecast", description: "Forecast for a city, in detail.", parameters: { type: "object" } },
  },
];
const toolsB = [
  {
    type: "function",
    function: { name: "other", description: "Another tool entirely, for this test.", parameters: { type: "object" } },
  },
];

describe("reading samples with the shared tools array cut out", () => {
  it("gives the same objects as JSON.parse, including when the tools text appears elsewhere in a line", async () => {
    const samples = [
      { id: "1", tools: toolsA, messages: [{ role: "user", content: "hi" }] },
      { id: "2", tools: toolsA, messages: [{ role: "user", content: "São Paulo ✓" }] },
      {
        id: "3",
        tools: toolsB,
        messages: [
          {
            role: "assistant",
            content: "",
            tool_calls: [{ id: "c", function: { name: "x", arguments: { tools: toolsA } } }],
          },
        ],
      },
      { id: "4", tools: toolsA, messages: [] },
    ];
    const path = join(dir, "s.jsonl");
    await writeFile(path, samples.map((s) => JSON.stringify(s)).join("\n") + "\n");
    const parser = new SampleParser();
    const read: unknown[] = [];
    const elided: number[] = [];
    for await (const raw of readLines(path, parser.elision)) {
      if (raw.elidedAt >= 0) elided.push(raw.line);
      read.push(parser.parse(raw));
    }
    expect(read).toEqual(samples);
    expect(elided).toEqual([2, 3, 4]);
  });
});
