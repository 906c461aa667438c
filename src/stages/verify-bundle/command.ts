import { join, resolve } from "node:path";

import { Command } from "commander";

import { runSmokeTest, type SmokeResult } from "../../bundle/smoke.js";
import { checkDrift, checkIntegrity, formatDrift } from "../../bundle/verify.js";
import { examples, globalOptions, withCommonOptions } from "../../cli/options.js";
import type { Output } from "../../cli/output.js";
import { badInput, ExitCode } from "../../core/errors.js";
import { type McpTool, readToolsFile } from "../../core/toolset.js";
import { printable } from "../../core/untrusted-text.js";
import { connectToServer, describeTarget } from "../../mcp/connect.js";
import { listAllTools } from "../../mcp/list-tools.js";
import { addServerOptions, serverTargetFromOptions, timeoutMsFromOptions } from "../../mcp/server-options.js";
import { stageAction, type StageResult } from "../stage.js";

export function verifyBundleCommand(): Command {
  const command = new Command("verify-bundle")
    .description(
      "check an agent bundle: files against SHA256SUMS, agent.yaml against its schema, model metadata; with a server or tools file, toolset drift",
    )
    .argument("<dir>", "the bundle folder `mcp-forge pack` wrote")
    .option("--tools <file>", "compare the bundle's toolset with this tools.json (instead of a live server)")
    .option(
      "--quick <n>",
      "smoke test: run the model on the first N prompts of tests/validation.json (calls go to --server/--url, read-only tools only, else to a stub) and compare with agent.yaml's thresholds",
    );
  addServerOptions(command);
  command.addHelpText(
    "after",
    examples(
      "mcp-forge verify-bundle bundle",
      'mcp-forge verify-bundle bundle --server "npx -y @modelcontextprotocol/server-memory"',
      "mcp-forge verify-bundle bundle --url http://localhost:3001/mcp --json",
      "mcp-forge verify-bundle bundle --tools new-tools.json",
      'mcp-forge verify-bundle bundle --quick 5 --server "npx -y @modelcontextprotocol/server-memory"',
    ),
  );
  return stageAction(withCommonOptions(command), verifyBundleStage);
}

/** The command's work, called by its action and by `run`. */
export async function verifyBundleStage(
  opts: Record<string, unknown> & { workdir: string; json: boolean; tools?: string; quick?: string } & { dir: string },
  output: Output,
): Promise<StageResult> {
  const dir = opts.dir;
  const { workdir } = globalOptions(opts);
  const bundle = resolve(dir);
  const target = serverTargetFromOptions(opts);
  if (target && opts.tools)
    throw badInput(
      "pass either --tools or --server/--url, not both",
      "--tools compares with a file, --server/--url with a live server",
    );
  const quick = opts.quick === undefined ? undefined : Number(opts.quick);
  if (quick !== undefined && !(Number.isInteger(quick) && quick > 0))
    throw badInput(`--quick ${String(opts.quick)}: expected a number of prompts, 1 or more`, "e.g. --quick 5");
  const integrity = await checkIntegrity(bundle);

  let live: { source: string; tools: McpTool[] } | undefined;
  if (opts.tools) {
    live = { source: resolve(opts.tools), tools: (await readToolsFile(resolve(opts.tools))).tools };
  } else if (target) {
    const connection = await connectToServer(target, {
      timeoutMs: timeoutMsFromOptions(opts),
      logDir: join(workdir, "logs"),
    });
    try {
      live = {
        source: describeTarget(target),
        tools: await listAllTools(connection, { timeoutMs: timeoutMsFromOptions(opts) }),
      };
    } finally {
      await connection.close();
    }
  }
  const drift = live && integrity.tools ? checkDrift(integrity.tools, live.tools) : undefined;
  let smoke: SmokeResult | undefined;
  if (quick !== undefined && integrity.problems.length === 0 && integrity.manifest) {
    smoke = await runSmokeTest(bundle, integrity.manifest, {
      prompts: quick,
      ...(target ? { server: target } : {}),
      timeoutMs: timeoutMsFromOptions(opts),
      onProgress: (done, total) => output.info(`smoke test: ${done}/${total}`),
    });
  }
  const passed = integrity.problems.length === 0 && drift === undefined && (smoke?.passed ?? true);

  output.result({
    bundle,
    passed,
    integrity: { checked: integrity.checked, problems: integrity.problems },
    drift: live ? { source: live.source, matches: drift === undefined, ...(drift ?? {}) } : null,
    smoke: smoke ?? null,
  });
  const lines = [`bundle: ${bundle}`];
  if (integrity.problems.length === 0)
    lines.push(
      `integrity: ok (${integrity.checked} files match SHA256SUMS; agent.yaml, tools.json and model metadata agree)`,
    );
  else {
    lines.push(`integrity: FAILED`);
    for (const p of integrity.problems) lines.push(`  ${p.file}: ${printable(p.message)}`);
  }
  if (live) {
    if (drift === undefined)
      lines.push(`toolset: matches ${printable(live.source)} (${integrity.manifest?.toolset.hash ?? ""})`);
    else lines.push(`toolset: differs from ${printable(live.source)}`, ...formatDrift(drift, printable));
  }
  if (quick !== undefined && !smoke) lines.push("smoke test: not run, the bundle failed its integrity check");
  if (smoke) {
    lines.push(
      `smoke test: ${smoke.passed ? "passed" : "FAILED"} on ${smoke.prompts} prompts (calls: ${printable(smoke.calls)})`,
    );
    for (const [metric, value] of Object.entries(smoke.metrics)) {
      const threshold = smoke.thresholds[metric];
      lines.push(
        `  ${metric.padEnd(22)} ${value === null ? "–" : value.toFixed(3)}${threshold !== undefined ? `  (≥ ${threshold})` : ""}`,
      );
    }
  }
  lines.push(passed ? "verify-bundle: passed" : "verify-bundle: FAILED");
  output.say(lines.join("\n"));
  if (!passed) return ExitCode.gateFailed;
}
