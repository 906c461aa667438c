import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { execa } from "execa";

import { toolsetHash } from "../../../src/core/canonical.js";
import { CLI } from "../../support/cli.js";
import type { Reply, Script } from "./fake-openai.js";
export { ROOT } from "../../support/cli.js";

const str = { type: "string" };
export const TOOLS = [
  {
    name: "get_weather",
    description: "Current weather for a city",
    inputSchema: {
      type: "object",
      properties: { city: str, unit: { type: "string", enum: ["c", "f"] } },
      required: ["city"],
    },
    annotations: { readOnlyHint: true },
  },
  {
    name: "search_files",
    description: "Search files by text",
    inputSchema: {
      type: "object",
      properties: { query: str, limit: { type: "integer", minimum: 1 } },
      required: ["query"],
    },
  },
  {
    name: "tag_items",
    description: "Set tags",
    inputSchema: {
      type: "object",
      properties: { tags: { type: "array", items: str, uniqueItems: true } },
      required: ["tags"],
    },
  },
];

interface Case {
  id: string;
  scenario: string;
  user: string;
  call?: { name: string; arguments: Record<string, unknown>; result: string };
}

/** The held-out prompts of the oracle; P-numbers match the hand computation in the tests. */
export const CASES: Case[] = [
  {
    id: "P1",
    scenario: "standard",
    user: "Weather in Paris?",
    call: { name: "get_weather", arguments: { city: "Paris" }, result: "Sunny, 20C" },
  },
  {
    id: "P2",
    scenario: "standard",
    user: "Find the report",
    call: { name: "search_files", arguments: { query: "report", limit: 5 }, result: "report.pdf" },
  },
  {
    id: "P3",
    scenario: "standard",
    user: "Weather in Rome?",
    call: { name: "get_weather", arguments: { city: "Rome" }, result: "Rain" },
  },
  {
    id: "P4",
    scenario: "standard",
    user: "Find my notes",
    call: { name: "search_files", arguments: { query: "notes", limit: 3 }, result: "notes.txt" },
  },
  { id: "P5", scenario: "no_tool", user: "Hello there" },
  {
    id: "P6",
    scenario: "standard",
    user: "Weather in Oslo?",
    call: { name: "get_weather", arguments: { city: "Oslo" }, result: "Snow" },
  },
  {
    id: "P7",
    scenario: "error",
    user: "Weather in Atlantis?",
    call: { name: "get_weather", arguments: { city: "Atlantis" }, result: "Error: city not found" },
  },
  {
    id: "P8",
    scenario: "error",
    user: "Search for secret",
    call: { name: "search_files", arguments: { query: "secret" }, result: "Error: permission denied" },
  },
  { id: "P9", scenario: "no_tool", user: "Thanks!" },
  {
    id: "P10",
    scenario: "standard",
    user: "Tag it a and b",
    call: { name: "tag_items", arguments: { tags: ["a", "b"] }, result: "tagged" },
  },
  {
    id: "P11",
    scenario: "error",
    user: "Weather on Mars?",
    call: { name: "get_weather", arguments: { city: "Mars" }, result: "Error: no weather data" },
  },
  {
    id: "P12",
    scenario: "standard",
    user: "Weather in Lima?",
    call: { name: "get_weather", arguments: { city: "Lima" }, result: "Warm" },
  },
];

const call = (name: string, args: string): Reply => ({ calls: [{ name, arguments: args }] });
const answer = (content: string): Reply => ({ content });

