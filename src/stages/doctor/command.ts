import { Command } from "commander";

import { examples, globalOptions, withCommonOptions } from "../../cli/options.js";
import { environmentMissing } from "../../core/errors.js";
import { type Check, runChecks } from "./checks.js";

export function doctorCommand(): Command {
  return withCommonOptions(
    new Command("doctor")
      .description(
        "check Node, the Python trainer (torch, CUDA, GPUs), llama.cpp, disk and API keys; exit 3 when a stage cannot run",
      )
      .addHelpText(
        "after",
        examples("mcp-forge doctor", "mcp-forge doctor --json | jq '.checks[] | select(.status != \"ok\")'"),
      ),
  ).action(async (opts: { workdir: string; json: boolean }) => {
    const { workdir, output } = globalOptions(opts);
    const checks = await runChecks(workdir);
    const missing = checks.filter((c) => c.status === "missing");
    const blocked = [...new Set(missing.flatMap((c) => c.neededBy))];
    output.result({ ok: missing.length === 0, blockedStages: blocked, checks });
    output.say(formatChecks(checks));
    if (missing.length > 0) {
      const lines = missing.map((c) => `${c.neededBy.join(", ")} cannot run: ${c.name}: ${c.detail}`);
      const fixes = [...new Set(missing.flatMap((c) => (c.fix ? [c.fix] : [])))];
      throw environmentMissing(lines.join("\n  "), fixes.join("; "));
    }
  });
}

const MARK: Record<Check["status"], string> = { ok: "✓", missing: "✗", note: "·" };

export function formatChecks(checks: Check[]): string {
  const width = Math.max(...checks.map((c) => c.name.length));
  const lines = checks.map((c) => {
    const line = `  ${MARK[c.status]} ${c.name.padEnd(width)}  ${c.detail}  [${c.neededBy.join(", ")}]`;
    return c.status === "missing" && c.fix ? `${line}\n${" ".repeat(width + 6)}fix: ${c.fix}` : line;
  });
  if (!checks.some((c) => c.status === "missing")) lines.push("", "every stage has what it needs");
  return lines.join("\n");
}
