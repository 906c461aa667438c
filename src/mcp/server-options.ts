import { resolve } from "node:path";

import { Command, Option } from "commander";

import { parseSeconds } from "../cli/bounds.js";
import { collect } from "../cli/options.js";
import { badInput } from "../core/errors.js";
import { redactUrl, registerEnvSecrets, registerHeaderSecrets, registerUrlCredentials } from "../core/redact.js";
import type { ServerTarget } from "./connect.js";

export const DEFAULT_TIMEOUT_SECONDS = 30;

/** Adds the options that name a live MCP server: --server/--url and their settings, and --timeout. */
export function addServerOptions(command: Command): Command {
  return command
    .option(
      "--server <command>",
      'MCP server to start over stdio, as a shell command line, e.g. "npx -y @scope/server /data"',
    )
    .option("--url <url>", "MCP server over HTTP(S): Streamable HTTP, falling back to legacy SSE")
    .option("--env <KEY=VALUE>", "environment variable for the --server process, on top of yours (repeatable)", collect)
    .option("--cwd <dir>", "working directory for the --server process")
    .option("--header <Name: value>", "HTTP header for --url, e.g. for auth (repeatable)", collect)
    .addOption(
      new Option("--timeout <seconds>", "limit for the server's start-up and for each request").default(
        DEFAULT_TIMEOUT_SECONDS,
      ),
    );
}

/** The server the options name, validated; undefined when neither --server nor --url is given. */
export function serverTargetFromOptions(opts: Record<string, unknown>): ServerTarget | undefined {
  const server = optionalString(opts.server, "--server");
  const url = optionalString(opts.url, "--url");
  const env = stringList(opts.env, "--env");
  const headers = stringList(opts.header, "--header");
  const cwd = optionalString(opts.cwd, "--cwd");
  if (server !== undefined && url !== undefined) {
    throw badInput(
      "pass either --server or --url, not both",
      "--server starts a stdio server; --url connects to a running one",
    );
  }
  if (server !== undefined) {
    if (server.trim() === "")
      throw badInput("--server is empty", 'pass the command that starts the server, e.g. --server "node server.js"');
    if (headers.length > 0)
      throw badInput("--header applies to --url only", "pass values to a stdio server with --env KEY=VALUE");
    const values = Object.fromEntries(env.map(parseEnv));
    registerEnvSecrets(values);
    return {
      kind: "stdio",
      command: server,
      ...(env.length > 0 ? { env: values } : {}),
      ...(cwd !== undefined ? { cwd: resolve(cwd) } : {}),
    };
  }
  if (url !== undefined) {
    if (env.length > 0 || cwd !== undefined) {
      throw badInput(
        "--env and --cwd apply to --server only",
        'pass credentials to an HTTP server with --header "Name: value"',
      );
    }
    registerUrlCredentials(url);
    checkUrl(url);
    const values = Object.fromEntries(headers.map(parseHeader));
    registerHeaderSecrets(values);
    return { kind: "http", url, ...(headers.length > 0 ? { headers: values } : {}) };
  }
  if (env.length > 0 || headers.length > 0 || cwd !== undefined) {
    throw badInput("--env, --header and --cwd need --server or --url");
  }
  return undefined;
}

/** --timeout in milliseconds. */
export function timeoutMsFromOptions(opts: Record<string, unknown>): number {
  return Math.round(parseSeconds(opts.timeout ?? DEFAULT_TIMEOUT_SECONDS, "--timeout") * 1000);
}

function optionalString(value: unknown, name: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "string") throw badInput(`${name}: expected one value`);
  return value;
}

function stringList(value: unknown, name: string): string[] {
  if (value === undefined) return [];
  if (Array.isArray(value) && value.every((v) => typeof v === "string")) return value;
  if (typeof value === "string") return [value];
  throw badInput(`${name}: expected text values`);
}

function parseEnv(entry: string): [string, string] {
  const match = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/s.exec(entry);
  if (!match) {
    const name = entry.split("=")[0] ?? "";
    throw badInput(
      `--env ${entry.includes("=") ? `${name}=…` : entry}: expected KEY=VALUE with KEY made of letters, digits and _`,
      "e.g. --env API_TOKEN=abc123",
    );
  }
  return [match[1]!, match[2]!];
}

function parseHeader(entry: string): [string, string] {
  const match = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+):[ \t]*(.*?)[ \t]*$/s.exec(entry);
  if (!match || /[\r\n]/.test(match[2]!)) {
    const name = entry.split(":")[0] ?? "";
    throw badInput(
      `--header ${entry.includes(":") ? `${name}: …` : "(value hidden)"}: expected "Name: value"`,
      '--header "Authorization: Bearer <token>"',
    );
  }
  return [match[1]!, match[2]!];
}

function checkUrl(url: string): void {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw badInput(`--url ${redactUrl(url)}: not a valid URL`, "e.g. --url http://localhost:3001/mcp");
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw badInput(
      `--url ${redactUrl(url)}: expected an http:// or https:// URL`,
      "e.g. --url http://localhost:3001/mcp",
    );
  }
}
