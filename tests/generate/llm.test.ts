import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createServer, type IncomingMessage, type Server } from "node:http";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import type { AddressInfo } from "node:net";
import { generateDataset } from "../../src/stages/generate/generate.js";

const root = resolve(import.meta.dirname, "../..");
const fixture = join(root, "tests/fixtures/qa/tools.json");
const KEY = "sk-test-key-that-must-never-be-printed";

interface Seen {
  at: number;
  status: number;
  variation: string;
  auth: string | undefined;
}

/**
 * A stand-in for OpenAI's POST /v1/chat/completions (the documented request and response shapes):
 * the first request gets 429 with Retry-After: 1; the first answer for variation train/1 is not JSON.
 */
function fakeOpenAi(seen: Seen[]): Server {
  const malformedSent = new Set<string>();
  return createServer(async (req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    if (req.method !== "POST" || req.url !== "/v1/chat/completions") {
      res.writeHead(404).end();
      return;
    }
    const body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
    const prompt: string = body.messages.at(-1).content;
    const variation = /Variation (\S+):/.exec(prompt)?.[1] ?? "?";
    const record = (status: number) => seen.push({ at: Date.now(), status, variation, auth: req.headers.authorization });
    if (seen.length === 0) {
      record(429);
      res.writeHead(429, { "content-type": "application/json", "retry-after": "1" });
      res.end(JSON.stringify({ error: { message: "Rate limit reached", type: "requests", code: "rate_limit_exceeded" } }));
      return;
    }
    record(200);
    let content: string;
    if (variation === "train/1" && !malformedSent.has(prompt)) {
      malformedSent.add(prompt);
      content = "Sure! Here is your conversation: user asks about weather";
    } else content = JSON.stringify(answer(prompt, variation));
    res.writeHead(200, { "content-type": "application/json" });
    res.end(
      JSON.stringify({
        id: `chatcmpl-${seen.length}`,
        object: "chat.completion",
        created: Math.floor(Date.now() / 1000),
        model: body.model,
        choices: [{ index: 0, message: { role: "assistant", content, refusal: null }, logprobs: null, finish_reason: "stop" }],
        usage: { prompt_tokens: 100, completion_tokens: 25, total_tokens: 125 },
      }),
    );
  });
}

function answer(prompt: string, variation: string): Record<string, unknown> {
  const n = [...variation].reduce((a, c) => (a * 31 + c.charCodeAt(0)) % 9973, 7);
  const tool = /^Tool: (\S+)/m.exec(prompt)?.[1];
  const reword = /^Request: (.*)$/m.exec(prompt)?.[1];
  if (prompt.startsWith("Rewrite this user request") && reword) return { user: `In other words: ${reword}` };
  if (prompt.includes('"answer"')) return { user: `Who wrote Hamlet? (quiz ${n})`, answer: "William Shakespeare wrote Hamlet." };
  if (prompt.includes('"question"')) return { user: `Can you sort that out for me? (ticket ${n})`, question: "Which city should I use?" };
  if (tool === "get_forecast") return { user: `What's the forecast for Lyon ${n} for ${1 + (n % 7)} days?`, arguments: { city: `Lyon ${n}`, days: 1 + (n % 7) } };
  if (tool === "create_event") return { user: `Create a high priority event called Standup ${n} on 2026-05-${10 + (n % 18)}.`, arguments: { title: `Standup ${n}`, date: `2026-05-${10 + (n % 18)}`, priority: "high" } };
  return { user: `Search my notes for budget ${n}.`, arguments: { query: `budget ${n}` } };
}

let dir: string;
let server: Server;
let baseUrl: string;
const seen: Seen[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "forge-llm-"));
  server = fakeOpenAi(seen);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
});
afterAll(async () => {
  await new Promise((r) => server.close(r));
  await rm(dir, { recursive: true, force: true });
});

describe("generate --llm against an OpenAI-compatible endpoint on loopback", () => {
  it("retries a malformed seed, honours 429 Retry-After, and a second run sends zero requests", async () => {
    const workdir = join(dir, "w");
    const result = await generateDataset({
      workdir,
      toolsPath: fixture,
      samples: 40,
      progress: "quiet",
      qaThresholds: { minPerTool: 3 },
      llm: { baseUrl, model: "gpt-4o-mini", apiKey: KEY, cacheDir: join(workdir, "cache", "llm"), concurrency: 2 },
    });
    expect(result.qc?.failures).toEqual([]);
    const seeds = result.plan.train.length + result.plan.eval.length;
    expect(seen[0]!.status).toBe(429);
    const retried = seen.slice(1).find((s) => s.variation === seen[0]!.variation)!;
    expect(retried.at - seen[0]!.at).toBeGreaterThanOrEqual(950);
    // Only a request already in flight (concurrency 2) may go out during the pause.
    expect(seen.slice(2).every((s) => s.at - seen[0]!.at >= 950)).toBe(true);
    expect(seen.every((s) => s.auth === `Bearer ${KEY}`)).toBe(true);
    const ok = seen.filter((s) => s.status === 200);
    expect(ok.filter((s) => s.variation === "train/1")).toHaveLength(2);
    expect(result.llm?.retries).toBe(1);
    expect(result.llm?.cacheHits).toBe(0);
    expect(ok.length).toBeGreaterThanOrEqual(seeds);
    expect(result.llm?.promptTokens).toBe(100 * ok.length);
    expect(result.llm?.costUsd).toBeGreaterThan(0);

    const train = (await readFile(result.trainPath, "utf8")).trim().split("\n").map((l) => JSON.parse(l));
    expect(train.filter((r) => /Lyon|Standup|budget|Hamlet|ticket/.test(r.messages[1].content)).length).toBeGreaterThan(0);
    const second = train.find((r) => r.seedId === "train-00001" && r.source === "seed");
    expect(second.messages[1].content).not.toMatch(/Sure! Here is/);
    const augmented = train.filter((r) => r.source === "augmented" && r.scenario === "standard");
    expect(augmented.length).toBeGreaterThan(0);
    // Augmented requests are reworded by the LLM, with the swapped values kept verbatim.
    expect(augmented.every((r) => r.messages[1].content.startsWith("In other words: "))).toBe(true);
    for (const r of augmented) {
      for (const v of Object.values(r.messages[2].tool_calls[0].function.arguments)) expect(r.messages[1].content).toContain(String(v));
    }

    // Same inputs through the CLI: everything comes from the cache, and the key is never printed.
    const requestsBefore = seen.length;
    await mkdir(join(dir, "cli"), { recursive: true });
    await writeFile(join(dir, "cli", "mcp-forge.yaml"), "qa:\n  minPerTool: 3\n");
    const run = promisify(execFile);
    const out = await run(
      "node",
      [join(root, "bin/mcp-forge.js"), "generate", "--workdir", workdir, "--tools", fixture, "--samples", "40", "--llm", "--llm-base-url", baseUrl, "--llm-model", "gpt-4o-mini", "--llm-api-key-env", "FORGE_TEST_KEY", "--json"],
      { cwd: join(dir, "cli"), env: { ...process.env, FORGE_TEST_KEY: KEY } },
    );
    expect(seen.length).toBe(requestsBefore);
    const summary = JSON.parse(out.stdout);
    expect(summary.llm.requests).toBe(0);
    expect(summary.llm.cacheHits).toBeGreaterThanOrEqual(seeds);
    expect(out.stdout + out.stderr).not.toContain(KEY);
    expect(await readFile(result.trainPath, "utf8")).toBe((await readFile(join(workdir, "data", "train.jsonl"), "utf8")));
  });
});
