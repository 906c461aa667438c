import fc from "fast-check";
import { describe, expect, it } from "vitest";

import type { McpTool } from "../../src/core/toolset.js";
import { looksLikeError } from "../../src/samples/error-text.js";
import { Rng } from "../../src/stages/generate/rng.js";
import { drawWording, renderAnswer, renderRequest } from "../../src/stages/generate/wording/templates.js";
import {
  answerEcho,
  ECHO_RUN,
  isIdentifierLike,
  jsonLiterals,
  toolNameMatcher,
} from "../../src/stages/qa/detectors.js";

/** Prose as people write it: words, digits, punctuation, no brackets or braces. */
const word = fc.stringMatching(/^[A-Za-z][a-z']{0,9}$/);
const prose = fc
  .array(
    fc.oneof(
      word,
      fc.integer({ min: 0, max: 3000 }).map(String),
      fc.constantFrom(",", ".", "?", "!", ":", "-", '"', "'"),
    ),
    { maxLength: 30 },
  )
  .map((parts) => parts.join(" "));

/** JSON a generator might leak into text: objects, and arrays that are plainly data. */
const jsonContainer = fc.oneof(
  fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 }),
  fc.array(fc.jsonValue({ maxDepth: 2 }), { minLength: 2, maxLength: 5 }),
  fc.array(fc.oneof(fc.string({ maxLength: 10 }), fc.dictionary(fc.string({ maxLength: 5 }), fc.integer())), {
    minLength: 1,
    maxLength: 3,
  }),
);

describe("QC detectors (property tests)", () => {
  it("finds any JSON object or data array written into prose, however it is formatted", () => {
    fc.assert(
      fc.property(prose, jsonContainer, prose, fc.boolean(), (before, value, after, pretty) => {
        const literal = JSON.stringify(value, null, pretty ? 2 : undefined);
        const found = jsonLiterals(`${before} ${literal} ${after}`);
        expect(found.some((f) => f.includes(literal) || literal.startsWith(f))).toBe(true);
      }),
    );
  });

  it("finds nothing in prose without JSON, footnotes and years included", () => {
    fc.assert(
      fc.property(prose, fc.integer({ min: 0, max: 2100 }), (text, n) => {
        expect(jsonLiterals(`${text} [${n}] (see ${n})`)).toEqual([]);
      }),
    );
  });

  it("finds a tool identifier wherever it stands, and never in prose of plain words", () => {
    const ident = fc
      .tuple(word, fc.constantFrom("_", "-", "."), word)
      .map(([a, sep, b]) => `${a.toLowerCase()}${sep}${b.toLowerCase()}`);
    fc.assert(
      fc.property(prose, ident, prose, fc.boolean(), (before, name, after, upper) => {
        expect(isIdentifierLike(name)).toBe(true);
        const match = toolNameMatcher([name, "echo"]);
        expect(
          match(`${before} ${upper ? name.toUpperCase() : name}${after ? ` ${after}` : "?"}`).map((n) =>
            n.toLowerCase(),
          ),
        ).toEqual([name]);
        expect(match(`${before} echo ${after}`)).toEqual([]);
        expect(match(`${before}${name}x ${after}`).filter((n) => n.toLowerCase() === name)).toEqual([]);
      }),
    );
  });

  it("flags an answer that copies a long run of the result, or holds JSON, and never one over other text", () => {
    const text = fc.string({ minLength: ECHO_RUN, maxLength: 600, unit: fc.constantFrom(..."abcdefghij klmnop") });
    fc.assert(
      fc.property(text, fc.nat(), fc.integer({ min: ECHO_RUN, max: 600 }), prose, (result, start, length, lead) => {
        const from = start % (result.length - ECHO_RUN + 1);
        const copied = result.slice(from, from + length);
        expect(answerEcho(`${lead} ${copied}`, result)).toBeDefined();
        expect(answerEcho(`${lead} ${copied.slice(0, ECHO_RUN - 1).toUpperCase()}`, result)).toBeUndefined();
        expect(answerEcho(`${lead} {"value": 1}`, result)).toMatch(/JSON/);
      }),
    );
  });

  it("tells error text from ordinary results", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(
          "Error:",
          "error -",
          "ERROR 500",
          "Failed to",
          "Permission denied:",
          "Access denied",
          "Not found:",
          "MCP error -32602:",
          '{"error": "',
        ),
        prose,
        (head, rest) => {
          expect(looksLikeError(`${head} ${rest}`)).toBe(true);
        },
      ),
    );
    fc.assert(
      fc.property(
        prose.filter(
          (t) =>
            !/^\s*(error|err:|exception|traceback|fatal|failed|failure|invalid|access denied|permission denied|unauthori[sz]ed|forbidden|not found|mcp error)\b/i.test(
              t,
            ),
        ),
        (text) => {
          expect(looksLikeError(`Result: ${text}`)).toBe(false);
        },
      ),
    );
  });

  it("requests and answers the templates write never hold JSON, whatever the arguments and results", () => {
    const tool: McpTool = {
      name: "save_records",
      description: "Create records in the store.",
      inputSchema: {
        type: "object",
        properties: { records: { type: "array" }, options: { type: "object" }, note: { type: "string" } },
        required: ["records"],
      },
    };
    // Values without brackets or quotes of their own, so any JSON found was written by the templates.
    const safe = fc.stringMatching(/^[A-Za-z0-9 ,.'-]{0,12}$/);
    const leaf = fc.oneof(
      safe,
      fc.integer(),
      fc.boolean(),
      fc.double({ noNaN: true, noDefaultInfinity: true }),
      fc.constant(null),
    );
    const { tree } = fc.letrec((tie) => ({
      tree: fc.oneof(
        { depthSize: "small" },
        leaf,
        fc.array(tie("tree"), { maxLength: 3 }),
        fc.dictionary(fc.stringMatching(/^[a-zA-Z_]{1,8}$/), tie("tree"), { maxKeys: 3 }),
      ),
    }));
    fc.assert(
      fc.property(
        fc.array(tree, { maxLength: 4 }),
        fc.dictionary(fc.stringMatching(/^[a-zA-Z_]{1,8}$/), tree, { maxKeys: 3 }),
        safe,
        fc.nat(),
        tree,
        (records, options, note, seed, result) => {
          const w = drawWording(new Rng(seed), seed % 2 === 0 ? "train" : "eval");
          const args = { records, options, note };
          expect(jsonLiterals(renderRequest(tool, args, w))).toEqual([]);
          const raw = JSON.stringify(result) ?? "null";
          expect(answerEcho(renderAnswer(tool, raw, w, args), raw)).toBeUndefined();
        },
      ),
      { numRuns: 300 },
    );
  });
});
