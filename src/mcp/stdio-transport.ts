import { type ChildProcessByStdio, spawn } from "node:child_process";
import { createWriteStream, type WriteStream } from "node:fs";
import type { Readable, Writable } from "node:stream";

import { deserializeMessage, serializeMessage } from "@modelcontextprotocol/sdk/shared/stdio.js";
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import type { JSONRPCMessage } from "@modelcontextprotocol/sdk/types.js";

import { redactSecrets } from "../core/redact.js";
import { descendantsOf, killTree, signalTree } from "./process-tree.js";

const STDERR_TAIL_LINES = 20;
const MAX_LINE_BYTES = 64 * 1024 * 1024;

export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/**
 * MCP over a child's stdin/stdout, like the SDK's StdioClientTransport, except that the command
 * line runs through `sh -c` in its own process group so that closing ends the whole tree
 * (`npx` → node, `sh -c` → node), and stderr goes to a log file with its last lines kept for errors.
 */
export class ProcessTreeStdioTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;
  protocolVersion?: string;
  exit?: ProcessExit;
  /** The last stdout line that was not a JSON-RPC message: servers that log to stdout break stdio MCP. */
  strayStdout?: string;

  private child?: ChildProcessByStdio<Writable, Readable, Readable>;
  private stdoutBuffer = Buffer.alloc(0);
  private log?: WriteStream;
  private stderrTail = "";
  /** Stderr after its last newline: lines reach the log whole, so a secret is redacted in one piece. */
  private stderrPartial = "";
  private knownPids: number[] = [];
  private closing?: Promise<void>;
  private readonly killOnExit = () => {
    if (this.child?.pid) signalTree(this.child.pid, this.knownPids, "SIGKILL");
  };

  constructor(
    private readonly params: { command: string; env: NodeJS.ProcessEnv; cwd?: string; stderrLogPath: string },
  ) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** The last lines the server wrote to stderr. */
  get recentStderr(): string {
    return redactSecrets(this.stderrTail.split("\n").slice(-STDERR_TAIL_LINES).join("\n").trimEnd());
  }

  setProtocolVersion(version: string): void {
    this.protocolVersion = version;
  }

  start(): Promise<void> {
    if (this.child) throw new Error("transport already started");
    this.log = createWriteStream(this.params.stderrLogPath, { flags: "a" });
    this.log.on("error", (error) => this.onerror?.(error));
    return new Promise((resolve, reject) => {
      const child = spawn("sh", ["-c", this.params.command], {
        env: this.params.env,
        cwd: this.params.cwd,
        stdio: ["pipe", "pipe", "pipe"],
        detached: true,
      });
      this.child = child;
      child.once("error", (error) => {
        reject(error);
        this.onerror?.(error);
      });
      child.once("spawn", () => {
        process.on("exit", this.killOnExit);
        resolve();
      });
      child.once("exit", (code, signal) => {
        this.exit = { code, signal };
      });
      child.once("close", () => {
        process.off("exit", this.killOnExit);
        this.onclose?.();
      });
      child.stdin.on("error", (error) => this.onerror?.(error));
      child.stdout.on("data", (chunk: Buffer) => this.receive(chunk));
      child.stderr.setEncoding("utf8");
      child.stderr.on("data", (text: string) => {
        this.logStderr(text);
        this.stderrTail = (this.stderrTail + text).slice(-8192);
      });
    });
  }

  /** Writes the server's stderr to the log line by line, secrets redacted (see src/core/redact.ts). */
  private logStderr(text: string, flush = false): void {
    const pending = this.stderrPartial + text;
    const cut = flush || pending.length > MAX_LINE_BYTES ? pending.length : pending.lastIndexOf("\n") + 1;
    this.stderrPartial = pending.slice(cut);
    if (cut > 0) this.log?.write(redactSecrets(pending.slice(0, cut)));
  }

  /** Splits stdout into lines; a line that is not a JSON-RPC message is kept to explain failures, not fatal. */
  private receive(chunk: Buffer): void {
    this.stdoutBuffer = Buffer.concat([this.stdoutBuffer, chunk]);
    if (this.stdoutBuffer.length > MAX_LINE_BYTES) {
      this.stdoutBuffer = Buffer.alloc(0);
      this.onerror?.(new Error(`the server wrote a line of more than ${MAX_LINE_BYTES} bytes to stdout`));
      return;
    }
    for (let end = this.stdoutBuffer.indexOf("\n"); end !== -1; end = this.stdoutBuffer.indexOf("\n")) {
      const line = this.stdoutBuffer.toString("utf8", 0, end).replace(/\r$/, "");
      this.stdoutBuffer = this.stdoutBuffer.subarray(end + 1);
      if (line.trim() === "") continue;
      let message: JSONRPCMessage;
      try {
        message = deserializeMessage(line);
      } catch {
        this.strayStdout = redactSecrets(line.slice(0, 500));
        continue;
      }
      this.onmessage?.(message);
    }
  }

  send(message: JSONRPCMessage): Promise<void> {
    const stdin = this.child?.stdin;
    if (!stdin || stdin.destroyed || this.exit) return Promise.reject(new Error("the server process is not running"));
    return new Promise((resolve) => {
      if (stdin.write(serializeMessage(message))) resolve();
      else stdin.once("drain", resolve);
    });
  }

  /** Ends the server and every process it started; safe to call more than once. */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    const child = this.child;
    if (child?.pid !== undefined) {
      if (!this.exit) this.knownPids = await descendantsOf(child.pid);
      const exited = this.exit ? Promise.resolve() : new Promise((resolve) => child.once("exit", resolve));
      child.stdin.end();
      await killTree(child.pid, { known: this.knownPids });
      // Reap our own child before returning, so that callers never see it as a zombie.
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 1000).unref())]);
    }
    process.off("exit", this.killOnExit);
    this.stdoutBuffer = Buffer.alloc(0);
    this.logStderr("", true);
    await new Promise<void>((resolve) => (this.log ? this.log.end(resolve) : resolve()));
  }
}
