import { copyFile, mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";

import { canonicalJson, sha256 } from "../../src/core/canonical.js";
import { ensureTinyModel, type TinyModel } from "../helpers/tiny-model.js";
import { CLI } from "../support/cli.js";

const SYSTEM =
  "You are a helpful assistant with a long-term memory of people, organisations and projects. Use a memory tool when a request needs one.";
const call = (name: string, args: Record<string, unknown>) => ({
  role: "assistant",
  content: "",
  tool_calls: [{ id: "call_1", type: "function", function: { name, arguments: args } }],
});
/** Requests as a person writes them, with the call each needs (or a direct answer), in the chat format of data/eval.jsonl. */
const HAND_WRITTEN = [
  {
    id: "h1",
    scenario: "standard",
    messages: [
      { role: "system", content: SYSTEM },
      { role: "user", content: "Do you have anything stored about Ada Lovelace?" },
      call("search_nodes", { query: "Ada Lovelace" }),
    ],
  },
  {
    id: "h2",
    scenario: "standard",
    messages: [
      { role: "system", content: SYSTEM },
      { role: "user", content: "Forget everything about Bob Smith." },
      call("delete_entities", { entityNames: ["Bob Smith"] }),
    ],
  },
  {
    id: "h3",
    scenario: "no_tool",
    messages: [
      { role: "system", content: SYSTEM },
      { role: "user", content: "What is 15 times 12?" },
      { role: "assistant", content: "15 times 12 is 180." },
    ],
  },
  {
    id: "h4",
    scenario: "standard",
    messages: [
      { role: "system", content: SYSTEM },
      { role: "user", content: "Show me everything you remember." },
      call("read_graph", {}),
    ],
  },
];
const jsonl = (rows: unknown[]) => rows.map((r) => JSON.stringify(r)).join("\n") + "\n";
const hashOf = (rows: unknown[]) => `sha256:${sha256(rows.map((r) => canonicalJson(r)).join("\n"))}`;

interface RunJson {
  stages: Array<{ stage: string; status: string; exitCode: number }>;
}

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "mcp-forge-eval-set-"));
  dirs.push(dir);
  return dir;
}
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

const forge = (cwd: string, ...args: string[]) =>
  execa("node", [CLI, ...args], { reject: false, cwd, env: { ...process.env, FORCE_COLOR: "0" } });

describe("run --eval with a missing or malformed eval set", () => {
  it("exits 2 naming the file (and the line) before any stage runs", async () => {
    const dir = await tempDir();
    const work = join(dir, "work");
    const missing = await forge(dir, "run", "--workdir", work, "--eval", "human.jsonl");
    expect(missing.exitCode).toBe(2);
    expect(missing.stderr).toMatch(/--eval human\.jsonl: no such file/);
    expect(missing.stderr).not.toMatch(/\n\s+at /);

    await writeFile(join(dir, "broken.jsonl"), `${JSON.stringify(HAND_WRITTEN[0])}\n{"messages": [\n`);
    const broken = await forge(dir, "run", "--workdir", work, "--eval", "broken.jsonl");
    expect(broken.exitCode).toBe(2);
    expect(broken.stderr).toContain(`${join(dir, "broken.jsonl")}:2: not valid JSON`);

    await writeFile(
      join(dir, "no-answer.jsonl"),
      jsonl([HAND_WRITTEN[0], { messages: [{ role: "user", content: "Forget Bob." }] }]),
    );
    const unanswered = await forge(dir, "run", "--workdir", work, "--eval", "no-answer.jsonl");
    expect(unanswered.exitCode).toBe(2);
    expect(unanswered.stderr).toContain(`${join(dir, "no-answer.jsonl")}:2: /messages has no assistant turn`);
    // Nothing ran: no stage was recorded.
    await expect(stat(join(work, "state.json"))).rejects.toThrow();

    const validate = await forge(dir, "validate", "--workdir", work, "--eval", "human.jsonl", "--stub");
    expect(validate.exitCode).toBe(2);
    expect(validate.stderr).toMatch(/--eval human\.jsonl: no such file/);
  });
});

describe("run --eval with a hand-written eval set", () => {
  let tiny: TinyModel;
  beforeAll(async () => {
    tiny = await ensureTinyModel();
  }, 1_800_000);

  it("grades validate and benchmark on it and records its name and hash in the reports and the bundle; an edit grades again", async () => {
    const dir = await tempDir();
    const work = join(dir, "work");
    await mkdir(join(work, "data"), { recursive: true });
    await copyFile(tiny.toolsPath, join(work, "tools.json"));
    await copyFile(tiny.trainData, join(work, "data", "train.jsonl"));
    await copyFile(tiny.evalData, join(work, "data", "eval.jsonl"));
    await copyFile(tiny.gguf, join(work, "model.gguf"));
    await writeFile(join(dir, "human.jsonl"), jsonl(HAND_WRITTEN));
    const run = () =>
      forge(
        dir,
        "run",
        "--workdir",
        work,
        "--tools",
        join(work, "tools.json"),
        "--from",
        "VALIDATING",
        "--eval",
        "human.jsonl",
        "--json",
      );

    const first = await run();
    const result = JSON.parse(first.stdout) as RunJson;
    expect(
      result.stages.map((s) => [s.stage, s.status === "failed" ? "failed" : "ok"]),
      first.stderr,
    ).toEqual([
      ["VALIDATING", "ok"],
      ["BENCHMARKING", "ok"],
      ["PACKAGING", "ok"],
    ]);
    const graded = async (rows: unknown[]) => {
      for (const name of ["validation", "benchmark"]) {
        const report = JSON.parse(await readFile(join(work, "reports", `${name}.json`), "utf8"));
        expect(report.evalSet).toBe(join(dir, "human.jsonl"));
        expect(report.evalSetHash).toBe(hashOf(rows));
        expect(report.counts.prompts).toBe(rows.length);
      }
      const manifest = parse(await readFile(join(work, "bundle", "agent.yaml"), "utf8"));
      for (const part of ["validation", "benchmark"])
        expect(manifest[part].evalSet).toEqual({ file: "human.jsonl", hash: hashOf(rows) });
      expect(await readFile(join(work, "bundle", "README.md"), "utf8")).toContain(
        `Graded on human.jsonl (\`${hashOf(rows).slice(0, 19)}…\`)`,
      );
    };
    await graded(HAND_WRITTEN);
    // The bundle's manifest, with the eval set in it, still matches its schema.
    const verify = await forge(dir, "verify-bundle", join(work, "bundle"), "--json");
    expect(verify.exitCode, verify.stderr).toBe(0);

    const again = JSON.parse((await run()).stdout) as RunJson;
    expect(again.stages.map((s) => s.status)).toEqual(["skipped", "skipped", "skipped"]);

    // The same path with other content: the grading stages run again on it.
    const edited = HAND_WRITTEN.slice(0, 3);
    await writeFile(join(dir, "human.jsonl"), jsonl(edited));
    const third = JSON.parse((await run()).stdout) as RunJson;
    expect(third.stages.map((s) => s.status === "skipped")).toEqual([false, false, false]);
    await graded(edited);
  }, 900_000);
});
