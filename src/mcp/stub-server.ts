import { Server } from "@modelcontextprotocol/sdk/server/index.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { CallToolRequestSchema, type CallToolResult, ListToolsRequestSchema } from "@modelcontextprotocol/sdk/types.js";

import { canonicalJson } from "../core/canonical.js";
import type { McpTool, ToolsFile } from "../core/toolset.js";
import { VERSION } from "../core/version.js";

export interface Recording {
  name: string;
  arguments: Record<string, unknown>;
  content: string;
  isError: boolean;
}

export interface StubOptions {
  /** Probability that a call gets an injected error instead of its result (0 by default). */
  errorRate?: number;
  /** Tools whose every call fails. */
  errorTools?: readonly string[];
  seed?: number;
}

export interface StubResult {
  content: string;
  isError: boolean;
  structuredContent?: Record<string, unknown>;
  source: "recorded" | "synthesized" | "injected";
}

/**
 * What the stub answers: the result recorded during generation for this tool and these
 * arguments (compared as canonical JSON), else a value valid against the tool's outputSchema,
 * else a plain acknowledgement; errors injected where configured.
 */
export class StubResponder {
  private readonly byKey = new Map<string, Recording>();
  private readonly tools: Map<string, McpTool>;
  private state: number;

  constructor(
    tools: readonly McpTool[],
    recordings: readonly Recording[],
    private readonly options: StubOptions = {},
  ) {
    this.tools = new Map(tools.map((t) => [t.name, t]));
    for (const r of recordings) this.byKey.set(key(r.name, r.arguments), r);
    this.state = (options.seed ?? 0) >>> 0 || 0x9e3779b9;
  }

  get recordingCount(): number {
    return this.byKey.size;
  }

  respond(name: string, args: Record<string, unknown>): StubResult {
    const tool = this.tools.get(name);
    if (!tool) return { content: `Error: unknown tool "${name}"`, isError: true, source: "injected" };
    if (this.options.errorTools?.includes(name) || (this.options.errorRate ?? 0) > this.random()) {
      return { content: `Error: ${name} failed (injected by the MCP-Forge stub)`, isError: true, source: "injected" };
    }
    const recorded = this.byKey.get(key(name, args));
    if (recorded) {
      const structured = tool.outputSchema && !recorded.isError ? parseObject(recorded.content) : undefined;
      return {
        content: recorded.content,
        isError: recorded.isError,
        ...(structured
          ? { structuredContent: structured }
          : tool.outputSchema && !recorded.isError
            ? { structuredContent: exampleObject(tool.outputSchema) }
            : {}),
        source: "recorded",
      };
    }
    if (tool.outputSchema) {
      const value = exampleObject(tool.outputSchema);
      return { content: JSON.stringify(value), isError: false, structuredContent: value, source: "synthesized" };
    }
    return { content: JSON.stringify({ ok: true, tool: name }), isError: false, source: "synthesized" };
  }

  /** xorshift32: injected errors repeat run to run for a given seed. */
  private random(): number {
    let x = this.state;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.state = x >>> 0;
    return this.state / 0x100000000;
  }
}

const key = (name: string, args: unknown) => `${name}\u0000${canonicalJson(args)}`;

