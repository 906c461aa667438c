import { execFile } from "node:child_process";
import { homedir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

import * as core from "@actions/core";

import { badInput, environmentMissing } from "../core/errors.js";
import { exists } from "../core/files.js";
import { restore, save } from "./cache.js";
import { actionRoot, saveConfig } from "./context.js";
import { readInputs } from "./inputs.js";
import { nodeModulesKey, venvKey } from "./keys.js";
import { secretsOf } from "./secrets.js";

const exec = promisify(execFile);

/**
 * Checks the inputs once, masks their secrets, and prepares what the stages need: the action's own
 * node_modules (node-llama-cpp's native binaries, which the bundle cannot hold) and, in full mode,
 * the trainer's Python. Both come from the cache when the lock files have not changed.
 */
export async function setup(): Promise<void> {
  const config = readInputs();
  for (const secret of secretsOf(config)) core.setSecret(secret);
  await installNodeModules(config.mode === "full");
  if (config.mode === "full" && !config.python) config.python = await trainerVenv();
  else if (config.mode === "full" && !(await exists(config.python))) {
    throw badInput(
      `input python: ${config.python} does not exist`,
      "give the path of a Python with the trainer installed (e.g. .venv/bin/python), or leave it empty for the action's cached venv",
    );
  }
  const path = await saveConfig(config);
  core.info(`mode ${config.mode} · work directory ${config.workdir}`);
  core.setOutput("config", path);
}

async function installNodeModules(withBinaries: boolean): Promise<void> {
  const root = actionRoot();
  if (await exists(join(root, "node_modules", "node-llama-cpp", "package.json"))) {
    core.info("node_modules: present");
    return;
  }
  if (!withBinaries && (await cliStarts(root))) {
    core.info("node_modules: not needed (the bundled CLI starts without node-llama-cpp)");
    return;
  }
  const modules = join(root, "node_modules");
  const key = await nodeModulesKey(join(root, "package-lock.json"), withBinaries);
  if ((await restore("node_modules", [modules], key)).result === "hit") return;
  // Every runtime dependency except node-llama-cpp is inside dist/; it is installed from the lock file so
  // its prebuilt binaries load as node-llama-cpp expects. Drift mode loads no model and skips the binaries.
  const args = [
    "ci",
    "--omit=dev",
    "--ignore-scripts",
    "--no-audit",
    "--no-fund",
    ...(withBinaries ? [] : ["--omit=optional"]),
  ];
  core.info(`npm ${args.join(" ")}`);
  await exec("npm", args, { cwd: root, maxBuffer: 64 * 1024 * 1024 });
  await save("node_modules", [modules], key);
}

/** A venv with the trainer, built by the action's python/setup.sh (which also fetches llama.cpp's converter), restored from the cache when its inputs are unchanged. */
async function trainerVenv(): Promise<string> {
  const root = actionRoot();
  const venv = join(homedir(), ".cache", "mcp-forge", "venv");
  const python = join(venv, "bin", "python");
  const gpu = await hasNvidiaGpu();
  const inputs = ["pyproject.toml", "requirements.lock", "setup.sh"].map((f) => join(root, "python", f));
  const key = `${await venvKey(inputs)}-${gpu ? "cuda" : "cpu"}`;
  if ((await restore("python venv", [venv], key)).result === "hit" && (await exists(python))) return python;
  const base = process.env.pythonLocation ? join(process.env.pythonLocation, "bin", "python3") : "python3";
  core.info(
    `building the trainer's venv with python/setup.sh (first run for these files${gpu ? ", with the CUDA extras" : ""})`,
  );
  try {
    await exec("bash", [join(root, "python", "setup.sh")], {
      env: { ...process.env, MCP_FORGE_VENV: venv, PYTHON: base },
      maxBuffer: 64 * 1024 * 1024,
    });
    if (gpu)
      await exec(python, ["-m", "pip", "install", "--quiet", `${join(root, "python")}[cuda]`], {
        maxBuffer: 64 * 1024 * 1024,
      });
  } catch (error) {
    throw environmentMissing(
      `cannot build the trainer's venv: ${(error as Error).message.split("\n")[0]}`,
      "add actions/setup-python (3.10–3.12) before this action, or set the input python to a Python with the trainer installed",
    );
  }
  await save("python venv", [venv], key);
  return python;
}

/** Drift mode loads no model: when no module of the CLI imports node-llama-cpp at start-up, nothing needs installing. */
async function cliStarts(root: string): Promise<boolean> {
  try {
    await exec(process.execPath, [join(root, "dist", "cli", "index.js"), "--version"]);
    return true;
  } catch {
    return false;
  }
}

async function hasNvidiaGpu(): Promise<boolean> {
  try {
    await exec("nvidia-smi", ["-L"]);
    return true;
  } catch {
    return false;
  }
}
