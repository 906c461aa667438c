"""Tests only: runs `python -m mcp_forge_trainer ARGS…` with a CUDA out-of-memory error raised when LoRA
optimizer step N begins, on the first attempt only: `python tests/inject_oom.py N train --config …`.
The trainer has no hook for it; this script adds a callback to each LoRA phase it runs."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402
from transformers import TrainerCallback  # noqa: E402

from mcp_forge_trainer import train as training  # noqa: E402
from mcp_forge_trainer.__main__ import main  # noqa: E402


class InjectOom(TrainerCallback):
    injected = False

    def __init__(self, at_step: int):
        self.at_step = at_step

    def on_step_begin(self, args, state, control, **kw):
        if not InjectOom.injected and state.global_step + 1 == self.at_step:
            InjectOom.injected = True
            raise torch.OutOfMemoryError(f"CUDA out of memory (injected at step {self.at_step} by tests/inject_oom.py)")


def with_injected_oom(at_step: int) -> None:
    run_phase = training.run_phase

    def run_phase_injecting(phase, *args, **kwargs):
        if phase == "lora":
            kwargs["extra_callbacks"] = (InjectOom(at_step), *kwargs.get("extra_callbacks", ()))
        return run_phase(phase, *args, **kwargs)

    training.run_phase = run_phase_injecting


if __name__ == "__main__":
    with_injected_oom(int(sys.argv[1]))
    sys.exit(main(sys.argv[2:]))
