import { execFile } from "node:child_process";
import { mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";

import * as core from "@actions/core";

import { diffToolsets } from "../bundle/drift.js";
import { ExitCode } from "../core/errors.js";
import type { McpTool, ToolsFile } from "../core/toolset.js";
import { loadConfig, runContext, stateDir, writeState } from "./context.js";
import { github, latestReleasedToolset, statusOf, TOOLS_SUFFIX } from "./github.js";
import type { ActionConfig } from "./inputs.js";
import type { DriftResult } from "./report-data.js";
import { token } from "./token.js";

const exec = promisify(execFile);

/**
 * Compares the toolset just inspected with the one the newest released bundle was trained on, as
 * `verify-bundle --tools` does, without the model: drift mode downloads and loads no model. In drift
 * mode any drift fails the step (exit 1).
 */
export async function drift(): Promise<ExitCode> {
  const config = await loadConfig();
  const result = await checkDrift(config);
  await writeState("drift.json", result);
  core.setOutput("drift", result.status);
  if (config.mode === "drift") core.setOutput("passed", String(result.status !== "drift"));
  if (result.status === "drift") {
    const annotate = config.mode === "drift" || result.breaking ? core.error : core.warning;
    annotate(result.message, { title: "MCP-Forge toolset drift" });
    return config.mode === "drift" ? ExitCode.gateFailed : ExitCode.ok;
  }
  if (result.status === "error") core.warning(result.message, { title: "MCP-Forge drift check" });
  else core.info(result.message);
  return ExitCode.ok;
}

async function checkDrift(config: ActionConfig): Promise<DriftResult> {
  const context = await runContext();
  let released;
  try {
    released = await latestReleasedToolset(github(token()), context);
  } catch (error) {
    const status = statusOf(error);
    return {
      status: "error",
      message: `could not read the latest release (${status ? `HTTP ${status}: ` : ""}${(error as Error).message}); drift not checked`,
    };
  }
  if (!released) return { status: "no-release", message: "no released bundle yet: nothing to compare with" };
  const tools = released.name.endsWith(TOOLS_SUFFIX)
    ? released.data.toString("utf8")
    : await toolsFromArchive(released.name, released.data);
  if (tools === undefined)
    return {
      status: "error",
      release: released.tag,
      message: `release ${released.tag}: ${released.name} holds no bundle (no tools.json)`,
    };
  const before = toolsOf(tools);
  const live = toolsOf(await readFile(join(config.workdir, "tools.json"), "utf8"));
  if (!before || !live)
    return {
      status: "error",
      release: released.tag,
      message: `release ${released.tag}: ${released.name} or the inspected tools.json has no /tools list`,
    };
  const d = diffToolsets(before, live);
  if (d.added.length + d.removed.length + d.changed.length === 0)
    return { status: "match", release: released.tag, message: `toolset matches release ${released.tag}` };
  const counts = [
    d.added.length ? `${d.added.length} added` : "",
    d.removed.length ? `${d.removed.length} removed` : "",
    d.changed.length ? `${d.changed.length} changed` : "",
  ]
    .filter(Boolean)
    .join(", ");
  return {
    status: "drift",
    release: released.tag,
    message: `toolset drifted from release ${released.tag} (${counts})${d.breaking ? ": breaking, the released model's calls may fail" : ""}; retrain and release`,
    added: d.added,
    removed: d.removed,
    changed: d.changed.map((c) => ({ name: c.name, breaking: c.breaking, paths: c.paths })),
    breaking: d.breaking,
  };
}

function toolsOf(text: string): McpTool[] | undefined {
  try {
    const tools = (JSON.parse(text) as Partial<ToolsFile>).tools;
    return Array.isArray(tools) ? tools : undefined;
  } catch {
    return undefined;
  }
}

/** A release from before the `.tools.json` asset: tools.json from the bundle folder inside the archive. */
async function toolsFromArchive(name: string, archive: Buffer): Promise<string | undefined> {
  const dir = join(stateDir(), "released");
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, name), archive);
  await exec("tar", ["-xzf", join(dir, name), "-C", dir]);
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) {
      const text = await readFile(join(dir, entry.name, "tools.json"), "utf8").catch(() => undefined);
      if (text !== undefined) return text;
    }
  }
  return undefined;
}
