import { readFile } from "node:fs/promises";
import { join } from "node:path";

import fc from "fast-check";
import { describe, expect, it } from "vitest";

import { gateFailures } from "../../src/action/gate.js";
import { MARKER, renderReport } from "../../src/action/markdown.js";
import type { BenchmarkData, QcReport } from "../../src/action/report-data.js";
import { cellCode, code, html, md, mermaidLabel } from "../../src/core/markdown-escape.js";
import { FIXTURES } from "./runner.js";

/**
 * Hostile text: pieces of HTML, Markdown, mentions, entities, our own marker and control characters,
 * mixed with arbitrary code points.
 */
const PIECES = [
  "<",
  ">",
  "&",
  "@",
  "`",
  "``",
  "```",
  "|",
  "\\",
  "\\|",
  "[",
  "]",
  "(",
  ")",
  "!",
  "*",
  "_",
  "~",
  "#",
  ":",
  ".",
  "-",
  "+",
  "=",
  '"',
  "'",
  "\n",
  "\r\n",
  "\n\n",
  "\t",
  "\u2028",
  "\u0000",
  "\u200b",
  "\u202e",
  "\u2066",
  "\u2069",
  "\ufeff",
  "\u001b[31m",
  "\u001b]8;;https://evil.example\u0007",
  " ",
  "  ",
  "a",
  "é",
  "数",
  "🙂",
  "<!--",
  "-->",
  MARKER,
  "<!-- mcp-forge-state x -->",
  "<details>",
  "</summary>",
  "<img src=x onerror=alert(1)>",
  "<script>alert(1)</script>",
  "[click](https://evil.example)",
  "![i](https://evil.example/i.png)",
  "<https://evil.example>",
  "https://evil.example",
  "www.evil.example",
  "a@b.example",
  "@octocat",
  "@octo-org/team",
  "&#64;octocat",
  "&lt;b&gt;",
  "&amp;",
  "&#x3C;",
  "**bold**",
  "~~gone~~",
  "| a | b |",
  "v0.9.0",
];
const hostile = fc.string({
  unit: fc.oneof(fc.constantFrom(...PIECES), fc.string({ unit: "binary", minLength: 1, maxLength: 1 })),
  maxLength: 30,
});

/**
 * What escaping may lose: ANSI escape sequences, Unicode direction controls and zero-width characters
 * go, control characters become spaces, the ends are trimmed, long text is cut.
 */
const flat = (s: string, max: number) => {
  const one = s
    // eslint-disable-next-line no-control-regex
    .replace(/\u001b\[[0-?]*[ -/]*[@-~]/g, "")
    // eslint-disable-next-line no-control-regex
    .replace(/\u001b\][^\u0007\u001b]*(\u0007|\u001b\\)?/g, "")
    .replace(/[\u061c\u200b\u200e\u200f\u202a-\u202e\u2060\u2066-\u2069\ufeff]/g, "")
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, " ")
    .trim();
  return one.length > max ? `${one.slice(0, max - 1)}…` : one;
};
const ENTITIES: Record<string, string> = {
  "&amp;": "&",
  "&lt;": "<",
  "&gt;": ">",
  "&quot;": '"',
  "&#39;": "'",
  "&#96;": "`",
  "&#8203;": "\u200b",
};
const noZwsp = (s: string) => s.replace(/\u200b/g, "");
/** A mention or team mention, as GitHub links them in rendered text. */
const MENTION = /@[A-Za-z0-9]/;

/**
 * Reads Markdown inline text as CommonMark does: a backslash before ASCII punctuation makes it literal,
 * an entity reference decodes. `raw` keeps only what reaches the parser unescaped (escaped and decoded
 * characters become spaces), where any element would have to start.
 */
