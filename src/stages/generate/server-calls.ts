import { badInput } from "../../core/errors.js";
import type { McpTool } from "../../core/toolset.js";
import { printable } from "../../core/untrusted-text.js";
import type { McpConnection } from "../../mcp/connect.js";
import { ProcessTreeStdioTransport } from "../../mcp/stdio-transport.js";
import { looksLikeError } from "../../samples/error-text.js";
import type { Sample } from "../../samples/sample.js";
import type { ExecuteMode } from "./plan.js";
import { redactSecrets, resultText, type ToolResult } from "./tool-result.js";

/** Refused calls after which a tool that never succeeded gets no more retries. */
const HOPELESS_AFTER = 8;

export type ServerState = NonNullable<Sample["serverState"]>;

/** A server's answer, with how its state stood apart from earlier samples' calls. */
export interface Execution extends ToolResult {
  state: ServerState;
}

/** Calls meant to succeed that ran on the server, and how many it accepted. */
export interface SuccessTally {
  calls: number;
  succeeded: number;
}

/** One line on how often the server accepted the calls meant to succeed, worst tools first, and how state was kept apart. */
export function formatSuccess(
  success: ReadonlyMap<string, SuccessTally>,
  stateful: ReadonlySet<string>,
  restarts: number,
): string {
  let calls = 0;
  let ok = 0;
  for (const t of success.values()) [calls, ok] = [calls + t.calls, ok + t.succeeded];
  const share = (t: SuccessTally) => (t.calls === 0 ? 1 : t.succeeded / t.calls);
  const worst = [...success]
    .sort((a, b) => share(a[1]) - share(b[1]))
    .slice(0, 5)
    .map(([name, t]) => `${name} ${t.succeeded}/${t.calls}`);
  const state =
    stateful.size > 0 || restarts > 0
      ? `; stateful: ${[...stateful].join(", ") || "none marked read-only"}, ${restarts} fresh server process(es)`
      : "";
  return `server success: ${ok}/${calls} standard calls (${Math.round((100 * ok) / Math.max(1, calls))} %); lowest: ${worst.join(", ")}${state}`;
}

/**
 * Whether a tool may be run for real: read-only ones by default; any tool only with `--execute all`.
 * A tool that reaches the outside world (`openWorldHint`) is not read-only whatever else it claims.
 */
export function mayExecute(tool: McpTool, mode: ExecuteMode): boolean {
  if (mode === "all") return true;
  if (mode === "none") return false;
  const hints = tool.annotations;
  return hints?.readOnlyHint === true && hints.destructiveHint !== true && hints.openWorldHint !== true;
}

/**
 * Runs tool calls against a live server under the execution policy, and counts what it did. After
 * a call that may change what later calls see (a tool not marked read-only, or one a probe found
 * stateful), the next call runs on a fresh server process; where that cannot reset the state (an
 * HTTP server, or state kept on disk), calls are marked "shared".
 */
export class ToolExecutor {
  executed = 0;
  restarts = 0;
  readonly executedByTool = new Map<string, number>();
  /** Per tool, the calls meant to succeed (standard samples, retries included). */
  readonly success = new Map<string, SuccessTally>();
  /** Tools marked read-only whose answers a repeat showed to depend on earlier calls. */
  readonly stateful = new Set<string>();
  /** Tools that timed out or broke the connection once; later calls use stubs instead. */
  private readonly disabled = new Set<string>();
  /** A call on the current process may have changed its state. */
  private dirty = false;
  /** Restarting does not reset the state (a restart was seen not to, or the server cannot be restarted). */
  private persistent = false;
  /** What the server shows of its state (its listings), taken fresh; a restart that changes it did not reset. */
  private baseline: string | undefined;
  private snapshot: (() => Promise<string>) | undefined;
  private crashReported = false;

  constructor(
    private connection: McpConnection | undefined,
    private readonly mode: ExecuteMode,
    private readonly callTimeoutMs: number,
    private readonly reconnect?: () => Promise<McpConnection>,
    private readonly log: (line: string) => void = () => undefined,
    /** After the server process dies mid-call, go on with stubs instead of failing the stage. */
    private readonly continueOnCrash = false,
  ) {}

  canRun(tool: McpTool): boolean {
    return this.connection !== undefined && !this.disabled.has(tool.name) && mayExecute(tool, this.mode);
  }

  /** Whether a call of this tool may change what later calls see. */
  changesState(tool: McpTool): boolean {
    return tool.annotations?.readOnlyHint !== true || this.stateful.has(tool.name);
  }

  /** Sets how the server's state is read back (e.g. its listing tools), to check that a restart reset it. */
  async watchState(snapshot: () => Promise<string>): Promise<void> {
    this.snapshot = snapshot;
    this.baseline = await snapshot();
  }

