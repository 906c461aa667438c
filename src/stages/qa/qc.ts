import { readFile, stat } from "node:fs/promises";
import { basename, dirname, join } from "node:path";

import type { ValidateFunction } from "ajv";

import { writeFileAtomic } from "../../core/atomic.js";
import { type Scenario, SCENARIOS } from "../../core/contract.js";
import { badInput } from "../../core/errors.js";
import { compileToolSchema } from "../../core/json-schema.js";
import type { Schema } from "../../core/schema-walk.js";
import type { McpTool } from "../../core/toolset.js";
import { readLines } from "../../samples/jsonl.js";
import { NearDupIndex } from "../../samples/near-dup.js";
import { userText } from "../../samples/sample.js";
import { CountedChecks, DEFAULT_CHECK_THRESHOLDS, describeFailure } from "./checks.js";
import { type RepairKind, repairValue } from "./fix.js";
import { conversationKey, SampleParser } from "./parse-line.js";
import { type IssueKind, type QcIssue, type QcReport, type QcThresholds, writeQcReports } from "./report.js";
import { checkStructure } from "./structure.js";

/** The contract's QC defaults (docs/contract.md §4); maxDropRate is ours. */
export const DEFAULT_THRESHOLDS: QcThresholds = {
  minSchemaPassRate: 0.98,
  minPerTool: 10,
  nearDuplicateThreshold: 0.95,
  maxDropRate: 0.05,
  requiredScenarios: [...SCENARIOS],
  ...DEFAULT_CHECK_THRESHOLDS,
};

