import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

import { type RuntimeBundle, withSystemPrompt } from "../agent/bundle.js";
import { isLoopbackName } from "../core/loopback.js";
import { printable } from "../core/untrusted-text.js";
import { type CallFormat, callFormatForTemplate } from "../models/parsers/index.js";
import type { ModelBackend } from "../models/types.js";
import { refuseForeignRequest, requireJsonContentType } from "./guard.js";
import { SerialQueue } from "./queue.js";
import { ReplySplitter } from "./reply-stream.js";
import { type CompletionRequest, parseCompletionRequest, RequestError } from "./request.js";
import { completionObject, finishReason, toCompletion, usage, wireArguments } from "./response.js";
import { CompletionStream } from "./sse.js";

export const DEFAULT_MAX_TOKENS = 512;
const MAX_BODY_BYTES = 8 * 1024 * 1024;
/** More characters than any tokenizer puts in one token, on average over a prompt. */
const MAX_CHARS_PER_TOKEN = 16;
/** Requests waiting or running at most; more are answered 429. */
export const DEFAULT_MAX_QUEUE = 16;
/** Longest a generation may run once its turn comes. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 120_000;

export interface ServeOptions {
  bundle: RuntimeBundle;
  backend: ModelBackend;
  host: string;
  port: number;
  /** Requests waiting or running at most (default {@link DEFAULT_MAX_QUEUE}). */
  maxQueue?: number;
  /** Limit on one generation (default {@link DEFAULT_REQUEST_TIMEOUT_MS}). */
  requestTimeoutMs?: number;
  /** One line per request (method, path, status, ms). */
  log?: (line: string) => void;
}

export interface RunningServer {
  /** The base URL clients use, e.g. http://127.0.0.1:8080/v1 */
  url: string;
  server: Server;
  /** Stops accepting requests, aborts the running generation and the queued ones, then closes the connections. */
  close(): Promise<void>;
}

/** The client went away (before its turn, or while its answer streamed): nothing to send it. */
class ClientGone extends Error {}

/** The server is stopping: generations running or queued are cut short. */
class ShuttingDown extends Error {}

interface Context {
  options: ServeOptions;
  queue: SerialQueue;
  format: CallFormat;
  loopbackOnly: boolean;
  /** Aborted when the server closes. */
  stopping: AbortSignal;
}

