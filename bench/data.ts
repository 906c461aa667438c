import { mkdtemp, rm, stat } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";

import { makeToolsFile, type McpTool, writeToolsFile } from "../core/toolset.js";
import { generateDataset } from "../stages/generate/generate.js";
import { runQc } from "../stages/qa/qc.js";
import type { Bench } from "./index.js";

/** A small toolset of the shapes real servers use: enums, bounds, formats, arrays, nested objects. */
const TOOLS: McpTool[] = [
  {
    name: "get_forecast",
    description: "Get the weather forecast for a city.",
    inputSchema: {
      type: "object",
      properties: {
        city: { type: "string", description: "City name" },
        days: { type: "integer", minimum: 1, maximum: 7 },
        units: { type: "string", enum: ["metric", "imperial"] },
      },
      required: ["city"],
      additionalProperties: false,
    },
  },
  {
    name: "create_event",
    description: "Create a calendar event.",
    inputSchema: {
      type: "object",
      properties: {
        title: { type: "string", maxLength: 80 },
        date: { type: "string", format: "date" },
        attendees: { type: "array", items: { type: "string", format: "email" }, uniqueItems: true, maxItems: 4 },
        location: {
          type: "object",
          properties: { room: { type: "string" }, floor: { type: "integer" } },
          required: ["room"],
        },
      },
      required: ["title", "date"],
    },
  },
  {
    name: "search_notes",
    description: "Search notes by keyword.",
    inputSchema: {
      type: "object",
      properties: { query: { type: "string" }, limit: { type: "integer", minimum: 1, maximum: 50 } },
      required: ["query"],
    },
    outputSchema: {
      type: "object",
      properties: { matches: { type: "array", items: { type: "string" } } },
      required: ["matches"],
    },
  },
];

/**
 * Wall time and CPU time (user + system of this process) in ms. On a shared machine the CPU time
 * is the honest "one core" figure: Node runs this work on one thread.
 */
async function timed<T>(fn: () => Promise<T>): Promise<[T, number, number]> {
  const start = process.hrtime.bigint();
  const cpu = process.cpuUsage();
  const value = await fn();
  const used = process.cpuUsage(cpu);
  return [value, Number(process.hrtime.bigint() - start) / 1e6, (used.user + used.system) / 1000];
}

/** `npm run bench -- data`: offline synthesis speed and QC throughput (one core: Node runs both on one thread). */
export async function dataBench(): Promise<Bench> {
  return {
    name: "data: generate and qa",
    async run() {
      const dir = await mkdtemp(join(tmpdir(), "forge-bench-data-"));
      try {
        const toolsPath = join(dir, "tools.json");
        await writeToolsFile(
          toolsPath,
          makeToolsFile({
            server: { name: "bench", version: "1" },
            protocolVersion: "2025-06-18",
            source: { kind: "file" },
            tools: TOOLS,
          }),
        );
        const [small, genMs, genCpuMs] = await timed(() =>
          generateDataset({
            workdir: join(dir, "w1"),
            toolsPath,
            samples: 10_000,
            seed: 1,
            gate: false,
            progress: "quiet",
          }),
        );
        const [big] = await timed(() =>
          generateDataset({
            workdir: join(dir, "w2"),
            toolsPath,
            samples: 100_000,
            seed: 2,
            gate: false,
            progress: "quiet",
          }),
        );
        const bytes = (await stat(big.trainPath)).size;
        await runQc({ data: small.trainPath, tools: TOOLS });
        const [report, qcMs, qcCpuMs] = await timed(() => runQc({ data: big.trainPath, tools: TOOLS }));
        return {
          "load average (1 min) at start": loadavg()[0]!.toFixed(1),
          "offline synthesis, 10,000 samples + eval split (no tool execution), wall s": (genMs / 1000).toFixed(2),
          "offline synthesis, CPU s": (genCpuMs / 1000).toFixed(2),
          "qa dataset": `${report.total} samples of 3–5 messages, ${(bytes / 1e6).toFixed(1)} MB, ${report.issues.length} issues`,
          "qa throughput, samples per wall second": Math.round(report.total / (qcMs / 1000)),
          "qa throughput, samples per CPU second": Math.round(report.total / (qcCpuMs / 1000)),
          "qa, MB per CPU second": (bytes / 1e6 / (qcCpuMs / 1000)).toFixed(1),
        };
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  };
}
