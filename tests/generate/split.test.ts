import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { loadState } from "../../src/core/state.js";
import { generateDataset, type GenerateResult } from "../../src/stages/generate/generate.js";
import { valuesAppearIn } from "../../src/stages/generate/llm-seeds.js";
import { CLI, ROOT } from "../support/cli.js";

const fixture = join(ROOT, "tests/fixtures/qa/tools.json");
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- parsed JSONL rows are walked freely in assertions
type Row = Record<string, any>;

let dir: string;
let first: GenerateResult;
const read = async (path: string): Promise<Row[]> =>
  (await readFile(path, "utf8"))
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l));
const norm = (t: string) => t.toLowerCase().replace(/\s+/g, " ").trim();
const user = (r: Row) =>
  r.messages
    .filter((m: Row) => m.role === "user")
    .map((m: Row) => m.content)
    .join("\n");

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "forge-split-"));
  first = await generateDataset({
    workdir: join(dir, "a"),
    toolsPath: fixture,
    samples: 300,
    seed: 5,
    progress: "quiet",
  });
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("generate: splits, seeds and augmentation", () => {
  it("train and eval share no user text and no seed; eval has ≥ 3 prompts per tool", async () => {
    const train = await read(first.trainPath);
    const held = await read(first.evalPath);
    expect(train).toHaveLength(300);
    expect(held.length).toBeGreaterThanOrEqual(30);
    const trainTexts = new Set(train.map((r) => norm(user(r))));
    expect(trainTexts.size).toBe(train.length);
    for (const r of held) expect(trainTexts.has(norm(user(r))), user(r)).toBe(false);
    const trainSeeds = new Set(train.map((r) => r.seedId));
    for (const r of held) expect(trainSeeds.has(r.seedId)).toBe(false);
    for (const tool of ["get_forecast", "create_event", "search_notes"]) {
      const calls = held.filter((r) => r.messages.some((m: Row) => m.tool_calls?.[0]?.function.name === tool));
      expect(calls.length, tool).toBeGreaterThanOrEqual(3);
    }
    expect(first.qc?.passed).toBe(true);
    const state = await loadState(join(dir, "a"));
    expect(state.stages.SYNTHESIZING?.status).toBe("done");
    expect(state.stages.QC_VALIDATING?.status).toBe("done");
  });

  it("the held-out split is phrased in sentence frames, and uses values, that training never used", async () => {
    const train = await read(first.trainPath);
    const held = await read(first.evalPath);
    const call = (r: Row) => r.messages.find((m: Row) => m.tool_calls)?.tool_calls[0].function.arguments ?? {};
    const strings = (v: unknown): string[] =>
      typeof v === "string"
        ? [v]
        : Array.isArray(v)
          ? v.flatMap(strings)
          : v && typeof v === "object"
            ? Object.values(v).flatMap(strings)
            : [];
    // The words a request is made of once its argument values and numbers are taken out.
    const skeleton = (r: Row) => {
      let text = user(r);
      for (const v of strings(call(r)).sort((a, b) => b.length - a.length)) if (v) text = text.split(v).join(" ");
      return text
        .toLowerCase()
        .replace(/[^a-z']+/g, " ")
        .trim();
    };
    const trainSkeletons = new Set(train.map(skeleton));
    const calling = held.filter((r) => r.scenario !== "no_tool");
    expect(calling.length).toBeGreaterThan(20);
    expect(calling.filter((r) => trainSkeletons.has(skeleton(r))).map(user)).toEqual([]);
    const noTool = held.filter((r) => r.scenario === "no_tool");
    expect(noTool.filter((r) => trainSkeletons.has(skeleton(r))).map(user)).toEqual([]);
    const enums = new Set(["metric", "imperial", "low", "normal", "high"]);
    const trainValues = new Set(train.flatMap((r) => strings(call(r))).filter((v) => v.length >= 3 && !enums.has(v)));
    const heldValues = held.flatMap((r) => strings(call(r))).filter((v) => v.length >= 3 && !enums.has(v));
    expect(heldValues.length).toBeGreaterThan(20);
    expect(heldValues.filter((v) => trainValues.has(v)).length / heldValues.length).toBeLessThan(0.1);
  });

  it("augmentation expands each seed at least 10× within its split, with values swapped in request and call", async () => {
    const train = await read(first.trainPath);
    const seeds = train.filter((r) => r.source === "seed");
    const ids = new Set(seeds.map((r) => r.id));
    const bySeed = new Map<string, Row[]>();
    for (const r of train) bySeed.set(r.seedId, [...(bySeed.get(r.seedId) ?? []), r]);
    for (const [seedId, group] of bySeed) {
      expect(ids.has(`${seedId}-00`)).toBe(true);
      expect(new Set(group.map((r) => r.scenario)).size).toBe(1);
    }
    const plan = JSON.parse(await readFile(first.planPath, "utf8"));
    const bigCells = plan.train.filter((c: Row) => c.count >= 10).length;
    expect([...bySeed.values()].filter((g) => g.length >= 10).length).toBeGreaterThanOrEqual(bigCells);
    for (const r of train.filter((x) => x.scenario === "standard" || x.scenario === "edge")) {
      const args = r.messages[2].tool_calls[0].function.arguments;
      expect(valuesAppearIn(args, user(r)), `${JSON.stringify(args)} not in ${user(r)}`).toBe(true);
    }
    const group = [...bySeed.values()].find(
      (g) =>
        g[0]!.scenario === "standard" && Object.keys(g[0]!.messages[2].tool_calls[0].function.arguments).length > 0,
    )!;
    const argSets = new Set(group.map((r) => JSON.stringify(r.messages[2].tool_calls[0].function.arguments)));
    expect(argSets.size).toBeGreaterThan(group.length / 2);
    expect(new Set(group.map((r) => r.messages[0].content)).size).toBeGreaterThan(1);
  });

  it("is deterministic for a seed; another seed gives another dataset", async () => {
    const again = await generateDataset({
      workdir: join(dir, "b"),
      toolsPath: fixture,
      samples: 300,
      seed: 5,
      progress: "quiet",
      gate: false,
    });
    expect(await readFile(again.trainPath, "utf8")).toBe(await readFile(first.trainPath, "utf8"));
    expect(await readFile(again.evalPath, "utf8")).toBe(await readFile(first.evalPath, "utf8"));
    const other = await generateDataset({
      workdir: join(dir, "c"),
      toolsPath: fixture,
      samples: 300,
      seed: 6,
      progress: "quiet",
      gate: false,
    });
    expect(await readFile(other.trainPath, "utf8")).not.toBe(await readFile(first.trainPath, "utf8"));
  });

  it("the CLI takes the mix from mcp-forge.yaml and flags, and fails the gate with a remediation line", async () => {
    const cwd = join(dir, "cli");
    await rm(cwd, { recursive: true, force: true });
    await mkdir(cwd, { recursive: true });
    await writeFile(join(cwd, "mcp-forge.yaml"), "generate:\n  scenarioMix: { edge: 0.25 }\nqa:\n  minPerTool: 40\n");
    const run = promisify(execFile);
    const out = await run(
      "node",
      [CLI, "generate", "--tools", fixture, "--samples", "100", "--no-tool-ratio", "0.3", "--json"],
      { cwd },
    ).catch((e) => e);
    expect(out.code).toBe(1);
    expect(out.stderr).toMatch(/tool \S+ has \d+ samples, needs 40/);
    expect(out.stderr).toMatch(/rerun generate with --samples \d+/);
    const plan = JSON.parse(await readFile(join(cwd, ".mcp-forge", "synthesis_plan.json"), "utf8"));
    expect(plan.scenarioMix.no_tool).toBe(0.3);
    expect(plan.perScenario.no_tool).toBe(30);
    expect(plan.scenarioMix.edge).toBeGreaterThan(0.15);
    expect(JSON.parse(out.stdout).qc.passed).toBe(false);
  });
});
