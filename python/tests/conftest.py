"""Shared fixtures: one tiny-model training run per session, on a fixed slice of the fixture data."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "data"
PYTHON_DIR = ROOT / "python"
TESTS = Path(__file__).resolve().parent
# Small enough for CI's 2 cores; dims stay multiples of 256 so k-quants apply.
TINY = {
    "tiny.max_samples": 48,
    "tiny.pretrain_epochs": 2,
    "tiny.vocab_size": 1024,
    "max_seq_length": 1024,
    "save_steps": 2,
    "seed": 7,
}


def write_samples(path: Path, n: int) -> Path:
    lines = (FIXTURES / "train.jsonl").read_text().splitlines()[:n]
    path.write_text("\n".join(lines) + "\n")
    return path


def run_trainer(
    args: list[str], env: dict | None = None, entry: list[str] | None = None
) -> tuple[int, list[dict], str]:
    """Runs `python -m mcp_forge_trainer ARGS`, or `python ENTRY… ARGS` (a test wrapper such as inject_oom.py,
    or `-m bench.gpu`)."""
    proc = subprocess.run(
        [sys.executable, *(entry or ["-m", "mcp_forge_trainer"]), *args],
        cwd=PYTHON_DIR,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
    )
    events = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    return proc.returncode, events, proc.stderr


def train(
    tmp: Path,
    data: Path,
    extra: dict | None = None,
    resume: bool = False,
    out: Path | None = None,
    dry_run: bool = False,
    env: dict | None = None,
    inject_oom_at_step: int = 0,
):
    config = {
        "data": str(data),
        "output_dir": str(out or tmp / "model"),
        "model": "tiny",
        "profile": "fast_dev",
        **TINY,
        **(extra or {}),
    }
    cfg_file = tmp / f"config-{len(list(tmp.glob('config-*.json')))}.json"
    cfg_file.write_text(json.dumps(config))
    return run_trainer(
        ["train", "--config", str(cfg_file), *(["--resume"] if resume else []), *(["--dry-run"] if dry_run else [])],
        env,
        [str(TESTS / "inject_oom.py"), str(inject_oom_at_step)] if inject_oom_at_step else None,
    )


@pytest.fixture(scope="session")
def data_file(tmp_path_factory) -> Path:
    return write_samples(tmp_path_factory.mktemp("data") / "train.jsonl", 48)


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory, data_file):
    tmp = tmp_path_factory.mktemp("tiny")
    code, events, stderr = train(tmp, data_file, {"max_steps": 6})
    assert code == 0, stderr[-3000:]
    done = next(e for e in events if e["event"] == "done")
    return {
        "tmp": tmp,
        "events": events,
        "done": done,
        "adapter": Path(done["adapterPath"]),
        "model_dir": tmp / "model",
    }
