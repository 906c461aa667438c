import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

import { exists } from "./files.js";

/** The repository (or installed package) root: two levels above build/core or src/core. */
export const PACKAGE_ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

/** The venv that `npm run setup:python` creates. */
export const DEFAULT_VENV = join(PACKAGE_ROOT, "python", ".venv");

export const SETUP_PYTHON_COMMAND = "npm run setup:python";

export interface TrainerPython {
  path: string;
  source: "MCP_FORGE_PYTHON" | "python/.venv";
}

/** The Python that runs the trainer: `MCP_FORGE_PYTHON` if set, else the project's venv. */
export async function findTrainerPython(env: NodeJS.ProcessEnv = process.env): Promise<TrainerPython | undefined> {
  const fromEnv = env.MCP_FORGE_PYTHON;
  if (fromEnv) return (await exists(fromEnv)) ? { path: fromEnv, source: "MCP_FORGE_PYTHON" } : undefined;
  const venvPython = join(DEFAULT_VENV, "bin", "python");
  return (await exists(venvPython)) ? { path: venvPython, source: "python/.venv" } : undefined;
}
