import fc from "fast-check";
import { describe, expect, it } from "vitest";

import { type CallFormat, hermesFormat, llama3JsonFormat } from "../../src/models/parsers/index.js";
import { type ReplyEvent, ReplySplitter } from "../../src/serve/reply-stream.js";
import { wireArguments } from "../../src/serve/response.js";

interface Shown {
  content: string;
  calls: Array<{ name: string; arguments: string }>;
  /** Events before the last piece was pushed: what went out while the model was still writing. */
  early: ReplyEvent[];
}

/** Feeds `text` cut at `cuts`, then finishes with the parser's reading of the whole. */
function stream(format: CallFormat, text: string, cuts: number[]): Shown {
  const events: ReplyEvent[] = [];
  const splitter = new ReplySplitter(format, (e) => events.push(e), wireArguments);
  const at = [...new Set(cuts.map((c) => c % (text.length + 1)))].sort((a, b) => a - b);
  let from = 0;
  for (const cut of [...at, text.length]) {
    splitter.push(text.slice(from, cut));
    from = cut;
  }
  const early = [...events];
  splitter.finish(format.parse(text));
  const shown: Shown = { content: "", calls: [], early };
  for (const e of events) {
    if (e.kind === "content") shown.content += e.text;
    else if (e.kind === "call") shown.calls[e.index] = { name: e.name, arguments: "" };
    else shown.calls[e.index]!.arguments += e.text;
  }
  return shown;
}

/** What the non-streaming answer holds for the same text. */
function whole(format: CallFormat, text: string) {
  const parsed = format.parse(text);
  return {
    content: parsed.content,
    calls: parsed.calls.map((c) => ({ name: c.name ?? "", arguments: wireArguments(c) })),
  };
}

/**
 * The same calls; a call that does not parse arrives unparseable either way, though the stream
 * may have sent the name it began with before the call broke off.
 */
function sameCalls(shown: Shown["calls"], expected: Shown["calls"]): void {
  expect(shown).toHaveLength(expected.length);
  expected.forEach((call, i) => {
    const args = safeParse(call.arguments);
    if (isUnparseable(args)) expect(isUnparseable(safeParse(shown[i]!.arguments))).toBe(true);
    else expect({ name: shown[i]!.name, args: safeParse(shown[i]!.arguments) }).toEqual({ name: call.name, args });
  });
}

const isUnparseable = (v: unknown) => v === null || (typeof v === "object" && "unparseable" in v);

function safeParse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return { unparseable: text };
  }
}

const HERMES_REPLIES = [
  '<tool_call>\n{"name": "read_graph", "arguments": {}}\n</tool_call>',
  '<tool_call>\n{"name": "create_entities", "arguments": {"entities": [{"name": "Ada <tool_call>", "observations": ["a}b", "c\\"d"]}]}}\n</tool_call>',
  'Let me check.\n<tool_call>\n{"name": "search_nodes", "arguments": {"query": "Ada"}}\n</tool_call>\n<tool_call>\n{"name": "open_nodes", "arguments": {"names": ["Ada"]}}\n</tool_call>',
  "Ada works at Acme, <b>since</b> 2020.  ",
  "  An answer that ends in a partial marker <tool_",
  '<tool_call>\n{"arguments": {"q": 1}, "name": "search_nodes"}\n</tool_call>',
  '<tool_call>\n{"name": "search_nodes", "arguments": {"query": "cut off',
  "<tool_call>\nnot json\n</tool_call> then text",
  '<tool_call>\n{"name": "search_nodes", "arguments": {"query": "x"} broken\n</tool_call>',
];

const LLAMA3_REPLIES = [
  '{"name": "read_graph", "parameters": {}}',
  '  {"name": "search_nodes", "parameters": {"query": "a;b"}}; {"name": "open_nodes", "parameters": {"names": ["x"]}}',
  '<|python_tag|>{"name": "read_graph", "parameters": {}}',
  "<|python_tag|> no json",
  "Plain answer with {braces} inside.",
  "<b>bold</b> answer",
  '{"name": "read_graph", "parameters": {"a": 1}} trailing',
];

describe("ReplySplitter: a reply streamed in pieces shows what the whole reply parses to", () => {
  for (const [format, replies] of [
    [hermesFormat, HERMES_REPLIES],
    [llama3JsonFormat, LLAMA3_REPLIES],
  ] as const) {
    it(`${format.name}: the same content and calls for any cut into pieces, and never the call markup`, () => {
      for (const text of replies) {
        fc.assert(
          fc.property(fc.array(fc.nat({ max: text.length }), { maxLength: 30 }), (cuts) => {
            const shown = stream(format, text, cuts);
            const expected = whole(format, text);
            expect(shown.content).toBe(expected.content);
            sameCalls(shown.calls, expected.calls);
            expect(shown.content).not.toContain("<tool_call>");
            expect(shown.content).not.toContain("<|python_tag|>");
          }),
          { numRuns: 60 },
        );
      }
    });
  }

  it("sends text, a call's name and its arguments while the model is still writing", () => {
    const text = 'Sure.\n<tool_call>\n{"name": "search_nodes", "arguments": {"query": "Ada Lovelace"}}\n</tool_call>';
    const cuts = Array.from({ length: text.length }, (_, i) => i);
    const { early } = stream(hermesFormat, text, cuts);
    const callAt = early.findIndex((e) => e.kind === "call");
    expect(callAt).toBeGreaterThan(1);
    expect(
      early
        .slice(0, callAt)
        .map((e) => (e as { text: string }).text)
        .join(""),
    ).toBe("Sure.");
    expect(early[callAt]).toEqual({ kind: "call", index: 0, name: "search_nodes" });
    const args = early.filter((e) => e.kind === "arguments").map((e) => (e as { text: string }).text);
    expect(args.length).toBeGreaterThan(5);
    expect(JSON.parse(args.join(""))).toEqual({ query: "Ada Lovelace" });
  });
});