/** An OpenAI-compatible chat completions server for the bundle's model, one generation at a time. */
export async function startServer(options: ServeOptions): Promise<RunningServer> {
  const queue = new SerialQueue();
  const stopping = new AbortController();
  const context: Context = {
    options,
    queue,
    format: callFormatForTemplate(options.bundle.chatTemplate, `${options.bundle.dir} (prompt_template.json)`),
    loopbackOnly: isLoopbackName(options.host),
    stopping: stopping.signal,
  };
  const server = createServer((req, res) => {
    const started = performance.now();
    const line = () =>
      `${req.method} ${printable(req.url ?? "")} ${res.statusCode} ${Math.round(performance.now() - started)} ms`;
    res.on("close", () =>
      options.log?.(res.writableFinished ? line() : `${line()}: the client closed the connection first`),
    );
    handle(req, res, context).catch((error: unknown) => {
      if (error instanceof ClientGone) return;
      sendError(res, asRequestError(error));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${host}:${address.port}/v1`,
    server,
    close: () =>
      (closing ??= (async () => {
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        stopping.abort(new ShuttingDown());
        server.closeIdleConnections();
        await queue.idle();
        server.closeAllConnections();
        await closed;
      })()),
  };
}

async function handle(req: IncomingMessage, res: ServerResponse, context: Context): Promise<void> {
  const { options, queue } = context;
  refuseForeignRequest(req, context.loopbackOnly);
  const path = new URL(req.url ?? "/", "http://localhost").pathname.replace(/\/+$/, "");
  const name = options.bundle.name;
  if (path === "/v1/models") {
    allow(req, "GET");
    return sendJson(res, 200, { object: "list", data: [modelObject(name)] });
  }
  if (path.startsWith("/v1/models/")) {
    allow(req, "GET");
    const id = decodeURIComponent(path.slice("/v1/models/".length));
    if (id !== name) throw unknownModel(id, name);
    return sendJson(res, 200, modelObject(name));
  }
  if (path !== "/v1/chat/completions") {
    throw new RequestError(
      404,
      `Unknown request URL: ${req.method} ${path}. This server answers POST /v1/chat/completions and GET /v1/models.`,
      null,
      "unknown_url",
    );
  }
  allow(req, "POST");
  requireJsonContentType(req);
  const maxQueue = options.maxQueue ?? DEFAULT_MAX_QUEUE;
  if (queue.size >= maxQueue) {
    res.setHeader("retry-after", "1");
    throw new RequestError(
      429,
      `${queue.size} requests are already waiting or running (the server's limit, --max-queue ${maxQueue}); retry shortly`,
      null,
      "rate_limit_exceeded",
      "rate_limit_error",
    );
  }
  const request = parseCompletionRequest(await readJsonBody(req), { constrained: options.backend.constrained });
  if (request.model !== name) throw unknownModel(request.model, name);
  const maxTokens = request.maxTokens ?? DEFAULT_MAX_TOKENS;
  const messages = withSystemPrompt(options.bundle, request.messages);
  checkContextLength(context, messages, request, maxTokens);
  const signal = generationSignal(req, res, context);
  if (request.stream) return streamCompletion(req, res, { ...request, messages }, maxTokens, signal, context);
  const generation = await queue.run(async () => {
    if (res.destroyed || req.socket.destroyed) throw new ClientGone();
    return options.backend.generate({ messages, tools: request.tools, maxTokens, signal: signal.start() });
  });
  sendJson(res, 200, completionObject(toCompletion(name, generation, maxTokens)));
}

/**
 * The prompt and the completion must fit the context; the count is the prompt as the model reads
 * it (chat template, tools, system prompt), so an over-long request is refused before its turn.
 */
function checkContextLength(
  { options }: Context,
  messages: CompletionRequest["messages"],
  request: CompletionRequest,
  maxTokens: number,
): void {
  const count = options.backend.countPromptTokens;
  if (!count) return;
  const contextSize = options.bundle.contextSize;
  // Tokenizing blocks the event loop (megabytes take seconds): text no context could hold is refused uncounted.
  const chars = messages.reduce((n, m) => n + m.content.length, 0) + JSON.stringify(request.tools).length;
  if (chars > contextSize * MAX_CHARS_PER_TOKEN) {
    throw new RequestError(
      400,
      `This model's maximum context length is ${contextSize} tokens. However, your messages and tools are ${chars} characters long, ` +
        `more than ${contextSize} tokens of at most ${MAX_CHARS_PER_TOKEN} characters hold. Please reduce the length of the messages.`,
      "messages",
      "context_length_exceeded",
    );
  }
  const promptTokens = count.call(options.backend, messages, request.tools);
  if (promptTokens + maxTokens <= contextSize) return;
  throw new RequestError(
    400,
    `This model's maximum context length is ${contextSize} tokens. However, you requested ${promptTokens + maxTokens} tokens ` +
      `(${promptTokens} in the messages, ${maxTokens} in the completion). Please reduce the length of the messages or completion.`,
    "messages",
    "context_length_exceeded",
  );
}

/**
 * What stops a generation: the client leaving, the server closing, or the time limit, which runs
 * from the start of the request's turn. `start()` arms the limit and returns the signal.
 */
function generationSignal(
  req: IncomingMessage,
  res: ServerResponse,
  { options, stopping }: Context,
): { start(): AbortSignal; gone: AbortSignal } {
  const gone = new AbortController();
  res.on("close", () => {
    if (!res.writableFinished) gone.abort(new ClientGone());
  });
  const limitMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  return {
    gone: gone.signal,
    start: () => {
      stopping.throwIfAborted();
      const timer = new AbortController();
      const timeout = setTimeout(
        () =>
          timer.abort(
            new RequestError(
              504,
              `the generation ran past the server's limit of ${limitMs / 1000} s per request (--request-timeout)`,
              null,
              "request_timeout",
              "server_error",
            ),
          ),
        limitMs,
      );
      res.once("close", () => clearTimeout(timeout));
      return AbortSignal.any([gone.signal, stopping, timer.signal]);
    },
  };
}

/**
 * Streams the answer as llama.cpp writes it. A client that closes the connection stops its
 * generation, so the next request in the queue starts at once.
 */
async function streamCompletion(
  req: IncomingMessage,
  res: ServerResponse,
  request: CompletionRequest,
  maxTokens: number,
  signal: ReturnType<typeof generationSignal>,
  { options, queue, format }: Context,
): Promise<void> {
  await queue.run(async () => {
    if (signal.gone.aborted || res.destroyed || req.socket.destroyed) throw new ClientGone();
    const running = signal.start();
    const stream = new CompletionStream(res, options.bundle.name, request.includeUsage);
    const splitter = new ReplySplitter(format, stream.event, wireArguments);
    stream.start();
    const generation = await options.backend.generate({
      messages: request.messages,
      tools: request.tools,
      maxTokens,
      onText: (text) => splitter.push(text),
      signal: running,
    });
    splitter.finish(generation);
    stream.end(finishReason(generation, maxTokens), usage(generation));
  });
}

function allow(req: IncomingMessage, method: string): void {
  if (req.method !== method)
    throw new RequestError(405, `${req.method} is not allowed here; use ${method}`, null, "method_not_allowed");
}

const modelObject = (id: string) => ({ id, object: "model", created: 0, owned_by: "mcp-forge" });

const unknownModel = (asked: string, served: string) =>
  new RequestError(
    404,
    `The model \`${asked}\` does not exist; this server serves \`${served}\``,
    "model",
    "model_not_found",
  );

async function readJsonBody(req: IncomingMessage): Promise<unknown> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const part of req as AsyncIterable<Buffer>) {
    size += part.length;
    if (size > MAX_BODY_BYTES)
      throw new RequestError(413, `the request body is larger than ${MAX_BODY_BYTES} bytes`, null, "request_too_large");
    parts.push(part);
  }
  try {
    return JSON.parse(Buffer.concat(parts).toString("utf8")) as unknown;
  } catch {
    throw new RequestError(
      400,
      "We could not parse the JSON body of your request. The body must be JSON, sent with Content-Type: application/json.",
    );
  }
}

function asRequestError(error: unknown): RequestError {
  if (error instanceof RequestError) return error;
  if (error instanceof ShuttingDown)
    return new RequestError(503, "the server is shutting down", null, "server_shutting_down", "server_error");
  return new RequestError(500, `the model failed: ${(error as Error).message}`, null, null, "server_error");
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(body),
  });
  res.end(body);
}

function sendError(res: ServerResponse, error: RequestError): void {
  const body = { error: { message: error.message, type: error.type, param: error.param, code: error.code } };
  if (!res.headersSent) return sendJson(res, error.status, body);
  // Mid-stream, as OpenAI does: an error event, which its clients raise as an APIError.
  if (!res.destroyed) res.end(`data: ${JSON.stringify(body)}\n\n`);
}
