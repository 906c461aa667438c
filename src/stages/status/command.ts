import { Command } from "commander";

import { examples, globalOptions, withCommonOptions } from "../../cli/options.js";
import { currentStage, loadState, nextCommand, type PipelineState, STAGES, statePath } from "../../core/state.js";

export function statusCommand(): Command {
  return withCommonOptions(
    new Command("status")
      .description("show where the pipeline stands: each stage, what it produced, and the next command")
      .option("--force", "move a corrupt state.json aside and start over", false)
      .addHelpText("after", examples("mcp-forge status", "mcp-forge status --workdir runs/weather --json")),
  ).action(async (opts: { workdir: string; json: boolean; force: boolean }) => {
    const { workdir, output } = globalOptions(opts);
    const state = await loadState(workdir, { force: opts.force });
    const next = nextCommand(state);
    output.result({
      stateFile: statePath(workdir),
      stage: currentStage(state),
      next: next ?? null,
      stages: state.stages,
    });
    output.say(formatStatus(state, statePath(workdir), next));
  });
}

export function formatStatus(state: PipelineState, file: string, next: string | undefined): string {
  const lines = [`state: ${file}`, `stage: ${currentStage(state)}`, ""];
  for (const stage of STAGES) {
    const record = state.stages[stage];
    if (!record) {
      lines.push(`  ·  ${stage.padEnd(14)} not run`);
      continue;
    }
    const mark = { done: "✓", running: "…", failed: "✗", interrupted: "!" }[record.status];
    const when = record.finishedAt ?? record.startedAt;
    lines.push(`  ${mark}  ${stage.padEnd(14)} ${record.status} ${when}`);
    for (const out of Object.keys(record.outputs)) lines.push(`       → ${out}`);
    if (record.error) lines.push(`       error: ${record.error}`);
  }
  lines.push("", next ? `next: ${next}` : "the pipeline is complete");
  return lines.join("\n");
}
