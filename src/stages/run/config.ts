import { readConfigFile } from "../../core/config.js";
import { badInput } from "../../core/errors.js";

/**
 * The `run:` section of `mcp-forge.yaml`: every `mcp-forge run` option by its long name in
 * camelCase (`server`, `url`, `env` as a map, `header` as a map, `cwd`, `timeout`, `tools`,
 * `model`, `profile`, `samples`, `seed`, `quant`, `output`, `stub`, `execute`, `eval`, `timeBudget` (minutes), `set` as a map of trainer settings). Options given on the
 * command line win. The `generate:` and `qa:` sections are read by those stages.
 */
export const RUN_CONFIG_KEYS = {
  server: "string",
  url: "string",
  cwd: "string",
  timeout: "number",
  tools: "string",
  model: "string",
  profile: "string",
  samples: "number",
  seed: "number",
  quant: "string",
  output: "string",
  execute: "string",
  eval: "string",
  timeBudget: "number",
  stub: "boolean",
  env: "map",
  header: "map",
  set: "map",
} as const;
type Key = keyof typeof RUN_CONFIG_KEYS;
export type RunConfig = Partial<Record<Key, string | number | boolean | string[]>>;

/** Reads the run: section; a missing default file is empty, a missing named file an error. */
export async function readRunConfig(
  path: string | undefined,
): Promise<{ file?: string; text: string; config: RunConfig }> {
  const { file, text, doc } = await readConfigFile(path);
  if (file === undefined) return { text, config: {} };
  const section = (doc as Record<string, unknown> | null)?.run;
  if (section === undefined || section === null) return { file, text, config: {} };
  if (typeof section !== "object" || Array.isArray(section)) throw badInput(`${file}: /run must be a mapping`);
  const config: RunConfig = {};
  for (const [key, value] of Object.entries(section)) {
    const kind = RUN_CONFIG_KEYS[key as Key];
    if (!kind) {
      throw badInput(`${file}: /run/${key} is not a run option`, `known: ${Object.keys(RUN_CONFIG_KEYS).join(", ")}`);
    }
    config[key as Key] = checkValue(file, key, kind, value);
  }
  return { file, text, config };
}

function checkValue(file: string, key: string, kind: (typeof RUN_CONFIG_KEYS)[Key], value: unknown) {
  const fail = (expected: string) => badInput(`${file}: /run/${key} must be ${expected}, got ${JSON.stringify(value)}`);
  if (kind === "map") {
    if (!value || typeof value !== "object" || Array.isArray(value)) throw fail("a mapping of names to values");
    return Object.entries(value).map(([k, v]) => (key === "header" ? `${k}: ${String(v)}` : `${k}=${String(v)}`));
  }
  if (typeof value !== kind) throw fail(`a ${kind}`);
  return value as string | number | boolean;
}
