import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";

import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { runCli, tempDir, TOOL_FIXTURES } from "../support/cli.js";

let dir: string;
let cleanup: () => Promise<void>;
beforeAll(async () => ({ dir, cleanup } = await tempDir()));
afterAll(() => cleanup());

const fixture = (name: string) => join(TOOL_FIXTURES, name);
const toolsJson = async (path: string) => JSON.parse(await readFile(path, "utf8"));

/** One toolset (get_weather, list_alerts, ping) written in every shape the command accepts. */
const SHAPES = [
  ["mcp-tools.json", "mcp"],
  ["mcp-array.json", "mcp"],
  ["mcp-tools.yaml", "mcp"],
  ["openai-tools.json", "openai"],
  ["openai-tools-object.yaml", "openai"],
  ["functions.json", "functions"],
  ["functions.yml", "functions"],
] as const;

describe("tools import: accepted shapes", () => {
  it("turns every shape of one toolset into the same tools and toolsetHash", async () => {
    const results = await Promise.all(
      SHAPES.map(async ([name, format]) => {
        const out = join(dir, `${name}.tools.json`);
        const run = await runCli([
          "tools",
          "import",
          fixture(name),
          "--out",
          out,
          "--workdir",
          join(dir, `w-${name}`),
          "--json",
        ]);
        expect(run.code, run.stderr).toBe(0);
        expect(JSON.parse(run.stdout)).toMatchObject({
          format,
          toolCount: 3,
          tools: ["get_weather", "list_alerts", "ping"],
        });
        const file = await toolsJson(out);
        return { name, file, toolsText: JSON.stringify(file.tools, null, 2) };
      }),
    );
    const [first, ...rest] = results;
    for (const r of rest) {
      expect(r.toolsText, `${r.name} vs ${first!.name}`).toBe(first!.toolsText);
      expect(r.file.toolsetHash).toBe(first!.file.toolsetHash);
    }
    expect(first!.file.toolsetHash).toMatch(/^sha256:[0-9a-f]{64}$/);
    // OpenAI `parameters` become `inputSchema`; a function without parameters gets an empty object schema.
    const ping = first!.file.tools.find((t: { name: string }) => t.name === "ping");
    expect(ping).toEqual({
      name: "ping",
      description: "Check that the service is up.",
      inputSchema: { type: "object", properties: {} },
    });
    expect(first!.file.tools[0].inputSchema.required).toEqual(["city"]);
    expect(results.find((r) => r.name === "openai-tools.json")!.file.tools[0]).not.toHaveProperty("strict");
  });

  it("keeps a tools.json's server info, records the source and the INSPECTING stage", async () => {
    const workdir = join(dir, "work-state");
    const run = await runCli(["tools", "import", fixture("mcp-tools.json"), "--workdir", workdir]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain("imported 3 tools");
    expect(run.stdout).toMatch(/get_weather\s+2 params\s+Current weather for a city\./);
    expect(run.stdout).toContain("next: mcp-forge generate");
    const file = await toolsJson(join(workdir, "tools.json"));
    expect(file.server).toEqual({ name: "weather", version: "1.2.0" });
    expect(file.source).toMatchObject({ kind: "file" });
    expect(file.toolsetHash).not.toBe("sha256:stale");
    const state = await toolsJson(join(workdir, "state.json"));
    expect(state.stages.INSPECTING).toMatchObject({
      status: "done",
      outputs: { "tools.json": expect.stringMatching(/^sha256:/) },
    });
    expect(state.stage).toBe("SYNTHESIZING");
    const status = await runCli(["status", "--workdir", workdir]);
    expect(status.stdout).toMatch(/✓\s+INSPECTING\s+done/);
  });

  it("reads YAML by content when the extension says nothing", async () => {
    const path = join(dir, "tools-no-ext");
    await writeFile(path, await readFile(fixture("functions.yml"), "utf8"));
    const run = await runCli(["tools", "import", path, "--workdir", join(dir, "w-noext"), "--json"]);
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ syntax: "yaml", format: "functions", toolCount: 3 });
  });
});

