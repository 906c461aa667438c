import { mkdir, mkdtemp, readFile, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { execa } from "execa";

import { PACKAGE_ROOT } from "../core/python.js";
import { protocolEvents, requireTrainerPython, trainerEnv, type TrainerEvent } from "../core/trainer-process.js";
import type { Bench } from "./index.js";

/**
 * Tiny-model training (2,000 samples) and q8_0 export on this machine: `python -m bench.trainer`
 * (python/bench/trainer.py) in the trainer's environment, its figures read from its protocol.
 */
export function trainBench(samples = 2000): Bench {
  return {
    name: "trainer",
    async run() {
      const dir = await mkdtemp(join(tmpdir(), "forge-bench-train-"));
      const python = await requireTrainerPython();
      const child = execa(python.path, ["-m", "bench.trainer", "--samples", String(samples), "--workdir", dir], {
        reject: false,
        stdin: "ignore",
        stderr: { file: join(dir, "bench.log") },
        env: trainerEnv(),
      });
      let figures: TrainerEvent | undefined;
      let error: TrainerEvent | undefined;
      for await (const event of protocolEvents(child.stdout)) {
        if (event.event === "bench") figures ??= event;
        if (event.event === "error") error = event;
      }
      const result = await child;
      if (!figures)
        throw new Error(
          `the trainer bench failed: ${String(error?.message ?? `exit ${result.exitCode ?? result.signal}`)} (log: ${dir}/bench.log)`,
        );
      return Object.fromEntries(
        Object.entries(figures)
          .filter(([k]) => k !== "event" && k !== "time")
          .map(([k, v]) => [k, typeof v === "number" ? v : String(v)]),
      );
    },
  };
}

const require = createRequire(import.meta.url);

/** The reference servers the estimate is checked on: a stdio command for a fresh scratch folder. */
const ESTIMATE_SERVERS: Record<
  string,
  (scratch: string) => Promise<{ command: string; env: string[]; yaml?: string }>
> = {
  memory: async (scratch) => ({
    command: nodeCommand("@modelcontextprotocol/server-memory"),
    env: [`MEMORY_FILE_PATH=${join(scratch, "memory.jsonl")}`],
  }),
  filesystem: async (scratch) => {
    // A few files to read, list and search: in an empty folder most calls fail and QC stops the run.
    const files = join(scratch, "files");
    await mkdir(join(files, "docs"), { recursive: true });
    await mkdir(join(files, "src"), { recursive: true });
    await writeFile(join(files, "notes.txt"), "Call the plumber on Tuesday.\nBuy stamps.\n");
    await writeFile(join(files, "docs", "plan.md"), "# Plan\n\n- ship the beta\n- write the changelog\n");
    await writeFile(join(files, "docs", "sales.csv"), "month,total\njan,120\nfeb,135\n");
    await writeFile(join(files, "src", "app.js"), "console.log('hello');\n");
    return {
      command: `${nodeCommand("@modelcontextprotocol/server-filesystem")} ${JSON.stringify(join(scratch, "files"))}`,
      env: [],
    };
  },
  everything: async () => ({ command: `${nodeCommand("@modelcontextprotocol/server-everything")} stdio`, env: [] }),
  // Its `thought` argument is free text that the offline generator can only fill with random words, so
  // QC's grounded-values check fails the data; the estimate does not depend on what the words say.
  "sequential-thinking": async () => ({
    command: nodeCommand("@modelcontextprotocol/server-sequential-thinking"),
    env: [],
    yaml: "qa:\n  maxUngroundedValues: 1\n",
  }),
};

function nodeCommand(pkg: string): string {
  return `node ${JSON.stringify(require.resolve(`${pkg}/dist/index.js`))}`;
}

/**
 * Training's estimate against the time it took, with the tiny model's recipe (4,000 samples, `run`'s
 * default budget on a machine without a GPU), from an empty work directory for each
 * reference server: `run --to TRAINING`. `npm run bench -- "training estimate" filesystem everything`
 * checks only the servers named. Run it alone on the machine: the figures are minutes of CPU time.
 */
export function trainEstimateBench(): Bench {
  return {
    name: "training estimate",
    async run(only) {
      const figures: Record<string, number | string> = {};
      for (const [name, server] of Object.entries(ESTIMATE_SERVERS).filter(
        ([name]) => only.length === 0 || only.includes(name),
      )) {
        const dir = await mkdtemp(join(tmpdir(), `forge-bench-estimate-${name}-`));
        const { command, env, yaml } = await server(dir);
        if (yaml) await writeFile(join(dir, "mcp-forge.yaml"), yaml);
        const args = [
          "run",
          "--workdir",
          join(dir, "work"),
          "--server",
          command,
          ...env.flatMap((e) => ["--env", e]),
          "--model",
          "tiny",
          "--to",
          "TRAINING",
          "--json",
        ];
        const run = await execa("node", [join(PACKAGE_ROOT, "bin", "mcp-forge.js"), ...args], {
          reject: false,
          cwd: dir,
        });
        const report = JSON.parse(
          await readFile(join(dir, "work", "reports", "train_report.json"), "utf8").catch(() => "null"),
        ) as {
          estimate?: {
            tokens: number;
            tokensPerSecond: number;
            seconds: number;
            fullSeconds: number;
            fraction: number;
          };
          fractionTrained?: number;
          budget?: { estimatedSeconds: number; actualSeconds: number; estimateError: number | null };
          timings?: { totalSeconds: number };
        } | null;
        if (!report?.estimate || !report.budget)
          throw new Error(
            `run on ${name} left no train report (exit ${run.exitCode}): ${String(run.stderr).slice(-2000)}`,
          );
        figures[`${name} tokens`] = report.estimate.tokens;
        figures[`${name} tokens/s measured`] = report.estimate.tokensPerSecond;
        figures[`${name} estimated min without a budget`] = Math.round(report.estimate.fullSeconds / 6) / 10;
        figures[`${name} estimated min`] = Math.round(report.estimate.seconds / 6) / 10;
        figures[`${name} fraction trained`] = report.fractionTrained ?? "-";
        figures[`${name} actual min (training loops)`] = Math.round(report.budget.actualSeconds / 6) / 10;
        figures[`${name} estimate error`] =
          report.budget.estimateError === null ? "-" : `${Math.round(report.budget.estimateError * 100)} %`;
        figures[`${name} whole TRAINING stage min`] = Math.round((report.timings?.totalSeconds ?? 0) / 6) / 10;
      }
      return figures;
    },
  };
}
