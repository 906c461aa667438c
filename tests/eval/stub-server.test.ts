import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

interface Message {
  role: string;
  content?: string;
  tool_calls?: Array<{ function: { name: string; arguments: Record<string, unknown> } }>;
}
interface Sample {
  scenario: string;
  messages: Message[];
}

const root = join(import.meta.dirname, "..", "..");
const toolsPath = join(root, "tests/fixtures/data/tools.json");
const evalPath = join(root, "tests/fixtures/data/eval.jsonl");

describe("mcp-forge stub (a real MCP server over stdio)", () => {
  let client: Client;
  beforeAll(async () => {
    client = new Client({ name: "test", version: "0" });
    await client.connect(
      new StdioClientTransport({
        command: process.execPath,
        args: [join(root, "bin/mcp-forge.js"), "stub", "--tools", toolsPath, "--data", evalPath],
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
