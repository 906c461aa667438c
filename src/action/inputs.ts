import { existsSync } from "node:fs";
import { isAbsolute, join, resolve } from "node:path";

import { parse as parseYaml } from "yaml";

import { METRICS as CONTRACT_METRICS, PROFILES, QUANTS } from "../core/contract.js";
import { badInput } from "../core/errors.js";

export { PROFILES, QUANTS };
export const MODES = ["full", "drift"] as const;
/** always: post or update the PR comment; on-change: update it only when a metric, a gate or the drift verdict changed; off. */
export const COMMENT_MODES = ["always", "on-change", "off"] as const;
export type CommentMode = (typeof COMMENT_MODES)[number];
/** The contract's metrics (docs/contract.md §4), the keys the thresholds input may set. */
export const METRICS: readonly string[] = CONTRACT_METRICS;

export type Source =
  | { kind: "server"; command: string }
  | { kind: "url"; url: string; headers: string[] }
  | { kind: "file"; path: string };
export type Baseline = { kind: "auto" } | { kind: "none" } | { kind: "path"; path: string };

/** The action's inputs, checked once by the setup step and read by every later step. */
export interface ActionConfig {
  mode: (typeof MODES)[number];
  source: Source;
  /** Absolute: where the server runs and the work directory lives. */
  workingDirectory: string;
  /** Absolute: the CLI's --workdir. */
  workdir: string;
  model: string;
  profile: (typeof PROFILES)[number];
  samples: number;
  seed: number;
  /** `key=value` settings for `train --set`, in input order. */
  trainSettings: string[];
  /** Minutes for `train --time-budget` (0: no limit). */
  timeBudget: number;
  quant: (typeof QUANTS)[number];
  /** Absolute: a hand-written eval set that validate and benchmark grade on; empty: the generated held-out split. */
  evalSet: string;
  /** Release thresholds that override the contract's defaults, metric → minimum. */
  thresholds: Record<string, number>;
  baseline: Baseline;
  comment: CommentMode;
  release: boolean;
  uploadBundle: boolean;
  /** A Python with the trainer installed; empty: the set-up step builds a cached venv. */
  python: string;
  bundleName: string;
}

/**
 * Reads an input from `INPUT_<NAME>`: upper case, `-` and spaces to `_` (action.yml passes each input
 * to the steps that way, since a shell cannot hand on a variable whose name has a `-`), trimmed.
 */
export function rawInput(name: string, env: NodeJS.ProcessEnv = process.env): string {
  return (env[`INPUT_${name.replace(/[- ]/g, "_").toUpperCase()}`] ?? "").trim();
}

/** Checks every input and resolves paths against the workspace. Each error names the input and the fix. */
export function readInputs(env: NodeJS.ProcessEnv = process.env): ActionConfig {
  const get = (name: string) => rawInput(name, env);
  const workspace = env.GITHUB_WORKSPACE || process.cwd();
  const workingDirectory = resolve(workspace, get("working-directory") || ".");
  const mode = oneOf("mode", get("mode") || "full", MODES);
  return {
    mode,
    source: readSource(get, workingDirectory),
    workingDirectory,
    workdir: join(workingDirectory, ".mcp-forge"),
    model: get("model") || "qwen2.5-0.5b",
    profile: oneOf("profile", get("profile") || "balanced", PROFILES),
    samples: integer("samples", get("samples") || "500", 10),
    seed: integer("seed", get("seed") || "0", 0),
    trainSettings: readTrainSettings(get("train-settings")),
    timeBudget: integer("time-budget", get("time-budget") || "0", 0),
    quant: oneOf("quant", get("quant") || "q8_0", QUANTS),
    evalSet: readEvalSet(get("eval"), workingDirectory),
    thresholds: readThresholds(get("thresholds")),
    baseline: readBaseline(get("baseline") || "auto", workingDirectory),
    comment: readComment(get("comment") || "always"),
    release: readRelease(get("release") || "auto", env),
    uploadBundle: boolean("upload-bundle", get("upload-bundle") || "false"),
    python: get("python") ? resolve(workingDirectory, get("python")) : "",
    bundleName: get("bundle-name"),
  };
}

