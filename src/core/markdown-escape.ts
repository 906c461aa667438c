/**
 * Untrusted text (tool names and descriptions, model output, server messages, release tags) made
 * inert for where it lands in a Markdown report (the PR comment, validation.md, benchmark.md):
 * Markdown text, an inline code span, HTML character data (inside `<details><summary>`, where
 * Markdown is not parsed), a label in a Mermaid block, or an indented code block. All but the code
 * block are one line: no HTML, links, images, mentions or formatting, and the reader sees the text
 * itself.
 */
import { flatten, printable, truncate } from "./untrusted-text.js";

/** A zero-width space after `@`: GitHub links no mention, the reader sees the `@`. */
const UNMENTION = "@&#8203;";

/**
 * One line, cut to `maxLength` with an ellipsis: escape sequences, direction controls and zero-width
 * characters removed, control characters and line breaks as spaces (src/core/untrusted-text.ts).
 */
function flat(text: unknown, maxLength: number): string {
  return truncate(flatten(String(text ?? "")).trim(), maxLength);
}

/** Markdown text (a paragraph, list item or table cell). */
export function md(text: unknown, maxLength = 200): string {
  return flat(text, maxLength)
    .replace(/[\\`*_{}[\]()#+\-.!|~:]/g, (c) => `\\${c}`)
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/@/g, UNMENTION);
}

/**
 * HTML character data, e.g. a `<summary>`: entities, no Markdown escapes (they would show). A backtick
 * is an entity too, so no backtick run around the HTML block can pair with it into a code span.
 */
export function html(text: unknown, maxLength = 200): string {
  return flat(text, maxLength)
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&#39;")
    .replace(/`/g, "&#96;")
    .replace(/@/g, UNMENTION);
}

/** An inline code span outside a table: its fence is longer than any backtick run inside, so the text shows as is. */
export function code(text: unknown, maxLength = 120): string {
  const inner = flat(text, maxLength);
  if (inner === "") return "";
  const fence = "`".repeat(Math.max(0, ...(inner.match(/`+/g) ?? []).map((run) => run.length)) + 1);
  // CommonMark strips one space from each end when both are there; a backtick at an end needs the space too.
  const pad = /^[` ]|[` ]$/.test(inner) ? " " : "";
  return `${fence}${pad}${inner}${pad}${fence}`;
}

/** An inline code span inside a table cell: a `|` even within the span would end the cell unless escaped. */
export function cellCode(text: unknown, maxLength = 120): string {
  return code(text, maxLength).replace(/\|/g, "\\|");
}

/** A quoted label inside a Mermaid block: letters, digits and a few separators only. */
export function mermaidLabel(text: unknown, maxLength = 40): string {
  return `"${flat(text, maxLength).replace(/[^A-Za-z0-9 ._#/+-]/g, "_")}"`;
}

/** Untrusted text as an indented code block: no line can close it or render as Markdown. */
export function codeBlock(text: string): string {
  return printable(text)
    .split("\n")
    .map((l) => `    ${l}`)
    .join("\n");
}