function readMarkdown(out: string): { text: string; raw: string } {
  let text = "";
  let raw = "";
  for (let i = 0; i < out.length; i++) {
    const c = out[i]!;
    const entity = c === "&" ? Object.keys(ENTITIES).find((e) => out.startsWith(e, i)) : undefined;
    if (c === "\\" && /[!-/:-@[-`{-~]/.test(out[i + 1] ?? "")) {
      text += out[++i];
      raw += " ";
    } else if (entity) {
      text += ENTITIES[entity];
      raw += " ";
      i += entity.length - 1;
    } else {
      text += c;
      raw += c;
    }
  }
  return { text, raw };
}

/** The text of HTML character data: entity references decoded; `raw` as for Markdown. */
function readHtml(out: string): { text: string; raw: string } {
  let text = "";
  let raw = "";
  for (let i = 0; i < out.length; i++) {
    const entity = out[i] === "&" ? Object.keys(ENTITIES).find((e) => out.startsWith(e, i)) : undefined;
    if (entity) {
      text += ENTITIES[entity];
      raw += " ";
      i += entity.length - 1;
    } else {
      text += out[i];
      raw += out[i];
    }
  }
  return { text, raw };
}

/** A code span's content as CommonMark reads it; undefined when `out` is not exactly one code span (empty text: no span). */
function readCodeSpan(out: string): string | undefined {
  if (out === "") return "";
  const m = out.match(/^(`+)([^]*)\1$/);
  if (!m) return undefined;
  const [, fence, inner] = m as unknown as [string, string, string];
  if ((inner.match(/`+/g) ?? []).some((run) => run.length === fence.length)) return undefined;
  return inner.length >= 2 && inner.startsWith(" ") && inner.endsWith(" ") && inner.trim() !== ""
    ? inner.slice(1, -1)
    : inner;
}

/** Cell delimiters of a GFM table row: a `|` not directly after a backslash (cmark-gfm's cell scanner). */
const delimiters = (row: string) => row.split("").filter((c, i, units) => c === "|" && units[i - 1] !== "\\").length;

/** The text with code spans and fenced blocks taken out (their content is shown as is), as CommonMark pairs backtick runs. */
function withoutCode(text: string): string {
  let out = "";
  for (let i = 0; i < text.length;) {
    const run = text[i] === "`" && text[i - 1] !== "\\" ? text.slice(i).match(/^`+/)![0] : "";
    if (!run) {
      out += text[i++];
      continue;
    }
    let close = -1;
    for (const m of text.slice(i + run.length).matchAll(/`+/g)) {
      if (m[0].length === run.length) {
        close = i + run.length + m.index;
        break;
      }
    }
    if (close === -1) {
      out += run;
      i += run.length;
    } else {
      out += "CODE";
      i = close + run.length;
    }
  }
  return out;
}

const ELEMENT_CHARS = /[`*_[\]!|~<>&\n\r\u2028\u2029]|:\/\/|www\./;

describe("escaping fits where the text lands", () => {
  it("Markdown (paragraphs, list items, table cells): no element, no mention, no line break; the reader sees the text", () => {
    fc.assert(
      fc.property(hostile, (s) => {
        const out = md(s);
        const { text, raw } = readMarkdown(out);
        expect(raw).not.toMatch(ELEMENT_CHARS);
        expect(text).not.toMatch(MENTION);
        expect(delimiters(`| ${out} |`)).toBe(2);
        expect(noZwsp(text)).toBe(noZwsp(flat(s, 200)));
      }),
      { numRuns: 500 },
    );
  });

  it("inline code, in prose and in a table cell: exactly one code span holding the text", () => {
    fc.assert(
      fc.property(hostile, (s) => {
        const prose = code(s);
        expect(prose).not.toMatch(/[\n\r]/);
        expect(readCodeSpan(prose)).toBe(flat(s, 120));
        const cell = cellCode(s);
        expect(delimiters(`| ${cell} |`)).toBe(2);
        // The table takes the backslash off each escaped pipe before the code span is read.
        expect(readCodeSpan(cell.replace(/\\\|/g, "|"))).toBe(flat(s, 120));
      }),
      { numRuns: 500 },
    );
  });

  it("HTML character data (inside <details><summary>): no element, no comment, no mention, no backslashes shown", () => {
    fc.assert(
      fc.property(hostile, (s) => {
        const out = html(s);
        const { text, raw } = readHtml(out);
        expect(raw).not.toMatch(/[<>&\n\r\u2028\u2029]/);
        expect(text).not.toMatch(MENTION);
        expect(noZwsp(text)).toBe(noZwsp(flat(s, 200)));
      }),
      { numRuns: 500 },
    );
  });

  it("Unicode direction controls, zero-width characters and ANSI escape sequences are removed, not kept (#17: one sanitiser)", () => {
    const hostile =
      "safe\u202egnp.exe\u2066x\u2069\u200b\ufeff \u001b[31mred\u001b[0m \u001b]8;;https://evil.example\u0007link";
    for (const out of [md(hostile), html(hostile), code(hostile), cellCode(hostile), mermaidLabel(hostile)]) {
      expect(out).not.toMatch(/[\u061c\u200b\u200e\u200f\u202a-\u202e\u2060\u2066-\u2069\ufeff]/);
      expect(out).not.toContain("\u001b");
      expect(out).not.toContain("[31m");
    }
    expect(code(hostile)).toBe("`safegnp.exex red link`");
  });

  it("a whole report with hostile tool names, QC messages, drift and release tags: only our own elements, one marker first, table rows keep their cells", async () => {
    const benchmark = JSON.parse(await readFile(join(FIXTURES, "benchmark-regression.json"), "utf8")) as BenchmarkData;
    const qc = JSON.parse(await readFile(join(FIXTURES, "qc.json"), "utf8")) as QcReport;
    const row = benchmark.perTool!.create_entities!;
    fc.assert(
      fc.property(
        fc.array(hostile, { minLength: 8, maxLength: 8 }),
        ([tool, message, kind, scenario, tag, driftMessage, path, model]) => {
          const text = renderReport({
            mode: "full",
            benchmark: { ...benchmark, model: model!, perTool: { [tool!]: row, safe_tool: row } },
            qc: {
              ...qc,
              scenarioCoverage: { [scenario!]: 3 },
              toolCoverage: { [tool!]: 4 },
              issues: [{ line: 1, kind: kind!, message: message! }],
            },
            thresholds: {},
            failures: gateFailures(benchmark, {}),
            baselineNote: "main (last passing run)",
            drift: {
              status: "drift",
              release: tag!,
              message: driftMessage!,
              added: [tool!],
              changed: [{ name: tool!, breaking: true, paths: [path!] }],
              breaking: true,
            },
            trend: [{ label: tag!, metrics: benchmark.metrics }],
            currentLabel: "PR #7",
            cache: [],
            runUrl: "https://github.com/o/r/actions/runs/1",
            failedSteps: [],
          });
          expect(text.startsWith(`${MARKER}\n`)).toBe(true);
          expect(withoutCode(text).split(MARKER)).toHaveLength(2);
          const tags = [...withoutCode(text).matchAll(/<[^>]*>?/g)].map((m) => m[0]);
          for (const tag of tags)
            expect(tag).toMatch(/^(<\/?(details|summary|sub)>|<br>|<!-- mcp-forge-(report|state [0-9a-f]+) -->)$/);
          for (const [, labels] of text.matchAll(/^ {2}x-axis \[(.*)\]$/gm))
            for (const label of labels!.split(", ")) expect(label).toMatch(/^"[^"`<>\\]*"$/);
          const tables = text.split("\n\n").filter((block) => block.startsWith("| "));
          for (const table of tables) {
            const rows = table.split("\n");
            for (const line of rows) expect(delimiters(line), line).toBe(delimiters(rows[0]!));
          }
        },
      ),
      { numRuns: 100 },
    );
  });
});
