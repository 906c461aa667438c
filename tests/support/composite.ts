import { spawn } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { performance } from "node:perf_hooks";

import { parse } from "yaml";

/**
 * Runs action.yml's steps the way a runner runs a composite action, for tests and benches that
 * have no GitHub: each `run` step in bash with `${{ }}` expressions filled in, its `env`,
 * GITHUB_OUTPUT per step and one GITHUB_STEP_SUMMARY, `if:` conditions evaluated (no `if` means
 * success()), and the action's outputs computed from the steps'. Steps that `uses:` another
 * action (setup-node, github-script, upload-artifact) are skipped: the caller provides Node and
 * the cache service's variables.
 */
/** A step of action.yml (or of a workflow job), as far as runners and our checks read it. */
export interface ActionStep {
  id?: string;
  name?: string;
  if?: string;
  uses?: string;
  run?: string;
  shell?: string;
  env?: Record<string, string>;
  with?: Record<string, string>;
}
/** action.yml's shape, as far as runners and our checks read it. */
export interface ActionYml {
  runs: { using: string; steps: ActionStep[] };
  inputs: Record<string, { description?: string; default?: string }>;
  outputs: Record<string, { description?: string; value: string }>;
}

export interface CompositeJob {
  /** The action's checkout ($GITHUB_ACTION_PATH). */
  actionPath: string;
  /** The job's environment: GITHUB_*, RUNNER_TEMP, PATH, HOME, the cache service's variables. */
  env: Record<string, string>;
  /** The workflow's `with:`; missing inputs take action.yml's defaults. */
  inputs: Record<string, string>;
  /** The token `${{ github.token }}` stands for. */
  token: string;
  /** Folder for GITHUB_OUTPUT files and the step summary. */
  dir: string;
  /** Ids of the only steps to run; the others are skipped, for a test that plants what they would have written. */
  only?: readonly string[];
}

export interface StepRun {
  id: string;
  name: string;
  outcome: "success" | "failure" | "skipped";
  seconds: number;
  code: number;
  outputs: Record<string, string>;
  log: string;
}

export interface CompositeRun {
  steps: StepRun[];
  outputs: Record<string, string>;
  summary: string;
}

export async function runComposite(
  job: CompositeJob,
  onStep: (step: StepRun) => void = () => undefined,
): Promise<CompositeRun> {
  const action = parse(await readFile(join(job.actionPath, "action.yml"), "utf8")) as ActionYml;
  const inputs = Object.fromEntries(
    Object.entries(action.inputs).map(([name, spec]) => [name, job.inputs[name] ?? spec.default ?? ""]),
  );
  const context: Context = {
    inputs: {},
    steps: {},
    github: { ref: job.env.GITHUB_REF ?? "", token: job.token, job: "job", run_attempt: "1" },
    failed: false,
  };
  context.inputs = Object.fromEntries(Object.entries(inputs).map(([k, v]) => [k, interpolate(v, context)]));
  const summary = join(job.dir, "step-summary.md");
  await writeFile(summary, "");
  const runs: StepRun[] = [];
  for (const [index, step] of action.runs.steps.entries()) {
    const id = step.id ?? `step${index}`;
    const name = step.name ?? step.uses ?? id;
    const wanted =
      (!job.only || job.only.includes(id)) &&
      (step.if === undefined ? !context.failed : truthy(evaluate(step.if, context)));
    let run: StepRun;
    if (!wanted || !step.run)
      run = {
        id,
        name,
        outcome: "skipped",
        seconds: 0,
        code: 0,
        outputs: {},
        log: step.run ? "" : `skipped: uses ${step.uses}`,
      };
    else run = await runStep(job, id, name, step, context, summary);
    context.steps[id] = { outcome: run.outcome, outputs: run.outputs };
    if (run.outcome === "failure") context.failed = true;
    runs.push(run);
    onStep(run);
  }
  const outputs = Object.fromEntries(
    Object.entries(action.outputs).map(([name, spec]) => [name, interpolate(spec.value, context)]),
  );
  return { steps: runs, outputs, summary: await readFile(summary, "utf8") };
}

