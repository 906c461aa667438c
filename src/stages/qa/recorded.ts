import { outputHashes, recordedPath, withStage } from "../../core/state.js";
import { type QcOptions, runQc } from "./qc.js";
import type { QcReport } from "./report.js";

/**
 * The QC gate recorded as the QC_VALIDATING stage: what `qa` runs, and `generate` after writing its
 * data. A failed gate is recorded as `failed` with the gate's reasons; the caller decides what the
 * failure means (qa exits with the gate's code).
 */
export async function recordedQc(workdir: string, options: QcOptions): Promise<QcReport> {
  const { value } = await withStage(
    workdir,
    "QC_VALIDATING",
    {
      inputs: { data: recordedPath(workdir, options.data) },
      finish: async (report) => ({
        status: report.passed ? "done" : "failed",
        outputs: await outputHashes(workdir, Object.values(report.reports ?? {})),
        summary: {
          passed: report.passed,
          total: report.total,
          valid: report.valid,
          schemaPassRate: report.schemaPassRate,
          ...(report.cleanPath ? { clean: report.cleanPath } : {}),
        },
        ...(report.passed ? {} : { error: report.failures.join("; ") }),
      }),
    },
    () => runQc(options),
  );
  return value;
}
