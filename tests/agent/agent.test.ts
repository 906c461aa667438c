import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";

import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import type { McpTool } from "../../src/core/toolset.js";
import { type TinyBundle, tinyBundle } from "../serve/tiny-bundle.js";
import { CLI, ROOT, runCli, tempDir } from "../support/cli.js";

const MEMORY_SERVER = join(ROOT, "node_modules", "@modelcontextprotocol", "server-memory", "dist", "index.js");
const MEMORY_LINE = JSON.stringify({
  type: "entity",
  name: "Grace Hopper",
  entityType: "person",
  observations: ["wrote the first compiler"],
});
const WRITE_PROMPTS = [
  "Add a person called Ada who runs marathons.",
  "Remember that Ada Lovelace wrote the first program.",
  "Add a note to Grace Hopper: wrote the first compiler.",
  "Delete the knows relation from Ada to Grace.",
];

interface AgentReply {
  answer: string | null;
  outcome: string;
  turns: number;
  calls: Array<{ name: string; arguments: unknown; result?: { content: string; isError: boolean; source: string } }>;
}

describe("mcp-forge agent", () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let tiny: TinyBundle;
  let memory: string;
  let tools: McpTool[];
  let writePrompt = WRITE_PROMPTS[0]!;
  const memoryArgs = () => [
    "--bundle",
    tiny.bundle,
    "--server",
    `node ${MEMORY_SERVER}`,
    "--env",
    `MEMORY_FILE_PATH=${memory}`,
    "--workdir",
    join(dir, "w"),
  ];
  // The grammar keeps the tiny model's calls well-formed, so each run reaches a call.
  const agent = (args: string[]) => runCli(["agent", ...memoryArgs(), "--constrained", ...args]);

  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir());
    tiny = await tinyBundle(dir);
    memory = join(dir, "memory.jsonl");
    tools = (JSON.parse(await readFile(join(tiny.bundle, "tools.json"), "utf8")) as { tools: McpTool[] }).tools;
  });
  afterAll(() => cleanup());

  it("-p: asks before a tool that is not read-only; without a terminal it is declined, the model told and the memory file untouched", async () => {
    let found: { run: Awaited<ReturnType<typeof agent>>; reply: AgentReply } | undefined;
    // The tiny model's choice of tool depends on the wording; the first of these prompts it answers with a write call is used.
    for (const prompt of WRITE_PROMPTS) {
      await writeFile(memory, `${MEMORY_LINE}\n`);
      const run = await agent(["-p", prompt, "--json", "-v"]);
      const reply = JSON.parse(run.stdout) as AgentReply;
      const name = reply.calls[0]?.name;
      if (name !== undefined && tools.find((t) => t.name === name)?.annotations?.readOnlyHint === false) {
        found = { run, reply };
        writePrompt = prompt;
        break;
      }
    }
    expect(found, `no call to a write tool for any of ${WRITE_PROMPTS.length} prompts`).toBeDefined();
    const { run, reply } = found!;
    const first = reply.calls[0]!;
    expect(first.result).toMatchObject({ source: "rejected", isError: true });
    expect(first.result!.content).toMatch(/declined/);
    expect(run.stderr).toContain(`allow ${first.name} {`);
    expect(run.stderr).toContain("it is not marked read-only [y/N]");
    expect(run.stderr).toContain("pass --yes");
    expect(run.stderr).toContain(`→ ${first.name}`);
    // The declined result went back to the model, which wrote again: an answer (exit 0) or more calls up to --max-turns (exit 1).
    expect(reply.turns).toBeGreaterThanOrEqual(2);
    expect(run.code).toBe(reply.outcome === "answered" ? 0 : 1);
    expect(await readFile(memory, "utf8")).toBe(`${MEMORY_LINE}\n`);
  });

  it("--yes sends the call to the server without asking, and its result goes back to the model", async () => {
    await writeFile(memory, `${MEMORY_LINE}\n`);
    const run = await agent(["-p", writePrompt, "--json", "--yes"]);
    const reply = JSON.parse(run.stdout) as AgentReply;
    expect(reply.calls[0]!.result!.source).toBe("server");
    expect(reply.turns).toBeGreaterThanOrEqual(2);
    expect(run.stderr).not.toContain("[y/N]");
  });

  it("refuses to start (exit 1) when the server's tools differ from the bundle's, naming the change; --allow-drift starts", async () => {
    const changed = structuredClone(tools).filter((t) => t.name !== "delete_relations");
    (changed.find((t) => t.name === "search_nodes")!.inputSchema.properties as Record<string, unknown>).query = {
      type: "integer",
    };
    const changedPath = join(dir, "changed-tools.json");
    await writeFile(
      changedPath,
      JSON.stringify({
        server: { name: "memory", version: "0" },
        protocolVersion: "2025-06-18",
        source: { kind: "file" },
        tools: changed,
      }),
    );
    const common = [
      "agent",
      "--bundle",
      tiny.bundle,
      "--server",
      `node ${CLI} stub --tools ${changedPath}`,
      "--workdir",
      join(dir, "w"),
      "-p",
      "Could you read graph?",
    ];

    const refused = await runCli(common);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("delete_relations: removed");
    expect(refused.stderr).toMatch(/search_nodes: changed \(breaking\)/);
    expect(refused.stderr).toContain("--allow-drift");
    expect(refused.stdout).toBe("");

    const started = await runCli([...common, "--allow-drift", "--json", "--max-turns", "1"]);
    expect(started.stderr).toContain("starting despite toolset drift");
    expect([0, 1]).toContain(started.code);
    expect((JSON.parse(started.stdout) as AgentReply).outcome).toBeTypeOf("string");
  });

  it("chats over piped stdin: one reply per message line, as JSON Lines under --json", async () => {
    await writeFile(memory, `${MEMORY_LINE}\n`);
    const chat = await execa(process.execPath, [CLI, "agent", ...memoryArgs(), "--json", "--max-turns", "1"], {
      input: "Could you read graph?\n\n/nothing special\nQuick request: read graph. Thanks!\n",
      reject: false,
    });
    expect(chat.exitCode, String(chat.stderr)).toBe(0);
    const replies = String(chat.stdout)
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as AgentReply);
    expect(replies).toHaveLength(3);
    for (const r of replies) expect(["answered", "unparseable", "turn_limit"]).toContain(r.outcome);
    expect(String(chat.stderr)).toContain("Ctrl-D or /exit ends the chat");
  });

  it("a chat without --json writes each answer as the model writes it, the same text --json reports", async () => {
    const input = "Hello there!\nCould you read graph?\nThanks, that is all.\n";
    const chat = async (json: boolean) => {
      await writeFile(memory, `${MEMORY_LINE}\n`);
      const run = await execa(
        process.execPath,
        [CLI, "agent", ...memoryArgs(), "--constrained", "--max-turns", "2", ...(json ? ["--json"] : [])],
        { input, reject: false, stripFinalNewline: false },
      );
      expect(run.exitCode, String(run.stderr)).toBe(0);
      return String(run.stdout);
    };
    const replies = (await chat(true))
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as AgentReply);
    const printed = await chat(false);
    const answers = replies.filter((r) => r.outcome === "answered" && r.answer).map((r) => `${r.answer}\n`);
    expect(answers.length).toBeGreaterThan(0);
    expect(printed).toBe(answers.join(""));
    expect(printed).not.toContain("<tool_call>");
  });

  it("refuses bad options with exit 2 before starting anything", async () => {
    const noServer = await runCli(["agent", "--bundle", tiny.bundle, "-p", "hi"]);
    expect(noServer.code).toBe(2);
    expect(noServer.stderr).toContain("--server");
    const badTurns = await agent(["-p", "hi", "--max-turns", "0"]);
    expect(badTurns.code).toBe(2);
    expect(badTurns.stderr).toContain("--max-turns 0");
    const noBundle = await runCli([
      "agent",
      "--bundle",
      join(dir, "nowhere"),
      "--server",
      `node ${MEMORY_SERVER}`,
      "-p",
      "hi",
    ]);
    expect(noBundle.code).toBe(2);
    expect(noBundle.stderr).toContain("model.gguf is missing");
  });
});
