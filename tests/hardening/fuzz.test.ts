import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";

import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { ForgeError } from "../../src/core/errors.js";
import type { McpTool } from "../../src/core/toolset.js";
import { readEvalSet } from "../../src/eval/samples.js";
import { runQc } from "../../src/stages/qa/qc.js";
import { importTools } from "../../src/stages/tools-import/import.js";
import { ROOT, runCli, tempDir } from "../support/cli.js";

const TOOLS = JSON.parse(await readFile(join(ROOT, "tests", "fixtures", "data", "tools.json"), "utf8")) as {
  tools: McpTool[];
};
const SAMPLE = (await readFile(join(ROOT, "tests", "fixtures", "data", "eval.jsonl"), "utf8")).split("\n")[0]!;

/** Accepted, or refused as bad input (exit 2): anything else would reach the user as a stack trace and exit 3. */
async function acceptedOrBadInput(run: () => Promise<unknown>, input: string): Promise<void> {
  try {
    await run();
  } catch (error) {
    if (!(error instanceof ForgeError) || error.exitCode !== 2) {
      throw new Error(`input ${JSON.stringify(input.slice(0, 300))} gave ${(error as Error).stack ?? String(error)}`);
    }
  }
}

const bytes = fc.uint8Array({ maxLength: 400 }).map((b) => Buffer.from(b).toString("latin1"));
const json = fc.jsonValue({ maxDepth: 6 }).map((v) => JSON.stringify(v));
/** Schemas: valid-looking keywords with random values, nested, $refs among them. */
const schema: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  // The leaf comes first: past maxDepth fast-check picks it, which bounds the schema's size.
  node: fc.oneof(
    { maxDepth: 3, depthSize: "small" },
    fc.jsonValue({ maxDepth: 1 }),
    fc.record(
      {
        type: fc.oneof(
          fc.constantFrom("object", "string", "integer", "number", "array", "boolean", "null", "strng"),
          fc.jsonValue({ maxDepth: 1 }),
        ),
        properties: fc.dictionary(fc.string({ maxLength: 6 }), tie("node"), { maxKeys: 3 }),
        items: tie("node"),
        required: fc.oneof(fc.array(fc.string({ maxLength: 6 }), { maxLength: 3 }), fc.jsonValue()),
        $ref: fc.constantFrom("#", "#/properties/a", "#/$defs/x", "#/nowhere", "http://example.com/s.json", "##"),
        $defs: fc.dictionary(fc.constantFrom("x", "y"), tie("node"), { maxKeys: 2 }),
        enum: fc.array(fc.jsonValue({ maxDepth: 1 }), { maxLength: 3 }),
        anyOf: fc.array(tie("node"), { maxLength: 2 }),
        minimum: fc.oneof(fc.integer(), fc.jsonValue({ maxDepth: 0 })),
        pattern: fc.constantFrom("^[a-z]+$", "(", "\\d{3}", "[[:alpha:]]"),
        $schema: fc.constantFrom(
          "https://json-schema.org/draft/2020-12/schema",
          "http://json-schema.org/draft-07/schema#",
          "nope",
        ),
      },
      { requiredKeys: [] },
    ),
  ),
})).node;
const toolsFile = fc
  .array(
    fc.record({
      name: fc.oneof(fc.constantFrom("search", "read_file", "x".repeat(80)), fc.string({ maxLength: 10 })),
      description: fc.string({ maxLength: 20 }),
      inputSchema: schema,
    }),
    { maxLength: 3 },
  )
  .map((tools) => JSON.stringify({ tools }));
/** YAML whose aliases nest: small text, an exponential document (billion laughs) past a few levels. */
const aliases = fc.tuple(fc.integer({ min: 1, max: 9 }), fc.integer({ min: 2, max: 9 })).map(([levels, width]) => {
  const lines = [`l0: &l0 [${Array(width).fill("x").join(", ")}]`];
  for (let i = 1; i < levels; i++)
    lines.push(
      `l${i}: &l${i} [${Array(width)
        .fill(`*l${i - 1}`)
        .join(", ")}]`,
    );
  return `${lines.join("\n")}\ntools: *l${levels - 1}\n`;
});
/** Samples: the real shape with random parts swapped in. */
const sampleLine = fc
  .tuple(
    fc.constantFrom("messages", "tools", "id", "scenario", "acceptable", "resultIsError"),
    fc.jsonValue({ maxDepth: 4 }),
    fc.boolean(),
  )
  .map(
    ([key, value, bom]) =>
      `${bom ? "\uFEFF" : ""}${JSON.stringify({ ...(JSON.parse(SAMPLE) as object), [key]: value })}`,
  );
const jsonl = fc
  .array(fc.oneof(sampleLine, json, bytes), { minLength: 1, maxLength: 4 })
  .map((lines) => lines.join("\n"));

describe("fuzzing the readers of untrusted files: accepted or exit 2, never a crash", () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let n = 0;
  beforeAll(async () => ({ dir, cleanup } = await tempDir()));
  afterAll(() => cleanup());

  const write = async (ext: string, text: string) => {
    const path = join(dir, `input-${n++}${ext}`);
    await writeFile(path, text);
    return path;
  };

  it("tools import: random bytes, random JSON, random schemas, YAML with nested aliases", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(bytes, json, toolsFile, aliases),
        fc.constantFrom(".json", ".yaml", ""),
        async (text, ext) => {
          const path = await write(ext, text);
          await acceptedOrBadInput(() => importTools(path), text);
        },
      ),
      { numRuns: 300 },
    );
  }, 120_000);

  it("qa: random lines, samples with random parts, against the toolset and against their own tools", async () => {
    await fc.assert(
      fc.asyncProperty(jsonl, fc.boolean(), async (text, withTools) => {
        const path = await write(".jsonl", text);
        await acceptedOrBadInput(
          () =>
            runQc({
              data: path,
              ...(withTools ? { tools: TOOLS.tools } : {}),
              fix: true,
              reportDir: join(dir, "reports"),
            }),
          text,
        );
      }),
      { numRuns: 150 },
    );
  }, 120_000);

  it("the eval reader: random lines and samples with random parts", async () => {
    await fc.assert(
      fc.asyncProperty(jsonl, async (text) => {
        const path = await write(".jsonl", text);
        await acceptedOrBadInput(() => readEvalSet(path, TOOLS.tools), text);
      }),
      { numRuns: 300 },
    );
  }, 120_000);

  it("through the CLI as a user runs it: exit 0, 1 or 2, no stack trace", async () => {
    const inputs = fc.sample(fc.tuple(fc.oneof(bytes, json, toolsFile), jsonl), { numRuns: 6, seed: 16 });
    for (const [tools, data] of inputs) {
      const toolsPath = await write(".json", tools);
      const imported = await runCli(["tools", "import", toolsPath, "--workdir", join(dir, `cli-${n}`)]);
      expect([0, 2], imported.stderr).toContain(imported.code);
      expect(imported.stderr).not.toMatch(/\n\s+at /);
      const qa = await runCli([
        "qa",
        "--data",
        await write(".jsonl", data),
        "--tools",
        join(ROOT, "tests", "fixtures", "data", "tools.json"),
        "--workdir",
        join(dir, `cli-${n}`),
      ]);
      expect([0, 1, 2], qa.stderr).toContain(qa.code);
      expect(qa.stderr).not.toMatch(/\n\s+at /);
    }
  }, 120_000);
});
