import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** How a request asked for its answer: response_format's type, or "text" when it sent none. */
export type Format = "json_schema" | "json_object" | "text";

export interface SeenRequest {
  at: number;
  status: number;
  format: Format;
  /** The Authorization header as received; undefined when none was sent. */
  auth: string | undefined;
  model: string;
  prompt: string;
  schema?: { name: string; schema: Record<string, unknown>; strict?: boolean };
}

export interface FakeChatOptions {
  /** response_format types this server takes; others get OpenAI's 400 invalid_request_error. Default both. */
  accepts?: Array<"json_schema" | "json_object">;
  /** What GET /models lists. */
  models?: string[];
  /** The answer to a prompt, as a JSON value; `attempt` counts earlier requests with the same prompt. */
  answer: (prompt: string, attempt: number) => unknown;
  /** Per request, before answering: a status to send instead (e.g. 429), or undefined to answer. */
  intercept?: (
    seen: SeenRequest[],
    prompt: string,
  ) => { status: number; headers?: Record<string, string>; body: unknown } | undefined;
}

export interface FakeChatServer {
  baseUrl: string;
  seen: SeenRequest[];
  close(): Promise<void>;
}

/**
 * OpenAI's chat completions on loopback, as its API reference describes them: POST /v1/chat/completions
 * with `response_format` {type: "json_schema", json_schema: {name, schema, strict}} or {type: "json_object"}
 * (refused with 400 invalid_request_error, param "response_format", where the model lacks it; JSON mode
 * also refused when no message says "json"), a `chat.completion` object back with `usage`; GET /v1/models.
 * In JSON modes the content is the JSON itself; without one, prose around a fenced JSON block, as chat
 * models write.
 */
export async function startFakeChatServer(options: FakeChatOptions): Promise<FakeChatServer> {
  const seen: SeenRequest[] = [];
  const attempts = new Map<string, number>();
  const accepts = options.accepts ?? ["json_schema", "json_object"];
  const server: Server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const auth = req.headers.authorization;
    if (req.method === "GET" && req.url === "/v1/models") {
      const data = (options.models ?? ["fake-model"]).map((id) => ({
        id,
        object: "model",
        created: 0,
        owned_by: "fake",
      }));
      return send(res, 200, { object: "list", data });
    }
    if (req.method !== "POST" || req.url !== "/v1/chat/completions") return send(res, 404, error("Not found", null));
    const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as {
      model: string;
      messages: Array<{ role: string; content: string }>;
      response_format?: { type: string; json_schema?: { name?: unknown; schema?: unknown; strict?: boolean } };
    };
    const prompt = body.messages.at(-1)!.content;
    const format = (body.response_format?.type ?? "text") as Format;
    const record: SeenRequest = { at: Date.now(), status: 200, format, auth, model: body.model, prompt };
    if (format === "json_schema") record.schema = body.response_format!.json_schema as SeenRequest["schema"];
    seen.push(record);
    const refuse = (status: number, message: string, param: string | null) => {
      record.status = status;
      send(res, status, error(message, param));
    };
    const intercepted = options.intercept?.(seen.slice(0, -1), prompt);
    if (intercepted) {
      record.status = intercepted.status;
      return send(res, intercepted.status, intercepted.body, intercepted.headers);
    }
    if (format !== "text" && !accepts.includes(format)) {
      return refuse(
        400,
        `Invalid parameter: 'response_format' of type '${format}' is not supported with this model.`,
        "response_format",
      );
    }
    if (format === "json_object" && !body.messages.some((m) => /json/i.test(m.content))) {
      return refuse(
        400,
        "'messages' must contain the word 'json' in some form, to use 'response_format' of type 'json_object'.",
        "messages",
      );
    }
    const schema = body.response_format?.json_schema;
    if (
      format === "json_schema" &&
      (typeof schema?.name !== "string" ||
        !/^[A-Za-z0-9_-]{1,64}$/.test(schema.name) ||
        !schema.schema ||
        typeof schema.schema !== "object")
    ) {
      return refuse(
        400,
        "Invalid 'response_format.json_schema': expected a name of [a-zA-Z0-9_-] (at most 64) and a schema object.",
        "response_format",
      );
    }
    const attempt = attempts.get(prompt) ?? 0;
    attempts.set(prompt, attempt + 1);
    const value = options.answer(prompt, attempt);
    const json = typeof value === "string" ? value : JSON.stringify(value);
    const content =
      format === "text"
        ? `Sure! Here is the conversation you asked for:\n\n\`\`\`json\n${json}\n\`\`\`\n\nLet me know if you need more.`
        : json;
    send(res, 200, {
      id: `chatcmpl-${seen.length}`,
      object: "chat.completion",
      created: Math.floor(Date.now() / 1000),
      model: body.model,
      choices: [
        { index: 0, message: { role: "assistant", content, refusal: null }, logprobs: null, finish_reason: "stop" },
      ],
      usage: { prompt_tokens: 100, completion_tokens: 25, total_tokens: 125 },
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`,
    seen,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

function error(message: string, param: string | null) {
  return { error: { message, type: "invalid_request_error", param, code: null } };
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { "content-type": "application/json", ...headers });
  res.end(JSON.stringify(body));
}
