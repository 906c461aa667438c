/**
 * `run --time-budget`: the minutes the whole run may take. Training is the stage whose time grows with
 * the data, so it gets what is left when it starts, less a share kept for export, validation, benchmark
 * and packing.
 */

/** On a machine without a GPU `run` fits in the main command's time unless told otherwise. */
export const DEFAULT_CPU_BUDGET_MINUTES = 15;
/** The share of the budget kept for the stages after training (for the tiny model they take about a minute). */
const AFTER_TRAINING_SHARE = 0.1;
/** Training gets at least this much, however little is left: a run always ends with a model. */
const MIN_TRAINING_MINUTES = 0.5;

/** The minutes TRAINING may take when it starts `elapsedSeconds` into a run with `budgetMinutes`. */
export function trainingMinutes(budgetMinutes: number, elapsedSeconds: number): number {
  const left = budgetMinutes * (1 - AFTER_TRAINING_SHARE) - elapsedSeconds / 60;
  return Math.round(Math.max(MIN_TRAINING_MINUTES, left) * 100) / 100;
}

/** TRAINING's arguments with `--time-budget` set to what is left of the run's budget. */
export function withTrainingBudget(args: string[], budgetMinutes: number, elapsedSeconds: number): string[] {
  const at = args.indexOf("--time-budget");
  if (at < 0) return args;
  const out = [...args];
  out[at + 1] = String(trainingMinutes(budgetMinutes, elapsedSeconds));
  return out;
}
