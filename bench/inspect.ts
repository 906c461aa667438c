import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { promisify } from "node:util";

import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";

import { PACKAGE_ROOT } from "../core/python.js";
import type { ServerTarget } from "../mcp/connect.js";
import { inspectServer } from "../stages/inspect/inspect.js";
import type { Bench } from "./index.js";

const execFileAsync = promisify(execFile);
const RUNS = 10;
const EVERYTHING = join(PACKAGE_ROOT, "node_modules", "@modelcontextprotocol", "server-everything", "dist", "index.js");
const PAGINATED = join(PACKAGE_ROOT, "tests", "fixtures", "servers", "paginated.mjs");

interface Timing {
  startup: number;
  total: number;
  withClose: number;
}

/** One `inspect` stage run: spawn → initialize answered → tools.json written → server gone. */
async function timeInspect(target: ServerTarget, workdir: string): Promise<Timing> {
  let connected = 0;
  let written = 0;
  const start = performance.now();
  await inspectServer(target, {
    workdir,
    out: join(workdir, "tools.json"),
    timeoutMs: 30_000,
    progress: (step) => (step === "connected" ? (connected = performance.now()) : (written = performance.now())),
  });
  return { startup: connected - start, total: written - start, withClose: performance.now() - start };
}

/**
 * The server's own start-up as the SDK's stdio client sees it: spawn → initialize answered. Given
 * the caller's whole environment, as inspect does (NODE_EXTRA_CA_CERTS alone can cost node ~35 ms).
 */
async function timeSdkStartup(): Promise<number> {
  const client = new Client({ name: "bench", version: "0" });
  const start = performance.now();
  const env = process.env as Record<string, string>;
  await client.connect(
    new StdioClientTransport({ command: process.execPath, args: [EVERYTHING, "stdio"], env, stderr: "ignore" }),
  );
  const took = performance.now() - start;
  await client.close();
  return took;
}

/** The whole CLI as a user runs it: `node bin/mcp-forge.js inspect --server …`, process start → exit. */
async function timeCli(workdir: string): Promise<number> {
  const start = performance.now();
  await execFileAsync(process.execPath, [
    join(PACKAGE_ROOT, "bin", "mcp-forge.js"),
    "inspect",
    "--workdir",
    workdir,
    "--server",
    `${process.execPath} ${EVERYTHING} stdio`,
  ]);
  return performance.now() - start;
}

const median = (xs: number[]) => {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
};
const ms = (x: number) => `${x.toFixed(1)} ms`;

export async function inspectBench(): Promise<Bench> {
  return {
    name: "inspect",
    async run() {
      const workdir = await mkdtemp(join(tmpdir(), "mcp-forge-bench-inspect-"));
      try {
        const everything: ServerTarget = { kind: "stdio", command: `${process.execPath} ${EVERYTHING} stdio` };
        const paged: ServerTarget = {
          kind: "stdio",
          command: `${process.execPath} ${PAGINATED}`,
          env: { TOOL_COUNT: "1000", PAGE_SIZE: "100" },
        };
        await timeInspect(everything, workdir);
        const runs: Timing[] = [];
        const sdk: number[] = [];
        const large: Timing[] = [];
        const cli: number[] = [];
        for (let i = 0; i < RUNS; i++) {
          runs.push(await timeInspect(everything, workdir));
          sdk.push(await timeSdkStartup());
          large.push(await timeInspect(paged, workdir));
          cli.push(await timeCli(workdir));
        }
        const overhead = runs.map((r) => r.total - r.startup);
        return {
          runs: RUNS,
          "server-everything: spawn → initialize answered (median)": ms(median(runs.map((r) => r.startup))),
          "server-everything: same, SDK StdioClientTransport (median)": ms(median(sdk)),
          "server-everything: spawn → tools.json written (median)": ms(median(runs.map((r) => r.total))),
          "server-everything: inspect overhead = written − initialize answered (median / max; target < 100 ms)": `${ms(median(overhead))} / ${ms(Math.max(...overhead))}`,
          "server-everything: spawn → server tree gone (median)": ms(median(runs.map((r) => r.withClose))),
          "server-everything: whole CLI run, process start → exit (median)": ms(median(cli)),
          "1,000 tools over 10 pages: spawn → tools.json written (median / max; target < 1 s)": `${ms(median(large.map((r) => r.total)))} / ${ms(Math.max(...large.map((r) => r.total)))}`,
          "1,000 tools over 10 pages: listing + writing after initialize (median)": ms(
            median(large.map((r) => r.total - r.startup)),
          ),
        };
      } finally {
        await rm(workdir, { recursive: true, force: true });
      }
    },
  };
}
