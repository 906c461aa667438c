import { execa } from "execa";

/** Python packages the trainer imports, with the stages that need each. */
export const TRAINER_PACKAGES: Record<string, string[]> = {
  torch: ["train", "export"],
  transformers: ["train", "export"],
  peft: ["train", "export"],
  trl: ["train"],
  accelerate: ["train"],
  datasets: ["train"],
  gguf: ["export"],
  llama_cpp: ["export"],
  mcp_forge_trainer: ["train", "export"],
};

/** Import names whose distribution (the name pip and its metadata use) differs. */
const DISTRIBUTIONS: Record<string, string> = { llama_cpp: "llama-cpp-python" };

/** What the trainer's Python reports about itself. */
export interface PythonReport {
  python: string;
  /** Package → installed version, or null when it cannot be imported. */
  packages: Record<string, string | null>;
  cuda?: { available: boolean; version: string | null; devices: Array<{ name: string; vramBytes: number }> };
  torchError?: string;
}

// Versions come from package metadata (fast); only torch is imported, to ask it about CUDA.
const PROBE = `
import importlib.util, importlib.metadata as md, json, platform, sys
names = json.loads(sys.argv[1])
dists = json.loads(sys.argv[2])
out = {"python": platform.python_version(), "packages": {}}
for name in names:
    try:
        found = importlib.util.find_spec(name) is not None
    except Exception:
        found = False
    if not found:
        out["packages"][name] = None
        continue
    try:
        out["packages"][name] = md.version(dists.get(name, name))
    except Exception:
        out["packages"][name] = "unknown"
if out["packages"].get("torch"):
    try:
        import torch
        ok = torch.cuda.is_available()
        devices = []
        for i in range(torch.cuda.device_count() if ok else 0):
            p = torch.cuda.get_device_properties(i)
            devices.append({"name": p.name, "vramBytes": p.total_memory})
        out["cuda"] = {"available": ok, "version": torch.version.cuda, "devices": devices}
    except Exception as e:
        out["torchError"] = type(e).__name__ + ": " + str(e)
print(json.dumps(out))
`;

/** Runs the probe in `python`; throws with the interpreter's own words when it cannot run. */
export async function probePython(python: string, timeoutMs = 120_000): Promise<PythonReport> {
  const result = await execa(
    python,
    ["-c", PROBE, JSON.stringify(Object.keys(TRAINER_PACKAGES)), JSON.stringify(DISTRIBUTIONS)],
    {
      reject: false,
      timeout: timeoutMs,
      env: { PYTHONDONTWRITEBYTECODE: "1" },
    },
  );
  if (result.exitCode !== 0 || result.failed) {
    const why = (result.stderr || result.shortMessage || "").trim().split("\n").slice(-3).join(" ");
    throw new Error(`${python} could not run the probe: ${why}`);
  }
  const lastLine = result.stdout.trim().split("\n").pop() ?? "";
  try {
    return JSON.parse(lastLine) as PythonReport;
  } catch {
    throw new Error(`${python} printed something that is not the probe's JSON: ${lastLine.slice(0, 200)}`);
  }
}
