import { join } from "node:path";

import { writeFileAtomic, writeJsonAtomic } from "../../core/atomic.js";
import { type Scenario, SCENARIOS } from "../../core/contract.js";
import { printable } from "../../core/untrusted-text.js";
import type { CheckResult, CheckThresholds } from "./checks.js";
import type { RepairKind } from "./fix.js";

export const ISSUE_KINDS = [
  "parse_error",
  "bad_structure",
  "unknown_tool",
  "schema_violation",
  "duplicate",
  "near_duplicate",
  "coverage",
] as const;
export type IssueKind = (typeof ISSUE_KINDS)[number];

/** What QC reports (reports/qc.json, docs/contract.md): the gate's verdict, its figures and each issue. */
export interface QcReport {
  data: string;
  total: number;
  valid: number;
  dropped: number;
  schemaPassRate: number;
  dedupRate: number;
  toolCoverage: Record<string, number>;
  scenarioCoverage: Record<Scenario, number>;
  /** The counted checks for nonsense (JSON in requests, echoed results, …), each against its threshold. */
  checks: CheckResult[];
  passed: boolean;
  issues: QcIssue[];
  /** Why the gate failed, one line each, and what to do about it. */
  failures: string[];
  remediation: string[];
  thresholds: QcThresholds;
  repairs: Partial<Record<RepairKind, number>>;
  cleanPath?: string;
  reports?: { json: string; md: string; csv: string };
}

export interface QcIssue {
  /** 1-based line in the data file; 0 for issues about the whole dataset (coverage). */
  line: number;
  id: string;
  kind: IssueKind;
  message: string;
}

export interface QcThresholds extends CheckThresholds {
  minSchemaPassRate: number;
  minPerTool: number;
  nearDuplicateThreshold: number;
  /** Largest share of samples the gate lets QC drop (parse errors, bad structure, duplicates, …). */
  maxDropRate: number;
  requiredScenarios: Scenario[];
}

const MAX_MD_ISSUES = 200;

/** Text from samples and servers is untrusted: escape everything Markdown or HTML would interpret. */
export function escapeMarkdown(text: string): string {
  return text
    .replace(/[\r\n]+/g, " ")
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/([\\`*_{}[\]()#+\-.!|~])/g, "\\$1");
}

/** A CSV field per RFC 4180, with formula-leading characters neutralised for spreadsheets. */
export function csvField(value: string | number): string {
  let text = printable(String(value));
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** Writes reports/qc.json, qc.md and qc.csv (the issues). */
export async function writeQcReports(
  dir: string,
  report: QcReport,
): Promise<{ json: string; md: string; csv: string }> {
  const paths = { json: join(dir, "qc.json"), md: join(dir, "qc.md"), csv: join(dir, "qc.csv") };
  const body = { ...report };
  delete body.reports;
  await writeJsonAtomic(paths.json, body);
  await writeFileAtomic(paths.md, qcMarkdown(report));
  const rows = [
    "line,id,kind,message",
    ...report.issues.map((i) => [i.line, i.id, i.kind, i.message].map(csvField).join(",")),
  ];
  await writeFileAtomic(paths.csv, `${rows.join("\n")}\n`);
  return paths;
}

export function qcMarkdown(r: QcReport): string {
  const e = (t: string) => escapeMarkdown(printable(t));
  const lines = [
    "# QC report",
    "",
    `**${r.passed ? "PASSED" : "FAILED"}** · ${e(r.data)}`,
    "",
    "| metric | value | threshold |",
    "| --- | --- | --- |",
    `| samples | ${r.total} | |`,
    `| valid | ${r.valid} | |`,
    `| dropped | ${r.dropped} | ≤ ${(r.thresholds.maxDropRate * 100).toFixed(1)}% |`,
    `| schema pass rate | ${r.schemaPassRate.toFixed(4)} | ≥ ${r.thresholds.minSchemaPassRate} |`,
    `| dedup rate | ${r.dedupRate.toFixed(4)} | near-duplicate at Jaccard ≥ ${r.thresholds.nearDuplicateThreshold} |`,
    "",
    "## Checks for nonsense",
    "",
    "| check | samples flagged | share | threshold | worst samples |",
    "| --- | --- | --- | --- | --- |",
    ...r.checks.map((c) => {
      const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
      const share = c.name === "serverSuccess" ? `${pct(1 - c.share)} succeeded` : pct(c.share);
      const limit = c.name === "serverSuccess" ? `≥ ${pct(c.limit)}` : `≤ ${pct(c.limit)}`;
      const worst = c.worst
        .slice(0, 3)
        .map((f) => `line ${f.line}: ${f.detail}`)
        .join("; ");
      return `| ${e(c.label)}${c.passed ? "" : " ✗"} | ${c.count} of ${c.of} | ${share} | ${limit} | ${e(worst)} |`;
    }),
    "",
  ];
  if (r.failures.length > 0) {
    lines.push("## Why the gate failed", "");
    r.failures.forEach((f, i) => lines.push(`- ${e(f)}: ${e(r.remediation[i] ?? "")}`));
    lines.push("");
  }
  lines.push("## Tool coverage", "", "| tool | samples |", "| --- | --- |");
  for (const [tool, n] of Object.entries(r.toolCoverage))
    lines.push(`| ${e(tool)} | ${n}${n < r.thresholds.minPerTool ? " ⚠" : ""} |`);
  lines.push("", "## Scenario coverage", "", "| scenario | samples |", "| --- | --- |");
  for (const s of SCENARIOS) lines.push(`| ${s} | ${r.scenarioCoverage[s]} |`);
  const repairs = Object.entries(r.repairs);
  if (repairs.length > 0) {
    lines.push("", "## Repairs (--fix)", "", "| repair | count |", "| --- | --- |");
    for (const [k, n] of repairs) lines.push(`| ${k} | ${n} |`);
  }
  lines.push("", `## Issues (${r.issues.length})`, "");
  if (r.issues.length === 0) lines.push("None.");
  else {
    lines.push("| line | id | kind | message |", "| --- | --- | --- | --- |");
    for (const i of r.issues.slice(0, MAX_MD_ISSUES))
      lines.push(`| ${i.line} | ${e(i.id)} | ${i.kind} | ${e(i.message)} |`);
    if (r.issues.length > MAX_MD_ISSUES)
      lines.push("", `… and ${r.issues.length - MAX_MD_ISSUES} more in qc.json and qc.csv.`);
  }
  return `${lines.join("\n")}\n`;
}
