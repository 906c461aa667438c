import { randomBytes } from "node:crypto";
import { mkdir, stat } from "node:fs/promises";
import { join } from "node:path";

import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { SSEClientTransport } from "@modelcontextprotocol/sdk/client/sse.js";
import { StreamableHTTPClientTransport, StreamableHTTPError } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import { ErrorCode, McpError } from "@modelcontextprotocol/sdk/types.js";

import { badInput, ForgeError } from "../core/errors.js";
import { redactUrl } from "../core/redact.js";
import { onShutdown } from "../core/shutdown.js";
import { printable } from "../core/untrusted-text.js";
import { VERSION } from "../core/version.js";
import { ProcessTreeStdioTransport } from "./stdio-transport.js";

export type ServerTarget =
  | { kind: "stdio"; command: string; env?: Record<string, string>; cwd?: string }
  | { kind: "http"; url: string; headers?: Record<string, string> };

export interface McpConnection {
  client: Client;
  serverInfo: { name: string; version: string };
  protocolVersion: string;
  transport: "mcp-stdio" | "mcp-http" | "mcp-sse";
  stderrLogPath?: string;
  /** Idempotent; for stdio it ends the server's whole process tree. */
  close(): Promise<void>;
}

export interface ConnectOptions {
  timeoutMs: number;
  /** Where a stdio server's stderr log goes. */
  logDir: string;
}

/** How a target is shown to users: the command, or the URL without credentials. */
export function describeTarget(target: ServerTarget): string {
  return target.kind === "stdio" ? target.command : redactUrl(target.url);
}

const newClient = () => new Client({ name: "mcp-forge", version: VERSION }, { capabilities: {} });

const timeoutHint = (timeoutMs: number) =>
  `raise the limit with --timeout ${Math.max(60, Math.ceil((timeoutMs / 1000) * 2))} (seconds; now ${timeoutMs / 1000})`;

const isTimeout = (error: unknown) => error instanceof McpError && error.code === ErrorCode.RequestTimeout;

/** Connects the SDK client to a live MCP server and completes the `initialize` handshake. */
export async function connectToServer(target: ServerTarget, options: ConnectOptions): Promise<McpConnection> {
  return target.kind === "stdio" ? connectStdio(target, options) : connectHttp(target, options);
}

async function connectStdio(
  target: Extract<ServerTarget, { kind: "stdio" }>,
  options: ConnectOptions,
): Promise<McpConnection> {
  if (target.cwd !== undefined) await requireDirectory(target.cwd);
  await mkdir(options.logDir, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, "-");
  const stderrLogPath = join(options.logDir, `server-${stamp}-${randomBytes(2).toString("hex")}.log`);
  const transport = new ProcessTreeStdioTransport({
    command: target.command,
    env: { ...process.env, ...target.env },
    cwd: target.cwd,
    stderrLogPath,
  });
  const client = newClient();
  const close = once(async () => {
    stopOnSignal();
    await client.close().catch(() => undefined);
    await transport.close();
  });
  const stopOnSignal = onShutdown(close);
  try {
    await client.connect(transport, { timeout: options.timeoutMs });
  } catch (error) {
    await close();
    throw stdioFailure(target.command, error, transport, stderrLogPath, options.timeoutMs);
  }
  return finish(client, "mcp-stdio", transport.protocolVersion, close, stderrLogPath);
}

function stdioFailure(
  command: string,
  error: unknown,
  transport: ProcessTreeStdioTransport,
  logPath: string,
  timeoutMs: number,
): ForgeError {
  const stderr = printable(transport.recentStderr);
  const stray = transport.strayStdout
    ? `\nit wrote text that is not MCP to stdout, which stdio reserves for the protocol (log to stderr instead):\n${indent(printable(transport.strayStdout))}`
    : "";
  const tail = `${stray}${stderr ? `\nlast lines of its stderr (full log: ${logPath}):\n${indent(stderr)}` : `\n(it wrote nothing to stderr; log: ${logPath})`}`;
  if (isTimeout(error)) {
    return badInput(
      `the server \`${command}\` did not answer \`initialize\` within ${timeoutMs / 1000} s${tail}`,
      `check that the command starts an MCP server speaking stdio, or ${timeoutHint(timeoutMs)}`,
    );
  }
  if (transport.exit) {
    const how = transport.exit.signal
      ? `was killed by ${transport.exit.signal}`
      : `exited with code ${transport.exit.code}`;
    const notFound = transport.exit.code === 127 ? " (command not found)" : "";
    return badInput(
      `the server \`${command}\` ${how}${notFound} during the MCP handshake${tail}`,
      "run the command by hand to see why it stops; pass the variables it needs with --env KEY=VALUE",
    );
  }
  return badInput(
    `the server \`${command}\` failed during the MCP handshake: ${printable((error as Error).message)}${tail}`,
  );
}

