import fc from "fast-check";
import { describe, expect, it } from "vitest";

import { md } from "../../src/core/markdown-escape.js";
import { oneLine } from "../../src/core/untrusted-text.js";
import { flatten, printable, truncate } from "../../src/core/untrusted-text.js";

/** Hostile pieces: escape sequences (whole and cut short), every class of control, direction and zero-width characters. */
const PIECES = [
  "\u001b[31m",
  "\u001b[0m",
  "\u001b[2J",
  "\u001b[",
  "\u001b]0;title\u0007",
  "\u001b]8;;https://evil.example\u001b\\",
  "\u001b]unterminated",
  "\u001b",
  "\u0000",
  "\u0007",
  "\b",
  "\r",
  "\n",
  "\t",
  "\u000b",
  "\u007f",
  "\u0085",
  "\u009b",
  "\u2028",
  "\u2029",
  "\u202a",
  "\u202b",
  "\u202c",
  "\u202d",
  "\u202e",
  "\u2066",
  "\u2067",
  "\u2068",
  "\u2069",
  "\u200e",
  "\u200f",
  "\u061c",
  "\u200b",
  "\u2060",
  "\ufeff",
  "\u200c",
  "\u200d",
  "🙂",
  "👩‍💻",
  "é",
  "数",
  "a",
  " ",
  "[31m",
  "]",
  "\\",
];
const hostile = fc.string({
  unit: fc.oneof(fc.constantFrom(...PIECES), fc.string({ unit: "binary", minLength: 1, maxLength: 1 })),
  maxLength: 40,
});
/** Text without anything the sanitiser touches. */
const plain = fc.string({
  unit: fc.constantFrom("a", "Z", "0", " ", "é", "数", "🙂", "\u200d", "<", "&", "[", "]", "m", "\\", "-"),
  maxLength: 40,
});

/* eslint-disable no-control-regex -- the classes under test */
const CONTROL_BUT_LINES = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029]/;
const ANY_CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;
/* eslint-enable no-control-regex */
const INVISIBLE = /[\u061c\u200b\u200e\u200f\u202a-\u202e\u2060\u2066-\u2069\ufeff]/;

describe("untrusted text (src/core/untrusted-text.ts, property tests)", () => {
  it("printable: no escape character, no control but newline and tab, no direction control or zero-width character", () => {
    fc.assert(
      fc.property(hostile, (s) => {
        const out = printable(s);
        expect(out).not.toContain("\u001b");
        expect(out).not.toMatch(CONTROL_BUT_LINES);
        expect(out).not.toMatch(INVISIBLE);
        expect(printable(out)).toBe(out);
      }),
    );
  });

  it("flatten: the same on one line, each run of controls and line breaks one space", () => {
    fc.assert(
      fc.property(hostile, (s) => {
        const out = flatten(s);
        expect(out).not.toMatch(ANY_CONTROL);
        expect(out).not.toMatch(INVISIBLE);
        expect(out).not.toContain("\u001b");
        expect(flatten(out)).toBe(out);
      }),
    );
  });

  it("text with nothing to remove passes unchanged (emoji sequences keep their zero-width joiner)", () => {
    fc.assert(
      fc.property(plain, (s) => {
        expect(printable(s)).toBe(s);
        expect(flatten(s)).toBe(s);
      }),
    );
  });

  it("ANSI sequences go whole: no leftover parameters", () => {
    expect(printable("\u001b[1;31mred\u001b[0m \u001b]0;title\u0007x \u001b]8;;https://e.example\u001b\\link")).toBe(
      "red x link",
    );
    expect(flatten("a\u001b[31m\nb\r\n\u2028c")).toBe("a b c");
  });

  it("truncate: at most max characters, an ellipsis when cut", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 60 }), fc.integer({ min: 1, max: 50 }), (s, max) => {
        const out = truncate(s, max);
        expect(out.length).toBeLessThanOrEqual(max);
        expect(out === s || out.endsWith("…")).toBe(true);
      }),
    );
  });

  it("every writer over it: prompt lines (oneLine) and Markdown cells (md) carry none of these characters", () => {
    fc.assert(
      fc.property(hostile, fc.integer({ min: 2, max: 80 }), (s, max) => {
        expect(oneLine(s, max)).not.toMatch(ANY_CONTROL);
        expect(oneLine(s, max)).not.toMatch(INVISIBLE);
        expect(md(s, Infinity)).not.toMatch(CONTROL_BUT_LINES);
        expect(md(s, Infinity)).not.toContain("\n");
        expect(md(s, Infinity)).not.toMatch(INVISIBLE);
        expect(oneLine(s, max).length).toBeLessThanOrEqual(max);
      }),
    );
  });

  it("oneLine now removes direction controls instead of leaving a space (#17: one sanitiser)", () => {
    expect(oneLine("Reads\u202e a file\u2066.", 100)).toBe("Reads a file.");
    expect(oneLine("Reads\u001b[31m a file", 100)).toBe("Reads a file");
  });
});
