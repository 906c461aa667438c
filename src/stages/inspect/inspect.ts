import { join } from "node:path";

import { canonicalJson, sha256 } from "../../core/canonical.js";
import { badInput } from "../../core/errors.js";
import { outputHashes, withStage } from "../../core/state.js";
import { makeToolsFile, type ToolsFile, writeToolsFile } from "../../core/toolset.js";
import { printable } from "../../core/untrusted-text.js";
import { connectToServer, describeTarget, type McpConnection, type ServerTarget } from "../../mcp/connect.js";
import { countAll, listAllTools } from "../../mcp/list-tools.js";

export interface InspectOptions {
  workdir: string;
  out: string;
  timeoutMs: number;
  /** Reports warnings. */
  info?: (text: string) => void;
  /** Called as each step ends: the handshake answered, tools.json written (used to time the stage). */
  progress?: (step: "connected" | "written") => void;
}

export interface InspectResult {
  out: string;
  file: ToolsFile;
  transport: McpConnection["transport"];
  /** Only present when the server declares the capability. */
  resources?: number;
  prompts?: number;
  stderrLogPath?: string;
}

/**
 * The INSPECTING stage: lists a live server's tools and writes them, unmodified, to `tools.json`,
 * recording the stage (and a failure or interruption) in state.json.
 */
export async function inspectServer(target: ServerTarget, options: InspectOptions): Promise<InspectResult> {
  const shown = describeTarget(target);
  let connection: McpConnection | undefined;
  try {
    const { value } = await withStage(
      options.workdir,
      "INSPECTING",
      {
        inputs: { server: `sha256:${sha256(canonicalJson({ kind: target.kind, target: shown }))}` },
        finish: async (result) => ({
          outputs: await outputHashes(options.workdir, [options.out]),
          summary: {
            server: shown,
            serverInfo: result.file.server,
            transport: result.transport,
            tools: result.file.tools.length,
            toolsetHash: result.file.toolsetHash,
          },
        }),
        failed: (error) => ({
          status: "failed",
          outputs: {},
          summary: { server: shown },
          error: (error as Error).message,
        }),
        interrupted: () => ({ status: "interrupted", outputs: {}, summary: { server: shown } }),
      },
      async () => {
        connection = await connectToServer(target, {
          timeoutMs: options.timeoutMs,
          logDir: join(options.workdir, "logs"),
        });
        options.progress?.("connected");
        return collect(connection, target, options);
      },
    );
    return value;
  } finally {
    await connection?.close();
  }
}

async function collect(
  connection: McpConnection,
  target: ServerTarget,
  options: InspectOptions,
): Promise<InspectResult> {
  const timing = { timeoutMs: options.timeoutMs };
  const tools = await listAllTools(connection, timing);
  const names = tools.map((t) => t.name);
  const repeated = [...new Set(names.filter((name, i) => names.indexOf(name) !== i))];
  if (repeated.length > 0) {
    options.info?.(
      `warning: the server lists ${repeated.length} tool name(s) more than once (${repeated
        .slice(0, 5)
        .map((n) => printable(n))
        .join(", ")}); ` +
        "tools.json keeps the list as sent, but a model cannot tell such tools apart: fix the server (often its pagination)",
    );
  }
  const file = makeToolsFile({
    server: connection.serverInfo,
    protocolVersion: connection.protocolVersion,
    source:
      target.kind === "stdio"
        ? { kind: "mcp-stdio", command: target.command }
        : { kind: connection.transport, url: describeTarget(target) },
    tools,
  });
  try {
    await writeToolsFile(options.out, file);
  } catch (error) {
    throw badInput(
      `cannot write ${options.out}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
      "pass a writable file path with --out",
    );
  }
  options.progress?.("written");
  const capabilities = connection.client.getServerCapabilities() ?? {};
  const result: InspectResult = { out: options.out, file, transport: connection.transport };
  if (connection.stderrLogPath) result.stderrLogPath = connection.stderrLogPath;
  if (capabilities.resources)
    result.resources = await countOrWarn(connection, "resources/list", "resources", timing, options);
  if (capabilities.prompts) result.prompts = await countOrWarn(connection, "prompts/list", "prompts", timing, options);
  return result;
}

async function countOrWarn(
  connection: McpConnection,
  method: "resources/list" | "prompts/list",
  key: "resources" | "prompts",
  timing: { timeoutMs: number },
  options: InspectOptions,
): Promise<number | undefined> {
  try {
    return await countAll(connection, method, key, timing);
  } catch (error) {
    options.info?.(`warning: could not list ${key}: ${(error as Error).message}`);
    return undefined;
  }
}
