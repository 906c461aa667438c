import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { type McpTool, readToolsFile } from "../../src/core/toolset.js";
import { textJaccard } from "../../src/samples/near-dup.js";
import { generateDataset } from "../../src/stages/generate/generate.js";
import type { CheckName } from "../../src/stages/qa/checks.js";
import { runQc } from "../../src/stages/qa/qc.js";
import type { IssueKind, QcReport } from "../../src/stages/qa/report.js";
import { CLI, ROOT } from "../support/cli.js";

const fixture = join(ROOT, "tests/fixtures/qa/tools.json");
const run = promisify(execFile);

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- parsed JSONL rows are walked freely in assertions
type Row = Record<string, any>;
let dir: string;
let tools: McpTool[];
let base: Row[];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "forge-qa-"));
  tools = (await readToolsFile(fixture)).tools;
  const result = await generateDataset({
    workdir: join(dir, "w"),
    toolsPath: fixture,
    samples: 200,
    seed: 3,
    gate: false,
    progress: "quiet",
  });
  base = (await readFile(result.trainPath, "utf8"))
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const clone = (r: Row): Row => structuredClone(r);
const byTool = (name: string) =>
  base.find((r) => r.scenario === "standard" && r.messages[2].tool_calls[0].function.name === name)!;
const noTool = () => base.filter((r) => r.scenario === "no_tool");
const words = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

/** A sample's JSON line with a byte that is not UTF-8 (0xff) where its user text says "@@". */
function withBadByte(r: Row): Buffer {
  const [head, tail] = JSON.stringify(r).split("@@");
  return Buffer.concat([Buffer.from(head!), Buffer.from([0xff]), Buffer.from(tail!)]);
}

/** A dataset: the clean base with planted lines inserted; returns the file and the planted (line, kind) pairs. */
async function plant(
  name: string,
  planted: Array<{ line: string | Buffer; kind?: IssueKind }>,
): Promise<{ path: string; expected: Array<[number, IssueKind]> }> {
  const lines: Array<string | Buffer> = base.map((r) => JSON.stringify(r));
  const expected: Array<[number, IssueKind]> = [];
  planted.forEach((p, i) => {
    const at = 10 + i * 7;
    lines.splice(at, 0, p.line);
  });
  // Line numbers after all insertions.
  lines.forEach((l, i) => {
    const p = planted.find((x) => x.line === l);
    if (p?.kind) expected.push([i + 1, p.kind]);
  });
  const path = join(dir, `${name}.jsonl`);
  await writeFile(path, Buffer.concat(lines.flatMap((l) => [Buffer.from(l), Buffer.from("\n")])));
  return { path, expected };
}

function withUser(r: Row, id: string, text: string): Row {
  const c = clone(r);
  c.id = id;
  c.messages[1].content = text;
  return c;
}

/** A standard sample of a tool, renamed and with its user text made unique, then patched. */
function patched(name: string, id: string, patch: (r: Row) => void): Row {
  const c = clone(byTool(name));
  c.id = id;
  c.messages[1].content = `${c.messages[1].content} (${id})`;
  patch(c);
  return c;
}

async function write(name: string, rows: Row[]): Promise<string> {
  const path = join(dir, `${name}.jsonl`);
  await writeFile(path, rows.map((r) => JSON.stringify(r)).join("\n") + "\n");
  return path;
}

function withArgs(name: string, id: string, patch: (args: Row) => void): Row {
  const c = clone(byTool(name));
  c.id = id;
  c.messages[1].content = `${c.messages[1].content} (${id})`;
  patch(c.messages[2].tool_calls[0].function.arguments);
  return c;
}

