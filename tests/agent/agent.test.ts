import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT, runCli, tempDir } from "../core/cli.js";
import { tinyBundle, type TinyBundle } from "../serve/tiny-bundle.js";

const MEMORY_SERVER = join(ROOT, "node_modules", "@modelcontextprotocol", "server-memory", "dist", "index.js");
const MEMORY_LINE = JSON.stringify({ type: "entity", name: "Grace Hopper", entityType: "person", observations: ["wrote the first compiler"] });
const WRITE_PROMPT = 'Please create entities with entities [{"name":"Ada Lovelace","entityType":"person","observations":["wrote the first program"]}].';

interface AgentResult {
  answer: string | null;
  outcome: string;
  calls: Array<{ name: string; arguments: unknown; result?: { content: string; isError: boolean; source: string } }>;
}

describe("mcp-forge agent", () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let tiny: TinyBundle;
  let memory: string;
  const agent = (args: string[]) =>
    runCli(["agent", "--bundle", tiny.bundle, "--server", `node ${MEMORY_SERVER}`, "--env", `MEMORY_FILE_PATH=${memory}`, "--workdir", join(dir, "w"), ...args]);

  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir());
    tiny = await tinyBundle(dir);
    memory = join(dir, "memory.jsonl");
  });
  afterAll(() => cleanup());

  it("-p loops through a read-only tool of server-memory and prints the model's answer", async () => {
    await writeFile(memory, `${MEMORY_LINE}\n`);
    const run = await agent(["-p", "Could you read graph? I need it soon.", "--json", "-v"]);
    expect(run.code, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout) as AgentResult;
    expect(result.outcome).toBe("answered");
    expect(result.calls[0]).toMatchObject({ name: "read_graph", result: { source: "server", isError: false } });
    expect(result.calls[0]!.result!.content).toContain("Grace Hopper");
    expect(run.stderr).toContain("→ read_graph");
    expect(run.stderr).not.toContain("[y/N]");
  });

  it("asks before a write tool; without a terminal the call is declined, the model told, and the memory file left alone", async () => {
    await writeFile(memory, `${MEMORY_LINE}\n`);
    const run = await agent(["-p", WRITE_PROMPT, "--json"]);
    const result = JSON.parse(run.stdout) as AgentResult;
    expect(result.calls[0]).toMatchObject({ name: "create_entities", result: { source: "rejected", isError: true } });
    expect(result.calls[0]!.result!.content).toMatch(/declined/);
    expect(run.stderr).toMatch(/allow create_entities .*Ada Lovelace.*not marked read-only \[y\/N\]/);
    expect(run.stderr).toContain("pass --yes");
    expect(await readFile(memory, "utf8")).toBe(`${MEMORY_LINE}\n`);

    const allowed = await agent(["-p", WRITE_PROMPT, "--json", "--yes"]);
    const yes = JSON.parse(allowed.stdout) as AgentResult;
    expect(yes.calls[0]).toMatchObject({ name: "create_entities", result: { source: "server", isError: false } });
    expect(allowed.stderr).not.toContain("[y/N]");
    expect(await readFile(memory, "utf8")).toContain("Ada Lovelace");
  });

  it("refuses to start (exit 1) when the server's tools differ from the bundle's, naming the change; --allow-drift starts", async () => {
    const tools = JSON.parse(await readFile(join(tiny.bundle, "tools.json"), "utf8")) as { tools: Array<{ name: string; inputSchema: { properties: Record<string, unknown> } }> };
    tools.tools = tools.tools.filter((t) => t.name !== "delete_relations");
    tools.tools.find((t) => t.name === "search_nodes")!.inputSchema.properties.query = { type: "integer" };
    const changed = join(dir, "changed-tools.json");
    await writeFile(changed, JSON.stringify(tools));
    const stub = `node ${join(ROOT, "bin", "mcp-forge.js")} stub --tools ${changed}`;
    const common = ["agent", "--bundle", tiny.bundle, "--server", stub, "--workdir", join(dir, "w"), "-p", "Could you read graph?"];

    const refused = await runCli(common);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("delete_relations: removed");
    expect(refused.stderr).toMatch(/search_nodes: changed \(breaking\)/);
    expect(refused.stderr).toContain("--allow-drift");
    expect(refused.stdout).toBe("");

    const started = await runCli([...common, "--allow-drift", "--json"]);
    expect(started.stderr).toContain("starting despite toolset drift");
    expect([0, 1]).toContain(started.code);
    expect((JSON.parse(started.stdout) as AgentResult).outcome).toBeTypeOf("string");
  });

  it("chats over piped stdin, one message per line, keeping the conversation", async () => {
    await writeFile(memory, `${MEMORY_LINE}\n`);
    const chat = await execa(process.execPath, [join(ROOT, "bin", "mcp-forge.js"), "agent", "--bundle", tiny.bundle, "--server", `node ${MEMORY_SERVER}`, "--env", `MEMORY_FILE_PATH=${memory}`, "--workdir", join(dir, "w"), "-v"], {
      input: "Could you read graph?\n\nQuick request: read graph. Thanks!\n",
      reject: false,
    });
    expect(chat.exitCode, String(chat.stderr)).toBe(0);
    expect(String(chat.stderr).match(/→ read_graph/g)).toHaveLength(2);
    expect(String(chat.stderr)).toContain("Ctrl-D or /exit ends the chat");
  });

  it("refuses bad options with exit 2 before starting anything", async () => {
    const noServer = await runCli(["agent", "--bundle", tiny.bundle, "-p", "hi"]);
    expect(noServer.code).toBe(2);
    expect(noServer.stderr).toContain("--server");
    const badTurns = await agent(["-p", "hi", "--max-turns", "0"]);
    expect(badTurns.code).toBe(2);
    expect(badTurns.stderr).toContain("--max-turns 0");
    const noBundle = await agent(["-p", "hi", "--bundle", join(dir, "nowhere")]);
    expect(noBundle.code).toBe(2);
    expect(noBundle.stderr).toContain("model.gguf is missing");
  });
});
