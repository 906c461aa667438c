import { badInput } from "../core/errors.js";

/** Most training samples one run may ask for: far past what a LoRA on a small model needs. */
export const MAX_SAMPLES = 100_000;
/** Largest seed: llama.cpp's sampler takes a 32-bit seed. */
export const MAX_SEED = 2 ** 32 - 1;
/** Longest time limit an option may set: one day (Node's timers overflow past 24.8 days, to 1 ms). */
export const MAX_TIMEOUT_SECONDS = 86_400;

/** A whole number within [min, max], or exit 2 naming the option and the range. */
export function parseCount(raw: unknown, flag: string, range: { min: number; max: number }): number {
  const n = typeof raw === "number" ? raw : Number(raw);
  if (!Number.isInteger(n) || n < range.min || n > range.max) {
    throw badInput(
      `${flag} ${String(raw)}: expected a whole number from ${range.min} to ${range.max.toLocaleString("en-US")}`,
      `e.g. ${flag} ${range.min}`,
    );
  }
  return n;
}

/** A seed, a whole number from 0 to {@link MAX_SEED}, or exit 2. */
export const parseSeed = (raw: unknown, flag = "--seed"): number => parseCount(raw, flag, { min: 0, max: MAX_SEED });

/** A positive number of seconds up to {@link MAX_TIMEOUT_SECONDS}, or exit 2. */
export function parseSeconds(raw: unknown, flag: string): number {
  const n = typeof raw === "number" ? raw : Number(raw);
  if (!Number.isFinite(n) || n <= 0 || n > MAX_TIMEOUT_SECONDS) {
    throw badInput(
      `${flag} ${String(raw)}: expected a positive number of seconds, at most ${MAX_TIMEOUT_SECONDS.toLocaleString("en-US")} (one day)`,
      `e.g. ${flag} 60`,
    );
  }
  return n;
}

/** Options several commands share, checked before any command runs (a config file's values are the command's to check). */
export function checkSharedOptionBounds(opts: Record<string, unknown>): void {
  if (opts.samples !== undefined) parseCount(opts.samples, "--samples", { min: 1, max: MAX_SAMPLES });
  for (const [key, flag] of [
    ["timeout", "--timeout"],
    ["callTimeout", "--call-timeout"],
    ["requestTimeout", "--request-timeout"],
  ] as const) {
    if (opts[key] !== undefined) parseSeconds(opts[key], flag);
  }
}
