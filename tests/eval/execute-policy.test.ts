import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { startFakeOpenAi } from "./helpers/fake-openai.js";
import { cli, ROOT, writeOracleFiles } from "./helpers/oracle.js";

const MEMORY_SERVER = join(ROOT, "node_modules", "@modelcontextprotocol", "server-memory", "dist", "index.js");
const MEMORY_TOOLS = join(ROOT, "tests", "fixtures", "data", "tools.json");

/** A model that reads the graph for one prompt and creates an entity for the other. */
const script = (_model: string, user: string, turn: number) => {
  if (turn > 0) return { content: "Done." };
  return user.includes("Show")
    ? { calls: [{ name: "read_graph", arguments: "{}" }] }
    : {
        calls: [
          {
            name: "create_entities",
            arguments: JSON.stringify({
              entities: [{ name: "Ada", entityType: "person", observations: ["mathematician"] }],
            }),
          },
        ],
      };
};

describe("validate against a real server: which calls really run", () => {
  let fake: Awaited<ReturnType<typeof startFakeOpenAi>>;
  const files = writeOracleFiles();
  const evalPath = join(files.dir, "memory-eval.jsonl");

  beforeAll(async () => {
    fake = await startFakeOpenAi(script);
    const sample = (id: string, user: string, name: string, args: object) =>
      JSON.stringify({
        id,
        scenario: "standard",
        messages: [
          { role: "user", content: user },
          {
            role: "assistant",
            content: "",
            tool_calls: [{ id: "c1", type: "function", function: { name, arguments: args } }],
          },
          { role: "tool", tool_call_id: "c1", name, content: "recorded result" },
          { role: "assistant", content: "Done." },
        ],
      });
    writeFileSync(
      evalPath,
      [
        sample("read", "Show the graph", "read_graph", {}),
        sample("write", "Remember Ada", "create_entities", { entities: [] }),
      ].join("\n"),
    );
  });
  afterAll(async () => fake?.close());

  const run = (workdir: string, ...extra: string[]) =>
    cli([
      "validate",
      "--model",
      "openai:policy",
      "--base-url",
      fake.baseUrl,
      "--tools",
      MEMORY_TOOLS,
      "--eval",
      evalPath,
      "--server",
      `${process.execPath} ${MEMORY_SERVER}`,
      "--env",
      `MEMORY_FILE_PATH=${join(files.dir, `${workdir}.jsonl`)}`,
      "--workdir",
      join(files.dir, workdir),
      "--transcripts",
      "--json",
      ...extra,
    ]);
  const sources = (workdir: string) => {
    const report = JSON.parse(readFileSync(join(files.dir, workdir, "reports", "validation.json"), "utf8"));
    return Object.fromEntries(
      report.transcripts.map(
        (t: { id: string; turns: Array<{ calls: Array<{ result: { source: string; content: string } }> }> }) => [
          t.id,
          t.turns[0]!.calls[0]!.result,
        ],
      ),
    );
  };

  it("runs read-only tools and gives the others a stand-in result by default", async () => {
    const result = await run("readonly");
    expect([0, 1], result.stderr).toContain(result.exitCode);
    const bySample = sources("readonly");
    expect(bySample.read.source).toBe("server");
    expect(JSON.parse(bySample.read.content)).toEqual({ entities: [], relations: [] });
    expect(bySample.write.source).toBe("skipped");
    expect(JSON.parse(result.stdout).counts.skippedCalls).toBe(1);
  });

  it("runs every tool with --execute all", async () => {
    await run("all", "--execute", "all");
    const bySample = sources("all");
    expect(bySample.write.source).toBe("server");
    expect(bySample.write.content).toContain("Ada");
  });
});
