import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { copyFile, mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";

import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { FakeGitHub } from "../support/fakes/github-api.js";
import { Job, ROOT } from "./runner.js";

const TOKEN = "ghs_fakeTokenForTheLoopbackApi0002";
const TOOLS = join(ROOT, "tests", "fixtures", "data", "tools.json");
let gh: FakeGitHub;

beforeAll(async () => {
  gh = await new FakeGitHub("octo-org", "weather-mcp", TOKEN).start();
});
afterAll(async () => {
  await gh.stop();
  await Job.cleanup();
});

/** A tag job whose pack step left a bundle folder behind. */
async function tagJob(modelBytes: string): Promise<Job> {
  const job = await Job.create({
    event: "push_tag.json",
    eventName: "push",
    ref: "refs/tags/v1.0.0",
    env: { GITHUB_API_URL: gh.url, INPUT_TOOLS_FILE: "tools.json", INPUT_GITHUB_TOKEN: TOKEN },
  });
  const bundle = join(job.workspace, ".mcp-forge", "bundle");
  await mkdir(bundle, { recursive: true });
  await copyFile(TOOLS, join(job.workspace, "tools.json"));
  await copyFile(TOOLS, join(bundle, "tools.json"));
  await writeFile(join(bundle, "model.gguf"), modelBytes);
  expect((await job.step("setup")).code).toBe(0);
  return job;
}

describe("release on a tag", () => {
  it("creates the release, uploads the bundle archive, its tools.json and SHA256SUMS, and a re-run replaces them", async () => {
    const first = await tagJob("first build");
    const result = await first.step("release");
    expect(result.code, result.stdout).toBe(0);
    expect(gh.releases.map((r) => r.tag_name)).toEqual(["v1.0.0"]);
    const assets = gh.releases[0]!.assets;
    expect(assets.map((a) => a.name).sort()).toEqual([
      "SHA256SUMS",
      "mcp-forge-bundle-v1.0.0.tar.gz",
      "mcp-forge-bundle-v1.0.0.tools.json",
    ]);
    const archive = assets.find((a) => a.name.endsWith(".tar.gz"))!;
    const tools = assets.find((a) => a.name.endsWith(".tools.json"))!;
    expect(tools.data.toString("utf8")).toBe(await readFile(TOOLS, "utf8"));
    const sums = assets.find((a) => a.name === "SHA256SUMS")!.data.toString("utf8");
    const sha = (data: Buffer) => createHash("sha256").update(data).digest("hex");
    expect(sums).toBe(
      `${sha(archive.data)}  mcp-forge-bundle-v1.0.0.tar.gz\n${sha(tools.data)}  mcp-forge-bundle-v1.0.0.tools.json\n`,
    );
    const out = join(first.dir, "extracted");
    await mkdir(out);
    await writeFile(join(out, "a.tar.gz"), archive.data);
    execFileSync("tar", ["-xzf", join(out, "a.tar.gz"), "-C", out]);
    expect(await readFile(join(out, "mcp-forge-bundle-v1.0.0", "model.gguf"), "utf8")).toBe("first build");

    const rerun = await tagJob("second build");
    expect((await rerun.step("release")).code).toBe(0);
    expect(gh.releases).toHaveLength(1);
    const replaced = gh.releases[0]!.assets;
    expect(replaced.map((a) => a.name).sort()).toEqual([
      "SHA256SUMS",
      "mcp-forge-bundle-v1.0.0.tar.gz",
      "mcp-forge-bundle-v1.0.0.tools.json",
    ]);
    expect(replaced.every((a) => !assets.some((old) => old.id === a.id))).toBe(true);
    expect(gh.requests.filter((r) => r.startsWith("DELETE"))).toHaveLength(3);
  });

  it("refuses to upload a bundle that recorded a secret of the run", async () => {
    const url = "https://ci:hunter2-very-secret@mcp.example.com/mcp";
    const job = await Job.create({
      event: "push_tag.json",
      eventName: "push",
      ref: "refs/tags/v2.0.0",
      env: { GITHUB_API_URL: gh.url, INPUT_SERVER_URL: url, INPUT_GITHUB_TOKEN: TOKEN },
    });
    const bundle = join(job.workspace, ".mcp-forge", "bundle");
    await mkdir(bundle, { recursive: true });
    const tools = JSON.parse(await readFile(TOOLS, "utf8")) as Record<string, unknown>;
    await writeFile(join(bundle, "tools.json"), JSON.stringify({ ...tools, source: { kind: "mcp-http", url } }));
    expect((await job.step("setup")).code).toBe(0);
    const release = await job.step("release");
    expect(release.code).toBe(1);
    expect(release.stdout).toMatch(/::error title=MCP-Forge release::.*tools\.json holds a secret of this run/);
    expect(release.stdout).not.toContain("hunter2");
    expect(gh.releases.some((r) => r.tag_name === "v2.0.0")).toBe(false);
  });
});
