import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { generateDataset, type GenerateResult } from "../../src/stages/generate/generate.js";
import { runQc } from "../../src/stages/qa/qc.js";
import type { QcReport } from "../../src/stages/qa/report.js";

const sqlish = `node ${resolve(import.meta.dirname, "../fixtures/servers/sqlish.mjs")}`;

let dir: string;
let result: GenerateResult;
let reports: QcReport[];
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "forge-qa-success-"));
  // run_query rejects every statement but CREATE TABLE: its standard calls all become error samples.
  result = await generateDataset({
    workdir: join(dir, "w"),
    server: { kind: "stdio", command: sqlish },
    samples: 80,
    seed: 5,
    progress: "quiet",
    gate: false,
  });
  reports = [await runQc({ data: result.trainPath }), await runQc({ data: result.evalPath })];
}, 120_000);
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("the server success check", () => {
  it("counts a standard call the server rejected (now an error sample) as a failure, and fails the gate", () => {
    const checks = reports.map((r) => r.checks.find((c) => c.name === "serverSuccess")!);
    const perTool = (tool: string) =>
      checks.reduce(
        (sum, c) => ({ ok: sum.ok + (c.perTool?.[tool]?.ok ?? 0), of: sum.of + (c.perTool?.[tool]?.of ?? 0) }),
        { ok: 0, of: 0 },
      );
    const query = perTool("run_query");
    expect(result.serverSuccess.run_query!.calls).toBeGreaterThan(10);
    expect(query.of).toBeGreaterThan(10);
    expect(query.ok).toBe(0);
    const describe = perTool("describe_table");
    expect(describe.of).toBeGreaterThan(0);
    expect(describe.ok / describe.of).toBeGreaterThan(0.8);
    const train = checks[0]!;
    expect(train.passed).toBe(false);
    expect(train.worst.some((f) => f.detail.startsWith("run_query"))).toBe(true);
  });
});
