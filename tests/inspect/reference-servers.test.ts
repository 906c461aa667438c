import { join } from "node:path";

import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

import { canonicalJson, toolsetHash } from "../../src/core/canonical.js";
import { freePort, readJson, referenceServer, runCli, sdkListTools, startProcess, tempDir } from "./helpers.js";

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ dir, cleanup } = await tempDir()));
afterEach(() => cleanup());

/** Runs `inspect` on a stdio server and checks tools.json against what the SDK client lists itself. */
async function inspectAndCompare(script: string, args: string[], env: Record<string, string> = {}) {
  const workdir = join(dir, "work");
  const envFlags = Object.entries(env).flatMap(([k, v]) => ["--env", `${k}=${v}`]);
  const run = await runCli([
    "inspect",
    "--workdir",
    workdir,
    "--server",
    `node ${script} ${args.join(" ")}`,
    ...envFlags,
  ]);
  expect(run.stderr).toBe("");
  expect(run.code).toBe(0);
  const file = await readJson(join(workdir, "tools.json"));
  const direct = await sdkListTools(
    new StdioClientTransport({
      command: process.execPath,
      args: [script, ...args],
      env: { ...(process.env as Record<string, string>), ...env },
      stderr: "ignore",
    }),
  );
  expect(direct.length).toBeGreaterThan(0);
  expect(canonicalJson(file.tools)).toBe(canonicalJson(direct));
  expect(file.toolsetHash).toBe(toolsetHash(direct));
  expect(file.source).toEqual({ kind: "mcp-stdio", command: `node ${script} ${args.join(" ")}` });
  const state = await readJson(join(workdir, "state.json"));
  expect(state.stages.INSPECTING).toMatchObject({ status: "done", summary: { tools: direct.length } });
  expect(state.stages.INSPECTING.outputs["tools.json"]).toMatch(/^sha256:[0-9a-f]{64}$/);
  return { run, file, direct };
}

describe("inspect against the reference servers", () => {
  it("server-everything over stdio: every tool, with resources and prompts counted", async () => {
    const { run, file, direct } = await inspectAndCompare(referenceServer("server-everything"), ["stdio"]);
    expect(file.server.name).toBe("mcp-servers/everything");
    expect(file.protocolVersion).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    for (const tool of direct) expect(run.stdout).toContain(`  ${tool.name}`);
    expect(run.stdout).toContain("      * message: string");
    expect(run.stdout).toMatch(/^resources: \d+$/m);
    expect(run.stdout).toMatch(/^prompts: \d+$/m);
  });

  it("server-filesystem with a temporary directory", async () => {
    const { run, file } = await inspectAndCompare(referenceServer("server-filesystem"), [dir]);
    expect(file.tools.map((t: { name: string }) => t.name)).toContain("read_text_file");
    expect(run.stdout).not.toMatch(/^prompts:/m);
  });

  it("server-memory, with its file path passed by --env", async () => {
    const { file } = await inspectAndCompare(referenceServer("server-memory"), [], {
      MEMORY_FILE_PATH: join(dir, "memory.jsonl"),
    });
    expect(file.tools.map((t: { name: string }) => t.name)).toContain("create_entities");
  });

  it("server-everything over Streamable HTTP, with --json", async () => {
    const port = await freePort();
    const server = await startProcess(
      process.execPath,
      [referenceServer("server-everything"), "streamableHttp"],
      /listening on port/,
      {
        PORT: String(port),
      },
    );
    try {
      const url = `http://127.0.0.1:${port}/mcp`;
      const out = join(dir, "http-tools.json");
      const run = await runCli(["inspect", "--workdir", join(dir, "work"), "--url", url, "--out", out, "--json"]);
      expect(run.code).toBe(0);
      const result = JSON.parse(run.stdout);
      expect(result).toMatchObject({ transport: "mcp-http", out, source: { kind: "mcp-http", url } });
      const file = await readJson(out);
      const direct = await sdkListTools(new StreamableHTTPClientTransport(new URL(url)));
      expect(canonicalJson(file.tools)).toBe(canonicalJson(direct));
      expect(result.toolCount).toBe(direct.length);
      expect(result.toolsetHash).toBe(toolsetHash(direct));
      expect(typeof result.resources).toBe("number");
    } finally {
      await server.stop();
    }
  });
});
