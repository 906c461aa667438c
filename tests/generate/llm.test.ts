import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { readToolsFile } from "../../src/core/toolset.js";
import { makeContext } from "../../src/stages/generate/context.js";
import { generateDataset } from "../../src/stages/generate/generate.js";
import { LlmSeeds } from "../../src/stages/generate/llm-seeds.js";
import { Rng } from "../../src/stages/generate/rng.js";
import { ToolExecutor } from "../../src/stages/generate/server-calls.js";
import { CLI, ROOT } from "../support/cli.js";
import {
  type FakeChatOptions,
  type FakeChatServer,
  type SeenRequest,
  startFakeChatServer,
} from "./fake-chat-server.js";

const fixture = join(ROOT, "tests/fixtures/qa/tools.json");
const KEY = "sk-test-key-that-must-never-be-printed";

/** The variation a prompt names ("Variation train/3: …"), which keeps requests of one seed apart. */
const variationOf = (prompt: string) => /Variation (\S+?)[:.]?(?:\s|$)/.exec(prompt)?.[1] ?? "?";

/** What a cooperative model writes for our prompts; it uses a value the prompt lists as existing when there is one. */
function answer(prompt: string): Record<string, unknown> {
  const variation = variationOf(prompt);
  const n = [...variation].reduce((a, c) => (a * 31 + c.charCodeAt(0)) % 9973, 7);
  const tool = /^Tool: (\S+)/m.exec(prompt)?.[1];
  const reword = /^Request: (.*)$/m.exec(prompt)?.[1];
  const known = /^- query: (".*?")/m.exec(prompt)?.[1];
  if (prompt.startsWith("Rewrite this user request") && reword) return { user: `In other words: ${reword}` };
  if (prompt.includes('"answer"'))
    return { user: `Who wrote Hamlet? (quiz ${n})`, answer: "William Shakespeare wrote Hamlet." };
  if (prompt.includes('"question"'))
    return { user: `Can you sort that out for me? (ticket ${n})`, question: "Which city should I use?" };
  if (tool === "get_forecast")
    return {
      user: `What's the forecast for Lyon ${n} for ${1 + (n % 7)} days?`,
      arguments: { city: `Lyon ${n}`, days: 1 + (n % 7) },
    };
  if (tool === "create_event")
    return {
      user: `Create a high priority event called Standup ${n} on 2026-05-${10 + (n % 18)}.`,
      arguments: { title: `Standup ${n}`, date: `2026-05-${10 + (n % 18)}`, priority: "high" },
    };
  const query = known ? (JSON.parse(known) as string) : `budget ${n}`;
  return { user: `Search my notes for ${query}.`, arguments: { query } };
}

const LLM_TEXT = /Lyon|Standup|budget|Hamlet|ticket/;
const MEMORY_SERVER = join(ROOT, "node_modules/@modelcontextprotocol/server-memory/dist/index.js");

let dir: string;
const servers: FakeChatServer[] = [];
async function fakeServer(options: Partial<FakeChatOptions> = {}): Promise<FakeChatServer> {
  const server = await startFakeChatServer({ answer, ...options });
  servers.push(server);
  return server;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "forge-llm-"));
});
afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
  await rm(dir, { recursive: true, force: true });
});

const readJsonl = async (path: string) =>
  (await readFile(path, "utf8"))
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l));
const cli = promisify(execFile);