  /**
   * The server's result, or undefined when the tool is not run (policy, or it stopped answering
   * before). Error text without `isError` counts as an error; a call that times out or breaks the
   * connection is an error result too, and the tool is not run again. `expectSuccess` tallies the
   * call in `success`.
   */
  async call(
    tool: McpTool,
    args: Record<string, unknown>,
    options: { expectSuccess?: boolean } = {},
  ): Promise<Execution | undefined> {
    if (!this.canRun(tool)) return undefined;
    const state = this.dirty ? await this.reset() : "fresh";
    this.executed++;
    this.executedByTool.set(tool.name, (this.executedByTool.get(tool.name) ?? 0) + 1);
    if (this.changesState(tool)) this.dirty = true;
    const result = await this.peek(tool, args);
    if (options.expectSuccess) {
      const tally = this.success.get(tool.name) ?? { calls: 0, succeeded: 0 };
      tally.calls++;
      if (!result.isError) tally.succeeded++;
      this.success.set(tool.name, tally);
    }
    return { ...result, state };
  }

  /** Whether the server has refused every one of many calls meant to succeed: more draws would not help. */
  neverSucceeds(tool: McpTool): boolean {
    const tally = this.success.get(tool.name);
    return tally !== undefined && tally.calls >= HOPELESS_AFTER && tally.succeeded === 0;
  }

  /** Marks a tool stateful and the current process as changed by it. */
  markStateful(tool: McpTool): void {
    this.stateful.add(tool.name);
    this.dirty = true;
  }

  /** Resets the server if a call may have changed it, so what comes next starts from its first state. */
  async freshen(): Promise<void> {
    if (this.dirty) await this.reset();
  }

  /** A fresh process when possible ("reset"), else "shared". */
  async reset(): Promise<ServerState> {
    if (!this.reconnect && !this.persistent) {
      this.persistent = true;
      this.log(
        'warning: the server cannot be restarted from here (it is reached over HTTP), so samples after a state-changing call are marked serverState "shared"',
      );
    }
    if (!this.reconnect || this.persistent) return "shared";
    const old = this.connection;
    this.connection = undefined;
    await old?.close();
    this.connection = await this.reconnect();
    this.restarts++;
    this.dirty = false;
    if (this.snapshot && (await this.snapshot()) !== this.baseline) {
      this.persistent = true;
      this.dirty = true;
      this.log(
        'warning: the server keeps its state across restarts (its listings differ from the first run\'s), so samples after a state-changing call are marked serverState "shared"',
      );
      return "shared";
    }
    return "reset";
  }

  async close(): Promise<void> {
    await this.connection?.close();
  }

  /** The resources the server lists (none when it has no resources capability or the list fails). */
  async resources(): Promise<Array<{ uri: string; name?: string }>> {
    if (!this.connection?.client.getServerCapabilities()?.resources) return [];
    try {
      return (await this.connection.client.listResources(undefined, { timeout: this.callTimeoutMs })).resources;
    } catch {
      return [];
    }
  }

  /** Runs a call outside the counts and the state bookkeeping: discovery's listings and state snapshots. */
  async peek(tool: McpTool, args: Record<string, unknown>): Promise<ToolResult> {
    const connection = this.connection!;
    // Taken before the call: the SDK forgets its transport once the connection closes.
    const transport = connection.client.transport;
    try {
      const result = await connection.client.callTool({ name: tool.name, arguments: args }, undefined, {
        timeout: this.callTimeoutMs,
      });
      const content = redactSecrets(resultText(result as { content?: unknown }));
      return { content, isError: result.isError === true || looksLikeError(content), source: "server" };
    } catch (error) {
      const message = (error as Error).message ?? String(error);
      // A protocol-level error (bad params, unknown tool) is still the server's real error answer.
      if (/MCP error -32602|MCP error -32603|MCP error -32601/.test(message)) {
        return {
          content: redactSecrets(message.replace(/^MCP error -?\d+: /, "Error: ")),
          isError: true,
          source: "server",
        };
      }
      this.failOnCrash(connection, transport, tool);
      this.disabled.add(tool.name);
      const timedOut = /timed? ?out|-32001/i.test(message);
      const content = timedOut
        ? `Error: the request timed out after ${Math.round(this.callTimeoutMs / 100) / 10} seconds.`
        : "Error: the server stopped answering.";
      return { content, isError: true, source: "stub" };
    }
  }

  /**
   * Exit 2 when the server process died under a call (not one this executor closed to restart it),
   * naming its last stderr lines; with `continueOnCrash`, a warning and stubs from here on.
   */
  private failOnCrash(connection: McpConnection, transport: unknown, tool: McpTool): void {
    if (connection !== this.connection || !(transport instanceof ProcessTreeStdioTransport) || !transport.exit) return;
    const { code, signal } = transport.exit;
    const stderr = printable(transport.recentStderr);
    const how = `the server process exited (${signal ?? `code ${code}`}) during a call of ${tool.name}, after ${this.executed} tool call(s)`;
    const tail = stderr
      ? `\nlast lines of its stderr (full log: ${connection.stderrLogPath}):\n${stderr.replace(/^/gm, "  ")}`
      : `\n(it wrote nothing to stderr; log: ${connection.stderrLogPath})`;
    if (this.continueOnCrash) {
      if (this.crashReported) return;
      this.crashReported = true;
      this.log(`warning: ${how}; the rest of the samples use stubs (--continue-on-server-crash)${tail}`);
      return;
    }
    throw badInput(
      `${how}${tail}`,
      "fix the server and rerun, or pass --continue-on-server-crash to finish with stub results",
    );
  }
}
