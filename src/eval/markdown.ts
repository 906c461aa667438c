/** Tables and number formats of the eval reports; untrusted text goes through src/core/markdown-escape.ts. */
export function table(header: string[], rows: string[][]): string {
  return [
    `| ${header.join(" | ")} |`,
    `| ${header.map(() => "---").join(" | ")} |`,
    ...rows.map((r) => `| ${r.join(" | ")} |`),
  ].join("\n");
}

export const fmt = (x: number | null | undefined, digits = 3) =>
  x === null || x === undefined ? "–" : x.toFixed(digits);

export function signed(x: number | null | undefined): string {
  if (x === null || x === undefined) return "–";
  return `${x > 0 ? "+" : ""}${x.toFixed(3)}`;
}

export function arrow(delta: number | null | undefined): string {
  if (delta === null || delta === undefined) return "";
  return delta > 0.0005 ? " ▲" : delta < -0.0005 ? " ▼" : " =";
}
