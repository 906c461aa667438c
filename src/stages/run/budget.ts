/**
 * `run --time-budget`: the minutes the whole run may take. Training is the stage whose time grows with
 * the data, so it gets what is left when it starts, less what export, validation, benchmark and
 * packing are expected to take.
 */

/** On a machine without a GPU `run` fits in the main command's time unless told otherwise. */
export const DEFAULT_CPU_BUDGET_MINUTES = 15;
/** Export and packing (its smoke test included), besides grading: SmolLM2 135M exports in 18 s. */
const EXPORT_AND_PACK_SECONDS = 60;
/**
 * Seconds one held-out prompt takes to grade on two CPU cores, with margin: SmolLM2 took 3.0–4.9 s
 * on the 2-core AMD EPYC and 6.5 s on the 2-core Intel Xeon of docs/benchmarks.md ("SmolLM2 135M
 * becomes the default", "One grading"), Gemma 3 270M 22 s on the hand-written set on the EPYC (30 s
 * is that scaled by SmolLM2's Xeon/EPYC ratio, not measured), the tiny model 0.04 s. Each prompt is
 * graded once: the benchmark takes validation's runs (`benchmark --runs-from`).
 */
const GRADING_SECONDS: Readonly<Record<string, number>> = { tiny: 0.1, "smollm2-135m": 7, "gemma3-270m": 30 };
/** Any other model is taken to grade as fast as SmolLM2, the smallest pretrained preset. */
const DEFAULT_GRADING_SECONDS = GRADING_SECONDS["smollm2-135m"]!;
/** Training gets at least this much, however little is left: a run always ends with a model. */
const MIN_TRAINING_MINUTES = 0.5;

/** Seconds the stages after training are expected to take for `model` on `evalPrompts` held-out prompts. */
export function afterTrainingSeconds(model: string, evalPrompts: number): number {
  return EXPORT_AND_PACK_SECONDS + evalPrompts * (GRADING_SECONDS[model] ?? DEFAULT_GRADING_SECONDS);
}

/** The minutes TRAINING may take when it starts `elapsedSeconds` into a run with `budgetMinutes`. */
export function trainingMinutes(budgetMinutes: number, elapsedSeconds: number, reservedSeconds: number): number {
  const left = budgetMinutes - (elapsedSeconds + reservedSeconds) / 60;
  return Math.round(Math.max(MIN_TRAINING_MINUTES, left) * 100) / 100;
}

/** TRAINING's arguments with `--time-budget` set to what is left of the run's budget. */
export function withTrainingBudget(args: string[], minutes: number): string[] {
  const at = args.indexOf("--time-budget");
  if (at < 0) return args;
  const out = [...args];
  out[at + 1] = String(minutes);
  return out;
}
