import { readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

import { writeJsonAtomic } from "../core/atomic.js";
import { environmentMissing } from "../core/errors.js";
import type { ActionConfig } from "./inputs.js";

/** Where the steps of one job keep what they hand each other: the config, cache results, drift, timings. */
export function stateDir(env: NodeJS.ProcessEnv = process.env): string {
  const temp = env.RUNNER_TEMP;
  if (!temp)
    throw environmentMissing("RUNNER_TEMP is not set: this runs as a step of the mcp-forge action on a GitHub runner");
  return join(temp, "mcp-forge-action");
}

/** The action's root: $GITHUB_ACTION_PATH on a runner; two levels above dist/action/index.js otherwise. */
export function actionRoot(env: NodeJS.ProcessEnv = process.env): string {
  return env.GITHUB_ACTION_PATH || join(dirname(fileURLToPath(import.meta.url)), "..", "..");
}

export const configPath = () => join(stateDir(), "config.json");

export async function saveConfig(config: ActionConfig): Promise<string> {
  const path = configPath();
  await writeJsonAtomic(path, config);
  return path;
}

export async function loadConfig(): Promise<ActionConfig> {
  try {
    return JSON.parse(await readFile(configPath(), "utf8")) as ActionConfig;
  } catch {
    throw environmentMissing(
      `${configPath()} is missing: the action's setup step did not run`,
      "run the steps of action.yml in order",
    );
  }
}

/** Reads a JSON file one step wrote for another; undefined when absent. */
export async function readState<T>(name: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(join(stateDir(), name), "utf8")) as T;
  } catch {
    return undefined;
  }
}

export async function writeState(name: string, value: unknown): Promise<void> {
  await writeJsonAtomic(join(stateDir(), name), value);
}

/** The pull request or tag this run is for, from the event payload and GITHUB_REF. */
export interface RunContext {
  owner: string;
  repo: string;
  serverUrl: string;
  runUrl: string;
  eventName: string;
  ref: string;
  tag?: string;
  sha: string;
  defaultBranch?: string;
  pullRequest?: { number: number; fork: boolean };
}

export async function runContext(env: NodeJS.ProcessEnv = process.env): Promise<RunContext> {
  const [owner = "", repo = ""] = (env.GITHUB_REPOSITORY ?? "/").split("/");
  const serverUrl = env.GITHUB_SERVER_URL || "https://github.com";
  const event = env.GITHUB_EVENT_PATH ? await readEvent(env.GITHUB_EVENT_PATH) : {};
  const ref = env.GITHUB_REF ?? "";
  const pr = event.pull_request;
  return {
    owner,
    repo,
    serverUrl,
    runUrl: `${serverUrl}/${owner}/${repo}/actions/runs/${env.GITHUB_RUN_ID ?? ""}`,
    eventName: env.GITHUB_EVENT_NAME ?? "",
    ref,
    ...(ref.startsWith("refs/tags/") ? { tag: ref.slice("refs/tags/".length) } : {}),
    sha: env.GITHUB_SHA ?? "",
    ...(event.repository?.default_branch ? { defaultBranch: event.repository.default_branch } : {}),
    ...(pr && typeof pr.number === "number"
      ? {
          pullRequest: {
            number: pr.number,
            fork: Boolean(pr.head?.repo && pr.base?.repo && pr.head.repo.full_name !== pr.base.repo.full_name),
          },
        }
      : {}),
  };
}

interface EventPayload {
  repository?: { default_branch?: string };
  pull_request?: {
    number?: number;
    head?: { repo?: { full_name?: string } };
    base?: { repo?: { full_name?: string } };
  };
}

async function readEvent(path: string): Promise<EventPayload> {
  try {
    return JSON.parse(await readFile(path, "utf8")) as EventPayload;
  } catch {
    return {};
  }
}
