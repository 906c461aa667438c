import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runTrainer } from "../core/trainer-process.js";
import type { Bench } from "./index.js";

/** Tiny-model training (2,000 samples) and q8_0 export on this machine, through the Python trainer. */
export function trainBench(samples = 2000): Bench {
  return {
    name: "trainer",
    async run() {
      const dir = await mkdtemp(join(tmpdir(), "forge-bench-train-"));
      const run = await runTrainer(["bench", "--samples", String(samples), "--workdir", dir], { logFile: join(dir, "bench.log") });
      const figures = run.events.find((e) => e.event === "bench");
      if (!figures) throw new Error(`the trainer bench failed: ${String(run.error?.message ?? `exit ${run.exitCode}`)} (log: ${dir}/bench.log)`);
      return Object.fromEntries(
        Object.entries(figures)
          .filter(([k]) => k !== "event" && k !== "time")
          .map(([k, v]) => [k, typeof v === "number" ? v : String(v)]),
      );
    },
  };
}
