import { statfs } from "node:fs/promises";
import { dirname } from "node:path";

import { findTrainerPython, SETUP_PYTHON_COMMAND } from "../../core/python.js";
import { probeLlama } from "./llama.js";
import { probePython, type PythonReport, TRAINER_PACKAGES } from "./python-probe.js";

/** ok: works; missing: a stage cannot run (exit 3); note: optional or worth knowing. */
export type CheckStatus = "ok" | "missing" | "note";

export interface Check {
  name: string;
  status: CheckStatus;
  detail: string;
  /** The stages (commands) that need it. */
  neededBy: string[];
  optional: boolean;
  /** What to run or set when it is missing. */
  fix?: string;
  facts?: Record<string, unknown>;
}

const MIN_NODE = [20, 19] as const;
const PYTHON_RANGE = { min: [3, 10], below: [3, 13] } as const;
const LOW_DISK_BYTES = 10 * 2 ** 30;
const LLAMA_STAGES = ["validate", "benchmark", "verify-bundle", "agent", "serve"];
const GIB = 2 ** 30;
const SETUP = `run \`${SETUP_PYTHON_COMMAND}\``;

/** Environment variables doctor reports as set or not; their values are never read into output. */
const KEYS: Array<{ name: string; neededBy: string[]; detail: string }> = [
  { name: "OPENAI_API_KEY", neededBy: ["generate --llm"], detail: "LLM-written samples" },
  { name: "GITHUB_TOKEN", neededBy: ["the GitHub Action"], detail: "PR comments and release uploads" },
  { name: "HF_TOKEN", neededBy: ["train"], detail: "gated base models on Hugging Face" },
];

export async function runChecks(workdir: string, env: NodeJS.ProcessEnv = process.env): Promise<Check[]> {
  const [trainer, llama, disk] = await Promise.all([trainerChecks(env), llamaCheck(), diskCheck(workdir)]);
  return [nodeCheck(), ...trainer, llama, disk, ...KEYS.map((key) => keyCheck(key, env))];
}

function nodeCheck(): Check {
  const [major = 0, minor = 0] = process.versions.node.split(".").map(Number);
  const ok = major > MIN_NODE[0] || (major === MIN_NODE[0] && minor >= MIN_NODE[1]);
  return {
    name: "node",
    status: ok ? "ok" : "missing",
    detail: `Node ${process.versions.node}${ok ? "" : `; need ${MIN_NODE.join(".")} or newer`}`,
    neededBy: ["all"],
    optional: false,
    ...(ok ? {} : { fix: "install Node 20.19 or newer (https://nodejs.org)" }),
  };
}

async function trainerChecks(env: NodeJS.ProcessEnv): Promise<Check[]> {
  const base = { neededBy: ["train", "export"], optional: false };
  const found = await findTrainerPython(env);
  if (!found) {
    const detail = env.MCP_FORGE_PYTHON
      ? `MCP_FORGE_PYTHON is ${env.MCP_FORGE_PYTHON}, which does not exist`
      : "python/.venv not found (the trainer's Python environment)";
    const fix = env.MCP_FORGE_PYTHON
      ? `point MCP_FORGE_PYTHON at an existing Python, or unset it and run \`${SETUP_PYTHON_COMMAND}\``
      : SETUP;
    return [{ name: "python", status: "missing", detail, fix, ...base }];
  }
  let report: PythonReport;
  try {
    report = await probePython(found.path);
  } catch (error) {
    return [{ name: "python", status: "missing", detail: (error as Error).message, fix: SETUP, ...base }];
  }
  const [major = 0, minor = 0] = report.python.split(".").map(Number);
  const v = major * 100 + minor;
  const pythonOk =
    v >= PYTHON_RANGE.min[0] * 100 + PYTHON_RANGE.min[1] && v < PYTHON_RANGE.below[0] * 100 + PYTHON_RANGE.below[1];
  const checks: Check[] = [
    {
      name: "python",
      status: pythonOk ? "ok" : "missing",
      detail: `Python ${report.python} at ${found.path} (from ${found.source})${pythonOk ? "" : "; the trainer needs 3.10–3.12"}`,
      ...base,
      ...(pythonOk ? {} : { fix: SETUP }),
      facts: { path: found.path, source: found.source, version: report.python },
    },
  ];
  const absent = Object.entries(report.packages)
    .filter(([, version]) => version === null)
    .map(([name]) => name);
  const neededBy = [...new Set(absent.flatMap((name) => TRAINER_PACKAGES[name] ?? []))];
  checks.push({
    name: "trainer packages",
    status: absent.length === 0 ? "ok" : "missing",
    detail:
      absent.length === 0
        ? Object.entries(report.packages)
            .map(([n, ver]) => `${n} ${ver}`)
            .join(", ")
        : `not installed: ${absent.join(", ")}`,
    neededBy: absent.length === 0 ? base.neededBy : neededBy,
    optional: false,
    ...(absent.length === 0 ? {} : { fix: SETUP }),
    facts: { packages: report.packages },
  });
  if (report.packages.torch) checks.push(gpuCheck(report));
  return checks;
}

