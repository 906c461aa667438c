"""Tiny-model training throughput and wall time on this machine, and export time: from python/,
`python -m bench.trainer --samples 2000`."""

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from mcp_forge_trainer.config import load_config
from mcp_forge_trainer.protocol import emit, run_command

FIXTURE_SCRIPT = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "data" / "make_memory_data.py"


def bench(samples: int, workdir: str | None = None) -> dict:
    # Here rather than at the top: under run_command, a missing or broken torch is an `error` event.
    from mcp_forge_trainer.export import export
    from mcp_forge_trainer.train import train

    work = Path(workdir or tempfile.mkdtemp(prefix="mcp-forge-bench-"))
    data_dir = work / "data"
    data_dir.mkdir(parents=True, exist_ok=True)
    # The fixture generator writes beside itself; run it on a copy so the repository stays untouched.
    script = data_dir / FIXTURE_SCRIPT.name
    script.write_text(FIXTURE_SCRIPT.read_text())
    (data_dir / "tools.json").write_text((FIXTURE_SCRIPT.parent / "tools.json").read_text())
    subprocess.run([sys.executable, str(script), str(samples), "40"], check=True)
    cfg = load_config(
        {
            "data": str(data_dir / "train.jsonl"),
            "output_dir": str(work / "model"),
            "model": "tiny",
            "profile": "fast_dev",
        }
    )
    t0 = time.time()
    done = train(cfg)
    train_wall = time.time() - t0
    t0 = time.time()
    exported = export(done["adapterPath"], str(work / "model.gguf"), "q8_0", tools_path=str(data_dir / "tools.json"))
    figures = {
        "machine": f"{os.cpu_count()} cores, {platform.processor() or platform.machine()}, CPU only (no GPU)",
        "samples": samples,
        "tokens": done["datasetStats"]["tokens"],
        "trainWallSeconds": round(train_wall, 1),
        "tinyBaseSeconds": done["timings"].get("tinyBaseSeconds"),
        "loraSeconds": done["timings"]["trainSeconds"],
        "loraTokensPerSecond": done["tokensPerSecond"],
        "firstLoss": done["firstLoss"],
        "finalLoss": done["finalLoss"],
        "exportSeconds": round(time.time() - t0, 1),
        "ggufBytes": exported["sizeBytes"],
    }
    print(json.dumps({"event": "bench", **figures}), file=sys.stderr)
    emit("bench", **figures)
    return figures


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.trainer", description=__doc__)
    p.add_argument("-v", "--verbose", action="store_true")
    p.add_argument("--samples", type=int, default=2000, help="samples of the fixture generator to train on")
    p.add_argument("--workdir", default=None, help="folder for the data, model and GGUF (default: a new one)")
    args = p.parse_args(argv)
    return run_command(lambda: bench(args.samples, args.workdir), args.verbose)


if __name__ == "__main__":
    sys.exit(main())
