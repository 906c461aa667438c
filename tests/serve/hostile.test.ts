import { readFile } from "node:fs/promises";
import { request as httpRequest } from "node:http";
import { join } from "node:path";

import { afterAll, beforeAll, describe, expect, it } from "vitest";

import type { ValidationSet } from "../../src/bundle/validation-set.js";
import { tempDir } from "../support/cli.js";
import { type ServeProcess, startServe } from "./serve-process.js";
import { type TinyBundle, tinyBundle } from "./tiny-bundle.js";

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A raw HTTP request, so that Host and Origin can be whatever an attacker sends. */
function send(
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: string },
): Promise<Reply> {
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: target.hostname,
        port: target.port,
        path: target.pathname,
        method: options.method ?? "POST",
        headers: options.headers,
      },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => (body += chunk));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(options.body);
  });
}

const JSON_TYPE = { "content-type": "application/json" };

describe("serve under hostile requests", () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let tiny: TinyBundle;
  let serve: ServeProcess;
  let valid: { model: string; messages: unknown[]; tools: unknown; max_tokens: number };
  let contextSize: number;

  const completions = () => `${serve.url}/chat/completions`;
  const post = (body: unknown, headers: Record<string, string> = JSON_TYPE) =>
    send(completions(), { headers, body: typeof body === "string" ? body : JSON.stringify(body) });
  const errorOf = (reply: Reply) =>
    (JSON.parse(reply.body) as { error: { message: string; type: string; param: string | null; code: string | null } })
      .error;
  /** A valid request answered 200 within 2 s. */
  const answersQuickly = async (what: string) => {
    const started = Date.now();
    const reply = await post(valid);
    expect(reply.status, `${what}: ${reply.body.slice(0, 300)}`).toBe(200);
    expect(Date.now() - started, what).toBeLessThan(2000);
  };

  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir());
    tiny = await tinyBundle(dir);
    serve = await startServe(tiny.bundle, ["--constrained"]);
    const set = JSON.parse(await readFile(join(tiny.bundle, "tests", "validation.json"), "utf8")) as ValidationSet;
    const prompt = set.prompts.find((p) => p.scenario === "standard" && p.expectedCalls.length > 0)!;
    valid = { model: tiny.name, messages: prompt.messages, tools: prompt.sample.tools, max_tokens: 64 };
    contextSize = Number(/contextSize: (\d+)/.exec(await readFile(join(tiny.bundle, "agent.yaml"), "utf8"))![1]);
    await answersQuickly("warm-up");
  });
  afterAll(async () => {
    if (serve?.child.exitCode === null) await serve.stop();
    await cleanup();
  });

  it("refuses a web page: a foreign Origin, a foreign Host (DNS rebinding), a text/plain or form body", async () => {
    const cases: Array<[Record<string, string>, number, string]> = [
      [{ ...JSON_TYPE, origin: "http://evil.example" }, 403, "forbidden_origin"],
      [{ "content-type": "text/plain", origin: "http://evil.example" }, 403, "forbidden_origin"],
      [{ ...JSON_TYPE, host: "evil.example" }, 403, "forbidden_host"],
      [{ ...JSON_TYPE, host: "evil.example:8080" }, 403, "forbidden_host"],
      [{ "content-type": "text/plain" }, 415, "unsupported_media_type"],
      [{ "content-type": "application/x-www-form-urlencoded" }, 415, "unsupported_media_type"],
    ];
    for (const [headers, status, code] of cases) {
      const reply = await post(valid, headers);
      expect({ headers, status: reply.status }).toEqual({ headers, status });
      expect(errorOf(reply)).toMatchObject({ code, type: "invalid_request_error" });
    }
    // Loopback callers are served, with or without an Origin of their own.
    expect((await post(valid, { ...JSON_TYPE, origin: "http://localhost:3000", host: "localhost" })).status).toBe(200);
    expect((await send(`${serve.url}/models`, { method: "GET", headers: { host: "evil.example" } })).status).toBe(403);
  });

  it("answers 4xx in OpenAI's shape for what the README calls invalid: tool_choice required or an object, bad parameters, a $ref loop under --constrained", async () => {
    const tool = (parameters: unknown) => [{ type: "function", function: { name: "f", parameters } }];
    const cases: Array<[unknown, string]> = [
      [{ ...valid, tool_choice: "required" }, "tool_choice"],
      [{ ...valid, tool_choice: { type: "function", function: { name: "read_graph" } } }, "tool_choice"],
      [{ model: tiny.name, messages: valid.messages, tool_choice: "required" }, "tool_choice"],
      [{ ...valid, tools: tool({ type: "array", items: {} }) }, "tools[0].function.parameters"],
      [{ ...valid, tools: tool({ type: 7 }) }, "tools[0].function.parameters"],
      [
        { ...valid, tools: tool({ type: "object", properties: { a: { type: "strng" } } }) },
        "tools[0].function.parameters",
      ],
      [
        { ...valid, tools: tool({ type: "object", properties: { a: { $ref: "#/properties/a" } } }) },
        "tools[0].function.parameters",
      ],
      [
        { ...valid, tools: tool({ type: "object", properties: { child: { $ref: "#" } } }) },
        "tools[0].function.parameters",
      ],
    ];
    for (const [body, param] of cases) {
      const reply = await post(body);
      expect({ body: JSON.stringify(body).slice(-120), status: reply.status }).toEqual({
        body: JSON.stringify(body).slice(-120),
        status: 400,
      });
      const error = errorOf(reply);
      expect(error).toMatchObject({ type: "invalid_request_error", param });
      expect(Object.keys(error).sort()).toEqual(["code", "message", "param", "type"]);
    }
    await answersQuickly("after the invalid requests");
  });

  it("counts the prompt's tokens against the context: 400 with the numbers, at once, and keeps answering", async () => {
    const long = {
      ...valid,
      messages: [{ role: "user", content: "remember the entity alpha beta gamma ".repeat(600) }],
    };
    const started = Date.now();
    const reply = await post(long);
    expect(reply.status).toBe(400);
    const error = errorOf(reply);
    expect(error).toMatchObject({ code: "context_length_exceeded", param: "messages" });
    expect(error.message).toMatch(
      new RegExp(
        `maximum context length is ${contextSize} tokens\\. However, you requested \\d+ tokens \\(\\d+ in the messages, 64 in the completion\\)`,
      ),
    );
    expect(Date.now() - started).toBeLessThan(5000);
    // max_tokens alone past the context is refused the same way.
    expect(errorOf(await post({ ...valid, max_tokens: contextSize })).code).toBe("context_length_exceeded");

    // A 5 MB message is refused while a valid request sent alongside is answered within 2 s.
    const huge = post({ ...valid, messages: [{ role: "user", content: "x ".repeat(2_500_000) }] });
    await answersQuickly("alongside a 5 MB message");
    expect(errorOf(await huge)).toMatchObject({ code: "context_length_exceeded", param: "messages" });
  });

  it("cuts a generation off at --request-timeout, bounds the queue with 429 and Retry-After, and stops a running generation on SIGINT", async () => {
    const tight = await startServe(tiny.bundle, ["--request-timeout", "0.001", "--max-queue", "1"]);
    try {
      const url = `${tight.url}/chat/completions`;
      const replies = await Promise.all(
        Array.from({ length: 8 }, () => send(url, { headers: JSON_TYPE, body: JSON.stringify(valid) })),
      );
      const statuses = replies.map((r) => r.status);
      expect(statuses).toContain(504);
      expect(statuses).toContain(429);
      const limited = replies.find((r) => r.status === 429)!;
      expect(Number(limited.headers["retry-after"])).toBeGreaterThan(0);
      expect(errorOf(limited)).toMatchObject({ type: "rate_limit_error", code: "rate_limit_exceeded" });
      expect(errorOf(replies.find((r) => r.status === 504)!)).toMatchObject({
        type: "server_error",
        code: "request_timeout",
      });
    } finally {
      await tight.stop();
    }

    const slow = await startServe(tiny.bundle);
    const running = send(`${slow.url}/chat/completions`, {
      headers: JSON_TYPE,
      body: JSON.stringify({
        ...valid,
        tools: [],
        messages: [{ role: "user", content: "Tell me everything about the graph." }],
        max_tokens: contextSize - 200,
      }),
    }).catch(() => undefined);
    await new Promise((r) => setTimeout(r, 100));
    const started = Date.now();
    const code = await slow.stop("SIGINT");
    expect(code).toBe(130);
    expect(Date.now() - started).toBeLessThan(1000);
    const reply = await running;
    if (reply && reply.status !== 200) expect(errorOf(reply).code).toBe("server_shutting_down");
  });
});
