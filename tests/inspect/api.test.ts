import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";

import { Command } from "commander";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

import { ForgeError } from "../../src/core/errors.js";
import { connectToServer } from "../../src/mcp/connect.js";
import { listAllTools } from "../../src/mcp/list-tools.js";
import { addServerOptions, serverTargetFromOptions, timeoutMsFromOptions } from "../../src/mcp/server-options.js";
import { alive, fixture, runCli, tempDir } from "./helpers.js";

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ dir, cleanup } = await tempDir()));
afterEach(() => cleanup());

function parse(...args: string[]) {
  const command = addServerOptions(new Command("x").exitOverride()).action(() => undefined);
  command.parse(args, { from: "user" });
  return command.opts();
}

function usageError(fn: () => unknown): ForgeError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ForgeError);
    expect((error as ForgeError).exitCode).toBe(2);
    return error as ForgeError;
  }
  throw new Error("expected a usage error");
}

describe("server options", () => {
  it("turns --server/--env/--cwd and --url/--header into a target", () => {
    expect(
      serverTargetFromOptions(
        parse("--server", "node s.js --x 'a b'", "--env", "A=1", "--env", "B=x=y", "--cwd", "/tmp"),
      ),
    ).toEqual({
      kind: "stdio",
      command: "node s.js --x 'a b'",
      env: { A: "1", B: "x=y" },
      cwd: "/tmp",
    });
    expect(
      serverTargetFromOptions(
        parse("--url", "https://h/mcp", "--header", "Authorization: Bearer t", "--header", "X-K:v"),
      ),
    ).toEqual({
      kind: "http",
      url: "https://h/mcp",
      headers: { Authorization: "Bearer t", "X-K": "v" },
    });
    expect(serverTargetFromOptions(parse())).toBeUndefined();
    expect(timeoutMsFromOptions(parse())).toBe(30_000);
    expect(timeoutMsFromOptions(parse("--timeout", "2.5"))).toBe(2500);
  });

  it("rejects bad combinations and syntax with exit 2, without echoing secret values", () => {
    expect(usageError(() => serverTargetFromOptions(parse("--server", "a", "--url", "http://h"))).message).toContain(
      "not both",
    );
    expect(usageError(() => serverTargetFromOptions(parse("--server", "a", "--env", "1BAD=x"))).message).toContain(
      "KEY=VALUE",
    );
    expect(usageError(() => serverTargetFromOptions(parse("--server", "a", "--env", "NOEQUALS"))).message).toContain(
      "KEY=VALUE",
    );
    const header = usageError(() =>
      serverTargetFromOptions(parse("--url", "http://h", "--header", "Bearer topsecret")),
    );
    expect(header.message).not.toContain("topsecret");
    expect(usageError(() => serverTargetFromOptions(parse("--server", "a", "--header", "A: b"))).message).toContain(
      "--url only",
    );
    expect(usageError(() => serverTargetFromOptions(parse("--url", "ftp://h"))).message).toContain("http://");
    expect(usageError(() => serverTargetFromOptions(parse("--env", "A=1"))).message).toContain(
      "need --server or --url",
    );
    expect(usageError(() => timeoutMsFromOptions(parse("--timeout", "soon"))).message).toContain("--timeout soon");
  });

  it("the CLI exits 2 when no server is named", async () => {
    const run = await runCli(["inspect", "--workdir", join(dir, "w")]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('inspect needs a server: pass --server "<command>" or --url <url>');
  });
});

describe("connectToServer / listAllTools", () => {
  it("lists every page, logs stderr to logDir, and close() ends the whole tree, twice safely", async () => {
    const pidFile = join(dir, "pids.txt");
    const connection = await connectToServer(
      {
        kind: "stdio",
        command: `node ${fixture("spawner.mjs")} node ${fixture("paginated.mjs")}`,
        env: { PID_FILE: pidFile, TOOL_COUNT: "12", PAGE_SIZE: "5", STAY_ALIVE: "1" },
      },
      { timeoutMs: 10_000, logDir: join(dir, "logs") },
    );
    expect(connection.transport).toBe("mcp-stdio");
    expect(connection.serverInfo).toEqual({ name: "paginated-fixture", version: "1.2.3" });
    const tools = await listAllTools(connection, { timeoutMs: 10_000 });
    expect(tools).toHaveLength(12);
    expect(connection.stderrLogPath && existsSync(connection.stderrLogPath)).toBe(true);
    const pids = readFileSync(pidFile, "utf8")
      .trim()
      .split("\n")
      .map((l) => Number(l.split(" ")[1]));
    expect(pids).toHaveLength(2);
    await Promise.all([connection.close(), connection.close()]);
    await connection.close();
    expect(pids.filter(alive)).toEqual([]);
  });
});