/** A GPU makes training fast; without one, training still runs (slowly) on the CPU. */
function gpuCheck(report: PythonReport): Check {
  if (report.torchError) {
    return {
      name: "torch",
      status: "missing",
      detail: `torch does not import: ${report.torchError}`,
      neededBy: ["train", "export"],
      optional: false,
      fix: SETUP,
    };
  }
  const cuda = report.cuda;
  const devices = cuda?.devices ?? [];
  return {
    name: "gpu (torch)",
    status: cuda?.available ? "ok" : "note",
    detail: cuda?.available
      ? `CUDA ${cuda.version}: ${devices.map((d) => `${d.name} (${(d.vramBytes / GIB).toFixed(1)} GiB)`).join(", ")}`
      : "no CUDA GPU: training runs on the CPU (use a tiny model and --profile fast_dev)",
    neededBy: ["train"],
    optional: true,
    facts: { cudaAvailable: Boolean(cuda?.available), cudaVersion: cuda?.version ?? null, devices },
  };
}

async function llamaCheck(): Promise<Check> {
  try {
    const llama = await probeLlama();
    const gpu =
      llama.gpu === false
        ? "CPU only"
        : `${llama.gpu}${llama.gpuDevices.length ? `: ${llama.gpuDevices.join(", ")}` : ""} (${(llama.vramBytes / GIB).toFixed(1)} GiB VRAM)`;
    return {
      name: "llama.cpp",
      status: "ok",
      detail: `node-llama-cpp ${llama.buildType} binary loads (llama.cpp ${llama.release}), ${gpu}`,
      neededBy: LLAMA_STAGES,
      optional: false,
      facts: { ...llama },
    };
  } catch (error) {
    return {
      name: "llama.cpp",
      status: "missing",
      detail: `node-llama-cpp's binary does not load: ${(error as Error).message.split("\n")[0]}`,
      neededBy: LLAMA_STAGES,
      optional: false,
      fix: "reinstall the prebuilt binaries with `npm ci`, or build one with `npx --no node-llama-cpp source download`",
    };
  }
}

async function diskCheck(workdir: string): Promise<Check> {
  let dir = workdir;
  for (;;) {
    try {
      const stats = await statfs(dir);
      const free = stats.bavail * stats.bsize;
      const low = free < LOW_DISK_BYTES;
      return {
        name: "disk",
        status: low ? "note" : "ok",
        detail: `${(free / GIB).toFixed(1)} GiB free at ${dir}${low ? "; training and export need about 10 GiB for a small model" : ""}`,
        neededBy: ["train", "export"],
        optional: true,
        facts: { path: dir, freeBytes: free },
      };
    } catch (error) {
      const parent = dirname(dir);
      if ((error as NodeJS.ErrnoException).code !== "ENOENT" || parent === dir) {
        return {
          name: "disk",
          status: "note",
          detail: `cannot read free space at ${dir}: ${(error as Error).message}`,
          neededBy: ["train", "export"],
          optional: true,
        };
      }
      dir = parent;
    }
  }
}

function keyCheck(key: (typeof KEYS)[number], env: NodeJS.ProcessEnv): Check {
  const set = Boolean(env[key.name]);
  return {
    name: key.name,
    status: set ? "ok" : "note",
    detail: set ? "set" : `not set (optional: ${key.detail})`,
    neededBy: key.neededBy,
    optional: true,
    facts: { set },
  };
}