export interface QcOptions {
  /** The JSONL dataset to check. */
  data: string;
  /** The toolset; when absent, each sample is checked against its own `tools`. */
  tools?: McpTool[];
  thresholds?: Partial<QcThresholds>;
  /** Write `<name>.clean.jsonl` with repaired, valid samples. */
  fix?: boolean;
  /** Where qc.{json,md,csv} go; nothing is written when absent. */
  reportDir?: string;
  /** Samples the data was generated with, to suggest a --samples value in remediation lines. */
  plannedSamples?: number;
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** The path `qa --fix` writes: `<name>.clean.jsonl` beside the input. */
export function cleanPathFor(data: string): string {
  return join(dirname(data), `${basename(data).replace(/\.jsonl$/i, "")}.clean.jsonl`);
}

/** Streams the dataset through every check and returns the QC report (and writes it when `reportDir` is set). */
export async function runQc(options: QcOptions): Promise<QcReport> {
  const t: QcThresholds = { ...DEFAULT_THRESHOLDS, ...options.thresholds };
  const info = await stat(options.data).catch(() => undefined);
  if (!info?.isFile())
    throw badInput(
      `--data ${options.data}: no such file`,
      "run `mcp-forge generate` first, or pass --data <file.jsonl>",
    );
  const validators = new Validators(options.tools);
  const issues: QcIssue[] = [];
  const repairs: Partial<Record<RepairKind, number>> = {};
  const countRepair = (k: RepairKind) => (repairs[k] = (repairs[k] ?? 0) + 1);
  const exact = new Map<string, number>();
  const near = new NearDupIndex<{ line: number; id: string }>(t.nearDuplicateThreshold);
  const toolCoverage: Record<string, number> = Object.fromEntries((options.tools ?? []).map((tool) => [tool.name, 0]));
  const scenarioCoverage = Object.fromEntries(SCENARIOS.map((s) => [s, 0])) as Record<Scenario, number>;
  const clean: string[] = [];
  const parser = new SampleParser();
  const counted = new CountedChecks(options.tools?.map((tool) => tool.name));
  let total = 0;
  let dropped = 0;
  let callsChecked = 0;
  let callsValid = 0;
  let duplicates = 0;

  for await (const raw of readLines(options.data, parser.elision)) {
    total++;
    const issueCountBefore = issues.length;
    const add = (kind: IssueKind, message: string, id = "") => issues.push({ line: raw.line, id, kind, message });
    if (!raw.utf8 && !options.fix) {
      add("parse_error", "the line is not valid UTF-8 (qa --fix replaces the bad bytes)");
      dropped++;
      continue;
    }
    let sample: unknown;
    try {
      sample = parser.parse(raw);
    } catch (error) {
      add("parse_error", `not valid JSON: ${(error as Error).message}`);
      dropped++;
      continue;
    }
    if (!raw.utf8) countRepair("invalid_utf8_replaced");
    const id = isObj(sample) && typeof sample.id === "string" ? sample.id : "";
    const structure = checkStructure(sample);
    if (structure.problem) {
      add("bad_structure", structure.problem, id);
      dropped++;
      continue;
    }
    const s = sample as Record<string, unknown> & { scenario: Scenario; messages: Array<Record<string, unknown>> };
    const calledTools: string[] = [];
    for (const call of structure.calls) {
      callsChecked++;
      const name = call.function.name;
      const validate = validators.get(name, s.tools as unknown[]);
      if (!validate) {
        add("unknown_tool", `tool ${JSON.stringify(name)} (call ${call.id}) is not in the toolset`, id);
        continue;
      }
      let args = call.function.arguments;
      if (typeof args === "string") {
        try {
          args = JSON.parse(args);
        } catch {
          add("schema_violation", `call ${call.id}: arguments is a string that is not JSON`, id);
          continue;
        }
        if (!isObj(args)) {
          add("schema_violation", `call ${call.id}: arguments must be a JSON object`, id);
          continue;
        }
        if (options.fix) {
          countRepair("arguments_parsed");
          call.function.arguments = args;
        }
      }
      if (validate(args)) {
        callsValid++;
        calledTools.push(name);
        continue;
      }
      const error = describeErrors(validate);
      if (options.fix) {
        const applied: RepairKind[] = [];
        const schema = validators.schemaOf(name, s.tools as unknown[]);
        const fixed = repairValue(args, schema, schema, applied);
        if (validate(fixed)) {
          applied.forEach(countRepair);
          call.function.arguments = fixed;
          callsValid++;
          calledTools.push(name);
          continue;
        }
      }
      add("schema_violation", `call ${call.id} to ${name}: ${error}`, id);
    }
    if (issues.length > issueCountBefore) {
      dropped++;
      continue;
    }
    const key = conversationKey(s.messages);
    const firstLine = exact.get(key);
    if (firstLine !== undefined) {
      add("duplicate", `same conversation as line ${firstLine}`, id);
      duplicates++;
      dropped++;
      continue;
    }
    exact.set(key, raw.line);
    const text = userText(s.messages);
    const match = text ? near.check(text, { line: raw.line, id }) : undefined;
    if (match) {
      add(
        "near_duplicate",
        `user text is ${match.similarity.toFixed(3)} similar to line ${match.ref.line} (${match.ref.id}); threshold ${t.nearDuplicateThreshold}`,
        id,
      );
      duplicates++;
      dropped++;
      continue;
    }
    scenarioCoverage[s.scenario]++;
    counted.observe(s, raw.line, id);
    for (const name of new Set(calledTools)) toolCoverage[name] = (toolCoverage[name] ?? 0) + 1;
    if (options.fix) clean.push(JSON.stringify(sample));
  }

  const schemaPassRate = callsChecked === 0 ? 1 : callsValid / callsChecked;
  const report: QcReport = {
    data: options.data,
    total,
    valid: total - dropped,
    dropped,
    schemaPassRate: round(schemaPassRate),
    dedupRate: total === 0 ? 0 : round(duplicates / total),
    toolCoverage,
    scenarioCoverage,
    checks: counted.results(t),
    passed: false,
    issues,
    failures: [],
    remediation: [],
    thresholds: t,
    repairs,
  };
  judge(report, t, options.plannedSamples ?? total);
  if (options.fix) {
    report.cleanPath = cleanPathFor(options.data);
    await writeFileAtomic(report.cleanPath, clean.length > 0 ? `${clean.join("\n")}\n` : "");
  }
  if (options.reportDir) {
    report.reports = await writeQcReports(options.reportDir, report);
  }
  return report;
}

const round = (x: number) => Math.round(x * 1e6) / 1e6;

/** Applies the thresholds: sets `passed`, and explains each failure with a remediation line. */
function judge(report: QcReport, t: QcThresholds, plannedSamples: number): void {
  const fail = (message: string, fix: string) => {
    report.failures.push(message);
    report.remediation.push(fix);
  };
  if (report.total === 0) fail("the dataset is empty", "run `mcp-forge generate --samples 500`");
  if (report.schemaPassRate < t.minSchemaPassRate) {
    fail(
      `schema pass rate ${report.schemaPassRate} is below ${t.minSchemaPassRate}`,
      "run `mcp-forge qa --fix` to repair fixable arguments, or regenerate with `mcp-forge generate`",
    );
  }
  const dropRate = report.total === 0 ? 0 : report.dropped / report.total;
  if (dropRate > t.maxDropRate) {
    fail(
      `${report.dropped} of ${report.total} samples were dropped (${(dropRate * 100).toFixed(1)}%, more than ${(t.maxDropRate * 100).toFixed(1)}%)`,
      "see the issues in reports/qc.md; `mcp-forge qa --fix` writes a cleaned copy",
    );
  }
  const short = Object.entries(report.toolCoverage).filter(([, count]) => count < t.minPerTool);
  for (const [tool, count] of short) {
    report.issues.push({
      line: 0,
      id: "",
      kind: "coverage",
      message: `tool ${tool} has ${count} samples, needs ${t.minPerTool}`,
    });
  }
  if (short.length > 0) {
    const needed = Math.max(
      ...short.map(([, count]) =>
        count > 0 ? Math.ceil((plannedSamples * t.minPerTool) / count / 100) * 100 : Math.max(plannedSamples * 2, 500),
      ),
    );
    const [tool, count] = short.reduce((a, b) => (b[1] < a[1] ? b : a));
    const others =
      short.length > 1
        ? ` (and ${short.length - 1} more tool${short.length > 2 ? "s" : ""} below ${t.minPerTool})`
        : "";
    const unused = short.filter(([, n]) => n === 0).map(([name]) => name);
    fail(
      `tool ${tool} has ${count} samples, needs ${t.minPerTool}${others}`,
      `rerun generate with --samples ${needed}${unused.length > 0 ? ` (or give ${unused.join(", ")} a larger weight in mcp-forge.yaml generate.toolWeights)` : ""}`,
    );
  }
  for (const scenario of t.requiredScenarios) {
    if (report.scenarioCoverage[scenario] > 0) continue;
    const message = `scenario ${scenario} has no samples`;
    report.issues.push({ line: 0, id: "", kind: "coverage", message });
    fail(
      message,
      `rerun generate with more samples or a mix that gives ${scenario} a share (mcp-forge.yaml generate.scenarioMix)`,
    );
  }
  for (const check of report.checks) if (!check.passed) fail(describeFailure(check), check.fix);
  report.passed = report.failures.length === 0;
}

function describeErrors(validate: ValidateFunction): string {
  return (validate.errors ?? [])
    .slice(0, 3)
    .map(
      (e) =>
        `${e.instancePath || "/"} ${e.message ?? "is invalid"}${e.params && "additionalProperty" in e.params ? ` (${String(e.params.additionalProperty)})` : ""}`,
    )
    .join("; ");
}

/** One compiled validator per tool: from the toolset when given, else from the sample's own tools. */
class Validators {
  private readonly byName = new Map<string, { validate: ValidateFunction; schema: Schema }>();
  private readonly byText = new Map<string, { validate: ValidateFunction; schema: Schema }>();
  /** Lines parsed with the shared tools array share its schema objects: look those up without serialising. */
  private readonly byObject = new WeakMap<object, { validate: ValidateFunction; schema: Schema }>();

