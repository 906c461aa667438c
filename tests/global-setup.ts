import type { TestProject } from "vitest/node";

import { ensureTinyModel } from "./helpers/tiny-model.js";
import { ensureFreshDist } from "./support/fresh-dist.js";

/**
 * Before any test file starts: rebuilds dist/ when tests/action would otherwise run a bundle older
 * than the sources (tests/support/fresh-dist.ts), and trains the shared tiny model once, so test
 * files that need it find it ready instead of waiting on each other's lock while the 2 CI cores are
 * busy elsewhere.
 */
export default async function setup(project: TestProject): Promise<void> {
  // The command line's file filters (vitest keeps them on its instance; not a public field).
  const filters = (project.vitest as unknown as { filenamePattern?: string[] }).filenamePattern;
  ensureFreshDist(filters, (line) => process.stderr.write(line));
  const started = Date.now();
  const model = await ensureTinyModel();
  process.stderr.write(`tiny model ready in ${((Date.now() - started) / 1000).toFixed(0)} s: ${model.gguf}\n`);
}
