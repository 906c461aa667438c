/** How the report writes numbers: rates as percentages, changes in percentage points. */
export const pct = (x: number | null | undefined) => (typeof x === "number" ? `${(x * 100).toFixed(1)}%` : "–");
export const signed = (x: number) => `${x >= 0 ? "+" : "−"}${(Math.abs(x) * 100).toFixed(1)} pp`;
/** A rate for a chart: three decimals. */
export const round = (x: number) => Math.round(x * 1000) / 1000;
