import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";

import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { diffToolsets } from "../../src/bundle/drift.js";
import { toolsetHash } from "../../src/core/canonical.js";
import type { McpTool } from "../../src/core/toolset.js";
import { runCli, tempDir } from "../support/cli.js";
import { fixtureWorkdir } from "./helpers.js";

const weather: McpTool = {
  name: "get_weather",
  description: "Current weather for a city",
  inputSchema: {
    type: "object",
    properties: {
      city: { type: "string", description: "City name" },
      units: { type: "string", enum: ["metric", "imperial", "kelvin"] },
      days: { type: ["integer", "null"], minimum: 1, maximum: 7 },
    },
    required: ["city"],
  },
};
const search: McpTool = { name: "search", inputSchema: { type: "object", properties: { q: { type: "string" } } } };

const edit = (
  change: (
    tool: McpTool & { inputSchema: { properties: Record<string, Record<string, unknown>>; required: string[] } },
  ) => void,
): McpTool => {
  const copy = structuredClone(weather) as Parameters<typeof change>[0];
  change(copy);
  return copy;
};

describe("diffToolsets", () => {
  it("finds nothing between equal toolsets", () => {
    expect(diffToolsets([weather, search], [structuredClone(search), structuredClone(weather)])).toEqual({
      added: [],
      removed: [],
      changed: [],
      breaking: false,
    });
  });

  it("calls description and title edits cosmetic", () => {
    const live = edit((t) => {
      t.description = "Weather now";
      t.inputSchema.properties.city!.description = "The city";
      t.title = "Weather";
    });
    const diff = diffToolsets([weather], [live]);
    expect(diff.breaking).toBe(false);
    expect(diff.changed).toHaveLength(1);
    expect(diff.changed[0]).toMatchObject({ name: "get_weather", breaking: false, cosmetic: true });
    expect(diff.changed[0]!.paths).toEqual(["/description", "/inputSchema/properties/city/description", "/title"]);
  });

  it("flags a new required parameter, a removed enum value and a narrowed type as breaking", () => {
    const live = edit((t) => {
      t.inputSchema.properties.country = { type: "string" };
      t.inputSchema.required.push("country");
      t.inputSchema.properties.units!.enum = ["metric", "imperial"];
      t.inputSchema.properties.days!.type = "integer";
    });
    const [changed] = diffToolsets([weather], [live]).changed;
    expect(changed!.breaking).toBe(true);
    expect(changed!.reasons.filter((r) => r.breaking).map((r) => [r.path, r.message])).toEqual([
      ["/inputSchema/properties/country", 'new required parameter "country"'],
      ["/inputSchema/properties/days/type", "type narrowed from integer|null to integer"],
      ["/inputSchema/properties/units/enum", 'value "kelvin" removed'],
    ]);
  });

  it("accepts widening changes as compatible but not cosmetic", () => {
    const live = edit((t) => {
      t.inputSchema.properties.lang = { type: "string" };
      t.inputSchema.properties.units!.enum = ["metric", "imperial", "kelvin", "rankine"];
      t.inputSchema.properties.days!.maximum = 14;
      t.inputSchema.properties.city!.type = ["string", "number"];
    });
    const [changed] = diffToolsets([weather], [live]).changed;
    expect(changed).toMatchObject({ breaking: false, cosmetic: false });
    expect(changed!.reasons.map((r) => r.message)).toEqual([
      "type widened from string to string|number",
      "maximum relaxed from 7 to 14",
      'new optional parameter "lang"',
      'value "rankine" added',
    ]);
  });

  it("treats a tightened bound, a removed parameter and closed extra properties as breaking", () => {
    const live = edit((t) => {
      t.inputSchema.properties.days!.maximum = 3;
      delete t.inputSchema.properties.units;
      t.inputSchema.additionalProperties = false;
    });
    const messages = diffToolsets([weather], [live])
      .changed[0]!.reasons.filter((r) => r.breaking)
      .map((r) => r.message);
    expect(messages).toEqual(
      expect.arrayContaining([
        "maximum tightened from 7 to 3",
        'parameter "units" removed',
        "extra properties are no longer allowed",
      ]),
    );
  });

  it("lists added tools as compatible and removed tools as breaking", () => {
    expect(diffToolsets([weather], [weather, search])).toEqual({
      added: ["search"],
      removed: [],
      changed: [],
      breaking: false,
    });
    expect(diffToolsets([weather, search], [weather])).toEqual({
      added: [],
      removed: ["search"],
      changed: [],
      breaking: true,
    });
  });
});

describe("verify-bundle drift against a tools file", () => {
  let cleanup: () => Promise<void>;
  let bundle: string;
  let dir: string;
  let tools: {
    toolsetHash: string;
    tools: Array<McpTool & { inputSchema: { properties: Record<string, unknown>; required: string[] } }>;
  };

  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir());
    const fx = await fixtureWorkdir(dir);
    bundle = join(dir, "bundle");
    const packed = await runCli(["pack", "--workdir", fx.workdir, "--output", bundle]);
    expect(packed.code, packed.stderr).toBe(0);
    tools = JSON.parse(await readFile(fx.toolsPath, "utf8")) as typeof tools;
  });
  afterAll(() => cleanup());

  const verifyAgainst = async (name: string, change: (t: typeof tools) => void, extra: string[] = []) => {
    const live = structuredClone(tools);
    change(live);
    live.toolsetHash = toolsetHash(live.tools);
    const file = join(dir, `${name}.json`);
    await writeFile(file, JSON.stringify(live));
    return runCli(["verify-bundle", bundle, "--tools", file, ...extra]);
  };

  it("passes against the same tools", async () => {
    const run = await verifyAgainst("same", () => undefined);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("toolset: matches");
  });

  it("fails on an edited description but prints it as cosmetic", async () => {
    const run = await verifyAgainst(
      "cosmetic",
      (t) => (t.tools[0]!.description = "Create entities, now with a new description"),
    );
    expect(run.code).toBe(1);
    expect(run.stdout).toContain("no breaking change");
    expect(run.stdout).toMatch(
      /~ create_entities: changed \(cosmetic\)\n\s+cosmetic\s+\/description: description changed/,
    );
  });

  it("fails on a new required parameter and prints it as breaking", async () => {
    const run = await verifyAgainst("required", (t) => {
      t.tools[6]!.inputSchema.properties.depth = { type: "integer" };
      t.tools[6]!.inputSchema.required = ["depth"];
    });
    expect(run.code).toBe(1);
    expect(run.stdout).toContain("BREAKING");
    expect(run.stdout).toMatch(
      /~ read_graph: changed \(breaking\)\n\s+breaking\s+\/inputSchema\/properties\/depth: new required parameter "depth"/,
    );
  });

  it("fails on a removed tool, with the diff in --json", async () => {
    const run = await verifyAgainst("removed", (t) => t.tools.splice(8, 1), ["--json"]);
    expect(run.code).toBe(1);
    const result = JSON.parse(run.stdout) as {
      passed: boolean;
      drift: { matches: boolean; removed: string[]; changed: unknown[]; breaking: boolean };
    };
    expect(result.passed).toBe(false);
    expect(result.drift).toMatchObject({ matches: false, removed: ["open_nodes"], changed: [], breaking: true });
    expect(run.stderr).toContain("- open_nodes: removed (breaking");
  });
});
