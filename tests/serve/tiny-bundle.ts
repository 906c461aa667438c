import { cp, mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";

import { ensureTinyModel, type TinyModel } from "../helpers/tiny-model.js";
import { runCli } from "../support/cli.js";

export interface TinyBundle {
  model: TinyModel;
  /** A copy of the tiny model's work directory (tools.json, data/), safe to write reports into. */
  workdir: string;
  bundle: string;
  /** agent.yaml's name: the model name `serve` answers to. */
  name: string;
}

/**
 * The tiny model packed into a bundle under `dir`, as a user would: `mcp-forge pack`.
 * $MCP_FORGE_TINY_MODEL_JSON (a `.cache/tiny-model/<hash>/ready.json`) reuses a model already trained.
 */
export async function tinyBundle(dir: string): Promise<TinyBundle> {
  const ready = process.env.MCP_FORGE_TINY_MODEL_JSON;
  const model = ready ? (JSON.parse(await readFile(ready, "utf8")) as TinyModel) : await ensureTinyModel();
  const workdir = join(dir, "work");
  await mkdir(workdir, { recursive: true });
  await cp(join(model.workdir, "data"), join(workdir, "data"), { recursive: true });
  await cp(model.toolsPath, join(workdir, "tools.json"));
  const bundle = join(dir, "bundle");
  const name = "memory-agent";
  const packed = await runCli([
    "pack",
    "--model",
    model.gguf,
    "--tools",
    model.toolsPath,
    "--workdir",
    workdir,
    "--output",
    bundle,
    "--name",
    name,
  ]);
  if (packed.code !== 0) throw new Error(`pack exited ${packed.code}: ${packed.stderr}`);
  return { model, workdir, bundle, name };
}