describe("tools import: broken files exit 2 naming the place", () => {
  const broken = async (name: string) => {
    const workdir = join(dir, `w-${name}`);
    const run = await runCli(["tools", "import", name.includes("/") ? name : fixture(name), "--workdir", workdir]);
    expect(run.code).toBe(2);
    await expect(readFile(join(workdir, "tools.json"))).rejects.toThrow();
    return run.stderr;
  };

  it("bad JSON: file, line and column", async () => {
    const stderr = await broken("broken-json.json");
    expect(stderr).toContain("broken-json.json:5:42: not valid JSON: expected a property name in double quotes");
  });

  it("bad YAML: file, line and column", async () => {
    expect(await broken("broken-yaml.yaml")).toMatch(/broken-yaml\.yaml:5:\d+: not valid YAML/);
  });

  it("invalid schema: file, line and JSON pointer of the bad keyword", async () => {
    const stderr = await broken("bad-schema.json");
    expect(stderr).toContain('bad-schema.json:15 /tools/1/inputSchema/properties/limit/type: "int" must be one of');
  });

  it("duplicate names: both pointers", async () => {
    const stderr = await broken("duplicate-names.yaml");
    expect(stderr).toContain(
      'duplicate-names.yaml:12 /2/function/name: duplicate tool name "search": also at /0/function/name',
    );
  });

  it("lists every problem: bad names, non-function tools, non-object schemas, unsupported drafts", async () => {
    const path = join(dir, "many.json");
    await writeFile(
      path,
      JSON.stringify(
        {
          tools: [
            { type: "function", function: { name: "has space", parameters: { type: "object" } } },
            { type: "web_search" },
            { type: "function", function: { name: "arr", parameters: { type: "array" } } },
            {
              type: "function",
              function: {
                name: "old",
                parameters: { $schema: "http://json-schema.org/draft-04/schema#", type: "object" },
              },
            },
          ],
        },
        null,
        2,
      ),
    );
    const stderr = await broken(path);
    expect(stderr).toContain("4 problems");
    expect(stderr).toContain('/tools/0/function/name: "has space" is not a valid MCP tool name');
    expect(stderr).toContain('/tools/1/type: "web_search" is not "function"');
    expect(stderr).toContain('/tools/2/function/parameters/type: is "array"');
    expect(stderr).toContain("/tools/3/function/parameters/$schema:");
  });

  it("accepts draft-07 schemas and unknown keywords, but not unresolvable $refs", async () => {
    const path = join(dir, "drafts.json");
    const tool = (name: string, inputSchema: object) => ({ name, inputSchema });
    await writeFile(
      path,
      JSON.stringify([
        tool("d7", {
          $schema: "http://json-schema.org/draft-07/schema#",
          type: "object",
          definitions: { n: { type: "number" } },
          properties: { n: { $ref: "#/definitions/n" } },
        }),
        tool("custom", {
          type: "object",
          "x-vendor": true,
          properties: { when: { type: "string", format: "date-time" } },
        }),
      ]),
    );
    const ok = await runCli(["tools", "import", path, "--workdir", join(dir, "w-drafts")]);
    expect(ok.code, ok.stderr).toBe(0);
    await writeFile(
      path,
      JSON.stringify([tool("dangling", { type: "object", properties: { n: { $ref: "#/$defs/nope" } } })]),
    );
    expect(await broken(path)).toContain("/0/inputSchema: can't resolve reference #/$defs/nope");
  });

  it("refuses, with exit 2, an enum value that the schema checker would call as a method (found by fuzzing)", async () => {
    const path = join(dir, "valueof.json");
    const schema = { $schema: "http://json-schema.org/draft-07/schema#", enum: [{}, { valueOf: "" }] as unknown[] };
    await writeFile(path, JSON.stringify({ tools: [{ name: "odd", description: "", inputSchema: schema }] }));
    expect(await broken(path)).toContain("/tools/0/inputSchema: the schema cannot be checked");
  });
});
