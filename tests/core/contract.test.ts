import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";

import ts from "typescript";
import { describe, expect, it } from "vitest";

import { ExitCode, METRICS, PROFILES, QUANTS, STAGES, THRESHOLDS } from "../../src/core/contract.js";
import { ROOT } from "../support/cli.js";

const PYTHON = join(ROOT, "python", ".venv", "bin", "python");

/** What a Python script prints as JSON, run with the trainer's package importable. */
function pythonJson<T>(lines: string[]): Promise<T> {
  return new Promise((done, fail) => {
    execFile(
      PYTHON,
      ["-c", ["import json", ...lines].join("\n")],
      { cwd: ROOT, env: { ...process.env, PYTHONPATH: join(ROOT, "python") } },
      (error, stdout, stderr) => {
        if (error) fail(new Error(`${error.message}\n${stderr}`));
        else done(JSON.parse(stdout) as T);
      },
    );
  });
}

/** The trainer's own copies of the contract's values, read from its modules. */
function trainerValues(): Promise<{ profiles: string[]; quants: string[]; exitCodes: Record<string, number> }> {
  return pythonJson([
    "from mcp_forge_trainer.config import PROFILES",
    "from mcp_forge_trainer.export import QUANTS",
    "from mcp_forge_trainer.protocol import EXIT_CODES",
    "print(json.dumps({'profiles': list(PROFILES), 'quants': list(QUANTS), 'exitCodes': EXIT_CODES}))",
  ]);
}

/** The keys of every TypedDict in python/mcp_forge_trainer/results.py, by name. */
function trainerResultKeys(): Promise<Record<string, string[]>> {
  return pythonJson([
    "from typing import is_typeddict",
    "from mcp_forge_trainer import results",
    "print(json.dumps({name: sorted(c.__required_keys__ | c.__optional_keys__)",
    "  for name, c in vars(results).items() if is_typeddict(c)}))",
  ]);
}

/** The keys of every interface declared in a TypeScript file, by name. */
function interfaceKeys(file: string): Record<string, string[]> {
  const source = ts.createSourceFile(file, readFileSync(file, "utf8"), ts.ScriptTarget.Latest);
  const out: Record<string, string[]> = {};
  source.forEachChild((node) => {
    if (!ts.isInterfaceDeclaration(node)) return;
    out[node.name.text] = node.members
      .flatMap((m) => (m.name && (ts.isIdentifier(m.name) || ts.isStringLiteral(m.name)) ? [m.name.text] : []))
      .sort();
  });
  return out;
}

/** The trainer's results as both sides define them (docs/contract.md §7): the same name, the same keys. */
const TRAINER_RESULTS = [
  "TrainDone",
  "DryRunDone",
  "ExportDone",
  "TrainTimings",
  "ExportTimings",
  "DatasetStats",
  "BudgetReport",
  "BudgetPhase",
  "TrainingEstimate",
  "EstimatePhase",
  "VerifyResult",
];

describe("the contract's values (src/core/contract.ts)", () => {
  it("match the Python trainer's: profiles, quantisations and the exit codes of its error kinds", async () => {
    const trainer = await trainerValues();
    expect(trainer.profiles).toEqual([...PROFILES]);
    expect(trainer.quants).toEqual([...QUANTS]);
    expect(trainer.exitCodes.bad_input).toBe(ExitCode.badInput);
    expect(trainer.exitCodes.environment).toBe(ExitCode.environment);
    expect(trainer.exitCodes.interrupted).toBe(ExitCode.interrupted);
    for (const code of Object.values(trainer.exitCodes)) expect(Object.values(ExitCode)).toContain(code);
  });

  it("are the only copies the CLI, the evaluation and the action use", async () => {
    const state = await import("../../src/core/state.js");
    const errors = await import("../../src/core/errors.js");
    const metrics = await import("../../src/eval/metrics.js");
    const gate = await import("../../src/action/gate.js");
    const inputs = await import("../../src/action/inputs.js");
    expect(state.STAGES).toBe(STAGES);
    expect(errors.ExitCode).toBe(ExitCode);
    expect(metrics.METRICS).toBe(METRICS);
    expect(metrics.THRESHOLDS).toBe(THRESHOLDS);
    expect(gate.DEFAULT_THRESHOLDS).toEqual(THRESHOLDS);
    expect(inputs.PROFILES).toBe(PROFILES);
    expect(inputs.QUANTS).toBe(QUANTS);
    expect(inputs.METRICS).toBe(METRICS);
  });

  it("gate only metrics that exist, each with a threshold between 0 and 1", () => {
    for (const [metric, limit] of Object.entries(THRESHOLDS)) {
      expect(METRICS).toContain(metric);
      expect(limit).toBeGreaterThan(0);
      expect(limit).toBeLessThanOrEqual(1);
    }
  });
});

describe("the trainer's results (docs/contract.md §7)", () => {
  it("have the same keys in Python (results.py) and TypeScript (trainer-process.ts)", async () => {
    const python = await trainerResultKeys();
    const typescript = interfaceKeys(join(ROOT, "src", "core", "trainer-process.ts"));
    for (const name of TRAINER_RESULTS) {
      expect(typescript[name], `${name} in trainer-process.ts`).toBeDefined();
      expect(python[name], `${name} in results.py`).toEqual(typescript[name]);
    }
    // Every Python record is compared, but the loop summary that only the adapter's record keeps.
    expect(Object.keys(python).sort()).toEqual([...TRAINER_RESULTS, "LoopSummary"].sort());
  });
});
