import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { SCENARIOS } from "../../src/core/contract.js";
import { generateDataset, type GenerateResult } from "../../src/stages/generate/generate.js";
import { ROOT } from "../support/cli.js";

const serverCmd = (name: string, args = "") =>
  `node ${join(ROOT, "node_modules/@modelcontextprotocol", name, "dist/index.js")}${args ? ` ${args}` : ""}`;

let scratch: string;
beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), "forge-gen-servers-"));
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

/** Every file under a directory with its content, to prove nothing was written. */
async function snapshot(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    const path = join(entry.parentPath, entry.name);
    out[path] = entry.isFile() ? await readFile(path, "utf8") : "dir";
  }
  return out;
}

async function run(
  name: string,
  command: string,
  env: Record<string, string> = {},
  extra: { samples?: number; execute?: "readonly" | "all" } = {},
): Promise<GenerateResult> {
  return generateDataset({
    workdir: join(scratch, `${name}-${extra.execute ?? "readonly"}`),
    server: { kind: "stdio", command, env },
    samples: extra.samples ?? 500,
    seed: 11,
    callTimeoutMs: 1500,
    progress: "quiet",
    ...(extra.execute ? { execute: extra.execute } : {}),
  });
}

function expectGatePassed(result: GenerateResult): void {
  expect(result.qc?.failures).toEqual([]);
  expect(result.qc?.passed).toBe(true);
  expect(result.qc?.schemaPassRate).toBe(1);
  expect(result.train).toBe(500);
  for (const s of SCENARIOS) expect(result.qc?.scenarioCoverage[s], s).toBeGreaterThan(0);
}

/** At least 90 % of the standard calls that ran on the server (retries included) succeeded; every calling sample says where its values came from. */
async function expectServerAccepted(result: GenerateResult): Promise<void> {
  const tallies = Object.values(result.serverSuccess);
  const calls = tallies.reduce((a, t) => a + t.calls, 0);
  const succeeded = tallies.reduce((a, t) => a + t.succeeded, 0);
  expect(calls).toBeGreaterThan(20);
  expect(succeeded / calls, JSON.stringify(result.serverSuccess)).toBeGreaterThanOrEqual(0.9);
  const train = (await readFile(result.trainPath, "utf8"))
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l));
  for (const s of train.filter((s) => s.resultSource)) {
    expect(Object.keys(s.argSources ?? {}).sort()).toEqual(
      Object.keys(s.messages[2].tool_calls[0].function.arguments).sort(),
    );
    expect(s.serverState).toBe("fresh");
    if (s.resultSource === "server" && !s.resultIsError) expect(s.scenario).not.toBe("error");
  }
}

function expectOnlyReadOnlyExecuted(result: GenerateResult, readOnly: string[]): void {
  const executed = Object.keys(result.executed);
  expect(executed.length).toBeGreaterThan(0);
  for (const tool of executed) expect(readOnly, `${tool} ran without --execute all`).toContain(tool);
}

describe("generate against the reference servers", () => {
  it("server-memory: 500 samples pass QC and the knowledge graph stays empty", async () => {
    const memory = join(scratch, "memory.jsonl");
    const result = await run("memory", serverCmd("server-memory"), { MEMORY_FILE_PATH: memory });
    expectGatePassed(result);
    expectOnlyReadOnlyExecuted(result, ["read_graph", "search_nodes", "open_nodes"]);
    expect(result.executed.read_graph).toBeGreaterThan(0);
    const graph = await readFile(memory, "utf8").catch(() => "");
    expect(graph.trim()).toBe("");
    expect(result.resultSources.server).toBeGreaterThan(0);
    await expectServerAccepted(result);
  });

  it("server-memory with --execute all does write the graph (the check above can fail)", async () => {
    const memory = join(scratch, "memory-all.jsonl");
    const result = await run(
      "memory",
      serverCmd("server-memory"),
      { MEMORY_FILE_PATH: memory },
      { samples: 40, execute: "all" },
    );
    expect(result.executed.create_entities ?? 0).toBeGreaterThan(0);
    expect((await readFile(memory, "utf8")).trim()).not.toBe("");
  });

  it("server-filesystem: 500 samples pass QC and the served directory is unchanged", async () => {
    const served = join(scratch, "served");
    await mkdir(join(served, "docs"), { recursive: true });
    await writeFile(join(served, "notes.txt"), "alpha\nbeta\n");
    await writeFile(join(served, "docs", "readme.md"), "# hello\n");
    const before = await snapshot(served);
    const result = await run("filesystem", serverCmd("server-filesystem", served));
    expectGatePassed(result);
    expectOnlyReadOnlyExecuted(result, [
      "read_file",
      "read_text_file",
      "read_media_file",
      "read_multiple_files",
      "list_directory",
      "list_directory_with_sizes",
      "directory_tree",
      "search_files",
      "get_file_info",
      "list_allowed_directories",
    ]);
    expect(await snapshot(served)).toEqual(before);
    expect((await stat(served)).isDirectory()).toBe(true);
    await expectServerAccepted(result);
    expect(result.discovery?.roots).toEqual([served]);
  });

  it("server-everything: 500 samples pass QC; tools without readOnlyHint never run", async () => {
    const result = await run("everything", serverCmd("server-everything"));
    expectGatePassed(result);
    for (const tool of [
      "gzip-file-as-resource",
      "toggle-simulated-logging",
      "toggle-subscriber-updates",
      "simulate-research-query",
    ]) {
      expect(result.executed[tool], tool).toBeUndefined();
    }
    expect(result.executed.echo).toBeGreaterThan(0);
    const train = (await readFile(result.trainPath, "utf8"))
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    const echo = train.find(
      (s) => s.resultSource === "server" && s.messages[2]?.tool_calls?.[0]?.function.name === "echo",
    );
    expect(echo.messages[3].content).toBe(`Echo: ${echo.messages[2].tool_calls[0].function.arguments.message}`);
    await expectServerAccepted(result);
  });
});
