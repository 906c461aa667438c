import { stat } from "node:fs/promises";
import { join, resolve } from "node:path";

import { Command } from "commander";

import { examples, globalOptions, withCommonOptions } from "../../cli/options.js";
import type { Output } from "../../cli/output.js";
import { readForgeConfig } from "../../core/config.js";
import { badInput, gateFailed } from "../../core/errors.js";
import { readToolsFile } from "../../core/toolset.js";
import { printable } from "../../core/untrusted-text.js";
import { stageAction, type StageResult } from "../stage.js";
import { planThresholds } from "./qc.js";
import { recordedQc } from "./recorded.js";
import type { QcReport, QcThresholds } from "./report.js";

interface QaCliOptions {
  workdir: string;
  json: boolean;
  data?: string;
  tools?: string;
  fix: boolean;
  reportDir?: string;
  config?: string;
  minSchemaPassRate?: string;
  minPerTool?: string;
  nearDuplicateThreshold?: string;
  maxDropRate?: string;
}

const rate = (value: string | undefined, flag: string, max = 1): number | undefined => {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0 || n > max)
    throw badInput(`${flag} ${value}: expected a number between 0 and ${max}`);
  return n;
};

export function qaCommand(): Command {
  return stageAction(
    withCommonOptions(
      new Command("qa")
        .description(
          "the QC gate: structure, tool names, argument schemas, duplicates, near-duplicates, coverage, and counted checks for nonsense (JSON or tool names in requests, ungrounded values, server success, error text kept as success, echoed results, shared state; thresholds in mcp-forge.yaml qa:)",
        )
        .option("--data <file>", "dataset to check (default <workdir>/data/train.jsonl)")
        .option(
          "--tools <file>",
          "toolset to check against (default <workdir>/tools.json when present, else each sample's own tools)",
        )
        .option(
          "--fix",
          "repair what is safe to repair and write <name>.clean.jsonl beside the input (the input is never changed)",
          false,
        )
        .option("--report-dir <dir>", "where qc.json, qc.md and qc.csv go (default <workdir>/reports)")
        .option(
          "--config <file>",
          "mcp-forge.yaml whose qa: section sets thresholds (default ./mcp-forge.yaml when present)",
        )
        .option(
          "--min-schema-pass-rate <r>",
          "gate: share of tool calls whose arguments pass the schema (default 0.98)",
        )
        .option("--min-per-tool <n>", "gate: samples that call each tool (default 10, or the synthesis plan's)")
        .option(
          "--near-duplicate-threshold <j>",
          "Jaccard similarity of user texts at which a sample is a near-duplicate (default 0.95)",
        )
        .option("--max-drop-rate <r>", "gate: largest share of samples QC may drop (default 0.05)")
        .addHelpText(
          "after",
          examples(
            "mcp-forge qa",
            "mcp-forge qa --data data/train.jsonl --tools tools.json --fix",
            "mcp-forge qa --min-per-tool 20 --report-dir out/qc --json",
          ),
        ),
    ),
    qaStage,
  );
}

/** The command's work, called by its action and by `run`. */
export async function qaStage(opts: QaCliOptions, output: Output): Promise<StageResult> {
  const { workdir } = globalOptions(opts);
  const data = resolve(opts.data ?? join(workdir, "data", "train.jsonl"));
  const toolsPath = opts.tools ? resolve(opts.tools) : join(workdir, "tools.json");
  const tools =
    opts.tools || (await stat(toolsPath).catch(() => undefined)) ? (await readToolsFile(toolsPath)).tools : undefined;
  const config = await readForgeConfig(opts.config);
  const plan = await planThresholds(workdir);
  const cli: Partial<QcThresholds> = {};
  const setIf = <K extends keyof QcThresholds>(k: K, v: QcThresholds[K] | undefined) => v !== undefined && (cli[k] = v);
  setIf("minSchemaPassRate", rate(opts.minSchemaPassRate, "--min-schema-pass-rate"));
  setIf("minPerTool", rate(opts.minPerTool, "--min-per-tool", Number.MAX_SAFE_INTEGER));
  setIf("nearDuplicateThreshold", rate(opts.nearDuplicateThreshold, "--near-duplicate-threshold"));
  setIf("maxDropRate", rate(opts.maxDropRate, "--max-drop-rate"));
  const reportDir = resolve(opts.reportDir ?? join(workdir, "reports"));
  const report = await recordedQc(workdir, {
    data,
    ...(tools ? { tools } : {}),
    fix: opts.fix,
    reportDir,
    ...(plan.samples !== undefined ? { plannedSamples: plan.samples } : {}),
    thresholds: { ...plan.thresholds, ...config.qa, ...cli },
  });
  const { issues, ...rest } = report;
  output.result({ ...rest, issueCount: issues.length, issues: issues.slice(0, 1000) });
  output.say(formatQcSummary(report));
  if (!report.passed) throw gateFailed(`QC gate failed: ${report.failures.join("; ")}`, report.remediation.join("; "));
}

/** A short human summary of a QC report. */
export function formatQcSummary(r: QcReport): string {
  const byKind = new Map<string, number>();
  for (const i of r.issues) byKind.set(i.kind, (byKind.get(i.kind) ?? 0) + 1);
  const lines = [
    `QC ${r.passed ? "passed" : "FAILED"}: ${r.valid}/${r.total} valid, schema pass rate ${r.schemaPassRate}, dedup rate ${r.dedupRate}`,
    `issues: ${byKind.size === 0 ? "none" : [...byKind].map(([k, n]) => `${k} ${n}`).join(", ")}`,
  ];
  lines.push(`checks: ${r.checks.map((c) => `${c.name} ${c.count}/${c.of}${c.passed ? "" : " ✗"}`).join(", ")}`);
  const shown = r.issues.filter((i) => i.line > 0).slice(0, 10);
  for (const i of shown)
    lines.push(`  line ${i.line}${i.id ? ` (${printable(i.id)})` : ""}: ${i.kind}: ${printable(i.message)}`);
  const more = r.issues.filter((i) => i.line > 0).length - shown.length;
  if (more > 0) lines.push(`  … ${more} more in ${r.reports?.csv ?? "the report"}`);
  const repairs = Object.entries(r.repairs);
  if (repairs.length > 0) lines.push(`repairs: ${repairs.map(([k, n]) => `${k} ${n}`).join(", ")}`);
  if (r.cleanPath) lines.push(`clean: ${r.cleanPath}`);
  if (r.reports) lines.push(`reports: ${r.reports.md}`);
  r.failures.forEach((f, i) => lines.push(`✗ ${f} → ${r.remediation[i]}`));
  return lines.join("\n");
}
