import { execFileSync, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";

import { describe, expect, it } from "vitest";

import { ROOT, runCli } from "../support/cli.js";

interface Check {
  name: string;
  status: "ok" | "missing" | "note";
  detail: string;
  neededBy: string[];
  optional: boolean;
  fix?: string;
  facts?: Record<string, unknown>;
}

const doctor = (env: NodeJS.ProcessEnv, ...args: string[]) => runCli(["doctor", ...args], { env });
const check = (checks: Check[], name: string) => checks.find((c) => c.name === name);

/** A real Python 3 on PATH without torch, as on a machine before `npm run setup:python`. */
function pythonWithoutTorch(): string | undefined {
  try {
    const path = execFileSync("python3", ["-c", "import sys; print(sys.executable)"], { encoding: "utf8" }).trim();
    const hasTorch = execFileSync(
      path,
      ["-c", "import importlib.util; print(importlib.util.find_spec('torch') is not None)"],
      { encoding: "utf8" },
    );
    return hasTorch.trim() === "False" ? path : undefined;
  } catch {
    return undefined;
  }
}

const bareEnv = { OPENAI_API_KEY: "", GITHUB_TOKEN: "", HF_TOKEN: "" };

describe("doctor", () => {
  it("MCP_FORGE_PYTHON at a missing path: exit 3 naming train/export and the fix; the other checks still run", async () => {
    const run = await doctor({ ...bareEnv, MCP_FORGE_PYTHON: "/nonexistent/bin/python" }, "--json");
    expect(run.code, run.stderr).toBe(3);
    expect(run.stderr).toContain("train, export cannot run");
    expect(run.stderr).toContain("MCP_FORGE_PYTHON is /nonexistent/bin/python");
    const result = JSON.parse(run.stdout) as { ok: boolean; blockedStages: string[]; checks: Check[] };
    expect(result.ok).toBe(false);
    expect(result.blockedStages, run.stderr).toEqual(["train", "export"]);
    for (const c of result.checks) {
      expect(Object.keys(c)).toEqual(expect.arrayContaining(["name", "status", "detail", "neededBy", "optional"]));
      expect(["ok", "missing", "note"]).toContain(c.status);
    }
    expect(check(result.checks, "python")).toMatchObject({ status: "missing", neededBy: ["train", "export"] });
    expect(check(result.checks, "node")).toMatchObject({ status: "ok", neededBy: ["all"] });
    expect(check(result.checks, "llama.cpp")).toMatchObject({
      status: "ok",
      neededBy: ["validate", "benchmark", "verify-bundle", "agent", "serve"],
      facts: { buildType: expect.stringMatching(/prebuilt|localBuild/) },
    });
    expect(check(result.checks, "disk")?.facts?.freeBytes).toBeGreaterThan(0);
    // Unset API keys are notes, never the reason for exit 3.
    expect(check(result.checks, "OPENAI_API_KEY")).toMatchObject({
      status: "note",
      optional: true,
      neededBy: ["generate --llm"],
    });
    expect(result.blockedStages).not.toContain("generate --llm");
  });

  const python = pythonWithoutTorch();
  it.skipIf(!python)(
    "a real Python without torch: exit 3, torch reported missing, `npm run setup:python` named",
    async () => {
      const run = await doctor({ ...bareEnv, MCP_FORGE_PYTHON: python });
      expect(run.code, run.stderr).toBe(3);
      expect(run.stdout).toMatch(/✓ python\s+Python 3\.\d+\.\d+ at /);
      expect(run.stdout).toMatch(/✗ trainer packages\s+not installed: torch, transformers, peft, trl/);
      expect(run.stderr).toContain("train, export cannot run: trainer packages");
      expect(run.stderr).toContain("npm run setup:python");
    },
  );

  it("never prints the values of API keys, only that they are set", async () => {
    const secrets = {
      OPENAI_API_KEY: "sk-planted-0penai-5ecret",
      GITHUB_TOKEN: "ghp_planted_g1thub_5ecret",
      HF_TOKEN: "hf_planted_hug_5ecret",
    };
    const env = { ...secrets, MCP_FORGE_PYTHON: python ?? "/nonexistent/bin/python" };
    const [text, json] = await Promise.all([doctor(env), doctor(env, "--json")]);
    for (const run of [text, json]) {
      const everything = run.stdout + run.stderr;
      for (const value of Object.values(secrets)) {
        expect(everything).not.toContain(value);
        expect(everything).not.toContain(value.slice(3, 15));
      }
    }
    expect(text.stdout).toMatch(/✓ OPENAI_API_KEY\s+set/);
    const checks = (JSON.parse(json.stdout) as { checks: Check[] }).checks;
    expect(check(checks, "GITHUB_TOKEN")).toMatchObject({ status: "ok", facts: { set: true } });
  });

  const venvPython = join(ROOT, "python", ".venv", "bin", "python");
  const venvComplete =
    existsSync(venvPython) && spawnSync(venvPython, ["-c", "import torch, mcp_forge_trainer"]).status === 0;
  it.skipIf(!venvComplete)("with the trainer set up: torch, CUDA and package versions are reported", async () => {
    const run = await doctor({ ...bareEnv, MCP_FORGE_PYTHON: "" }, "--json");
    const result = JSON.parse(run.stdout) as { checks: Check[] };
    expect(check(result.checks, "trainer packages")).toMatchObject({ status: "ok" });
    const gpu = check(result.checks, "gpu (torch)");
    expect(gpu?.facts).toHaveProperty("cudaAvailable");
    expect(gpu?.status).toBe(gpu?.facts?.cudaAvailable ? "ok" : "note");
  });
});
