import { execFile } from "node:child_process";
import { join } from "node:path";

import { describe, expect, it } from "vitest";

import { ExitCode, METRICS, PROFILES, QUANTS, STAGES, THRESHOLDS } from "../../src/core/contract.js";
import { ROOT } from "../support/cli.js";

const PYTHON = join(ROOT, "python", ".venv", "bin", "python");

/** The trainer's own copies of the contract's values, read from its modules. */
function trainerValues(): Promise<{ profiles: string[]; quants: string[]; exitCodes: Record<string, number> }> {
  const script = [
    "import json",
    "from mcp_forge_trainer.config import PROFILES",
    "from mcp_forge_trainer.export import QUANTS",
    "from mcp_forge_trainer.protocol import EXIT_CODES",
    "print(json.dumps({'profiles': list(PROFILES), 'quants': list(QUANTS), 'exitCodes': EXIT_CODES}))",
  ].join("\n");
  return new Promise((done, fail) => {
    execFile(
      PYTHON,
      ["-c", script],
      { cwd: ROOT, env: { ...process.env, PYTHONPATH: join(ROOT, "python") } },
      (error, stdout, stderr) => {
        if (error) fail(new Error(`${error.message}\n${stderr}`));
        else done(JSON.parse(stdout) as { profiles: string[]; quants: string[]; exitCodes: Record<string, number> });
      },
    );
  });
}

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