describe("generate --llm against an OpenAI-compatible endpoint on loopback", () => {
  it("retries a malformed seed, honours 429 Retry-After, and a second run sends zero requests", async () => {
    const malformedSent = new Set<string>();
    const { baseUrl, seen } = await fakeServer({
      // The first request gets 429 with Retry-After: 1; the first answer for variation train/1 is not JSON.
      intercept: (before) =>
        before.length === 0
          ? {
              status: 429,
              headers: { "retry-after": "1" },
              body: {
                error: { message: "Rate limit reached", type: "requests", param: null, code: "rate_limit_exceeded" },
              },
            }
          : undefined,
      answer: (prompt) => {
        if (variationOf(prompt) === "train/1" && !malformedSent.has(prompt)) {
          malformedSent.add(prompt);
          return "Sure! Here is your conversation: user asks about weather";
        }
        return answer(prompt);
      },
    });
    const workdir = join(dir, "w");
    const result = await generateDataset({
      workdir,
      toolsPath: fixture,
      samples: 40,
      progress: "quiet",
      qaThresholds: { minPerTool: 3 },
      llm: { baseUrl, model: "gpt-4o-mini", apiKey: KEY, cacheDir: join(workdir, "cache", "llm"), concurrency: 2 },
    });
    // Every sample, the LLM's included, fits the contract and its tool's schema.
    expect(result.qc?.schemaPassRate).toBe(1);
    const seeds = result.plan.train.length + result.plan.eval.length;
    const variation = (s: SeenRequest) => variationOf(s.prompt);
    expect(seen[0]!.status).toBe(429);
    const retried = seen.slice(1).find((s) => variation(s) === variation(seen[0]!))!;
    expect(retried.at - seen[0]!.at).toBeGreaterThanOrEqual(950);
    // Only a request already in flight (concurrency 2) may go out during the pause.
    expect(seen.slice(2).every((s) => s.at - seen[0]!.at >= 950)).toBe(true);
    expect(seen.every((s) => s.auth === `Bearer ${KEY}`)).toBe(true);
    const ok = seen.filter((s) => s.status === 200);
    expect(ok.filter((s) => variation(s) === "train/1")).toHaveLength(2);
    expect(result.llm?.retries).toBe(1);
    expect(result.llm?.cacheHits).toBe(0);
    expect(ok.length).toBeGreaterThanOrEqual(seeds);
    expect(result.llm?.promptTokens).toBe(100 * ok.length);
    expect(result.llm?.costUsd).toBeGreaterThan(0);

    const train = await readJsonl(result.trainPath);
    expect(train.filter((r) => LLM_TEXT.test(r.messages[1].content)).length).toBeGreaterThan(0);
    const second = train.find((r) => r.seedId === "train-00001" && r.source === "seed");
    expect(second.messages[1].content).not.toMatch(/Sure! Here is/);
    const augmented = train.filter((r) => r.source === "augmented" && r.scenario === "standard");
    expect(augmented.length).toBeGreaterThan(0);
    // Augmented requests are reworded by the LLM, with the swapped values kept verbatim.
    expect(augmented.every((r) => r.messages[1].content.startsWith("In other words: "))).toBe(true);
    for (const r of augmented) {
      for (const v of Object.values(r.messages[2].tool_calls[0].function.arguments))
        expect(r.messages[1].content).toContain(String(v));
    }

    // Same inputs through the CLI: everything comes from the cache, and the key is never printed.
    const requestsBefore = seen.length;
    await mkdir(join(dir, "cli"), { recursive: true });
    await writeFile(join(dir, "cli", "mcp-forge.yaml"), "qa:\n  minPerTool: 3\n");
    const out = await cli(
      "node",
      [
        CLI,
        "generate",
        "--workdir",
        workdir,
        "--tools",
        fixture,
        "--samples",
        "40",
        "--llm",
        "--llm-base-url",
        baseUrl,
        "--llm-model",
        "gpt-4o-mini",
        "--llm-api-key-env",
        "FORGE_TEST_KEY",
        "--no-gate",
        "--json",
      ],
      { cwd: join(dir, "cli"), env: { ...process.env, FORGE_TEST_KEY: KEY } },
    );
    expect(seen.length).toBe(requestsBefore);
    const summary = JSON.parse(out.stdout);
    expect(summary.llm.requests).toBe(0);
    expect(summary.llm.cacheHits).toBeGreaterThanOrEqual(seeds);
    expect(out.stdout + out.stderr).not.toContain(KEY);
    expect(await readFile(result.trainPath, "utf8")).toBe(await readFile(join(workdir, "data", "train.jsonl"), "utf8"));
  });

  it("asks for structured output: response_format json_schema with the tool's own input schema for the arguments", async () => {
    const { baseUrl, seen } = await fakeServer();
    const workdir = join(dir, "structured");
    const result = await generateDataset({
      workdir,
      toolsPath: fixture,
      samples: 40,
      progress: "quiet",
      gate: false,
      llm: { baseUrl, model: "local", cacheDir: join(workdir, "cache"), concurrency: 2 },
    });
    expect(result.llm?.structuredOutput).toBe("json_schema");
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.every((s) => s.status === 200 && s.format === "json_schema")).toBe(true);
    const tools = JSON.parse(await readFile(fixture, "utf8")).tools as Array<{ name: string; inputSchema: unknown }>;
    for (const tool of tools) {
      const asked = seen.find((s) => s.prompt.startsWith(`Tool: ${tool.name}\n`) && /"arguments"/.test(s.prompt));
      expect(asked?.schema?.name).toBe("tool_request");
      expect((asked?.schema?.schema.properties as Record<string, unknown>).arguments).toEqual(tool.inputSchema);
      expect(asked?.schema?.schema.required).toEqual(["user", "arguments"]);
    }
    expect(seen.find((s) => s.prompt.startsWith("Rewrite this user request"))?.schema?.schema).toMatchObject({
      required: ["user"],
    });
  });

  it("falls back to JSON mode, then to JSON read from plain text, when the server refuses response_format; once, not per request", async () => {
    for (const [accepts, expected] of [
      [["json_object"], "json_object"],
      [[], "text"],
    ] as const) {
      const { baseUrl, seen } = await fakeServer({ accepts: [...accepts] });
      const workdir = join(dir, `fallback-${expected}`);
      const result = await generateDataset({
        workdir,
        toolsPath: fixture,
        samples: 40,
        progress: "quiet",
        gate: false,
        llm: { baseUrl, model: "local", cacheDir: join(workdir, "cache"), concurrency: 1 },
      });
      expect(result.llm?.structuredOutput).toBe(expected);
      const refused = seen.filter((s) => s.status === 400);
      expect(refused.map((s) => s.format)).toEqual(
        expected === "text" ? ["json_schema", "json_object"] : ["json_schema"],
      );
      expect(seen.filter((s) => s.status === 200).every((s) => s.format === expected)).toBe(true);
      // The refused request is asked again the next way: no seed falls back to the offline generator.
      const train = await readJsonl(result.trainPath);
      const seedsWritten = train.filter((r) => r.source === "seed");
      expect(seedsWritten.every((r) => LLM_TEXT.test(r.messages[1].content))).toBe(true);
    }
  });

  it("needs no API key on loopback (none is sent, not even $OPENAI_API_KEY) and takes the one model the server lists", async () => {
    const { baseUrl, seen } = await fakeServer({ models: ["qwen2.5:7b-instruct"] });
    const workdir = join(dir, "keyless");
    await mkdir(workdir, { recursive: true });
    await writeFile(join(workdir, "mcp-forge.yaml"), "qa:\n  minPerTool: 3\n");
    const env = { ...process.env, OPENAI_API_KEY: "sk-openai-key-not-for-local-servers" };
    const out = await cli(
      "node",
      [
        CLI,
        "generate",
        "--workdir",
        workdir,
        "--tools",
        fixture,
        "--samples",
        "40",
        "--llm",
        "--llm-base-url",
        baseUrl,
        "--no-progress",
        "--no-gate",
        "--json",
      ],
      { cwd: workdir, env },
    );
    expect(JSON.parse(out.stdout).llm.requests).toBeGreaterThan(0);
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.every((s) => s.auth === undefined && s.model === "qwen2.5:7b-instruct")).toBe(true);

    // A remote endpoint still needs a key: exit 3 naming the variable, before any request.
    const remote = await cli(
      "node",
      [
        CLI,
        "generate",
        "--workdir",
        workdir,
        "--tools",
        fixture,
        "--llm",
        "--llm-base-url",
        "https://llm.example.com/v1",
        "--llm-model",
        "m",
      ],
      {
        cwd: workdir,
        env: { ...process.env, OPENAI_API_KEY: "" },
      },
    ).catch((e: { code: number; stderr: string }) => e);
    expect((remote as { code: number }).code).toBe(3);
    expect((remote as { stderr: string }).stderr).toMatch(/OPENAI_API_KEY/);
  });

  it("mixes LLM seeds with offline ones, and augments LLM seeds offline when asked", async () => {
    const { baseUrl, seen } = await fakeServer();
    const workdir = join(dir, "mixed");
    const result = await generateDataset({
      workdir,
      toolsPath: fixture,
      samples: 60,
      progress: "quiet",
      gate: false,
      llm: {
        baseUrl,
        model: "local",
        cacheDir: join(workdir, "cache"),
        concurrency: 2,
        seedShare: 0.5,
        rewordShare: 0,
      },
    });
    const samples = [...(await readJsonl(result.trainPath)), ...(await readJsonl(result.evalPath))];
    const seedsOf = samples.filter((r) => r.source === "seed");
    const byLlm = seedsOf.filter((r) => LLM_TEXT.test(r.messages[1].content));
    // About half the seeds from each generator, and one LLM request per LLM seed: no rewording requests.
    expect(byLlm.length).toBeGreaterThan(seedsOf.length * 0.2);
    expect(byLlm.length).toBeLessThan(seedsOf.length * 0.8);
    expect(seen.filter((s) => s.prompt.startsWith("Rewrite this user request"))).toEqual([]);
    expect(seen.length).toBe(byLlm.length);
    // An LLM seed's variants keep its tool, swap values and are reworded offline.
    const llmSeedIds = new Set(byLlm.filter((r) => r.scenario === "standard").map((r) => r.seedId));
    const variants = samples.filter((r) => r.source === "augmented" && llmSeedIds.has(r.seedId));
    expect(variants.length).toBeGreaterThan(0);
    for (const v of variants) {
      expect(v.messages[1].content).not.toMatch(/^In other words: /);
      for (const value of Object.values(v.messages[2].tool_calls[0].function.arguments))
        expect(v.messages[1].content).toContain(String(value));
    }
  });

  it("lists the values a live server showed (discovery) in the seed prompts", async () => {
    const { baseUrl, seen } = await fakeServer();
    const workdir = join(dir, "grounded");
    await mkdir(workdir, { recursive: true });
    const graph = [
      { type: "entity", name: "Grace Hopper", entityType: "person", observations: ["wrote the first compiler"] },
      { type: "entity", name: "Harbor Lab", entityType: "organization", observations: ["opens at nine"] },
    ];
    await writeFile(join(workdir, "memory.jsonl"), graph.map((g) => JSON.stringify(g)).join("\n") + "\n");
    await generateDataset({
      workdir,
      server: {
        kind: "stdio",
        command: `node ${JSON.stringify(MEMORY_SERVER)}`,
        env: { MEMORY_FILE_PATH: join(workdir, "memory.jsonl") },
      },
      samples: 30,
      progress: "quiet",
      gate: false,
      llm: { baseUrl, model: "local", cacheDir: join(workdir, "cache"), concurrency: 2, attempts: 1 },
    });
    const openNodes = seen.filter((s) => s.prompt.startsWith("Tool: open_nodes\n") && /"arguments"/.test(s.prompt));
    expect(openNodes.length).toBeGreaterThan(0);
    for (const s of openNodes)
      expect(s.prompt).toMatch(/Values that exist on the server[^\n]*\n(- .*\n)*- names: .*"Grace Hopper"/);
  });

  it("hands known values to the LLM in the seed prompt, and the seed uses them", async () => {
    const { baseUrl, seen } = await fakeServer();
    const tools = (await readToolsFile(fixture)).tools;
    const ctx = makeContext(tools, "fixture-weather", new ToolExecutor(undefined, "none", 1000), () => undefined);
    const seeds = new LlmSeeds(ctx, { baseUrl, model: "local", cacheDir: join(dir, "known-cache"), concurrency: 1 });
    const answer = await seeds.fetch({
      scenario: "standard",
      tool: "search_notes",
      key: "train/0",
      rng: new Rng(1),
      examples: { query: ["Ada Lovelace", "Project Falcon"] },
    });
    expect(seen.at(-1)!.prompt).toMatch(
      /Values that exist on the server[^\n]*\n- query: "Ada Lovelace", "Project Falcon"/,
    );
    expect(answer?.args).toEqual({ query: "Ada Lovelace" });
    expect(answer?.user).toContain("Ada Lovelace");
  });
});
