import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { withSystemPrompt, type RuntimeBundle } from "../agent/bundle.js";
import { callFormatForTemplate, type CallFormat } from "../models/parsers/index.js";
import type { ModelBackend } from "../models/types.js";
import { printable } from "../mcp/untrusted-text.js";
import { SerialQueue } from "./queue.js";
import { ReplySplitter } from "./reply-stream.js";
import { parseCompletionRequest, RequestError, type CompletionRequest } from "./request.js";
import { completionObject, finishReason, toCompletion, usage, wireArguments } from "./response.js";
import { CompletionStream } from "./sse.js";

export const DEFAULT_MAX_TOKENS = 512;
const MAX_BODY_BYTES = 8 * 1024 * 1024;

export interface ServeOptions {
  bundle: RuntimeBundle;
  backend: ModelBackend;
  host: string;
  port: number;
  /** One line per request (method, path, status, ms). */
  log?: (line: string) => void;
}

export interface RunningServer {
  /** The base URL clients use, e.g. http://127.0.0.1:8080/v1 */
  url: string;
  server: Server;
  /** Stops accepting requests, lets the queued ones finish, then closes the connections. */
  close(): Promise<void>;
}

/** The client went away (before its turn, or while its answer streamed): nothing to send it. */
class ClientGone extends Error {}

interface Context {
  options: ServeOptions;
  queue: SerialQueue;
  format: CallFormat;
}

/** An OpenAI-compatible chat completions server for the bundle's model, one generation at a time. */
export async function startServer(options: ServeOptions): Promise<RunningServer> {
  const queue = new SerialQueue();
  const context: Context = { options, queue, format: callFormatForTemplate(options.bundle.chatTemplate, `${options.bundle.dir} (prompt_template.json)`) };
  const server = createServer((req, res) => {
    const started = performance.now();
    const line = () => `${req.method} ${printable(req.url ?? "")} ${res.statusCode} ${Math.round(performance.now() - started)} ms`;
    res.on("close", () => options.log?.(res.writableFinished ? line() : `${line()}: the client closed the connection first`));
    handle(req, res, context).catch((error: unknown) => {
      if (error instanceof ClientGone) return;
      const known = error instanceof RequestError ? error : new RequestError(500, `the model failed: ${(error as Error).message}`, null, null, "server_error");
      sendError(res, known);
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
        server.closeIdleConnections();
        await queue.idle();
        server.closeAllConnections();
        await closed;
      })()),
  };
}

async function handle(req: IncomingMessage, res: ServerResponse, context: Context): Promise<void> {
  const { options, queue } = context;
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
    throw new RequestError(404, `Unknown request URL: ${req.method} ${path}. This server answers POST /v1/chat/completions and GET /v1/models.`, null, "unknown_url");
  }
  allow(req, "POST");
  const request = parseCompletionRequest(await readJsonBody(req));
  if (request.model !== name) throw unknownModel(request.model, name);
  if (request.stream) return streamCompletion(req, res, request, context);
  const maxTokens = request.maxTokens ?? DEFAULT_MAX_TOKENS;
  const generation = await queue.run(() => {
    if (res.destroyed || req.socket.destroyed) throw new ClientGone();
    return options.backend.generate({ messages: withSystemPrompt(options.bundle, request.messages), tools: request.tools, maxTokens });
  });
  sendJson(res, 200, completionObject(toCompletion(name, generation, maxTokens)));
}

/**
 * Streams the answer as llama.cpp writes it. A client that closes the connection stops its
 * generation, so the next request in the queue starts at once.
 */
async function streamCompletion(req: IncomingMessage, res: ServerResponse, request: CompletionRequest, { options, queue, format }: Context): Promise<void> {
  const maxTokens = request.maxTokens ?? DEFAULT_MAX_TOKENS;
  const gone = new AbortController();
  res.on("close", () => {
    if (!res.writableFinished) gone.abort(new ClientGone());
  });
  await queue.run(async () => {
    if (gone.signal.aborted || res.destroyed || req.socket.destroyed) throw new ClientGone();
    const stream = new CompletionStream(res, options.bundle.name, request.includeUsage);
    const splitter = new ReplySplitter(format, stream.event, wireArguments);
    stream.start();
    const generation = await options.backend.generate({
      messages: withSystemPrompt(options.bundle, request.messages),
      tools: request.tools,
      maxTokens,
      onText: (text) => splitter.push(text),
      signal: gone.signal,
    });
    splitter.finish(generation);
    stream.end(finishReason(generation, maxTokens), usage(generation));
  });
}

function allow(req: IncomingMessage, method: string): void {
  if (req.method !== method) throw new RequestError(405, `${req.method} is not allowed here; use ${method}`, null, "method_not_allowed");
}

const modelObject = (id: string) => ({ id, object: "model", created: 0, owned_by: "mcp-forge" });

const unknownModel = (asked: string, served: string) =>
  new RequestError(404, `The model \`${asked}\` does not exist; this server serves \`${served}\``, "model", "model_not_found");

async function readJsonBody(req: IncomingMessage): Promise<unknown> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const part of req as AsyncIterable<Buffer>) {
    size += part.length;
    if (size > MAX_BODY_BYTES) throw new RequestError(413, `the request body is larger than ${MAX_BODY_BYTES} bytes`, null, "request_too_large");
    parts.push(part);
  }
  try {
    return JSON.parse(Buffer.concat(parts).toString("utf8")) as unknown;
  } catch {
    throw new RequestError(400, "We could not parse the JSON body of your request. The body must be JSON, sent with Content-Type: application/json.");
  }
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", "content-length": Buffer.byteLength(body) });
  res.end(body);
}

function sendError(res: ServerResponse, error: RequestError): void {
  const body = { error: { message: error.message, type: error.type, param: error.param, code: error.code } };
  if (!res.headersSent) return sendJson(res, error.status, body);
  // Mid-stream, as OpenAI does: an error event, which its clients raise as an APIError.
  if (!res.destroyed) res.end(`data: ${JSON.stringify(body)}\n\n`);
}
