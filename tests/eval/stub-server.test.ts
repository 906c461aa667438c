import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { toolsetHash } from "../../src/core/canonical.js";
import { CLI, ROOT } from "../support/cli.js";

interface Message {
  role: string;
  content?: string;
  tool_calls?: Array<{ function: { name: string; arguments: Record<string, unknown> } }>;
}
interface Sample {
  scenario: string;
  messages: Message[];
}

const toolsPath = join(ROOT, "tests/fixtures/data/tools.json");
const evalPath = join(ROOT, "tests/fixtures/data/eval.jsonl");

describe("mcp-forge stub (a real MCP server over stdio)", () => {
  let client: Client;
  beforeAll(async () => {
    client = new Client({ name: "test", version: "0" });
    await client.connect(
      new StdioClientTransport({
        command: process.execPath,
        args: [CLI, "stub", "--tools", toolsPath, "--data", evalPath],
        stderr: "ignore",
      }),
    );
  });
  afterAll(async () => client?.close());

  it("lists exactly the tools of tools.json", async () => {
    const listed = await client.listTools();
    const file = JSON.parse(readFileSync(toolsPath, "utf8")) as { tools: unknown[] };
    expect(listed.tools).toEqual(file.tools);
  });

  it("replays a recorded result exactly, whatever the key order of the arguments", async () => {
    const sample = readFileSync(evalPath, "utf8")
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Sample)
      .find((s) => s.scenario === "standard" && s.messages.some((m) => m.tool_calls))!;
    const call = sample.messages.find((m) => m.tool_calls)!.tool_calls![0]!.function;
    const recorded = sample.messages.find((m) => m.role === "tool")!.content!;
    const reversed = Object.fromEntries(Object.entries(call.arguments as object).reverse());
    const result = await client.callTool({ name: call.name, arguments: reversed });
    expect(result.isError).toBeFalsy();
    expect(result.content).toEqual([{ type: "text", text: recorded }]);
  });

  it("replays a recorded error as an error result", async () => {
    const sample = readFileSync(evalPath, "utf8")
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Sample)
      .find((s) => s.scenario === "error")!;
    const call = sample.messages.find((m) => m.tool_calls)!.tool_calls![0]!.function;
    const result = await client.callTool({ name: call.name, arguments: call.arguments });
    expect(result.isError).toBe(true);
    expect(result.content).toEqual([{ type: "text", text: sample.messages.find((m) => m.role === "tool")!.content }]);
  });

  it("answers an unrecorded call with a result, and an unknown tool with an error", async () => {
    const fresh = await client.callTool({ name: "search_nodes", arguments: { query: "never recorded 12345" } });
    expect(fresh.isError).toBeFalsy();
    const unknown = await client.callTool({ name: "no_such_tool", arguments: {} });
    expect(unknown.isError).toBe(true);
  });
});

describe("mcp-forge stub without recordings", () => {
  let client: Client;
  const dir = mkdtempSync(join(tmpdir(), "mcp-forge-stub-"));
  const tools = [
    {
      name: "get_forecast",
      inputSchema: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
      outputSchema: {
        type: "object",
        properties: {
          city: { type: "string", minLength: 3 },
          days: { type: "array", items: { type: "number" }, minItems: 2 },
          when: { type: "string", format: "date-time" },
          unit: { enum: ["c", "f"] },
        },
        required: ["city", "days", "when", "unit"],
      },
    },
    { name: "broken", inputSchema: { type: "object" } },
  ];
  beforeAll(async () => {
    const toolsPath = join(dir, "tools.json");
    writeFileSync(
      toolsPath,
      JSON.stringify({
        server: { name: "s", version: "1" },
        protocolVersion: "2025-06-18",
        source: { kind: "file" },
        toolsetHash: toolsetHash(tools),
        tools,
      }),
    );
    client = new Client({ name: "test", version: "0" });
    await client.connect(
      new StdioClientTransport({
        command: process.execPath,
        args: [CLI, "stub", "--tools", toolsPath, "--error-tool", "broken"],
        stderr: "ignore",
      }),
    );
  });
  afterAll(async () => client?.close());

  it("answers from the outputSchema with structured content the SDK client validates", async () => {
    await client.listTools();
    const result = await client.callTool({ name: "get_forecast", arguments: { city: "Oslo" } });
    expect(result.isError).toBeFalsy();
    expect(result.structuredContent).toMatchObject({ city: expect.any(String), unit: "c" });
    expect((result.structuredContent as { days: unknown[] }).days).toHaveLength(2);
  });

  it("injects errors into the tools named by --error-tool", async () => {
    const result = await client.callTool({ name: "broken", arguments: {} });
    expect(result.isError).toBe(true);
  });
});
