import { ErrorCode, McpError, ResultSchema } from "@modelcontextprotocol/sdk/types.js";

import { badInput } from "../core/errors.js";
import type { McpTool } from "../core/toolset.js";
import { printable } from "../core/untrusted-text.js";
import type { McpConnection } from "./connect.js";

/** A runaway server (a cursor that never ends) stops here. */
const MAX_PAGES = 10_000;

/**
 * Every tool the server lists, following `nextCursor` to the end. The objects are kept exactly as
 * the server sent them (the SDK's `listTools` would drop fields its schema does not know), after
 * checking that each has what the contract needs: a string `name` and an object `inputSchema`.
 */
export async function listAllTools(connection: McpConnection, options: { timeoutMs: number }): Promise<McpTool[]> {
  return listAll(connection, "tools/list", "tools", options.timeoutMs, checkTool) as Promise<McpTool[]>;
}

/** Counts a paginated list (`resources/list`, `prompts/list`) without keeping it. */
export async function countAll(
  connection: McpConnection,
  method: "resources/list" | "prompts/list",
  key: "resources" | "prompts",
  options: { timeoutMs: number },
): Promise<number> {
  return (await listAll(connection, method, key, options.timeoutMs, () => undefined)).length;
}

async function listAll(
  connection: McpConnection,
  method: string,
  key: string,
  timeoutMs: number,
  check: (item: unknown, where: string) => void,
): Promise<unknown[]> {
  const items: unknown[] = [];
  const seenCursors = new Set<string>();
  let cursor: string | undefined;
  for (let page = 0; page < MAX_PAGES; page++) {
    const result = await request(connection, method, cursor, timeoutMs);
    const list = (result as Record<string, unknown>)[key];
    if (!Array.isArray(list)) throw badInput(`${method} page ${page + 1}: the answer has no "${key}" array`);
    list.forEach((item, i) => check(item, `${method} page ${page + 1}, /${key}/${i}`));
    items.push(...list);
    const next = (result as { nextCursor?: unknown }).nextCursor;
    if (next === undefined || next === null) return items;
    if (typeof next !== "string") throw badInput(`${method} page ${page + 1}: nextCursor is not a string`);
    if (seenCursors.has(next)) {
      throw badInput(
        `${method} page ${page + 1}: the server returned nextCursor ${JSON.stringify(next)} a second time`,
        "the server's pagination loops; fix the server",
      );
    }
    seenCursors.add(next);
    cursor = next;
  }
  throw badInput(`${method}: more than ${MAX_PAGES} pages; the server's pagination does not end`);
}

async function request(connection: McpConnection, method: string, cursor: string | undefined, timeoutMs: number) {
  try {
    return await connection.client.request({ method, params: cursor === undefined ? {} : { cursor } }, ResultSchema, {
      timeout: timeoutMs,
    });
  } catch (error) {
    if (error instanceof McpError && error.code === ErrorCode.RequestTimeout) {
      throw badInput(
        `the server did not answer \`${method}\` within ${timeoutMs / 1000} s`,
        `raise the limit with --timeout ${Math.max(60, Math.ceil(timeoutMs / 500))} (seconds)`,
      );
    }
    if (error instanceof McpError && error.code === ErrorCode.ConnectionClosed) {
      const log = connection.stderrLogPath ? `; its stderr is in ${connection.stderrLogPath}` : "";
      throw badInput(`the server closed the connection during \`${method}\` (it exited or crashed${log})`);
    }
    if (error instanceof McpError)
      throw badInput(`the server answered \`${method}\` with an error: ${printable(error.message)}`);
    throw error;
  }
}

function checkTool(item: unknown, where: string): void {
  const tool = item as Partial<McpTool> | null;
  if (!tool || typeof tool !== "object" || Array.isArray(tool))
    throw badInput(`${where}: a tool must be a JSON object`);
  if (typeof tool.name !== "string" || tool.name === "")
    throw badInput(`${where}/name: a tool needs a non-empty string name`);
  const schema = tool.inputSchema;
  if (!schema || typeof schema !== "object" || Array.isArray(schema)) {
    throw badInput(`${where}/inputSchema: tool "${tool.name}" needs an object inputSchema`);
  }
}
