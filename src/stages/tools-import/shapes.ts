import type { McpTool } from "../../core/toolset.js";

/** The file shapes `tools import` accepts. */
export type ToolFormat = "mcp" | "openai" | "functions";

export const FORMAT_NAMES: Record<ToolFormat, string> = {
  mcp: "MCP tools",
  openai: "OpenAI tools",
  functions: "OpenAI legacy functions",
};

/** Something wrong in the input, at a JSON pointer into it. */
export interface Problem {
  pointer: string;
  message: string;
}

/** A tool read from the file, with the pointers its parts came from (for error messages). */
export interface SourcedTool {
  tool: McpTool;
  /** The tool's entry in the file. */
  pointer: string;
  /** The object that holds its name and description (`…/function` for OpenAI tools). */
  fieldsPointer: string;
  inputSchemaPointer?: string;
  outputSchemaPointer?: string;
}

export interface ReadShape {
  format: ToolFormat;
  tools: SourcedTool[];
  server?: { name: string; version: string };
  protocolVersion?: string;
  problems: Problem[];
}

/** MCP's Tool fields, in the order tools.json lists them. */
const MCP_KEYS = ["name", "title", "description", "inputSchema", "outputSchema", "annotations"];
const EMPTY_PARAMETERS = { type: "object", properties: {} };

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * Recognises the file's shape and turns each entry into an MCP Tool:
 * a tools.json or `{tools: [MCP tools]}`, OpenAI `tools` (`[{type: "function", function: {…}}]`
 * or `{tools: […]}`), legacy `functions` (`[{name, parameters}]` or `{functions: […]}`), or a bare
 * array of any of these.
 */
export function readShape(root: unknown): ReadShape {
  const problems: Problem[] = [];
  let list: unknown[];
  let base: string;
  let format: ToolFormat;
  if (Array.isArray(root)) {
    list = root;
    base = "";
    format = formatOfList(list);
  } else if (isObject(root) && Array.isArray(root.tools)) {
    list = root.tools;
    base = "/tools";
    format = formatOfList(list) === "openai" ? "openai" : "mcp";
  } else if (isObject(root) && Array.isArray(root.functions)) {
    list = root.functions;
    base = "/functions";
    format = "functions";
  } else {
    problems.push({
      pointer: "/",
      message: `expected a "tools" array, a "functions" array, or an array of tools; got ${describeRoot(root)}`,
    });
    return { format: "mcp", tools: [], problems };
  }
  const tools: SourcedTool[] = [];
  list.forEach((entry, i) => {
    const pointer = `${base}/${i}`;
    const read =
      format === "openai"
        ? fromOpenAi(entry, pointer, problems)
        : format === "mcp"
          ? fromMcp(entry, pointer, problems)
          : fromFunction(entry, pointer, problems);
    if (read) tools.push(read);
  });
  const shape: ReadShape = { format, tools, problems };
  if (isObject(root) && format === "mcp") {
    const server = root.server;
    if (isObject(server) && typeof server.name === "string" && typeof server.version === "string") {
      shape.server = { name: server.name, version: server.version };
    }
    if (typeof root.protocolVersion === "string") shape.protocolVersion = root.protocolVersion;
  }
  return shape;
}

/** A list's format is its first entry's; every entry is then read as that format. */
function formatOfList(list: unknown[]): ToolFormat {
  const first = list.find(isObject);
  if (!first) return "mcp";
  if (first.type === "function") return "openai";
  if ("inputSchema" in first) return "mcp";
  return "functions";
}

function fromMcp(entry: unknown, pointer: string, problems: Problem[]): SourcedTool | undefined {
  if (!isObject(entry)) return notAnObject(entry, pointer, "an MCP tool {name, description, inputSchema}", problems);
  if (!("inputSchema" in entry)) {
    problems.push({
      pointer: `${pointer}/inputSchema`,
      message: 'is missing; an MCP tool needs an inputSchema (use {"type": "object"} for no arguments)',
    });
    return undefined;
  }
  const ordered: Json = {};
  for (const key of MCP_KEYS) if (key in entry) ordered[key] = entry[key];
  for (const [key, value] of Object.entries(entry)) if (!(key in ordered)) ordered[key] = value;
  return {
    tool: ordered as McpTool,
    pointer,
    fieldsPointer: pointer,
    inputSchemaPointer: `${pointer}/inputSchema`,
    ...("outputSchema" in entry ? { outputSchemaPointer: `${pointer}/outputSchema` } : {}),
  };
}

function fromOpenAi(entry: unknown, pointer: string, problems: Problem[]): SourcedTool | undefined {
  if (!isObject(entry))
    return notAnObject(entry, pointer, 'an OpenAI tool {"type": "function", "function": {…}}', problems);
  if (entry.type !== "function") {
    problems.push({
      pointer: `${pointer}/type`,
      message: `${JSON.stringify(entry.type)} is not "function"; only function tools can be imported`,
    });
    return undefined;
  }
  // The Responses API puts the function's fields next to "type" instead of under "function".
  if (!("function" in entry) && "name" in entry) return fromFunction(entry, pointer, problems);
  return fromFunction(entry.function, `${pointer}/function`, problems, pointer);
}

function fromFunction(
  entry: unknown,
  pointer: string,
  problems: Problem[],
  toolPointer = pointer,
): SourcedTool | undefined {
  if (!isObject(entry)) return notAnObject(entry, pointer, "a function {name, description, parameters}", problems);
  const tool: Json = { name: entry.name };
  if ("description" in entry) tool.description = entry.description;
  tool.inputSchema = "parameters" in entry ? entry.parameters : EMPTY_PARAMETERS;
  return {
    tool: tool as McpTool,
    pointer: toolPointer,
    fieldsPointer: pointer,
    ...("parameters" in entry ? { inputSchemaPointer: `${pointer}/parameters` } : {}),
  };
}

function notAnObject(entry: unknown, pointer: string, expected: string, problems: Problem[]): undefined {
  problems.push({ pointer, message: `expected ${expected}, got ${describeRoot(entry)}` });
  return undefined;
}

function describeRoot(value: unknown): string {
  if (Array.isArray(value)) return "an array";
  if (value === null) return "null";
  if (isObject(value))
    return `an object with keys ${
      Object.keys(value)
        .slice(0, 5)
        .map((k) => JSON.stringify(k))
        .join(", ") || "(none)"
    }`;
  return typeof value;
}
