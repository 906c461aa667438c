import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { startFakeOpenAi } from "./helpers/fake-openai.js";
import { ROOT, script, writeOracleFiles } from "./helpers/oracle.js";

/*
 * What a GitHub Action user runs: the action's checkout (package.json, bin/, schemas/, the bundled
 * dist/cli) with the packages installed but nothing built, so bin/mcp-forge.js cannot load build/.
 */
describe("validate --stub from the bundled CLI (dist/cli, no build/)", () => {
  let fake: Awaited<ReturnType<typeof startFakeOpenAi>>;
  const checkout = mkdtempSync(join(tmpdir(), "mcp-forge-dist-only-"));
  const files = writeOracleFiles();

  beforeAll(async () => {
    for (const path of ["package.json", "bin", "schemas", join("dist", "cli")])
      cpSync(join(ROOT, path), join(checkout, path), { recursive: true });
    symlinkSync(join(ROOT, "node_modules"), join(checkout, "node_modules"), "dir");
    fake = await startFakeOpenAi(script);
  });
  afterAll(async () => {
    await fake?.close();
    rmSync(checkout, { recursive: true, force: true });
    rmSync(files.dir, { recursive: true, force: true });
  });

  it("runs every call against the stub server and scores the run", async () => {
    const workdir = join(files.dir, "wd");
    const result = await execa(
      process.execPath,
      [
        join(checkout, "dist", "cli", "index.js"),
        "validate",
        "--stub",
        "--model",
        "openai:perfect",
        "--base-url",
        fake.baseUrl,
        "--tools",
        files.toolsPath,
        "--eval",
        files.evalPath,
        "--data",
        files.evalPath,
        "--workdir",
        workdir,
        "--transcripts",
        "--json",
      ],
      { reject: false, cwd: checkout, env: { ...process.env, MCP_FORGE_CLI: "" } },
    );
    expect(result.stderr).not.toMatch(/^error:/m);
    expect(result.exitCode).toBe(0);
    const summary = JSON.parse(result.stdout);
    expect(summary.metrics.loopCompletionRate).toBe(1);
    const report = JSON.parse(readFileSync(join(workdir, "reports", "validation.json"), "utf8"));
    expect(report.calls.target).toMatch(/^stub/);
    const results = report.transcripts.flatMap(
      (t: { turns: Array<{ calls?: Array<{ result: { source: string } }> }> }) =>
        t.turns.flatMap((turn) => (turn.calls ?? []).map((c) => c.result.source)),
    );
    expect(results.length).toBeGreaterThan(0);
    expect(new Set(results)).toEqual(new Set(["stub"]));
  });
});
