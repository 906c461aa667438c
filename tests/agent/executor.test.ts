import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";

import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { ConfirmingExecutor } from "../../src/agent/confirming-executor.js";
import type { McpTool } from "../../src/core/toolset.js";
import { McpExecutor } from "../../src/eval/mcp-executor.js";
import { connectToServer, type McpConnection } from "../../src/mcp/connect.js";
import { listAllTools } from "../../src/mcp/list-tools.js";
import { StubResponder } from "../../src/mcp/stub-server.js";
import { ROOT, tempDir } from "../support/cli.js";

const MEMORY_SERVER = join(ROOT, "node_modules", "@modelcontextprotocol", "server-memory", "dist", "index.js");
const GRACE = JSON.stringify({
  type: "entity",
  name: "Grace Hopper",
  entityType: "person",
  observations: ["wrote the first compiler"],
});
const ADA = { entities: [{ name: "Ada Lovelace", entityType: "person", observations: ["wrote the first program"] }] };

describe("the agent's confirming executor on server-memory", () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let memory: string;
  let connection: McpConnection;
  let tools: McpTool[];

  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir());
    memory = join(dir, "memory.jsonl");
    await writeFile(memory, `${GRACE}\n`);
    connection = await connectToServer(
      { kind: "stdio", command: `node ${MEMORY_SERVER}`, env: { MEMORY_FILE_PATH: memory } },
      { timeoutMs: 30_000, logDir: join(dir, "logs") },
    );
    tools = await listAllTools(connection, { timeoutMs: 30_000 });
  });
  afterAll(async () => {
    await connection?.close();
    await cleanup();
  });

  const executor = (answers: boolean[], asked: string[]) =>
    new ConfirmingExecutor(
      new McpExecutor(connection, tools, {
        policy: "all",
        timeoutMs: 30_000,
        source: "server",
        fallback: new StubResponder(tools, []),
      }),
      tools,
      async (q) => {
        asked.push(q);
        return answers.shift() ?? false;
      },
    );

  it("runs read-only tools without asking", async () => {
    const asked: string[] = [];
    const result = await executor([], asked).call("read_graph", {});
    expect(asked).toEqual([]);
    expect(result).toMatchObject({ source: "server", isError: false });
    expect(result.content).toContain("Grace Hopper");
  });

  it("asks before a write; no leaves the file as it was and tells the model, yes runs it", async () => {
    const asked: string[] = [];
    const run = executor([false, true], asked);
    const declined = await run.call("create_entities", ADA);
    expect(asked[0]).toMatch(/^allow create_entities \{"entities":\[\{"name":"Ada Lovelace".*\[y\/N\] $/);
    expect(declined).toMatchObject({ source: "rejected", isError: true });
    expect(declined.content).toContain("declined");
    expect(await readFile(memory, "utf8")).toBe(`${GRACE}\n`);

    const allowed = await run.call("create_entities", ADA);
    expect(asked).toHaveLength(2);
    expect(allowed).toMatchObject({ source: "server", isError: false });
    expect(await readFile(memory, "utf8")).toContain("Ada Lovelace");
  });
});
