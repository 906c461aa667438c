import { readFile } from "node:fs/promises";

import { writeJsonAtomic } from "./atomic.js";
import { toolsetHash } from "./canonical.js";
import { badInput } from "./errors.js";
import { stripBom } from "./files.js";

/** An MCP Tool object, kept exactly as the server listed it. */
export interface McpTool {
  name: string;
  title?: string;
  description?: string;
  inputSchema: Record<string, unknown>;
  outputSchema?: Record<string, unknown>;
  annotations?: {
    title?: string;
    readOnlyHint?: boolean;
    destructiveHint?: boolean;
    idempotentHint?: boolean;
    openWorldHint?: boolean;
  };
  [key: string]: unknown;
}

export type ToolSourceKind = "mcp-stdio" | "mcp-http" | "mcp-sse" | "file";

/** The contract's `tools.json`. */
export interface ToolsFile {
  server: { name: string; version: string };
  protocolVersion: string;
  source: { kind: ToolSourceKind; command?: string; url?: string; file?: string };
  toolsetHash: string;
  tools: McpTool[];
}

export function makeToolsFile(init: Omit<ToolsFile, "toolsetHash">): ToolsFile {
  return {
    server: init.server,
    protocolVersion: init.protocolVersion,
    source: init.source,
    toolsetHash: toolsetHash(init.tools),
    tools: init.tools,
  };
}

export async function writeToolsFile(path: string, file: ToolsFile): Promise<void> {
  await writeJsonAtomic(path, file);
}

/**
 * Reads a `tools.json` written by `inspect` or `tools import`. A stored `toolsetHash` must match
 * the tools, so a hand-edited file is reported instead of hashed quietly; a file without the field
 * gets it computed.
 */
export async function readToolsFile(path: string): Promise<ToolsFile> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch {
    throw badInput(`${path}: cannot read the tools file`, "run `mcp-forge inspect` or `mcp-forge tools import` first");
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(stripBom(text));
  } catch (error) {
    throw badInput(`${path}: not valid JSON (${(error as Error).message})`);
  }
  const file = parsed as Partial<ToolsFile>;
  if (!file || typeof file !== "object" || !Array.isArray(file.tools)) {
    throw badInput(`${path}: /tools is missing; expected a tools.json as written by \`mcp-forge inspect\``);
  }
  file.tools.forEach((tool, i) => {
    if (!tool || typeof tool.name !== "string" || typeof tool.inputSchema !== "object") {
      throw badInput(`${path}: /tools/${i} needs a string "name" and an object "inputSchema"`);
    }
  });
  const hash = toolsetHash(file.tools);
  if (file.toolsetHash !== undefined && file.toolsetHash !== hash) {
    throw badInput(
      `${path}: /toolsetHash is ${JSON.stringify(file.toolsetHash)} but its tools hash to ${hash}: the tools were changed after the file was written`,
      "re-run `mcp-forge inspect` on the server (or `mcp-forge tools import` on your tool definitions) to rewrite the file, or delete the toolsetHash field to have it recomputed",
    );
  }
  return { ...file, toolsetHash: hash } as ToolsFile;
}
