import { badInput } from "../../core/errors.js";
import type { BudgetReport, TrainerEvent, TrainingEstimate } from "../../core/trainer-process.js";

/** `--time-budget <minutes>`: a number of minutes, 0 for no limit. */
export function parseTimeBudget(value: unknown, flag = "--time-budget"): number {
  const minutes = Number(value);
  if (value === "" || value === null || !Number.isFinite(minutes) || minutes < 0) {
    throw badInput(`${flag} ${String(value)}: expected minutes, a number ≥ 0 (0: no limit)`, `e.g. ${flag} 15`);
  }
  return minutes;
}

const minutes = (seconds: number) => `${(seconds / 60).toFixed(seconds < 600 ? 1 : 0)} min`;
const count = (n: number) => Math.round(n).toLocaleString("en");
const percent = (x: number) => `${Math.round(x * 100)} %`;

/** The line printed before training: tokens, the throughput measured here, minutes; and what the budget cuts. */
export function estimateText(e: TrainingEstimate): string {
  const line =
    `estimate: ${count(e.tokens)} tokens to train at ${count(e.tokensPerSecond)} tokens/s (measured on this machine): ` +
    `${minutes(e.seconds)} of training`;
  if (e.fraction >= 1) return line;
  return (
    `${line}\n` +
    `the time budget of ${minutes(e.budgetSeconds ?? 0)} fits ${percent(e.fraction)} of the recipe ` +
    `(all of it: ${count(e.fullTokens)} tokens, ${minutes(e.fullSeconds)})`
  );
}

/** Minutes the untrained rest of the recipe would add, from the estimate's own figures. */
export function missingMinutes(report: BudgetReport): number {
  return Math.max(1, Math.ceil(((report.fullSeconds ?? 0) - report.estimatedSeconds) / 60));
}

/** The lines printed after training: the estimate against the time taken; a cut by the budget and how to give more. */
export function outcomeText(report: BudgetReport): string {
  const lines: string[] = [];
  if (report.estimateError !== null) {
    const sign = report.estimateError >= 0 ? "+" : "−";
    lines.push(
      `training took ${minutes(report.actualSeconds)} against an estimate of ${minutes(report.estimatedSeconds)} ` +
        `(${sign}${Math.abs(Math.round(report.estimateError * 100))} %)`,
    );
  }
  if (report.cut) {
    lines.push(
      `the time budget (${minutes(report.budgetSeconds ?? 0)}) cut training to ${percent(report.fraction)} of the recipe` +
        (report.cut === "deadline" ? " (it ran slower than measured and was stopped at the budget)" : "") +
        `; the rest would take about ${missingMinutes(report)} more minutes: raise --time-budget by that much, or --time-budget 0 for no limit`,
    );
  }
  return lines.join("\n");
}

export function estimateOf(event: TrainerEvent | undefined): TrainingEstimate | undefined {
  return event?.event === "estimate" ? (event as unknown as TrainingEstimate) : undefined;
}
