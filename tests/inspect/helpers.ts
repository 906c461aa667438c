import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import type { Tool } from "@modelcontextprotocol/sdk/types.js";

import { CLI, ROOT } from "../support/cli.js";
export { CLI, ROOT } from "../support/cli.js";

export const FIXTURES = join(ROOT, "tests", "fixtures", "servers");
export const fixture = (name: string) => join(FIXTURES, name);
export const referenceServer = (name: string) =>
  join(ROOT, "node_modules", "@modelcontextprotocol", name, "dist", "index.js");

export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `node bin/mcp-forge.js …` as a user would; `onStart` gets the child, e.g. to send it a signal.
 * A CLI still running after `limitMs` is killed, so a hang shows up as signal SIGKILL.
 */
export function runCli(
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; onStart?: (child: ChildProcess) => void; limitMs?: number } = {},
): Promise<CliRun> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", reject);
    const limit = setTimeout(() => child.kill("SIGKILL"), options.limitMs ?? 30_000);
    child.on("close", (code, signal) => {
      clearTimeout(limit);
      resolvePromise({ code, signal, stdout, stderr });
    });
    options.onStart?.(child);
  });
}

export async function tempDir(prefix = "mcp-forge-inspect-"): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

export async function freePort(): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolvePromise(port));
    });
  });
}

/** Starts a long-running server process and waits until its output matches `ready`. */
export async function startProcess(
  command: string,
  args: string[],
  ready: RegExp,
  env: NodeJS.ProcessEnv = {},
): Promise<{ child: ChildProcess; match: RegExpMatchArray; stop: () => Promise<void> }> {
  const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  const stop = () =>
    new Promise<void>((resolvePromise) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolvePromise();
      child.once("exit", () => resolvePromise());
      child.kill("SIGTERM");
    });
  const match = await new Promise<RegExpMatchArray>((resolvePromise, reject) => {
    let seen = "";
    const timer = setTimeout(() => reject(new Error(`not ready after 15 s: ${seen}`)), 15_000);
    const onData = (d: Buffer) => {
      seen += d.toString();
      const m = seen.match(ready);
      if (m) {
        clearTimeout(timer);
        resolvePromise(m);
      }
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    child.once("exit", (code) => reject(new Error(`exited with ${code} before ready: ${seen}`)));
  });
  return { child, match, stop };
}

/** What an SDK client lists directly, following pagination: the reference to compare tools.json with. */
export async function sdkListTools(transport: Transport): Promise<Tool[]> {
  const client = new Client({ name: "reference-client", version: "1.0.0" });
  await client.connect(transport);
  try {
    const tools: Tool[] = [];
    let cursor: string | undefined;
    do {
      const page = await client.listTools(cursor === undefined ? {} : { cursor });
      tools.push(...page.tools);
      cursor = page.nextCursor;
    } while (cursor !== undefined);
    return tools;
  } finally {
    await client.close();
  }
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read arbitrary JSON and check it with assertions
export async function readJson<T = any>(path: string): Promise<T> {
  return JSON.parse(await readFile(path, "utf8")) as T;
}

/** Processes (not zombies) whose command line contains `tag`, as `ps` sees them. */
export function processesWith(tag: string): string[] {
  return execFileSync("ps", ["-A", "-o", "pid=,stat=,args="], { encoding: "utf8" })
    .split("\n")
    .filter((line) => line.includes(tag) && !/^\s*\d+\s+Z/.test(line));
}

/** True while the pid names a running process; a zombie (dead, not yet reaped by init) does not count. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return !/^\d+ \(.*\) Z /.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
}