  constructor(private readonly tools: McpTool[] | undefined) {
    for (const tool of tools ?? []) {
      this.byName.set(tool.name, {
        validate: compileToolSchema(tool.inputSchema, `tool "${tool.name}" inputSchema`),
        schema: tool.inputSchema,
      });
    }
  }

  private entry(name: string, sampleTools: unknown[]): { validate: ValidateFunction; schema: Schema } | undefined {
    if (this.tools) return this.byName.get(name);
    const def = sampleTools.find((t) => (t as { function?: { name?: string } }).function?.name === name) as
      { function: { parameters?: Schema } } | undefined;
    if (!def) return undefined;
    const schema = def.function.parameters ?? { type: "object" };
    const known = this.byObject.get(schema);
    if (known) return known;
    const text = JSON.stringify(schema);
    let hit = this.byText.get(text);
    if (!hit) {
      try {
        hit = { validate: compileToolSchema(schema, `tool "${name}" parameters`), schema };
      } catch {
        return undefined;
      }
      this.byText.set(text, hit);
    }
    this.byObject.set(schema, hit);
    return hit;
  }

  get(name: string, sampleTools: unknown[]): ValidateFunction | undefined {
    return this.entry(name, sampleTools)?.validate;
  }

  schemaOf(name: string, sampleTools: unknown[]): Schema {
    return this.entry(name, sampleTools)?.schema ?? {};
  }
}

/** The plan's minimums, when `generate` wrote a synthesis plan in the work directory. */
export async function planThresholds(
  workdir: string,
): Promise<{ thresholds: Partial<QcThresholds>; samples?: number }> {
  try {
    const plan = JSON.parse(await readFile(join(workdir, "synthesis_plan.json"), "utf8")) as {
      samples?: number;
      minimums?: { perTool?: number; scenarios?: Scenario[] };
    };
    const thresholds: Partial<QcThresholds> = {};
    if (typeof plan.minimums?.perTool === "number") thresholds.minPerTool = plan.minimums.perTool;
    if (Array.isArray(plan.minimums?.scenarios)) thresholds.requiredScenarios = plan.minimums.scenarios;
    return { thresholds, ...(typeof plan.samples === "number" ? { samples: plan.samples } : {}) };
  } catch {
    return { thresholds: {} };
  }
}
