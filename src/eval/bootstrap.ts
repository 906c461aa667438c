import { type Contributions, type MetricName, METRICS, round } from "./metrics.js";
import { percentile, seededRandom } from "./stats.js";

export interface DeltaInterval {
  delta: number;
  low: number;
  high: number;
}

/**
 * Paired bootstrap over the prompts both runs share: resample prompt ids with replacement,
 * recompute each metric for both runs on the resample, and take the 2.5th and 97.5th
 * percentiles of the difference (current − baseline) as a 95% interval.
 */
export function pairedBootstrap(
  current: ReadonlyMap<string, Contributions>,
  baseline: ReadonlyMap<string, Contributions>,
  options: { resamples?: number; seed?: number } = {},
): Partial<Record<MetricName, DeltaInterval>> {
  const ids = [...current.keys()].filter((id) => baseline.has(id)).sort();
  if (ids.length === 0) return {};
  const resamples = options.resamples ?? 1000;
  const random = seededRandom(options.seed ?? 0);
  const pairs = ids.map((id) => [current.get(id)!, baseline.get(id)!] as const);
  const out: Partial<Record<MetricName, DeltaInterval>> = {};
  const draws: number[][] = Array.from({ length: resamples }, () => ids.map(() => Math.floor(random() * ids.length)));
  for (const metric of METRICS) {
    const point = ratioDelta(
      pairs,
      pairs.map((_, i) => i),
      metric,
    );
    if (point === undefined) continue;
    const deltas = draws
      .map((d) => ratioDelta(pairs, d, metric))
      .filter((x): x is number => x !== undefined)
      .sort((a, b) => a - b);
    out[metric] = { delta: round(point), low: round(percentile(deltas, 2.5)), high: round(percentile(deltas, 97.5)) };
  }
  return out;
}

function ratioDelta(
  pairs: ReadonlyArray<readonly [Contributions, Contributions]>,
  indices: readonly number[],
  metric: MetricName,
): number | undefined {
  let cn = 0,
    cd = 0,
    bn = 0,
    bd = 0;
  for (const i of indices) {
    const [c, b] = pairs[i]!;
    cn += c[metric][0];
    cd += c[metric][1];
    bn += b[metric][0];
    bd += b[metric][1];
  }
  if (cd === 0 || bd === 0) return undefined;
  return cn / cd - bn / bd;
}
