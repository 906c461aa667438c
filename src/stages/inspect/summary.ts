import type { McpTool } from "../../core/toolset.js";
import { printable } from "../../core/untrusted-text.js";
import type { InspectResult } from "./inspect.js";

export interface ToolSummary {
  name: string;
  description: string;
  parameters: Array<{ name: string; type: string; required: boolean }>;
}

/** A tool as the summary shows it: its description's first line and its top-level parameters. */
export function summarizeTool(tool: McpTool): ToolSummary {
  const schema = tool.inputSchema as { properties?: Record<string, { type?: unknown }>; required?: unknown };
  const required = new Set(Array.isArray(schema.required) ? schema.required.filter((r) => typeof r === "string") : []);
  const properties = schema.properties && typeof schema.properties === "object" ? schema.properties : {};
  return {
    name: tool.name,
    description: firstLine(tool.description ?? tool.title ?? ""),
    parameters: Object.entries(properties).map(([name, property]) => ({
      name,
      type: typeName(property),
      required: required.has(name),
    })),
  };
}

function typeName(property: unknown): string {
  const p = property as { type?: unknown; $ref?: unknown; oneOf?: unknown; anyOf?: unknown; items?: unknown } | null;
  if (!p || typeof p !== "object") return "any";
  if (typeof p.type === "string") return p.type === "array" ? `${typeName(p.items)}[]` : p.type;
  if (Array.isArray(p.type)) return p.type.join("|");
  if (typeof p.$ref === "string") return p.$ref.split("/").pop() ?? "ref";
  if (Array.isArray(p.oneOf)) return "oneOf";
  if (Array.isArray(p.anyOf)) return "anyOf";
  return "any";
}

const firstLine = (text: string) => text.trim().split(/\r?\n/)[0]?.trim() ?? "";

/** The human summary; server-provided text is stripped of control characters first. */
export function formatSummary(result: InspectResult): string {
  const { file } = result;
  const lines = [
    `server: ${printable(file.server.name)} ${printable(file.server.version)} (${result.transport}, protocol ${printable(file.protocolVersion)})`,
    `tools: ${file.tools.length}`,
  ];
  for (const tool of file.tools.map(summarizeTool)) {
    lines.push("", `  ${printable(tool.name)}${tool.description ? ` — ${printable(tool.description)}` : ""}`);
    for (const p of tool.parameters)
      lines.push(`      ${p.required ? "*" : " "} ${printable(p.name)}: ${printable(p.type)}`);
  }
  if (file.tools.some((t) => summarizeTool(t).parameters.some((p) => p.required))) lines.push("", "  (* = required)");
  if (result.resources !== undefined) lines.push(`resources: ${result.resources}`);
  if (result.prompts !== undefined) lines.push(`prompts: ${result.prompts}`);
  lines.push("", `wrote ${result.out} (toolsetHash ${file.toolsetHash})`);
  if (result.stderrLogPath) lines.push(`server log: ${result.stderrLogPath}`);
  return lines.join("\n");
}

/** The `--json` result. */
export function jsonResult(result: InspectResult) {
  return {
    out: result.out,
    server: result.file.server,
    protocolVersion: result.file.protocolVersion,
    transport: result.transport,
    source: result.file.source,
    toolsetHash: result.file.toolsetHash,
    toolCount: result.file.tools.length,
    tools: result.file.tools.map(summarizeTool),
    ...(result.resources !== undefined ? { resources: result.resources } : {}),
    ...(result.prompts !== undefined ? { prompts: result.prompts } : {}),
    ...(result.stderrLogPath ? { stderrLog: result.stderrLogPath } : {}),
  };
}