describe("qa on planted defects", () => {
  it("the generated base has no issues", async () => {
    const path = join(dir, "base.jsonl");
    await writeFile(path, base.map((r) => JSON.stringify(r)).join("\n") + "\n");
    const report = await runQc({ data: path, tools });
    expect(report.issues).toEqual([]);
    expect(report.checks.filter((c) => !c.passed)).toEqual([]);
    expect(report.passed).toBe(true);
  });

  it("finds exactly the planted defects of every kind, with their line numbers", async () => {
    const [q1, q2, q3, q4] = noTool();
    const overA = words("apple", 41).join(" ");
    const overB = [...words("apple", 40), "zebra"].join(" ");
    const underA = words("berry", 39).join(" ");
    const underB = [...words("berry", 38), "zebra"].join(" ");
    expect(textJaccard(overA, overB)).toBeGreaterThan(0.95);
    expect(textJaccard(overA, overB)).toBeLessThan(0.952);
    expect(textJaccard(underA, underB)).toBeLessThan(0.95);
    expect(textJaccard(underA, underB)).toBeGreaterThan(0.948);

    const missingToolMessage = clone(byTool("get_forecast"));
    missingToolMessage.id = "no-tool-message";
    missingToolMessage.messages.splice(3, 1);
    const stray = clone(byTool("search_notes"));
    stray.id = "stray-call";
    stray.scenario = "no_tool";
    const unknown = clone(byTool("get_forecast"));
    unknown.id = "unknown";
    unknown.messages[1].content += " (unknown)";
    unknown.messages[2].tool_calls[0].function.name = "evil|**tool**<b>";
    const badBytes = withBadByte(withUser(q4!, "utf8", "Bad byte here: @@"));

    const { path, expected } = await plant("planted", [
      { line: '{"id": "cut", "scenario": "standard", "messages": [', kind: "parse_error" },
      { line: JSON.stringify(missingToolMessage), kind: "bad_structure" },
      { line: JSON.stringify(stray), kind: "bad_structure" },
      { line: JSON.stringify(unknown), kind: "unknown_tool" },
      { line: JSON.stringify(withArgs("get_forecast", "days-99", (a) => (a.days = 99))), kind: "schema_violation" },
      {
        line: JSON.stringify(withArgs("create_event", "bad-date", (a) => (a.date = "next tuesday"))),
        kind: "schema_violation",
      },
      { line: JSON.stringify({ ...clone(base[2]!), id: "copy-of-line-3" }), kind: "duplicate" },
      { line: JSON.stringify(withUser(q1!, "over-a", overA)) },
      { line: JSON.stringify(withUser(q2!, "over-b", overB)), kind: "near_duplicate" },
      { line: JSON.stringify(withUser(q3!, "under-a", underA)) },
      { line: JSON.stringify(withUser(q3!, "under-b", underB)) },
      { line: badBytes, kind: "parse_error" },
    ]);
    const report = await runQc({ data: path, tools });
    const found = report.issues.map((i) => [i.line, i.kind]);
    expect(found.sort()).toEqual(expected.sort());
    expect(report.total).toBe(base.length + 12);
    expect(report.dropped).toBe(expected.length);
    const near = report.issues.find((i) => i.kind === "near_duplicate")!;
    expect(near.id).toBe("over-b");
    expect(near.message).toMatch(/similar to line \d+ \(over-a\)/);
    expect(report.schemaPassRate).toBeLessThan(1);

    // The CLI: exit 1, the reasons, and Markdown that escapes untrusted names.
    const reports = join(dir, "reports");
    const cli = await run("node", [
      CLI,
      "qa",
      "--data",
      path,
      "--tools",
      fixture,
      "--report-dir",
      reports,
      "--workdir",
      join(dir, "cli"),
      "--max-drop-rate",
      "0.01",
      "--json",
    ]).catch((e) => e);
    expect(cli.code).toBe(1);
    expect(cli.stderr).toMatch(/samples were dropped/);
    expect(JSON.parse(cli.stdout).issueCount).toBe(expected.length);
    expect(cli.stderr).toMatch(/QC gate failed/);
    const md = await readFile(join(reports, "qc.md"), "utf8");
    expect(md).not.toContain("<b>");
    expect(md).toContain("evil\\|\\*\\*tool\\*\\*&lt;b&gt;");
    const csv = (await readFile(join(reports, "qc.csv"), "utf8")).trim().split("\n");
    expect(csv.length).toBe(expected.length + 1);
    const json = JSON.parse(await readFile(join(reports, "qc.json"), "utf8"));
    expect(Object.keys(json)).toEqual(
      expect.arrayContaining([
        "total",
        "valid",
        "dropped",
        "schemaPassRate",
        "dedupRate",
        "toolCoverage",
        "scenarioCoverage",
        "passed",
        "issues",
      ]),
    );
  });

  it("--fix repairs fixable defects into a clean file that passes, and leaves the input alone", async () => {
    const [q1] = noTool();
    const stringArgs = clone(byTool("search_notes"));
    stringArgs.id = "string-args";
    stringArgs.messages[1].content += " (string args)";
    stringArgs.messages[2].tool_calls[0].function.arguments = JSON.stringify(
      stringArgs.messages[2].tool_calls[0].function.arguments,
    );
    const badBytes = withBadByte(withUser(q1!, "utf8-fix", "Replace this: @@ please"));
    const { path } = await plant("fixable", [
      { line: JSON.stringify(withArgs("get_forecast", "days-string", (a) => (a.days = String(a.days)))) },
      { line: JSON.stringify(withArgs("get_forecast", "units-space", (a) => (a.units = " imperial "))) },
      { line: JSON.stringify(withArgs("get_forecast", "extra-prop", (a) => (a.colour = "blue"))) },
      { line: JSON.stringify(withArgs("create_event", "no-priority", (a) => delete a.priority)) },
      { line: JSON.stringify(withArgs("search_notes", "limit-string", (a) => (a.limit = "7"))) },
      { line: JSON.stringify(stringArgs) },
      { line: badBytes },
    ]);
    const input = await readFile(path);
    const before = await runQc({ data: path, tools });
    expect(before.passed).toBe(false);
    expect(before.issues.map((i) => i.kind).sort()).toEqual(["parse_error", ...Array(5).fill("schema_violation")]);

    const fixed = await runQc({ data: path, tools, fix: true });
    expect(fixed.issues).toEqual([]);
    expect(fixed.repairs).toEqual({
      string_to_number: 2,
      whitespace_trimmed: 1,
      unknown_property_dropped: 1,
      default_filled: 1,
      arguments_parsed: 1,
      invalid_utf8_replaced: 1,
    });
    expect(await readFile(path)).toEqual(input);
    const after = await runQc({ data: fixed.cleanPath!, tools });
    expect(after.issues).toEqual([]);
    expect(after.passed).toBe(true);
    expect(after.total).toBe(base.length + 7);
    const clean = (await readFile(fixed.cleanPath!, "utf8"))
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    const repaired = clean.find((r) => r.id === "no-priority");
    expect(repaired.messages[2].tool_calls[0].function.arguments.priority).toBe("normal");
    expect(typeof clean.find((r) => r.id === "string-args").messages[2].tool_calls[0].function.arguments).toBe(
      "object",
    );
  });

  it("the counted checks find exactly the planted nonsense, and the gate names the worst samples", async () => {
    const baseReport = await runQc({ data: await write("base-checks", base), tools });
    const flaggedIds = (report: QcReport, check: CheckName) =>
      report.checks
        .find((c) => c.name === check)!
        .worst.map((f) => f.id)
        .sort();
    const planted: Array<[CheckName, Row]> = [
      [
        "jsonInUser",
        withUser(
          byTool("create_event"),
          "json-user",
          'Add the event {"title": "Standup", "date": "2025-01-02"} please',
        ),
      ],
      ["toolNameInUser", withUser(noTool()[0]!, "named-tool", "Can you run search_notes for my tax notes?")],
      [
        "ungroundedValues",
        { ...withArgs("get_forecast", "random-city", () => undefined), argSources: { city: "random", days: "schema" } },
      ],
      [
        "errorTextInSuccess",
        patched(
          "get_forecast",
          "error-as-success",
          (r) => (r.messages[3].content = "Error: Only CREATE TABLE statements are allowed"),
        ),
      ],
      [
        "answerEcho",
        patched(
          "get_forecast",
          "echoed",
          (r) => (r.messages[4].content = 'Done. The result is: {"temp": 21, "units": "metric"}'),
        ),
      ],
      [
        "answerEcho",
        patched("search_notes", "long-copy", (r) => {
          r.messages[3].content = words("result", 60).join(" ");
          r.messages[4].content = `Here it is: ${r.messages[3].content}`;
        }),
      ],
      ["sharedState", { ...withArgs("search_notes", "shared", () => undefined), serverState: "shared" }],
    ];
    // Each planted sample is nonsense of one kind only.
    for (const [check, r] of planted) if (check !== "ungroundedValues") delete r.argSources;
    const report = await runQc({ data: await write("checks", [...base, ...planted.map(([, r]) => r)]), tools });
    expect(report.issues).toEqual([]);
    for (const check of [
      "jsonInUser",
      "toolNameInUser",
      "ungroundedValues",
      "errorTextInSuccess",
      "answerEcho",
      "sharedState",
    ] as CheckName[]) {
      const ids = planted.filter(([c]) => c === check).map(([, r]) => r.id);
      expect(flaggedIds(report, check), check).toEqual([...flaggedIds(baseReport, check), ...ids].sort());
    }
    expect(flaggedIds(baseReport, "jsonInUser")).toEqual([]);
    expect(flaggedIds(baseReport, "answerEcho")).toEqual([]);
    expect(report.passed).toBe(false);
    const failed = report.checks
      .filter((c) => !c.passed)
      .map((c) => c.name)
      .sort();
    expect(failed).toEqual(["answerEcho", "errorTextInSuccess", "jsonInUser", "sharedState"]);
    expect(report.failures.find((f) => f.startsWith("JSON in user text"))).toMatch(
      /1 of \d+ samples.*worst: line \d+ \(json-user\)/,
    );
    const echo = report.failures.find((f) => f.startsWith("answers echoing"));
    expect(echo).toMatch(
      /2 of \d+ samples.*worst: line \d+ \(long-copy\): \d+ characters of the result copied verbatim; line \d+ \(echoed\): JSON in the answer/,
    );

    // The thresholds come from mcp-forge.yaml's qa: section.
    const cwd = join(dir, "checks-cli");
    await mkdir(cwd, { recursive: true });
    await writeFile(
      join(cwd, "mcp-forge.yaml"),
      "qa:\n  maxJsonInUser: 0.05\n  maxErrorTextInSuccess: 0.05\n  maxAnswerEcho: 0.05\n  maxSharedState: 0.05\n",
    );
    const cli = await run(
      "node",
      [CLI, "qa", "--data", join(dir, "checks.jsonl"), "--tools", fixture, "--workdir", join(cwd, "w"), "--json"],
      { cwd },
    ).catch((e) => e);
    expect(cli.stderr ?? "").not.toMatch(/QC gate failed/);
    expect(JSON.parse(cli.stdout).passed).toBe(true);
    await writeFile(join(cwd, "mcp-forge.yaml"), "qa:\n  maxToolNameInUser: 2\n");
    const bad = await run(
      "node",
      [CLI, "qa", "--data", join(dir, "checks.jsonl"), "--tools", fixture, "--workdir", join(cwd, "w")],
      { cwd },
    ).catch((e) => e);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/mcp-forge\.yaml: \/qa\/maxToolNameInUser must be a share between 0 and 1/);
  });

  it("server success: standard calls of tools that ran on the server, stubs and errors counted against the threshold", async () => {
    const served = base.map((r) =>
      r.messages.some((m: Row) => m.role === "tool") && !r.resultIsError ? { ...r, resultSource: "server" } : r,
    );
    const stubbed = { ...patched("get_forecast", "stub-success", () => undefined), resultSource: "stub" };
    const failed = {
      ...patched("search_notes", "server-error", () => undefined),
      resultSource: "server",
      resultIsError: true,
    };
    const data = await write("server", [...served, stubbed, failed]);
    const report = await runQc({ data, tools });
    const check = report.checks.find((c) => c.name === "serverSuccess")!;
    expect(check.worst.map((f) => f.id).sort()).toEqual(["server-error", "stub-success"]);
    expect(check.of).toBe(served.filter((r) => r.scenario === "standard" && r.resultSource === "server").length + 2);
    expect(check.perTool?.get_forecast?.of).toBeGreaterThan(check.perTool?.get_forecast?.ok ?? 0);
    expect(check.passed).toBe(true);
    const strict = await runQc({ data, tools, thresholds: { minServerSuccess: 0.999 } });
    expect(strict.passed).toBe(false);
    expect(strict.failures.join("\n")).toMatch(
      /server success share of standard calls is [\d.]+% \(\d+ of \d+\), below 99\.9%; worst: line \d+ \((server-error|stub-success)\)/,
    );
    // Offline data (no result from a server) is not judged on it.
    expect(
      (await runQc({ data: await write("offline", base), tools })).checks.find((c) => c.name === "serverSuccess")!.of,
    ).toBe(0);
  });

  it("a malformed file never crashes qa: every line becomes an issue", async () => {
    const path = join(dir, "garbage.jsonl");
    await writeFile(path, 'not json\n[1,2]\n{}\n\n"text"\n');
    const report = await runQc({ data: path, tools });
    expect(report.issues.filter((i) => i.line > 0).map((i) => [i.line, i.kind])).toEqual([
      [1, "parse_error"],
      [2, "bad_structure"],
      [3, "bad_structure"],
      [5, "bad_structure"],
    ]);
    expect(report.passed).toBe(false);
  });
});
