import { performance } from "node:perf_hooks";

import * as core from "@actions/core";

import { ExitCode, ForgeError } from "../core/errors.js";
import { readState, writeState } from "./context.js";
import { drift } from "./drift-check.js";
import { report } from "./job-report.js";
import { release } from "./release.js";
import { setup } from "./setup.js";
import { STAGE_STEPS } from "./stages.js";

/**
 * The action's steps, by the name action.yml passes: `node dist/action/index.js <step>`. A step that fails
 * without throwing (a gate) returns its exit code; `main` alone sets the process's.
 */
export const STEPS: Record<string, () => Promise<ExitCode | void>> = {
  setup,
  ...STAGE_STEPS,
  drift,
  report,
  release,
};

async function main(name: string | undefined): Promise<number> {
  const step = name ? STEPS[name] : undefined;
  if (!step) {
    core.error(`unknown step "${name ?? ""}"; expected one of ${Object.keys(STEPS).join(", ")}`);
    return 2;
  }
  const started = performance.now();
  core.startGroup(`MCP-Forge · ${name}`);
  let code = 0;
  try {
    const outcome = await step();
    code = typeof outcome === "number" ? outcome : ExitCode.ok;
  } catch (error) {
    code = error instanceof ForgeError ? error.exitCode : 1;
    core.error(
      error instanceof ForgeError
        ? `${error.message}${error.hint ? ` (${error.hint})` : ""}`
        : ((error as Error)?.stack ?? String(error)),
      { title: `MCP-Forge ${name}` },
    );
  } finally {
    core.endGroup();
  }
  const seconds = (performance.now() - started) / 1000;
  core.info(`MCP-Forge · ${name}: ${code === 0 ? "done" : `exit ${code}`} in ${seconds.toFixed(1)} s`);
  if (process.env.RUNNER_TEMP)
    await writeState("timings.json", {
      ...((await readState<Record<string, number>>("timings.json")) ?? {}),
      [name as string]: Math.round(seconds * 10) / 10,
    }).catch(() => undefined);
  return code;
}

process.exitCode = await main(process.argv[2]);
