import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { promisify } from "node:util";
import { PACKAGE_ROOT } from "../core/python.js";
import type { Bench } from "./index.js";

const exec = promisify(execFile);
const RUNS = 5;
const ENTRY = join(PACKAGE_ROOT, "dist", "action", "index.js");
const EVERYTHING = join(PACKAGE_ROOT, "node_modules", "@modelcontextprotocol", "server-everything", "dist", "index.js");
const DRIFT_STEPS = ["setup", "inspect", "drift", "report"];
const TOKEN = "bench-token";

/** The two release endpoints drift mode reads (latest release, asset download), serving one bundle archive. */
async function releaseServer(archive: Buffer) {
  const server = createServer((req, res) => {
    const send = (status: number, body: string | Buffer, type = "application/json") => res.writeHead(status, { "content-type": type, "content-length": Buffer.byteLength(body) }).end(body);
    if (req.url === "/repos/bench/server/releases/latest") {
      return send(200, JSON.stringify({ id: 1, tag_name: "v1.0.0", assets: [{ id: 2, name: "mcp-forge-bundle-v1.0.0.tar.gz" }] }));
    }
    if (req.url === "/repos/bench/server/releases/assets/2") return send(200, archive, "application/octet-stream");
    send(404, JSON.stringify({ message: "Not Found" }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

/** One drift-mode job: the action's steps as separate Node processes, as the composite runs them. */
async function driftJob(dir: string, apiUrl: string): Promise<Record<string, number>> {
  await rm(dir, { recursive: true, force: true });
  await mkdir(join(dir, "ws"), { recursive: true });
  await mkdir(join(dir, "temp"));
  const env = {
    PATH: process.env.PATH ?? "",
    HOME: process.env.HOME ?? dir,
    GITHUB_ACTION_PATH: PACKAGE_ROOT,
    GITHUB_WORKSPACE: join(dir, "ws"),
    RUNNER_TEMP: join(dir, "temp"),
    GITHUB_REPOSITORY: "bench/server",
    GITHUB_API_URL: apiUrl,
    GITHUB_OUTPUT: join(dir, "output"),
    GITHUB_STEP_SUMMARY: join(dir, "summary.md"),
    INPUT_MODE: "drift",
    INPUT_SERVER_COMMAND: `${process.execPath} ${EVERYTHING} stdio`,
    INPUT_GITHUB_TOKEN: TOKEN,
    INPUT_COMMENT: "false",
  };
  await writeFile(env.GITHUB_OUTPUT, "");
  await writeFile(env.GITHUB_STEP_SUMMARY, "");
  const times: Record<string, number> = {};
  const start = performance.now();
  for (const step of DRIFT_STEPS) {
    const t = performance.now();
    await exec(process.execPath, [ENTRY, step], { cwd: env.GITHUB_WORKSPACE, env });
    times[step] = performance.now() - t;
  }
  times.total = performance.now() - start;
  return times;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** `mode: drift` wall time against server-everything: inspect + the released bundle's drift check + report. */
export async function actionBench(): Promise<Bench> {
  return {
    name: "action",
    async run() {
      const dir = await mkdtemp(join(tmpdir(), "mcp-forge-bench-action-"));
      try {
        await exec(process.execPath, [join(PACKAGE_ROOT, "bin", "mcp-forge.js"), "inspect", "--workdir", join(dir, "w"), "--server", `${process.execPath} ${EVERYTHING} stdio`]);
        const bundle = join(dir, "b", "mcp-forge-bundle-v1.0.0");
        await mkdir(bundle, { recursive: true });
        await writeFile(join(bundle, "tools.json"), await readFile(join(dir, "w", "tools.json")));
        await exec("tar", ["-czf", join(dir, "bundle.tar.gz"), "-C", join(dir, "b"), "mcp-forge-bundle-v1.0.0"]);
        const server = await releaseServer(await readFile(join(dir, "bundle.tar.gz")));
        try {
          await driftJob(join(dir, "job"), server.url);
          const runs: Array<Record<string, number>> = [];
          for (let i = 0; i < RUNS; i++) runs.push(await driftJob(join(dir, "job"), server.url));
          const figures: Record<string, string | number> = { runs: RUNS };
          for (const key of [...DRIFT_STEPS, "total"]) figures[`mode: drift, server-everything: ${key} (median, incl. Node start-up)`] = `${median(runs.map((r) => r[key]!)).toFixed(0)} ms`;
          return figures;
        } finally {
          await server.close();
        }
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  };
}