function parseObject(text: string): Record<string, unknown> | undefined {
  try {
    const value = JSON.parse(text) as unknown;
    return value && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function exampleObject(schema: Record<string, unknown>): Record<string, unknown> {
  const value = exampleFor(schema, schema, 0);
  return value && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

/** The simplest value valid against `schema`: required properties only, minimal lengths. */
export function exampleFor(schema: unknown, root: Record<string, unknown>, depth: number): unknown {
  if (!schema || typeof schema !== "object" || depth > 12) return null;
  const s = schema as Record<string, unknown>;
  if (typeof s.$ref === "string" && s.$ref.startsWith("#")) {
    let node: unknown = root;
    for (const part of s.$ref.slice(1).split("/").filter(Boolean))
      node = (node as Record<string, unknown> | undefined)?.[part];
    return exampleFor(node, root, depth + 1);
  }
  if ("const" in s) return s.const;
  if (Array.isArray(s.enum)) return s.enum[0];
  if ("default" in s) return s.default;
  const union = (s.anyOf ?? s.oneOf) as unknown[] | undefined;
  if (Array.isArray(union) && union.length > 0) return exampleFor(union[0], root, depth + 1);
  if (Array.isArray(s.allOf)) return Object.assign({}, ...s.allOf.map((p) => exampleFor(p, root, depth + 1) as object));
  const type = Array.isArray(s.type) ? s.type[0] : s.type;
  switch (type) {
    case "string":
      return exampleString(s);
    case "integer":
      return Math.ceil(
        typeof s.minimum === "number" ? s.minimum : typeof s.exclusiveMinimum === "number" ? s.exclusiveMinimum + 1 : 0,
      );
    case "number":
      return typeof s.minimum === "number"
        ? s.minimum
        : typeof s.exclusiveMinimum === "number"
          ? s.exclusiveMinimum + 1
          : 0;
    case "boolean":
      return false;
    case "null":
      return null;
    case "array": {
      const count = typeof s.minItems === "number" ? s.minItems : 0;
      return Array.from({ length: count }, (_, i) => {
        const item = exampleFor(s.items, root, depth + 1);
        return typeof item === "string" && s.uniqueItems
          ? `${item}${i}`
          : typeof item === "number" && s.uniqueItems
            ? item + i
            : item;
      });
    }
    default: {
      const properties = (s.properties ?? {}) as Record<string, unknown>;
      const required = Array.isArray(s.required) ? (s.required as string[]) : [];
      return Object.fromEntries(required.map((k) => [k, exampleFor(properties[k], root, depth + 1)]));
    }
  }
}

function exampleString(s: Record<string, unknown>): string {
  const formats: Record<string, string> = {
    "date-time": "2024-01-01T00:00:00Z",
    date: "2024-01-01",
    time: "00:00:00Z",
    email: "stub@example.com",
    uri: "https://example.com/",
    uuid: "00000000-0000-4000-8000-000000000000",
  };
  const base = (typeof s.format === "string" ? formats[s.format] : undefined) ?? "stub";
  const min = typeof s.minLength === "number" ? s.minLength : 0;
  const max = typeof s.maxLength === "number" ? s.maxLength : Infinity;
  return base.padEnd(min, "x").slice(0, Math.max(min, Math.min(max, base.length)));
}

/** An MCP server that lists the toolset's tools exactly and answers calls from a StubResponder. */
export function createStubServer(toolsFile: Pick<ToolsFile, "server" | "tools">, responder: StubResponder): Server {
  const server = new Server(
    { name: `${toolsFile.server.name}-stub`, version: toolsFile.server.version || VERSION },
    { capabilities: { tools: {} } },
  );
  server.setRequestHandler(ListToolsRequestSchema, async () => ({ tools: toolsFile.tools as never }));
  server.setRequestHandler(CallToolRequestSchema, async (request): Promise<CallToolResult> => {
    const result = responder.respond(request.params.name, (request.params.arguments ?? {}) as Record<string, unknown>);
    return {
      content: [{ type: "text", text: result.content }],
      ...(result.isError ? { isError: true } : {}),
      ...(result.structuredContent ? { structuredContent: result.structuredContent } : {}),
    };
  });
  return server;
}

/** Serves the stub over this process's stdin/stdout until the client disconnects. */
export async function serveStubOverStdio(
  toolsFile: Pick<ToolsFile, "server" | "tools">,
  responder: StubResponder,
): Promise<void> {
  const server = createStubServer(toolsFile, responder);
  const closed = new Promise<void>((resolve) => {
    server.onclose = () => resolve();
  });
  await server.connect(new StdioServerTransport());
  process.stdin.once("end", () => void server.close());
  await closed;
}
