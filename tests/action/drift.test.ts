import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { exists } from "../../src/core/files.js";
import { runComposite } from "../support/composite.js";
import { type Asset, FakeGitHub } from "../support/fakes/github-api.js";
import { FIXTURES, Job, ROOT } from "./runner.js";

const TOKEN = "ghs_fakeTokenForTheLoopbackApi0003";
const TOOLS = join(ROOT, "tests", "fixtures", "data", "tools.json");
const MEMORY = join(ROOT, "node_modules", "@modelcontextprotocol", "server-memory", "dist", "index.js");
let gh: FakeGitHub;
let action: string;

/** The action as `uses:` checks it out: action.yml, package files, dist/ and schemas/, and no node_modules anywhere above dist/. */
async function checkout(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "mcp-forge-action-"));
  for (const entry of ["action.yml", "package.json", "package-lock.json", "dist", "schemas"])
    await cp(join(ROOT, entry), join(dir, entry), { recursive: true });
  return dir;
}

let nextId = 9000;
const asset = (name: string, data: Buffer, type: string): Asset => ({
  id: nextId++,
  name,
  size: data.length,
  content_type: type,
  data,
});
const sumsOf = (assets: Asset[]) =>
  Buffer.from(assets.map((a) => `${createHash("sha256").update(a.data).digest("hex")}  ${a.name}\n`).join(""));

/** A release as the release step publishes it; `withToolsAsset: false` is one from before the `.tools.json` asset. */
async function plantRelease(tag: string, withToolsAsset: boolean): Promise<{ archive: Asset; tools?: Asset }> {
  const dir = await mkdtemp(join(tmpdir(), "mcp-forge-release-"));
  const bundle = join(dir, `mcp-forge-bundle-${tag}`);
  await mkdir(bundle);
  await cp(TOOLS, join(bundle, "tools.json"));
  await writeFile(join(bundle, "model.gguf"), "a released model, never downloaded by the drift check");
  execFileSync("tar", ["-czf", join(dir, "a.tar.gz"), "-C", dir, `mcp-forge-bundle-${tag}`]);
  const archive = asset(`mcp-forge-bundle-${tag}.tar.gz`, await readFile(join(dir, "a.tar.gz")), "application/gzip");
  const tools = withToolsAsset
    ? asset(`mcp-forge-bundle-${tag}.tools.json`, await readFile(TOOLS), "application/json")
    : undefined;
  const files = tools ? [archive, tools] : [archive];
  gh.releases.push({
    id: nextId++,
    tag_name: tag,
    name: tag,
    assets: [...files, asset("SHA256SUMS", sumsOf(files), "text/plain")],
  });
  await rm(dir, { recursive: true, force: true });
  return { archive, ...(tools ? { tools } : {}) };
}

beforeAll(async () => {
  gh = await new FakeGitHub("octo-org", "weather-mcp", TOKEN).start();
  action = await checkout();
});
afterAll(async () => {
  await gh.stop();
  await Job.cleanup();
  await rm(action, { recursive: true, force: true });
});

async function drift(
  source: Record<string, string>,
  setupFiles: (workspace: string) => Promise<void> = async () => undefined,
) {
  const job = await Job.create({
    event: "pull_request.json",
    eventName: "pull_request",
    ref: "refs/pull/7/merge",
    actionPath: action,
    env: { GITHUB_API_URL: gh.url, INPUT_MODE: "drift", INPUT_GITHUB_TOKEN: TOKEN, INPUT_COMMENT: "false", ...source },
  });
  await setupFiles(job.workspace);
  const setup = await job.step("setup");
  expect(setup.code, setup.stdout).toBe(0);
  const inspect = await job.step("inspect");
  expect(inspect.code, inspect.stderr).toBe(0);
  const result = await job.step("drift");
  return { setup, result, report: await job.step("report") };
}

