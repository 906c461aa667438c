import { printable } from "../core/untrusted-text.js";

/** Untrusted text (tool names, model output) made inert inside Markdown table cells and prose. */
export function escapeMd(text: string): string {
  return printable(text)
    .replace(/\r?\n/g, " ")
    .replace(/[\\`*_{}[\]()<>#+!|~]/g, (c) => `\\${c}`)
    .replace(/&/g, "&amp;");
}

/** Untrusted text as an indented code block: no line can close it or render as Markdown. */
export function codeBlock(text: string): string {
  const lines = printable(text).split("\n");
  return lines.map((l) => `    ${l}`).join("\n");
}

/** A label safe inside a Mermaid string: no quotes, brackets or line breaks. */
export function mermaidLabel(text: string): string {
  return (
    printable(text)
      .replace(/["[\]\n\r`;]/g, " ")
      .slice(0, 40) || "?"
  );
}

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
