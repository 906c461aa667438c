import { spawn } from "node:child_process";
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

import { afterEach, beforeEach, describe, expect, it } from "vitest";

import { loadState, type StageFinish, withStage } from "../../src/core/state.js";
import { ROOT, runCli, tempDir, TOOL_FIXTURES } from "../support/cli.js";

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ dir, cleanup } = await tempDir()));
afterEach(() => cleanup());

/** Records a stage that did nothing but end as `finish` says. */
const record = (stage: Parameters<typeof withStage>[1], inputs: Record<string, string>, finish: StageFinish) =>
  withStage(dir, stage, { inputs, finish: () => finish }, async () => undefined);

const CORRUPT = '{"version": 1, "stage": "TRAINING", "stages": {';

describe("state.json", () => {
  it("is never seen half-written, even when the writer is killed mid-stream", async () => {
    // A separate process rewrites a large state as fast as it can until it is SIGKILLed.
    const stateModule = pathToFileURL(join(ROOT, "build", "core", "state.js")).href;
    const writer = spawn(
      process.execPath,
      [
        "--input-type=module",
        "-e",
        `const { withStage } = await import(${JSON.stringify(stateModule)});
         const big = Object.fromEntries(Array.from({ length: 3000 }, (_, i) => ["k" + i, "v".repeat(40)]));
         for (let n = 0; ; n++)
           await withStage(${JSON.stringify(dir)}, "SYNTHESIZING", { inputs: {}, finish: () => ({ outputs: {}, summary: { n, big } }) }, async () => {});`,
      ],
      { stdio: "ignore" },
    );
    const path = join(dir, "state.json");
    let reads = 0;
    const deadline = Date.now() + 1500;
    while (Date.now() < deadline) {
      const text = await readFile(path, "utf8").catch(() => undefined);
      if (text === undefined) continue;
      expect(() => JSON.parse(text), `read ${reads}`).not.toThrow();
      reads++;
    }
    writer.kill("SIGKILL");
    await new Promise((done) => writer.once("exit", done));
    expect(reads).toBeGreaterThan(10);
    const state = await loadState(dir);
    // The kill lands between a stage's start and its end, or after: either record is whole.
    expect(state.stages.SYNTHESIZING?.status).toMatch(/^(running|done)$/);
  });

  it("a corrupt state.json is reported with its path and exit 2; tools import writes nothing", async () => {
    await writeFile(join(dir, "state.json"), CORRUPT);
    const status = await runCli(["status", "--workdir", dir]);
    expect(status.code).toBe(2);
    expect(status.stderr).toContain(`${join(dir, "state.json")} is corrupt: not valid JSON`);
    expect(status.stderr).toContain("--force");
    const imported = await runCli(["tools", "import", join(TOOL_FIXTURES, "functions.json"), "--workdir", dir]);
    expect(imported.code).toBe(2);
    expect(imported.stderr).toContain(join(dir, "state.json"));
    expect(await readdir(dir)).toEqual(["state.json"]);
  });

  it("a state.json of the wrong shape names the field", async () => {
    await writeFile(join(dir, "state.json"), JSON.stringify({ version: 1, stage: "COOKING", stages: {} }));
    const status = await runCli(["status", "--workdir", dir]);
    expect(status.code).toBe(2);
    expect(status.stderr).toContain('/stage is "COOKING"');
  });

  it("--force moves a corrupt state.json aside, keeping its content, and starts over", async () => {
    await writeFile(join(dir, "state.json"), CORRUPT);
    const run = await runCli(["tools", "import", join(TOOL_FIXTURES, "functions.json"), "--workdir", dir, "--force"]);
    expect(run.code, run.stderr).toBe(0);
    const files = await readdir(dir);
    const aside = files.find((f) => f.startsWith("state.json.corrupt-"));
    expect(aside).toBeDefined();
    expect(await readFile(join(dir, aside!), "utf8")).toBe(CORRUPT);
    const state = JSON.parse(await readFile(join(dir, "state.json"), "utf8"));
    expect(Object.keys(state.stages)).toEqual(["INSPECTING"]);
  });

  it("status shows finished stages, their outputs, failures and the next command", async () => {
    await record(
      "INSPECTING",
      { file: "sha256:aa" },
      { outputs: { "tools.json": "sha256:bb" }, summary: { tools: 3 } },
    );
    await record(
      "SYNTHESIZING",
      { tools: "sha256:bb" },
      { outputs: { "data/train.jsonl": "sha256:cc", "data/eval.jsonl": "sha256:dd" }, summary: {} },
    );
    await record(
      "QC_VALIDATING",
      {},
      { status: "failed", outputs: {}, summary: {}, error: "schema pass rate 0.91 < 0.98" },
    );

    const text = await runCli(["status", "--workdir", dir]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/✓\s+INSPECTING\s+done/);
    expect(text.stdout).toContain("→ tools.json");
    expect(text.stdout).toContain("→ data/train.jsonl");
    expect(text.stdout).toMatch(/✗\s+QC_VALIDATING\s+failed/);
    expect(text.stdout).toContain("error: schema pass rate 0.91 < 0.98");
    expect(text.stdout).toMatch(/·\s+TRAINING\s+not run/);
    expect(text.stdout).toContain("next: mcp-forge qa");

    const json = await runCli(["status", "--workdir", dir, "--json"]);
    expect(JSON.parse(json.stdout)).toMatchObject({
      stage: "QC_VALIDATING",
      next: "mcp-forge qa",
      stages: { SYNTHESIZING: { status: "done" } },
    });
  });

  it("a stage whose work fails is recorded as failed with the error, not left running", async () => {
    const missing = join(dir, "nowhere.jsonl");
    const qa = await runCli(["qa", "--data", missing, "--workdir", dir]);
    expect(qa.code).toBe(2);
    const state = await loadState(dir);
    expect(state.stages.QC_VALIDATING).toMatchObject({ status: "failed", error: expect.stringContaining(missing) });
    const text = await runCli(["status", "--workdir", dir]);
    expect(text.stdout).toMatch(/✗\s+QC_VALIDATING\s+failed/);
  });

  it("re-running a stage drops the later stages' records, since their inputs changed", async () => {
    await mkdir(dir, { recursive: true });
    for (const stage of ["INSPECTING", "SYNTHESIZING", "QC_VALIDATING"] as const) {
      await record(stage, {}, { outputs: {}, summary: {} });
    }
    const run = await runCli(["tools", "import", join(TOOL_FIXTURES, "functions.yml"), "--workdir", dir]);
    expect(run.code, run.stderr).toBe(0);
    const state = await loadState(dir);
    expect(Object.keys(state.stages)).toEqual(["INSPECTING"]);
    expect(state.stage).toBe("SYNTHESIZING");
  });
});
