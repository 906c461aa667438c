import { readFile } from "node:fs/promises";
import { type AddressInfo, createServer, type Socket } from "node:net";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

import { afterEach, beforeEach, describe, expect, it } from "vitest";

import { canonicalJson, toolsetHash } from "../../src/core/canonical.js";
import { fixture, FIXTURES, readJson, runCli, startProcess, tempDir } from "./helpers.js";

let dir: string;
let workdir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => {
  ({ dir, cleanup } = await tempDir());
  workdir = join(dir, "work");
});
afterEach(() => cleanup());

const inspect = (...args: string[]) => runCli(["inspect", "--workdir", workdir, ...args]);

describe("inspect against our fixture servers", () => {
  it("follows nextCursor over several pages, keeping the server's order", async () => {
    const run = await inspect(
      "--server",
      `node ${fixture("paginated.mjs")}`,
      "--env",
      "TOOL_COUNT=23",
      "--env",
      "PAGE_SIZE=5",
    );
    expect(run.code).toBe(0);
    const file = await readJson(join(workdir, "tools.json"));
    expect(file.tools.map((t: { name: string }) => t.name)).toEqual(
      Array.from({ length: 23 }, (_, i) => `tool_${String(i).padStart(4, "0")}`),
    );
    expect(file.server).toEqual({ name: "paginated-fixture", version: "1.2.3" });
    expect(run.stdout).toContain("tools: 23");
    expect(run.stdout).toContain("  tool_0022 — Tool number 22.\n      * id: integer\n        note: string");
    expect(run.stdout).not.toContain("Second line");
  });

  it("keeps tools repeated across pages as sent, and warns about them", async () => {
    const run = await inspect(
      "--server",
      `node ${fixture("paginated.mjs")}`,
      "--env",
      "TOOL_COUNT=6",
      "--env",
      "PAGE_SIZE=3",
      "--env",
      "PAGE_OVERLAP=1",
    );
    expect(run.code).toBe(0);
    const file = await readJson(join(workdir, "tools.json"));
    expect(file.tools.map((t: { name: string }) => t.name)).toEqual([
      "tool_0000",
      "tool_0001",
      "tool_0002",
      "tool_0002",
      "tool_0003",
      "tool_0004",
      "tool_0005",
    ]);
    expect(run.stderr).toContain("warning: the server lists 1 tool name(s) more than once (tool_0002)");
  });

  it("passes the caller's environment plus --env, and runs in --cwd", async () => {
    const run = await runCli(
      [
        "inspect",
        "--workdir",
        workdir,
        "--server",
        "node paginated.mjs",
        "--cwd",
        FIXTURES,
        "--env",
        "TOOL_PREFIX=custom",
        "--env",
        "TOOL_COUNT=2",
      ],
      { env: { CALLER_MARK: " [from caller]" } },
    );
    expect(run.code).toBe(0);
    const file = await readJson(join(workdir, "tools.json"));
    expect(file.tools.map((t: { name: string }) => t.name)).toEqual(["custom_0000", "custom_0001"]);
    expect(file.tools[0].description).toMatch(/\[from caller\]$/);
  });

  it("keeps $ref/$defs, oneOf, nested arrays and unknown fields exactly as sent", async () => {
    const { TOOLS } = await import(pathToFileURL(fixture("schemas-data.mjs")).href);
    const run = await inspect("--server", `node ${fixture("schemas.mjs")}`);
    expect(run.code).toBe(0);
    const file = await readJson(join(workdir, "tools.json"));
    expect(file.tools).toEqual(TOOLS);
    expect(file.toolsetHash).toBe(toolsetHash(TOOLS));
    expect(canonicalJson(file.tools)).toContain('"x-vendor":{"rateLimit":10}');
    expect(run.stdout).toContain("      * batches: line[][]");
    expect(run.stdout).toContain("  shout — RED text that tries to rewrite the terminal");
    // Terminal control characters from the server's descriptions must not reach the terminal.
    // eslint-disable-next-line no-control-regex
    expect(run.stdout).not.toMatch(/[\u0000-\u0009\u000b-\u001f]/);
  });

  it("a server that crashes during the handshake: exit 2, its exit code and last stderr lines", async () => {
    const command = `node ${fixture("crash.mjs")}`;
    const run = await inspect("--server", command);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`the server \`${command}\` exited with code 3 during the MCP handshake`);
    expect(run.stderr).toContain("fatal: API_TOKEN is not set");
    const log = run.stderr.match(/full log: (\S+)\)/)?.[1];
    expect(log?.startsWith(join(workdir, "logs"))).toBe(true);
    expect(await readFile(log!, "utf8")).toContain("fatal: API_TOKEN is not set");
    const state = await readJson(join(workdir, "state.json"));
    expect(state.stages.INSPECTING).toMatchObject({ status: "failed" });
    expect(state.stages.INSPECTING.error).toContain("exited with code 3");
  });

  it("a command that does not exist: exit 2 naming it", async () => {
    const run = await inspect("--server", "no-such-mcp-server-xyz --flag");
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("`no-such-mcp-server-xyz --flag` exited with code 127 (command not found)");
  });

  it("a server that prints a banner on stdout still works; when it then hangs, the error shows the banner", async () => {
    const ok = await inspect(
      "--server",
      `node ${fixture("paginated.mjs")}`,
      "--env",
      "BANNER=Weather server v2 ready!",
      "--env",
      "TOOL_COUNT=3",
    );
    expect(ok.code).toBe(0);
    expect((await readJson(join(workdir, "tools.json"))).tools).toHaveLength(3);

    const hung = await inspect(
      "--server",
      `node ${fixture("hang.mjs")}`,
      "--env",
      "BANNER=Weather server v2 ready!",
      "--timeout",
      "1",
    );
    expect(hung.code).toBe(2);
    expect(hung.stderr).toContain("not MCP to stdout");
    expect(hung.stderr).toContain("  | Weather server v2 ready!");
  });

  it("an HTTP server that accepts the connection but never answers: exit 2 after --timeout", async () => {
    const sockets: Socket[] = [];
    const silent = createServer((socket) => sockets.push(socket));
    await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
    try {
      const url = `http://127.0.0.1:${(silent.address() as AddressInfo).port}/mcp`;
      const run = await inspect("--url", url, "--timeout", "1");
      expect(run.code).toBe(2);
      expect(run.stderr).toContain(`the server at ${url} did not answer \`initialize\` within 1 s`);
      expect(run.stderr).toContain("--timeout");
    } finally {
      sockets.forEach((s) => s.destroy());
      await new Promise((r) => silent.close(r));
    }
  });

  it("a server that never answers: exit 2 after --timeout, saying how to raise it", async () => {
    const started = Date.now();
    const run = await inspect("--server", `node ${fixture("hang.mjs")}`, "--timeout", "1");
    expect(run.code).toBe(2);
    expect(Date.now() - started).toBeLessThan(8000);
    expect(run.stderr).toContain("did not answer `initialize` within 1 s");
    expect(run.stderr).toContain("--timeout");
  });

  it("a legacy SSE-only server: falls back from Streamable HTTP, with --header for auth", async () => {
    const server = await startProcess(process.execPath, [fixture("sse-only.mjs")], /listening (\S+)/, {
      REQUIRE_TOKEN: "s3cret",
    });
    try {
      const url = server.match[1]!;
      const refused = await inspect("--url", url);
      expect(refused.code).toBe(2);
      expect(refused.stderr).toContain("refused the connection (HTTP 401)");
      expect(refused.stderr).toContain("--header");

      const run = await inspect("--url", url, "--header", "Authorization: Bearer s3cret", "--json");
      expect(run.code).toBe(0);
      expect(JSON.parse(run.stdout)).toMatchObject({
        transport: "mcp-sse",
        toolCount: 2,
        source: { kind: "mcp-sse", url },
      });
      expect(run.stdout + run.stderr).not.toContain("s3cret");
      const file = await readJson(join(workdir, "tools.json"));
      expect(file.tools.map((t: { name: string }) => t.name)).toEqual(["ping", "lookup"]);
    } finally {
      await server.stop();
    }
  });

  it("an unreachable URL: exit 2 naming it", async () => {
    const run = await inspect("--url", "http://127.0.0.1:9/mcp", "--timeout", "5");
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("cannot connect to the MCP server at http://127.0.0.1:9/mcp");
  });
});
