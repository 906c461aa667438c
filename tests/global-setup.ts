import { ensureTinyModel } from "./helpers/tiny-model.js";

/**
 * Trains the shared tiny model once, before any test file starts: test files that need it then
 * find it ready instead of waiting on each other's lock while the 2 CI cores are busy elsewhere.
 */
export default async function setup(): Promise<void> {
  const started = Date.now();
  const model = await ensureTinyModel();
  process.stderr.write(`tiny model ready in ${((Date.now() - started) / 1000).toFixed(0)} s: ${model.gguf}\n`);
}
