import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { ROOT } from "../support/cli.js";
export { ROOT } from "../support/cli.js";

export const ENTRY = join(ROOT, "dist", "action", "index.js");
export const FIXTURES = join(ROOT, "tests", "fixtures", "github");

export interface StepResult {
  code: number;
  stdout: string;
  stderr: string;
  outputs: Record<string, string>;
  summary: string;
}

/**
 * One job on a simulated runner: its own workspace, RUNNER_TEMP, event payload, GITHUB_OUTPUT and
 * GITHUB_STEP_SUMMARY files, as the runner lays them out. `step` runs `node dist/action/index.js <step>`
 * with the environment action.yml gives that step.
 */
export class Job {
  private static readonly dirs: string[] = [];

  /** Removes every job folder this test file made. */
  static async cleanup(): Promise<void> {
    await Promise.all(Job.dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
  }

  private constructor(
    readonly dir: string,
    readonly workspace: string,
    readonly env: Record<string, string>,
    readonly entry: string,
  ) {}

  /** `actionPath`: where the action is checked out (GITHUB_ACTION_PATH); this repository by default. */
  static async create(options: {
    event: string;
    eventName: string;
    ref: string;
    env?: Record<string, string>;
    workspace?: string;
    actionPath?: string;
  }): Promise<Job> {
    const dir = await mkdtemp(join(tmpdir(), "mcp-forge-job-"));
    Job.dirs.push(dir);
    const workspace = options.workspace ?? join(dir, "workspace");
    await mkdir(workspace, { recursive: true });
    await mkdir(join(dir, "temp"), { recursive: true });
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? dir,
      GITHUB_ACTIONS: "true",
      CI: "true",
      GITHUB_ACTION_PATH: options.actionPath ?? ROOT,
      GITHUB_WORKSPACE: workspace,
      RUNNER_TEMP: join(dir, "temp"),
      GITHUB_EVENT_PATH: join(FIXTURES, options.event),
      GITHUB_EVENT_NAME: options.eventName,
      GITHUB_REF: options.ref,
      GITHUB_SHA: "6dcb09b5b57875f334f61aebed695e2e4193db5e",
      GITHUB_REPOSITORY: "octo-org/weather-mcp",
      GITHUB_SERVER_URL: "https://github.com",
      GITHUB_RUN_ID: "4242",
      GITHUB_RUN_ATTEMPT: "1",
      INPUT_PYTHON: process.execPath,
      ...options.env,
    };
    return new Job(dir, workspace, env, join(options.actionPath ?? ROOT, "dist", "action", "index.js"));
  }

  /** Starts a step without waiting, for signalling it as a cancelled job would. */
  start(name: string, env: Record<string, string> = {}): ChildProcess {
    return spawn(process.execPath, [this.entry, name], {
      cwd: this.workspace,
      env: {
        ...this.env,
        GITHUB_OUTPUT: join(this.dir, "output-started"),
        GITHUB_STEP_SUMMARY: join(this.dir, "summary.md"),
        ...env,
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
  }

  async step(name: string, env: Record<string, string> = {}): Promise<StepResult> {
    const output = join(this.dir, `output-${name}-${Date.now()}`);
    const summary = join(this.dir, "summary.md");
    await writeFile(output, "");
    await writeFile(summary, "", { flag: "a" });
    const before = await readFile(summary, "utf8");
    return new Promise((resolvePromise) => {
      execFile(
        process.execPath,
        [this.entry, name],
        {
          cwd: this.workspace,
          env: { ...this.env, GITHUB_OUTPUT: output, GITHUB_STEP_SUMMARY: summary, ...env },
          maxBuffer: 64 * 1024 * 1024,
        },
        (error, stdout, stderr) => {
          void (async () => {
            const after = await readFile(summary, "utf8");
            resolvePromise({
              code: error ? ((error as { code?: number }).code ?? 1) : 0,
              stdout,
              stderr,
              outputs: parseOutputs(await readFile(output, "utf8")),
              summary: after.slice(before.length),
            });
          })();
        },
      );
    });
  }
}

/** GITHUB_OUTPUT's file format: `name<<DELIMITER\nvalue\nDELIMITER` per output. */
export function parseOutputs(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const m = lines[i]!.match(/^([^<=]+)<<(.+)$/);
    if (!m) continue;
    const value: string[] = [];
    for (i++; i < lines.length && lines[i] !== m[2]; i++) value.push(lines[i]!);
    out[m[1]!] = value.join("\n");
  }
  return out;
}