function readSource(get: (name: string) => string, cwd: string): Source {
  const given = [
    ["server-command", get("server-command")],
    ["server-url", get("server-url")],
    ["tools-file", get("tools-file")],
  ].filter(([, v]) => v);
  if (given.length !== 1) {
    throw badInput(
      given.length === 0
        ? "no MCP server given: set one of the inputs server-command, server-url or tools-file"
        : `inputs ${given.map(([k]) => k).join(" and ")} are all set; set exactly one`,
      'e.g. `with: { server-command: "node dist/server.js" }`',
    );
  }
  const [name, value] = given[0] as [string, string];
  if (name === "server-url") {
    if (!/^https?:\/\//.test(value))
      throw badInput(`input server-url: "${value}" is not an http(s) URL`, "e.g. http://localhost:3001/mcp");
    return { kind: "url", url: value, headers: readHeaders(get("server-headers")) };
  }
  if (name === "tools-file") return { kind: "file", path: isAbsolute(value) ? value : join(cwd, value) };
  return { kind: "server", command: value };
}

function readEvalSet(value: string, cwd: string): string {
  if (!value) return "";
  const path = resolve(cwd, value);
  if (!existsSync(path))
    throw badInput(
      `input eval: ${path} does not exist`,
      "give a JSONL eval set relative to working-directory, or leave eval empty to grade on the generated held-out split",
    );
  return path;
}

/** `Name: value` lines, e.g. `Authorization: Bearer ${{ secrets.MCP_TOKEN }}`. */
function readHeaders(text: string): string[] {
  const lines = text
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean);
  lines.forEach((line, i) => {
    if (!/^[A-Za-z0-9-]+:\s*\S/.test(line))
      throw badInput(
        `input server-headers, line ${i + 1}: expected "Name: value"`,
        "e.g. `Authorization: Bearer ${{ secrets.MCP_TOKEN }}`",
      );
  });
  return lines;
}

function readTrainSettings(text: string): string[] {
  const lines = text
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean);
  lines.forEach((line, i) => {
    if (!/^[A-Za-z_][A-Za-z0-9_.]*=\S/.test(line))
      throw badInput(
        `input train-settings, line ${i + 1}: "${line}" is not key=value`,
        "e.g. `max_steps=200`, one setting a line",
      );
  });
  return lines;
}

function readThresholds(text: string): Record<string, number> {
  if (!text) return {};
  let parsed: unknown;
  try {
    parsed = parseYaml(text);
  } catch (error) {
    throw badInput(
      `input thresholds: not YAML (${(error as Error).message})`,
      "write a map, e.g. `toolSelectionAccuracy: 0.92`",
    );
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
    throw badInput("input thresholds: expected a YAML map of metric: minimum", "e.g. `toolSelectionAccuracy: 0.92`");
  }
  const out: Record<string, number> = {};
  for (const [metric, value] of Object.entries(parsed)) {
    if (!METRICS.includes(metric))
      throw badInput(`input thresholds: /${metric} is not a metric`, `use one of ${METRICS.join(", ")}`);
    if (typeof value !== "number" || value < 0 || value > 1) {
      throw badInput(`input thresholds: /${metric} is ${JSON.stringify(value)}; expected a number from 0 to 1`);
    }
    out[metric] = value;
  }
  return out;
}

function readBaseline(value: string, cwd: string): Baseline {
  if (value === "auto" || value === "none") return { kind: value };
  return { kind: "path", path: resolve(cwd, value) };
}

/** `true` and `false`, the input's values before the modes, still mean always and off. */
function readComment(value: string): CommentMode {
  if (value === "true") return "always";
  if (value === "false") return "off";
  return oneOf("comment", value, COMMENT_MODES);
}

/** `auto` releases on a tag push only. */
function readRelease(value: string, env: NodeJS.ProcessEnv): boolean {
  if (value === "auto") return (env.GITHUB_REF ?? "").startsWith("refs/tags/");
  return boolean("release", value);
}

function oneOf<T extends string>(name: string, value: string, choices: readonly T[]): T {
  if (!(choices as readonly string[]).includes(value))
    throw badInput(`input ${name}: "${value}" is not one of ${choices.join(", ")}`);
  return value as T;
}

function integer(name: string, value: string, min: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw badInput(`input ${name}: "${value}" is not a whole number ≥ ${min}`);
  return n;
}

function boolean(name: string, value: string): boolean {
  if (value === "true") return true;
  if (value === "false") return false;
  throw badInput(`input ${name}: "${value}" is not true or false`);
}