describe("mode: drift from a checkout of the action with dist/ only (node-llama-cpp not installed)", () => {
  it("node-llama-cpp cannot be resolved from the checkout's dist/", () => {
    expect(() => createRequire(join(action, "dist", "cli", "index.js")).resolve("node-llama-cpp")).toThrow(
      /Cannot find module/,
    );
  });

  it("inspects a live server and matches the release by its tools.json asset, downloading no model", async () => {
    const { archive, tools } = await plantRelease("v1.0.0", true);
    const { setup, result, report } = await drift({ INPUT_SERVER_COMMAND: `node ${MEMORY}` });
    expect(setup.stdout).toContain("node_modules: not needed (the bundled CLI starts without node-llama-cpp)");
    expect(await exists(join(action, "node_modules"))).toBe(false);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.outputs.passed).toBe("true");
    expect(result.stdout).not.toContain("::warning");
    expect(gh.requests).toContain(`GET /repos/octo-org/weather-mcp/releases/assets/${tools!.id}`);
    expect(gh.requests).not.toContain(`GET /repos/octo-org/weather-mcp/releases/assets/${archive.id}`);
    expect(report.code).toBe(0);
    expect(report.summary).toContain("## ✅ MCP-Forge drift check: passed");
    expect(report.summary).toContain("toolset matches release v1\\.0\\.0");
  });

  it("fails naming the change when a tool description changed; the report escapes it", async () => {
    const changed = JSON.parse(await readFile(TOOLS, "utf8")) as { tools: Array<{ description: string }> };
    changed.tools[0]!.description = "Create entities <script>alert(1)</script> in the graph";
    const { result, report } = await drift({ INPUT_TOOLS_FILE: "tools.json" }, (ws) =>
      writeFile(join(ws, "tools.json"), JSON.stringify(changed)),
    );
    expect(result.code).toBe(1);
    expect(result.outputs.passed).toBe("false");
    expect(result.stdout).toMatch(
      /::error title=MCP-Forge toolset drift::toolset drifted from release v1\.0\.0 \(1 changed\)/,
    );
    expect(report.summary).toContain("## ❌ MCP-Forge drift check: failed: toolset drift");
    expect(report.summary).toContain("changed `create_entities`: `/description`");
    expect(report.summary).not.toContain("<script>");
  });

  it("the composite in drift mode runs only set-up, inspect, the drift check and the report; passed comes from the drift step", async () => {
    const dir = await mkdtemp(join(tmpdir(), "mcp-forge-drift-composite-"));
    try {
      await mkdir(join(dir, "ws"));
      await mkdir(join(dir, "temp"));
      await cp(TOOLS, join(dir, "ws", "tools.json"));
      const run = await runComposite({
        actionPath: action,
        dir,
        token: TOKEN,
        inputs: { mode: "drift", "tools-file": "tools.json", comment: "false" },
        env: {
          PATH: process.env.PATH ?? "",
          HOME: dir,
          GITHUB_WORKSPACE: join(dir, "ws"),
          RUNNER_TEMP: join(dir, "temp"),
          GITHUB_EVENT_PATH: join(FIXTURES, "pull_request.json"),
          GITHUB_EVENT_NAME: "pull_request",
          GITHUB_REF: "refs/pull/7/merge",
          GITHUB_REPOSITORY: "octo-org/weather-mcp",
          GITHUB_API_URL: gh.url,
        },
      });
      expect(run.steps.filter((s) => s.outcome !== "skipped").map((s) => s.id)).toEqual([
        "setup",
        "inspect",
        "drift",
        "report",
      ]);
      expect(run.steps.every((s) => s.outcome !== "failure")).toBe(true);
      expect(run.outputs).toMatchObject({ passed: "true", "bundle-path": "", "benchmark-json": "" });
      expect(run.outputs["toolset-hash"]).toMatch(/^sha256:/);
      expect(run.summary).toContain("## ✅ MCP-Forge drift check: passed");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("a release from before the tools.json asset: takes tools.json from the bundle archive", async () => {
    const { archive } = await plantRelease("v1.1.0", false);
    const { result } = await drift({ INPUT_TOOLS_FILE: "tools.json" }, (ws) => cp(TOOLS, join(ws, "tools.json")));
    expect(result.code, result.stdout).toBe(0);
    expect(result.stdout).toContain("toolset matches release v1.1.0");
    expect(gh.requests).toContain(`GET /repos/octo-org/weather-mcp/releases/assets/${archive.id}`);
  });
});