/** The scripted model "oracle": one behaviour per prompt, as described next to each. */
const ORACLE: Record<string, (turn: number) => Reply> = {
  P1: (t) => (t === 0 ? call("get_weather", '{"city": "paris "}') : answer("It is sunny in Paris.")), // right call, arguments differ only in case/space
  P2: (t) => (t === 0 ? call("get_weather", '{"city": "report"}') : answer("Done.")), // a wrong (but existing) tool
  P3: () => call("get_weather", '{"city": "Rome"'), // malformed JSON
  P4: (t) => (t === 0 ? call("search_files", '{"query": "notes", "limit": "3"}') : answer("Sorry, the search failed.")), // string where an integer belongs
  P5: (t) => (t === 0 ? call("get_weather", '{"city": "London"}') : answer("Hi!")), // a call when none is needed
  P6: () => answer("It is probably cold in Oslo."), // no call when one is needed
  P7: () => call("get_weather", '{"city": "Atlantis"}'), // endless retry of a failing call
  P8: (t) => (t === 0 ? call("search_files", '{"query": "secret"}') : answer("The search found 3 files.")), // made-up answer after an error
  P9: () => answer("You're welcome!"), // right: no call
  P10: (t) => (t === 0 ? call("tag_items", '{"tags": ["B", "a"]}') : answer("Tagged.")), // right: set order and case do not matter
  P11: (t) =>
    t === 0 ? call("get_weather", '{"city": "Mars"}') : answer("Sorry, I couldn't get the weather for Mars."), // error handled
  P12: (t) => (t === 0 ? call("get_forecast", '{"city": "Lima"}') : answer("Warm.")), // unknown tool
};

/** A model that always does what the sample expects; "dropped" fails P1 by answering without a call. */
function perfect(id: string, turn: number, dropped: boolean): Reply {
  const c = CASES.find((x) => x.id === id)!;
  if (!c.call || (dropped && id === "P1")) return answer("Nothing to call.");
  if (turn === 0) return call(c.call.name, JSON.stringify(c.call.arguments));
  return answer(c.scenario === "error" ? "Sorry, that failed." : "Done.");
}

export const script: Script = (model, user, turn) => {
  const id = CASES.find((c) => c.user === user)?.id ?? "?";
  if (model === "oracle") return ORACLE[id]!(turn);
  return perfect(id, turn, model === "dropped");
};

/** Writes tools.json and eval.jsonl for the oracle into a fresh directory. */
export function writeOracleFiles(tools = TOOLS): { dir: string; toolsPath: string; evalPath: string } {
  const dir = mkdtempSync(join(tmpdir(), "mcp-forge-oracle-"));
  const toolsPath = join(dir, "tools.json");
  writeFileSync(
    toolsPath,
    JSON.stringify({
      server: { name: "oracle", version: "1" },
      protocolVersion: "2025-06-18",
      source: { kind: "file" },
      toolsetHash: toolsetHash(tools),
      tools,
    }),
  );
  const openAiTools = tools.map((t) => ({
    type: "function",
    function: { name: t.name, description: t.description, parameters: t.inputSchema },
  }));
  const lines = CASES.map((c) => {
    const messages: unknown[] = [
      { role: "system", content: "You call tools." },
      { role: "user", content: c.user },
    ];
    if (c.call) {
      messages.push(
        {
          role: "assistant",
          content: "",
          tool_calls: [
            { id: "call_1", type: "function", function: { name: c.call.name, arguments: c.call.arguments } },
          ],
        },
        { role: "tool", tool_call_id: "call_1", name: c.call.name, content: c.call.result },
        { role: "assistant", content: "Done." },
      );
    } else messages.push({ role: "assistant", content: "Hello!" });
    return JSON.stringify({
      id: c.id,
      scenario: c.scenario,
      source: "seed",
      tools: openAiTools,
      messages,
      ...(c.scenario === "error" ? { resultIsError: true } : {}),
    });
  });
  const evalPath = join(dir, "eval.jsonl");
  writeFileSync(evalPath, `${lines.join("\n")}\n`);
  return { dir, toolsPath, evalPath };
}

/** Runs the real CLI. */
export function cli(args: string[], env: Record<string, string> = {}) {
  return execa(process.execPath, [CLI, ...args], { reject: false, env: { ...process.env, ...env } });
}