async function connectHttp(
  target: Extract<ServerTarget, { kind: "http" }>,
  options: ConnectOptions,
): Promise<McpConnection> {
  const url = new URL(target.url);
  const requestInit: RequestInit = { headers: target.headers ?? {} };
  const shown = redactUrl(target.url);
  const streamable = await tryConnect(new StreamableHTTPClientTransport(url, { requestInit }), options.timeoutMs);
  if (streamable.ok) return streamable.connection;
  if (!shouldFallBackToSse(streamable.error)) throw httpFailure(shown, streamable.error, options.timeoutMs);
  const sse = await tryConnect(new SSEClientTransport(url, { requestInit }), options.timeoutMs);
  if (sse.ok) return sse.connection;
  throw httpFailure(shown, sse.error, options.timeoutMs, streamable.error);
}

type Attempt = { ok: true; connection: McpConnection } | { ok: false; error: unknown };

async function tryConnect(
  transport: StreamableHTTPClientTransport | SSEClientTransport,
  timeoutMs: number,
): Promise<Attempt> {
  let protocolVersion: string | undefined;
  const setVersion = transport.setProtocolVersion.bind(transport);
  transport.setProtocolVersion = (version: string) => {
    protocolVersion = version;
    setVersion(version);
  };
  const client = newClient();
  const close = once(async () => {
    stopOnSignal();
    if (transport instanceof StreamableHTTPClientTransport && transport.sessionId) {
      await transport.terminateSession().catch(() => undefined);
    }
    await client.close().catch(() => undefined);
  });
  const stopOnSignal = onShutdown(close);
  try {
    await client.connect(transport as Transport, { timeout: timeoutMs });
  } catch (error) {
    await close();
    return { ok: false, error };
  }
  const kind = transport instanceof SSEClientTransport ? "mcp-sse" : "mcp-http";
  return { ok: true, connection: finish(client, kind, protocolVersion, close) };
}

/** The spec's backwards-compatibility rule: a 4xx to the initialize POST means a legacy SSE server. */
function shouldFallBackToSse(error: unknown): boolean {
  if (!(error instanceof StreamableHTTPError) || error.code === undefined) return false;
  return error.code >= 400 && error.code < 500 && error.code !== 401 && error.code !== 403;
}

function httpFailure(url: string, error: unknown, timeoutMs: number, first?: unknown): ForgeError {
  if (isTimeout(error)) {
    return badInput(
      `the server at ${url} did not answer \`initialize\` within ${timeoutMs / 1000} s`,
      timeoutHint(timeoutMs),
    );
  }
  const status = (error as { code?: unknown }).code;
  if (status === 401 || status === 403) {
    return badInput(
      `the server at ${url} refused the connection (HTTP ${status})`,
      'pass credentials with --header "Authorization: Bearer <token>" (or the header the server expects)',
    );
  }
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  const reason = cause?.code ?? cause?.message ?? (error as Error).message;
  const tried = first ? ` (Streamable HTTP: ${(first as Error).message}; legacy SSE: ${reason})` : `: ${reason}`;
  return badInput(
    `cannot connect to the MCP server at ${url}${tried}`,
    "check the URL (including its path, e.g. /mcp or /sse) and that the server is running",
  );
}

function finish(
  client: Client,
  transport: McpConnection["transport"],
  protocolVersion: string | undefined,
  close: () => Promise<void>,
  stderrLogPath?: string,
): McpConnection {
  const info = client.getServerVersion();
  return {
    client,
    serverInfo: { name: info?.name ?? "unknown", version: info?.version ?? "unknown" },
    protocolVersion: protocolVersion ?? "unknown",
    transport,
    ...(stderrLogPath ? { stderrLogPath } : {}),
    close,
  };
}

async function requireDirectory(dir: string): Promise<void> {
  const info = await stat(dir).catch(() => undefined);
  if (!info?.isDirectory())
    throw badInput(`--cwd ${dir}: no such directory`, "pass an existing directory to run the server in");
}

function once(fn: () => Promise<void>): () => Promise<void> {
  let running: Promise<void> | undefined;
  return () => (running ??= fn());
}

const indent = (text: string) =>
  text
    .split("\n")
    .map((line) => `  | ${line}`)
    .join("\n");
