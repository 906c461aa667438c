import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { cp, mkdir, readFile, rm, stat } from "node:fs/promises";
import { basename, join } from "node:path";
import { promisify } from "node:util";

import { writeFileAtomic } from "../core/atomic.js";
import { gateFailed } from "../core/errors.js";
import { stateDir } from "./context.js";
import { BENCHMARK_SUFFIX, TOOLS_SUFFIX } from "./github.js";
import type { ActionConfig } from "./inputs.js";
import { refuseSecrets } from "./secret-scan.js";
import { redact, secretsOf } from "./secrets.js";

const exec = promisify(execFile);

/**
 * The bundle as `<name>-<tag>.tar.gz` (one top folder), its tools.json as `<name>-<tag>.tools.json`
 * (what the drift check downloads instead of the model), reports/benchmark.json, when there is one, as
 * `<name>-<tag>.benchmark.json` (the trend across releases), and a SHA256SUMS naming them.
 */
export async function bundleArchive(
  config: ActionConfig,
  label: string,
): Promise<{ archive: string; tools: string; benchmark?: string; sums: string }> {
  const bundle = join(config.workdir, "bundle");
  const name = `${config.bundleName || "mcp-forge-bundle"}-${label}`.replace(/[^A-Za-z0-9._-]/g, "-");
  if (!(await stat(join(bundle, "tools.json")).catch(() => undefined)))
    throw gateFailed(`${bundle}: no bundle there (no tools.json)`, "the pack step must succeed before release");
  await refuseSecrets(bundle, secretsOf(config));
  const out = join(stateDir(), "release");
  const staging = join(stateDir(), "staging");
  await rm(staging, { recursive: true, force: true });
  await cp(bundle, join(staging, name), { recursive: true });
  await mkdir(out, { recursive: true });
  const archive = join(out, `${name}.tar.gz`);
  // One top folder named like the archive; staged by copy because GNU and BSD tar rename differently.
  await exec("tar", ["-czf", archive, "-C", staging, name]);
  const tools = join(out, `${name}${TOOLS_SUFFIX}`);
  await cp(join(bundle, "tools.json"), tools);
  const report = await readFile(join(config.workdir, "reports", "benchmark.json"), "utf8").catch(() => undefined);
  const benchmark = report === undefined ? undefined : join(out, `${name}${BENCHMARK_SUFFIX}`);
  if (benchmark) await writeFileAtomic(benchmark, redact(report!, secretsOf(config)));
  const line = async (file: string) =>
    `${createHash("sha256")
      .update(await readFile(file))
      .digest("hex")}  ${basename(file)}\n`;
  const sums = join(out, "SHA256SUMS");
  await writeFileAtomic(sums, (await line(archive)) + (await line(tools)) + (benchmark ? await line(benchmark) : ""));
  return { archive, tools, ...(benchmark ? { benchmark } : {}), sums };
}
