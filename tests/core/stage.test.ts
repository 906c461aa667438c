import { Command, CommanderError } from "commander";
import { describe, expect, it } from "vitest";

import type { Output } from "../../src/cli/output.js";
import { ExitCode } from "../../src/core/contract.js";
import { ForgeError } from "../../src/core/errors.js";
import { callStage, stageAction, stageExitCode } from "../../src/stages/stage.js";

function recorder(): Output & { said: string[]; results: unknown[] } {
  const said: string[] = [];
  const results: unknown[] = [];
  return {
    json: false,
    said,
    results,
    say: (t) => said.push(t),
    info: () => undefined,
    result: (v) => results.push(v),
  };
}

/** A command like the pipeline's: a positional argument, an option with a default, a shared bounded option. */
function demo(seen: unknown[]): Command {
  const command = new Command("demo").argument("<file>").option("--samples <n>").option("--gate <kind>", "", "strict");
  return stageAction(command, async (opts: { file: string; gate: string; samples?: string }, output) => {
    seen.push(opts);
    output.say(`file ${opts.file}`);
    output.result({ file: opts.file });
    return opts.gate === "fail" ? ExitCode.gateFailed : undefined;
  });
}

describe("stage functions (src/stages/stage.ts)", () => {
  it("callStage parses the arguments, passes options (positional ones by name) and the caller's output, and returns the exit code", async () => {
    const seen: unknown[] = [];
    const output = recorder();
    expect(await callStage(demo(seen), ["a.json"], output)).toBe(ExitCode.ok);
    expect(seen).toEqual([{ file: "a.json", gate: "strict" }]);
    expect(output.said).toEqual(["file a.json"]);
    expect(output.results).toEqual([{ file: "a.json" }]);
    expect(await callStage(demo(seen), ["b.json", "--gate", "fail"], recorder())).toBe(ExitCode.gateFailed);
  });

  it("a nested command (like `tools import`) reports through its root", async () => {
    const seen: unknown[] = [];
    const root = new Command("group").addCommand(demo(seen));
    expect(await callStage(root, ["demo", "c.json", "--gate", "fail"], recorder())).toBe(ExitCode.gateFailed);
    expect(stageExitCode(root)).toBe(ExitCode.gateFailed);
    expect(seen).toEqual([{ file: "c.json", gate: "fail" }]);
  });

  it("checks the shared bounds and refuses bad arguments by throwing, never through process.exitCode", async () => {
    const before = process.exitCode;
    await expect(callStage(demo([]), ["d.json", "--samples", "0"], recorder())).rejects.toBeInstanceOf(ForgeError);
    const quiet = demo([]).configureOutput({ writeErr: () => undefined });
    await expect(callStage(quiet, ["d.json", "--unknown"], recorder())).rejects.toBeInstanceOf(CommanderError);
    expect(process.exitCode).toBe(before);
  });
});
