import { spawn } from "node:child_process";
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { CLI, type CliRun, ROOT, runCli, tempDir } from "../support/cli.js";

const TOOLS = join(ROOT, "tests", "fixtures", "data", "tools.json");
const TRAIN = join(ROOT, "tests", "fixtures", "data", "train.jsonl");
const HANG = join(ROOT, "tests", "fixtures", "servers", "hang.mjs");
const BOM = "\uFEFF";

/** Exit 2, the place named, no stack trace. */
function expectBadInput(run: CliRun, names: string | RegExp): void {
  expect(run.code, run.stderr).toBe(2);
  expect(run.stderr).toMatch(
    typeof names === "string" ? new RegExp(names.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")) : names,
  );
  expect(run.stderr).not.toMatch(/\n\s+at /);
}

describe("bad input gets exit 2 with the place named", () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeAll(async () => ({ dir, cleanup } = await tempDir()));
  afterAll(() => cleanup());

  it("bounds --samples and --timeout with the maximum stated (1e12 neither runs nor overflows to 1 s)", async () => {
    const started = Date.now();
    expectBadInput(
      await runCli(["generate", "--tools", TOOLS, "--samples", "1e12", "--workdir", join(dir, "s")]),
      "--samples 1e12: expected a whole number from 1 to 100,000",
    );
    expect(Date.now() - started).toBeLessThan(10_000);
    expectBadInput(
      await runCli(["inspect", "--server", `node ${HANG}`, "--timeout", "1e12", "--workdir", join(dir, "t")]),
      "at most 86,400",
    );
    expectBadInput(
      await runCli(["run", "--tools", TOOLS, "--samples", "-5", "--workdir", join(dir, "r")]),
      "--samples -5",
    );
  });

  it("a seed that is not a whole number from 0 to 4,294,967,295 gets exit 2 from generate, validate and run alike", async () => {
    const message = /--seed 1\.5: expected a whole number from 0 to 4,294,967,295/;
    expectBadInput(
      await runCli(["generate", "--tools", TOOLS, "--seed", "1.5", "--workdir", join(dir, "sg")]),
      message,
    );
    expectBadInput(await runCli(["validate", "--stub", "--seed", "1.5", "--workdir", join(dir, "sv")]), message);
    expectBadInput(await runCli(["run", "--tools", TOOLS, "--seed", "1.5", "--workdir", join(dir, "sr")]), message);
  });

  it("generate --out <a folder>, inspect -w <a file>, --out under /proc: exit 2 at once", async () => {
    const folder = join(dir, "a-folder");
    await mkdir(folder);
    expectBadInput(
      await runCli([
        "generate",
        "--tools",
        TOOLS,
        "--samples",
        "50",
        "--out",
        folder,
        "--workdir",
        join(dir, "g"),
        "--no-gate",
      ]),
      folder,
    );
    const file = join(dir, "a-file");
    await writeFile(file, "x");
    expectBadInput(await runCli(["inspect", "--server", `node ${HANG}`, "--workdir", file]), file);
    const started = Date.now();
    expectBadInput(
      await runCli(["tools", "import", TOOLS, "--out", "/proc/nope/tools.json", "--workdir", join(dir, "p")]),
      "/proc/nope/tools.json",
    );
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it("a YAML alias bomb is refused with exit 2, not a stack trace", async () => {
    const bomb = join(dir, "bomb.yaml");
    const levels = ["a: &a [x, x, x, x, x, x, x, x, x]"];
    for (let i = 1; i < 9; i++)
      levels.push(
        `${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(9)
          .fill(`*${String.fromCharCode(96 + i)}`)
          .join(", ")}]`,
      );
    await writeFile(bomb, `${levels.join("\n")}\ntools: *i\n`);
    expectBadInput(await runCli(["tools", "import", bomb, "--workdir", join(dir, "y")]), bomb);
  });

  it('a self-referencing schema ("$ref": "#") is valid: imported, and generate draws arguments for it', async () => {
    const tree = join(dir, "tree.json");
    const schema = {
      type: "object",
      properties: { label: { type: "string" }, child: { $ref: "#" } },
      required: ["label"],
    };
    await writeFile(
      tree,
      JSON.stringify({ tools: [{ name: "add_node", description: "Adds a node to the tree.", inputSchema: schema }] }),
    );
    const workdir = join(dir, "tree");
    const imported = await runCli(["tools", "import", tree, "--workdir", workdir]);
    expect(imported.code, imported.stderr).toBe(0);
    const generated = await runCli(["generate", "--workdir", workdir, "--samples", "50", "--no-progress", "--no-gate"]);
    expect(generated.code, generated.stderr).toBe(0);
    const calls = (await readFile(join(workdir, "data", "train.jsonl"), "utf8")).match(
      /"name":"add_node","arguments":\{"label"/g,
    );
    expect(calls?.length).toBeGreaterThan(5);
  });

  it("a UTF-8 BOM is accepted by tools import, generate --tools and qa (no line dropped)", async () => {
    const tools = join(dir, "bom-tools.json");
    await writeFile(tools, BOM + (await readFile(TOOLS, "utf8")));
    const workdir = join(dir, "bom");
    expect((await runCli(["tools", "import", tools, "--workdir", workdir])).code).toBe(0);
    const generated = await runCli([
      "generate",
      "--tools",
      tools,
      "--samples",
      "50",
      "--workdir",
      join(dir, "bom-gen"),
      "--no-progress",
      "--no-gate",
    ]);
    expect(generated.code, generated.stderr).toBe(0);
    await mkdir(join(workdir, "data"));
    await writeFile(join(workdir, "data", "train.jsonl"), BOM + (await readFile(TRAIN, "utf8")));
    const qa = await runCli(["qa", "--workdir", workdir, "--json"]);
    expect(qa.stdout).not.toContain("parse_error");
    const report = JSON.parse(qa.stdout) as { total: number; issues?: unknown };
    expect(report.total).toBe(400);
    expect(await readFile(join(workdir, "reports", "qc.csv"), "utf8")).not.toMatch(/^1,.*parse_error/m);
  });

  it('arguments with a "valueOf" key are a schema violation in qa, not a crash', async () => {
    // ajv's uniqueItems and enum checks call a value's "valueOf" key as a method.
    const sample = JSON.parse((await readFile(TRAIN, "utf8")).split("\n")[0]!) as {
      tools: Array<{ function: { name: string; parameters: { properties: Record<string, object> } } }>;
      messages: Array<{ tool_calls?: Array<{ function: { arguments: unknown } }> }>;
    };
    const tool = sample.tools.find((t) => t.function.name === "add_observations")!;
    tool.function.parameters.properties.observations = { type: "array", uniqueItems: true };
    sample.messages[2]!.tool_calls![0]!.function.arguments = { observations: [{ valueOf: 1 }, { valueOf: 1 }] };
    const data = join(dir, "value-of.jsonl");
    await writeFile(data, JSON.stringify(sample) + "\n");
    const qa = await runCli(["qa", "--data", data, "--workdir", join(dir, "value-of"), "--json"]);
    expect(qa.stderr).not.toMatch(/\n\s+at /);
    expect(qa.code, qa.stderr).toBe(1);
    const report = JSON.parse(qa.stdout) as { issues: Array<{ kind: string; message: string }> };
    expect(report.issues).toContainEqual(
      expect.objectContaining({ kind: "schema_violation", message: expect.stringMatching(/"valueOf" or "toString"/) }),
    );
  });

  it("status suggests the command that was interrupted, with its arguments", async () => {
    const workdir = join(dir, "interrupted");
    const child = spawn(
      process.execPath,
      [CLI, "inspect", "--server", `node ${HANG}`, "--timeout", "120", "--workdir", workdir],
      { stdio: "ignore" },
    );
    // The stage is recorded before the server starts; give it time to get there.
    for (
      let i = 0;
      i < 100 && !(await readFile(join(workdir, "state.json"), "utf8").catch(() => "")).includes("running");
      i++
    )
      await new Promise((r) => setTimeout(r, 100));
    child.kill("SIGINT");
    expect(await new Promise((done) => child.once("exit", done))).toBe(130);
    const status = await runCli(["status", "--workdir", workdir, "--json"]);
    const next = (JSON.parse(status.stdout) as { next: string }).next;
    expect(next).toBe(`mcp-forge inspect --server 'node ${HANG}' --timeout 120 --workdir ${workdir}`);
  });

  it("leaves no temporary file behind when interrupted in the middle of a write", async () => {
    const out = join(dir, "atomic");
    await mkdir(out);
    const atomic = pathToFileURL(join(ROOT, "build", "core", "atomic.js")).href;
    const shutdown = pathToFileURL(join(ROOT, "build", "core", "shutdown.js")).href;
    const writer = spawn(
      process.execPath,
      [
        "--input-type=module",
        "-e",
        `const { writeFileAtomic } = await import(${JSON.stringify(atomic)});
         const { onShutdown } = await import(${JSON.stringify(shutdown)});
         onShutdown(() => undefined);
         const big = "x".repeat(32 * 1024 * 1024);
         process.stdout.write("ready\\n");
         for (let n = 0; ; n++) await writeFileAtomic(${JSON.stringify(join(out, "train.jsonl"))}, big + n);`,
      ],
      { stdio: ["ignore", "pipe", "ignore"] },
    );
    await new Promise((r) => writer.stdout.once("data", r));
    await new Promise((r) => setTimeout(r, 700));
    const started = Date.now();
    writer.kill("SIGINT");
    expect(await new Promise((done) => writer.once("exit", done))).toBe(130);
    expect(Date.now() - started).toBeLessThan(1000);
    expect((await readdir(out)).filter((f) => f.endsWith(".tmp"))).toEqual([]);
  });
});
