import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { generateDataset } from "../../src/stages/generate/generate.js";
import { MESSAGES, PEOPLE, RELATIONS } from "../../src/stages/generate/values/pools.js";
import { ROOT } from "../support/cli.js";

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- parsed JSONL rows are walked freely in assertions
type Row = Record<string, any>;

const WRITE_TOOLS = new Set([
  "create_entities",
  "create_relations",
  "add_observations",
  "delete_entities",
  "delete_observations",
  "delete_relations",
]);

let scratch: string;
let rows: Row[];
beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), "forge-coherent-"));
  const command = `node ${join(ROOT, "node_modules/@modelcontextprotocol/server-memory/dist/index.js")}`;
  const result = await generateDataset({
    workdir: join(scratch, "w"),
    server: { kind: "stdio", command, env: { MEMORY_FILE_PATH: join(scratch, "memory.jsonl") } },
    samples: 300,
    seed: 21,
    progress: "quiet",
    gate: false,
  });
  rows = [];
  for (const path of [result.trainPath, result.evalPath])
    for (const line of (await readFile(path, "utf8")).trim().split("\n")) rows.push(JSON.parse(line));
}, 300_000);
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

const userOf = (r: Row) => r.messages.find((m: Row) => m.role === "user").content as string;
const callOf = (r: Row) =>
  r.messages.find((m: Row) => m.tool_calls)?.tool_calls[0].function as { name: string; arguments: Row } | undefined;
const resultOf = (r: Row) => r.messages.find((m: Row) => m.role === "tool")?.content as string;
const answerOf = (r: Row) => r.messages[r.messages.length - 1].content as string;

function strings(value: unknown, out: string[] = []): string[] {
  if (typeof value === "string") out.push(value);
  else if (Array.isArray(value)) value.forEach((v) => strings(v, out));
  else if (value && typeof value === "object") Object.values(value).forEach((v) => strings(v, out));
  return out;
}
const peopleIn = (text: string) => PEOPLE.filter((p) => text.includes(p));

/** Successful calls of the memory server's state-changing tools (stubs under the readonly policy). */
const writes = () => rows.filter((r) => callOf(r) && WRITE_TOOLS.has(callOf(r)!.name) && !r.resultIsError);

describe("server-memory samples are consistent with their calls", () => {
  it("a stub result of a state-changing call holds the call's own values, and its message is a confirmation", () => {
    const stubs = writes().filter((r) => r.resultSource !== "server");
    expect(stubs.length).toBeGreaterThan(30);
    for (const r of stubs) {
      const call = callOf(r)!;
      const given = new Set(strings(call.arguments));
      const result = resultOf(r);
      for (const person of peopleIn(result)) expect(given.has(person), `${r.id}: ${result}`).toBe(true);
      let parsed: Row | undefined;
      try {
        parsed = JSON.parse(result);
      } catch {
        parsed = undefined;
      }
      if (typeof parsed?.message === "string") {
        expect(MESSAGES, r.id).not.toContain(parsed.message);
        expect(parsed.message, r.id).toMatch(/^(Deleted|Removed|Added|Created|Updated)\b/);
      }
      if (call.name === "create_entities" && parsed?.entities)
        expect(
          parsed.entities.map((e: Row) => e.name),
          r.id,
        ).toEqual(call.arguments.entities.map((e: Row) => e.name));
      if (call.name === "create_relations" && parsed?.relations)
        expect(parsed.relations, r.id).toEqual(call.arguments.relations);
      if (call.name === "add_observations" && parsed?.results)
        expect(
          parsed.results.map((e: Row) => e.entityName),
          r.id,
        ).toEqual(call.arguments.observations.map((o: Row) => o.entityName));
    }
  });

  it("the answer after a state-changing call says what was done with the request's values, never other names", () => {
    let named = 0;
    for (const r of writes()) {
      const call = callOf(r)!;
      const answer = answerOf(r);
      expect(answer, r.id).not.toMatch(/\bI found\b|\bThe success is\b|\bmessage is\b/);
      const given = new Set(strings(call.arguments));
      for (const person of peopleIn(answer)) expect(given.has(person), `${r.id}: ${answer}`).toBe(true);
      if (peopleIn(answer).length > 0) named++;
    }
    expect(named).toBeGreaterThan(writes().length / 2);
  });

  it("no filler: no made-up project or task appended, no vague request about a random object", () => {
    const filler =
      /\(\w+ \w+ task\)|It's for the \w+ \w+ project\.|This is for my \w+ notes\.|Do the thing for|something done about my \w+ \w+/i;
    const offending = rows.map(userOf).filter((t) => filler.test(t));
    expect(offending).toEqual([]);
  });

  it("relation types are written as words in requests, the call keeps the identifier; a person's entity type is person", () => {
    const identifiers = RELATIONS.filter((r) => /_/.test(r));
    const raw = rows.map(userOf).filter((t) => identifiers.some((id) => t.includes(id)));
    expect(raw).toEqual([]);
    const relationCalls = rows.filter(
      (r) =>
        callOf(r)?.name === "create_relations" &&
        callOf(r)!.arguments.relations.some((x: Row) => /_/.test(x.relationType)),
    );
    expect(relationCalls.length).toBeGreaterThan(0);
    for (const r of relationCalls)
      for (const x of callOf(r)!.arguments.relations)
        expect(userOf(r), r.id).toContain(x.relationType.replace(/_/g, " "));
    const entities = rows.flatMap((r) => (callOf(r)?.name === "create_entities" ? callOf(r)!.arguments.entities : []));
    expect(entities.length).toBeGreaterThan(5);
    for (const e of entities) if (PEOPLE.includes(e.name)) expect(e.entityType, e.name).toBe("person");
  });
});

describe("server-filesystem stub results", () => {
  it("a state-changing call's stub result is a confirmation about its own path, never a sentence from a pool", async () => {
    const served = join(scratch, "served");
    await mkdir(join(served, "docs"), { recursive: true });
    await writeFile(join(served, "docs", "plan.md"), "# plan\n");
    const command = `node ${join(ROOT, "node_modules/@modelcontextprotocol/server-filesystem/dist/index.js")} ${served}`;
    const result = await generateDataset({
      workdir: join(scratch, "fs"),
      server: { kind: "stdio", command },
      samples: 150,
      seed: 21,
      progress: "quiet",
      gate: false,
    });
    const stubs = (await readFile(result.trainPath, "utf8"))
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Row)
      .filter(
        (r) =>
          callOf(r) &&
          /^(write_file|edit_file|create_directory|move_file)$/.test(callOf(r)!.name) &&
          !r.resultIsError &&
          r.resultSource !== "server",
      );
    expect(stubs.length).toBeGreaterThan(10);
    for (const r of stubs) {
      const reply = resultOf(r);
      for (const sentence of MESSAGES) expect(reply, r.id).not.toContain(sentence);
      expect(reply, r.id).toContain(String(callOf(r)!.arguments.path ?? callOf(r)!.arguments.source));
    }
  }, 120_000);
});