async function runStep(
  job: CompositeJob,
  id: string,
  name: string,
  step: ActionStep,
  context: Context,
  summary: string,
): Promise<StepRun> {
  const output = join(job.dir, `output-${id}`);
  await writeFile(output, "");
  const env: Record<string, string> = {
    ...job.env,
    GITHUB_ACTION_PATH: job.actionPath,
    GITHUB_OUTPUT: output,
    GITHUB_STEP_SUMMARY: summary,
  };
  for (const [key, value] of Object.entries(step.env ?? {})) env[key] = interpolate(value, context);
  const started = performance.now();
  const { code, log } = await new Promise<{ code: number; log: string }>((resolve, reject) => {
    const child = spawn("bash", ["-e", "-c", interpolate(step.run!, context)], {
      cwd: job.env.GITHUB_WORKSPACE,
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let log = "";
    child.stdout.on("data", (c: Buffer) => (log += c.toString()));
    child.stderr.on("data", (c: Buffer) => (log += c.toString()));
    child.on("error", reject);
    child.on("close", (c) => resolve({ code: c ?? 1, log }));
  });
  const seconds = (performance.now() - started) / 1000;
  return {
    id,
    name,
    outcome: code === 0 ? "success" : "failure",
    seconds,
    code,
    outputs: parseOutputs(await readFile(output, "utf8")),
    log,
  };
}

/** GITHUB_OUTPUT's file format: `name<<DELIMITER` … `DELIMITER`, or `name=value`. */
export function parseOutputs(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const heredoc = lines[i]!.match(/^([^<=]+)<<(.+)$/);
    if (heredoc) {
      const value: string[] = [];
      for (i++; i < lines.length && lines[i] !== heredoc[2]; i++) value.push(lines[i]!);
      out[heredoc[1]!] = value.join("\n");
    } else if (lines[i]!.includes("="))
      out[lines[i]!.slice(0, lines[i]!.indexOf("="))] = lines[i]!.slice(lines[i]!.indexOf("=") + 1);
  }
  return out;
}

interface Context {
  inputs: Record<string, string>;
  steps: Record<string, { outcome: string; outputs: Record<string, string> }>;
  github: Record<string, string>;
  failed: boolean;
}

type Value = string | boolean;

const interpolate = (text: string, context: Context) =>
  text.replace(/\$\{\{(.*?)\}\}/g, (_, expr: string) => String(evaluate(expr, context)));
const truthy = (v: Value) => v !== false && v !== "";

/** GitHub's expression language, the part action.yml uses: paths, 'strings', ==, !=, !, &&, ||, ( ), always(), success(), failure(), startsWith(). */
function evaluate(source: string, context: Context): Value {
  const tokens = source.match(/'(?:[^']|'')*'|==|!=|&&|\|\||[!(),]|[A-Za-z_][A-Za-z0-9_.-]*/g) ?? [];
  let at = 0;
  const peek = () => tokens[at];
  const take = (expected?: string) => {
    const token = tokens[at++];
    if (expected !== undefined && token !== expected)
      throw new Error(`expression ${source}: expected ${expected}, got ${token}`);
    return token!;
  };
  const or = (): Value => {
    let left = and();
    while (peek() === "||") {
      take();
      const right = and();
      left = truthy(left) ? left : right;
    }
    return left;
  };
  const and = (): Value => {
    let left = compare();
    while (peek() === "&&") {
      take();
      const right = compare();
      left = truthy(left) ? right : left;
    }
    return left;
  };
  const compare = (): Value => {
    const left = unary();
    if (peek() === "==" || peek() === "!=") {
      const op = take();
      const right = unary();
      const equal = String(left).toLowerCase() === String(right).toLowerCase();
      return op === "==" ? equal : !equal;
    }
    return left;
  };
  const unary = (): Value => {
    if (peek() === "!") {
      take();
      return !truthy(unary());
    }
    if (peek() === "(") {
      take();
      const value = or();
      take(")");
      return value;
    }
    const token = take();
    if (token.startsWith("'")) return token.slice(1, -1).replace(/''/g, "'");
    if (peek() === "(") {
      take();
      const args: Value[] = [];
      while (peek() !== ")") {
        args.push(or());
        if (peek() === ",") take();
      }
      take(")");
      if (token === "always") return true;
      if (token === "success") return !context.failed;
      if (token === "failure") return context.failed;
      if (token === "startsWith") return String(args[0]).toLowerCase().startsWith(String(args[1]).toLowerCase());
      throw new Error(`expression ${source}: unknown function ${token}`);
    }
    return lookup(token, context);
  };
  const value = or();
  if (at !== tokens.length) throw new Error(`expression ${source}: unexpected ${tokens[at]}`);
  return value;
}

function lookup(path: string, context: Context): Value {
  const [root, ...rest] = path.split(".");
  if (root === "true" || root === "false") return root === "true";
  if (root === "inputs") return context.inputs[rest.join(".")] ?? "";
  if (root === "github") return context.github[rest.join(".")] ?? "";
  if (root === "steps") {
    const [id, field, ...name] = rest;
    const step = context.steps[id!];
    if (field === "outcome" || field === "conclusion") return step?.outcome ?? "";
    if (field === "outputs") return step?.outputs[name.join(".")] ?? "";
  }
  throw new Error(`expression: unknown context ${path}`);
}
