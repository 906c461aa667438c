"""Training that fits a time budget.

Before the first training loop, each phase's throughput is measured on this machine: a few optimizer
steps on a random slice of the data, the model's weights put back afterwards. From it come the
estimate printed before training (tokens, tokens/s, minutes) and, under a budget, the plan: every
phase's steps scaled by the same factor, so the recipe keeps its proportions and each learning-rate
schedule still runs to its end. A deadline callback ends a loop that runs slower than measured, with a
checkpoint, and training finishes cleanly. The report says how much of the recipe was trained and how
far the estimate was from the time the loops took."""

import math
import random
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path

from transformers import TrainerCallback

from . import shared_prefix
from .protocol import emit, log
from .results import BudgetReport, TrainingEstimate

CALIBRATION_STEPS = 12  # timed steps at most, after one untimed warm-up step
CALIBRATION_SECONDS = 8.0  # the timed steps stop once they have taken this long (one at least): on a
# loaded machine single steps vary threefold, and a shorter window misjudges the loops that follow
FINISH_SECONDS = 5.0  # after the last loop: saving the adapter (and the tiny base between the loops)
# Evaluating a token (forward only) costs about a third of training it (forward and backward).
EVAL_SPEEDUP = 3.0


class DryRun(Exception):
    """Raised once the estimate is out when nothing is to be trained (`train --dry-run`)."""


@dataclass
class Phase:
    """One training loop of the recipe: what it would train in full, and how fast this machine trains it."""

    name: str  # pretrain | lora
    full_steps: int
    full_tokens: int
    tokens_per_second: float
    overhead_seconds: float  # starting a loop: the Trainer's set-up before its first step
    # The same in this process's CPU time, which other processes' load does not change.
    cpu_tokens_per_second: float = 0.0
    cpu_overhead_seconds: float = 0.0
    steps: int = 0  # what the plan gives it
    steps_done: int = 0  # steps trained, a resumed run's earlier ones included
    steps_run: int = 0  # steps this process trained, in `seconds_taken` (`cpu_seconds_taken`)
    seconds_taken: float = 0.0
    cpu_seconds_taken: float = 0.0

    def tokens(self, steps: int) -> float:
        return self.full_tokens * steps / max(self.full_steps, 1)

    def seconds(self, steps: int) -> float:
        return self.overhead_seconds + self.tokens(steps) / self.tokens_per_second

    def cpu_seconds(self, steps: int) -> float:
        return self.cpu_overhead_seconds + self.tokens(steps) / self.cpu_tokens_per_second

    def steps_within(self, seconds: float) -> int:
        """The most steps (at least one) that fit in `seconds`."""
        per_step = self.tokens(1) / self.tokens_per_second
        return max(1, min(self.full_steps, math.floor((seconds - self.overhead_seconds) / max(per_step, 1e-9))))


def steps_per_epoch(sequences: int, batch_size: int, grad_accum: int) -> int:
    """Optimizer steps in one epoch, counted as transformers' Trainer counts them."""
    return max(1, math.ceil(math.ceil(sequences / batch_size) / grad_accum))


def token_count(columns: dict) -> int:
    return sum(len(ids) for ids in columns["input_ids"])


class Budget:
    """The time budget of one `train` (seconds; 0: none), its plan, deadlines and report."""

    def __init__(self, seconds: float, started: float, dry_run: bool = False):
        self.seconds = seconds or None
        self.started = started
        self.dry_run = dry_run
        self.phases: dict[str, Phase] = {}
        self.deadlines: dict[str, float] = {}
        self.cut_by_deadline = False
        self.estimated: TrainingEstimate | None = None
        self.planned_at: float | None = None  # seconds into the budget when the plan was made

    # --- measuring -----------------------------------------------------------------------------------

    def measure(
        self, name: str, model, tokenizer, columns: dict, cfg, backend, full_steps: int, full_tokens: int
    ) -> Phase:
        """Times a few steps of phase `name` on a random slice of `columns` and keeps the phase."""
        wall, cpu = measure_throughput(name, model, tokenizer, columns, cfg, backend)
        phase = Phase(name, full_steps, full_tokens, *wall, *cpu, steps=full_steps)
        log.info(
            "%s: %.0f tokens/s measured on this machine (%.1f s to start a loop)",
            name,
            phase.tokens_per_second,
            phase.overhead_seconds,
        )
        self.phases[name] = phase
        return phase

    # --- planning ------------------------------------------------------------------------------------

    def remaining(self) -> float | None:
        return None if self.seconds is None else self.started + self.seconds - time.time()

    def plan(self, reserve_seconds: float) -> TrainingEstimate:
        """Scales every measured phase to what fits in the budget, less `reserve_seconds` for the work
        that follows the loops; emits the estimate. Raises DryRun when nothing is to be trained."""
        phases = list(self.phases.values())
        full_seconds = sum(p.seconds(p.full_steps) for p in phases)
        self.planned_at = time.time() - self.started
        remaining = self.remaining()
        available = None if remaining is None else remaining - reserve_seconds - FINISH_SECONDS
        if available is not None and full_seconds > available:
            per_token = sum(p.full_tokens / p.tokens_per_second for p in phases)
            scale = max(0.0, available - sum(p.overhead_seconds for p in phases)) / per_token
            for p in phases:
                p.steps = max(1, min(p.full_steps, math.floor(p.full_steps * scale)))
        if available is not None and self.seconds is not None:  # available is None when seconds is
            planned = max(sum(p.seconds(p.steps) for p in phases), 1e-9)
            end = time.time()
            for p in phases:  # each loop may run until the end of its share of the time
                end += p.seconds(p.steps) / planned * max(available, 0.0)
                self.deadlines[p.name] = end
            self.deadlines["end"] = self.started + self.seconds - reserve_seconds - FINISH_SECONDS
        tokens = sum(p.tokens(p.steps) for p in phases)
        full_tokens = sum(p.full_tokens for p in phases)
        seconds = sum(p.seconds(p.steps) for p in phases)
        self.estimated = {
            "tokens": round(tokens),
            "fullTokens": full_tokens,
            "tokensPerSecond": round(
                tokens / max(sum(p.tokens(p.steps) / p.tokens_per_second for p in phases), 1e-9), 1
            ),
            "seconds": round(seconds, 1),
            "fullSeconds": round(full_seconds, 1),
            "budgetSeconds": self.seconds,
            "fraction": round(tokens / max(full_tokens, 1), 4),
            "phases": [
                {
                    "phase": p.name,
                    "steps": p.steps,
                    "fullSteps": p.full_steps,
                    "tokens": round(p.tokens(p.steps)),
                    "fullTokens": p.full_tokens,
                    "tokensPerSecond": round(p.tokens_per_second, 1),
                    "seconds": round(p.seconds(p.steps), 1),
                }
                for p in phases
            ],
            "dryRun": self.dry_run,
        }
        emit("estimate", **self.estimated)
        if self.dry_run:
            raise DryRun()
        return self.estimated

    def refit(self, name: str, reserve_seconds: float) -> int:
        """A phase's steps, fitted again to the time left when it starts (an earlier loop may have run
        slower than measured)."""
        phase = self.phases[name]
        remaining = self.remaining()
        if remaining is not None:
            left = remaining - reserve_seconds - FINISH_SECONDS
            phase.steps = min(phase.steps, phase.steps_within(left))
            self.deadlines[name] = self.deadlines["end"]
        return phase.steps

    # --- during and after training -------------------------------------------------------------------

    def deadline_callback(self, name: str, checkpoint: bool):
        """Stops phase `name` after the step that would cross its deadline (saving a checkpoint when
        `checkpoint`), so training goes on to its end with what it learned."""
        return Deadline(self, name, self.deadlines.get(name), checkpoint)

    def past_deadline(self) -> bool:
        end = self.deadlines.get("end")
        return end is not None and time.time() > end

    def record(self, name: str, steps_done: int, steps_run: int, seconds: float, cpu_seconds: float) -> None:
        if name in self.phases:
            phase = self.phases[name]
            phase.steps_done, phase.steps_run = steps_done, steps_run
            phase.seconds_taken, phase.cpu_seconds_taken = seconds, cpu_seconds

    def report(self) -> BudgetReport:
        """How much of the recipe was trained, and the estimate against the time the loops took."""
        phases = list(self.phases.values())
        full_tokens = sum(p.full_tokens for p in phases)
        trained = sum(p.tokens(min(p.steps_done, p.full_steps)) for p in phases)
        ran = [p for p in phases if p.steps_run]
        estimated = sum(p.seconds(p.steps_run) for p in ran)
        taken = sum(p.seconds_taken for p in ran)
        cpu_estimated = sum(p.cpu_seconds(p.steps_run) for p in ran)
        cpu_taken = sum(p.cpu_seconds_taken for p in ran)
        fraction = round(trained / full_tokens, 4) if full_tokens else 1.0
        return {
            "budgetSeconds": self.seconds,
            "fraction": fraction,
            "cut": None if fraction >= 1 else "deadline" if self.cut_by_deadline else "plan",
            "phases": [
                {
                    "phase": p.name,
                    "steps": p.steps_done,
                    "plannedSteps": p.steps,
                    "fullSteps": p.full_steps,
                    "tokens": round(p.tokens(p.steps_done)),
                    "fullTokens": p.full_tokens,
                    "seconds": round(p.seconds_taken, 2),
                    "estimatedSeconds": round(p.seconds(p.steps_run), 2),
                }
                for p in phases
            ],
            "estimatedSeconds": round(estimated, 2),
            "actualSeconds": round(taken, 2),
            "estimateError": round(taken / estimated - 1, 4) if estimated > 0 else None,
            # The same in the trainer's own CPU time: apart from the load other processes put on the
            # machine between measuring and training, which changes the wall-clock time alone.
            "cpuEstimateError": round(cpu_taken / cpu_estimated - 1, 4) if cpu_estimated > 0 else None,
            "fullSeconds": self.estimated["fullSeconds"] if self.estimated else None,
            # Start-up before the plan (imports, the tiny tokenizer, measuring): what no budget can shorten.
            "plannedAtSeconds": round(self.planned_at, 2) if self.planned_at is not None else None,
        }


class Deadline(TrainerCallback):
    """Stops phase `name` after the step that would cross `deadline` (None: never), saving a checkpoint
    when `checkpoint`; marks the budget as cut by its deadline."""

    def __init__(self, budget: Budget, name: str, deadline: float | None, checkpoint: bool):
        self.budget, self.name, self.deadline, self.checkpoint = budget, name, deadline, checkpoint

    def on_train_begin(self, args, state, control, **kw):
        self.t0, self.step0 = time.time(), state.global_step

    def on_step_end(self, args, state, control, **kw):
        if self.deadline is None or state.global_step >= state.max_steps:
            return
        per_step = (time.time() - self.t0) / max(state.global_step - self.step0, 1)
        if time.time() + per_step > self.deadline:
            log.warning(
                "%s: the time budget is reached at step %d of %d; stopping here",
                self.name,
                state.global_step,
                state.max_steps,
            )
            emit("budget_reached", phase=self.name, step=state.global_step, total=state.max_steps)
            self.budget.cut_by_deadline = True
            control.should_training_stop = True
            control.should_save = self.checkpoint


class Timer(TrainerCallback):
    """Marks the calibration steps: when the first began, and the wall clock, CPU time and tokens seen at
    the end of each; stops once they span CALIBRATION_SECONDS."""

    def __init__(self):
        self.marks: list[tuple[float, float, int]] = []  # wall clock, CPU time, tokens seen
        self.first_step: list[tuple[float, float]] = []

    def on_step_begin(self, args, state, control, **kw):
        if not self.first_step:
            self.first_step.append((time.time(), time.process_time()))

    def on_step_end(self, args, state, control, **kw):
        self.marks.append((time.time(), time.process_time(), state.num_input_tokens_seen))
        if len(self.marks) >= 2 and self.marks[-1][0] - self.marks[0][0] >= CALIBRATION_SECONDS:
            control.should_training_stop = True


def calibration_sample(name: str, cfg, columns: dict) -> dict:
    """The rows the calibration steps of phase `name` train on: CALIBRATION_STEPS + 1 steps' worth."""
    per_step = cfg.tiny.pretrain_batch_size if name == "pretrain" else cfg.batch_size * cfg.grad_accum
    n, needed = len(columns["input_ids"]), per_step * (CALIBRATION_STEPS + 1)
    if shared_prefix.applies(cfg, name):
        # Training's own first batches, each of rows that share their prefix: random rows rarely do
        # (the generator rotates system prompts), and timed that way SmolLM2 trained at half the speed
        # its loop then reached.
        columns = shared_prefix.order_columns(columns, cfg.batch_size, cfg.seed)
        rows = [i % n for i in range(needed)]
    else:
        rng = random.Random(cfg.seed)
        rows = [rng.randrange(n) for _ in range(needed)]
    if name == "lora" and packed(cfg):  # enough sequences to fill the packed rows of every step
        while sum(len(columns["input_ids"][i]) for i in rows) < needed * cfg.max_seq_length:
            rows += rows[:per_step]
    return {key: [values[i] for i in rows] for key, values in columns.items()}


def measure_throughput(
    name: str, model, tokenizer, columns: dict, cfg, backend
) -> tuple[tuple[float, float], tuple[float, float]]:
    """(tokens per second, seconds to start a loop) of phase `name`, in wall-clock time and in this
    process's CPU time: up to CALIBRATION_STEPS timed
    optimizer steps after a warm-up step, on sequences drawn at random from `columns`. The warm-up
    step's extra cost (first kernels) is not counted: the loop that follows in this process does not pay
    it again. The model's trainable weights are restored afterwards; each Trainer seeds itself, so the
    training that follows is the same as without this."""
    import torch

    from .train import Settings, phase_dataset, sft_args, trainer_class  # train imports this module

    sample = calibration_sample(name, cfg, columns)
    trial = replace(
        cfg,
        max_steps=CALIBRATION_STEPS + 1,
        warmup_steps=0,
        logging_steps=10**6,
        save_steps=10**6,
        tiny=replace(cfg.tiny, pretrain_epochs=1.0),
    )
    timer = Timer()
    marks, first_step = timer.marks, timer.first_step
    kept = {key: p.detach().clone() for key, p in model.named_parameters() if p.requires_grad}
    with tempfile.TemporaryDirectory(prefix="mcp-forge-calibrate-") as out:
        trainer = trainer_class(cfg, name)(
            model=model,
            args=sft_args(
                trial, Path(out), Settings(cfg.batch_size, cfg.grad_accum, cfg.max_seq_length), name, backend
            ),
            train_dataset=phase_dataset(name, cfg, sample),
            processing_class=tokenizer,
            callbacks=[timer],
        )
        begin = (time.time(), time.process_time())
        trainer.train()
        del trainer
    with torch.no_grad():
        for key, p in model.named_parameters():
            if key in kept:
                p.copy_(kept[key])
    if len(marks) < 2:  # a single step: its time, warm-up included, is all there is
        marks.insert(0, (*first_step[0], 0))
    (t0, c0, tokens0), (t1, c1, tokens1) = marks[0], marks[-1]
    tokens = max(tokens1 - tokens0, 1)
    return (
        (tokens / max(t1 - t0, 1e-6), first_step[0][0] - begin[0]),
        (tokens / max(c1 - c0, 1e-6), first_step[0][1] - begin[1]),
    )


def pretrain_recipe(cfg, columns: dict) -> tuple[int, int]:
    """(steps, tokens) of the tiny model's whole pre-training."""
    per_epoch = steps_per_epoch(len(columns["input_ids"]), cfg.tiny.pretrain_batch_size, 1)
    return math.ceil(cfg.tiny.pretrain_epochs * per_epoch), round(cfg.tiny.pretrain_epochs * token_count(columns))


def lora_recipe(cfg, columns: dict) -> tuple[int, int]:
    """(steps, tokens) of the whole LoRA training: max_steps when set, else the epochs. Packed, the
    sequences fill rows of max_seq_length (best-fit packing leaves little room)."""
    rows = math.ceil(token_count(columns) / cfg.max_seq_length) if packed(cfg) else len(columns["input_ids"])
    per_epoch = steps_per_epoch(rows, cfg.batch_size, cfg.grad_accum)
    steps = cfg.max_steps if cfg.max_steps > 0 else math.ceil(cfg.epochs * per_epoch)
    return steps, round(token_count(columns) * steps / per_epoch)


def pretrain_epochs_for(steps: int, cfg, sequences: int) -> float:
    """Epochs that make transformers' Trainer run exactly `steps` pre-training steps (it rounds up);
    below one epoch the tiny model sees that share of the samples, each once."""
    per_epoch = steps_per_epoch(sequences, cfg.tiny.pretrain_batch_size, 1)
    return math.floor(steps / per_epoch * 1e6) / 1e6


def eval_seconds(budget: Budget, eval_data: str | None, mean_tokens: float) -> float:
    """The eval loss's time after training: its sequences, forward only, at the LoRA phase's speed."""
    lora = budget.phases.get("lora")
    if not eval_data or lora is None:
        return 0.0
    with open(eval_data, encoding="utf-8") as f:
        count = sum(1 for line in f if line.strip())
    return count * mean_tokens / (lora.tokens_per_second * EVAL_SPEEDUP)


def plan_tiny(
    budget: Budget, model, tokenizer, columns: dict, lora_columns: dict, cfg, backend, between_seconds: float
) -> None:
    """Before the tiny model's pre-training: measures both loops (LoRA on a copy of the model), plans
    them, and sets the pre-training epochs and the LoRA steps the plan gives. `between_seconds`: the
    work between the loops (encoding the samples again)."""
    import copy

    from . import models

    budget.measure("pretrain", model, tokenizer, columns, cfg, backend, *pretrain_recipe(cfg, columns))
    budget.measure(
        "lora",
        models.add_lora(copy.deepcopy(model), cfg, backend),
        tokenizer,
        lora_columns,
        cfg,
        backend,
        *lora_recipe(cfg, lora_columns),
    )
    budget.plan(between_seconds + eval_seconds(budget, cfg.eval_data, mean_length(lora_columns)))
    pretrain = budget.phases["pretrain"]
    if pretrain.steps < pretrain.full_steps:
        cfg.tiny.pretrain_epochs = pretrain_epochs_for(pretrain.steps, cfg, len(columns["input_ids"]))
    set_lora_steps(budget, cfg)


def plan_lora(budget: Budget, model, tokenizer, columns: dict, cfg, backend, checkpoint: Path | None) -> None:
    """Before the LoRA loop: measures and plans it (or fits the plan made before pre-training to the time
    left) and sets its steps. A resumed training keeps the steps it started with, so its learning-rate
    schedule is the same."""
    import json

    reserve = eval_seconds(budget, cfg.eval_data, mean_length(columns)) if "lora" in budget.phases else 0.0
    if "lora" in budget.phases:
        budget.refit("lora", reserve)
    else:
        budget.measure("lora", model, tokenizer, columns, cfg, backend, *lora_recipe(cfg, columns))
        budget.plan(eval_seconds(budget, cfg.eval_data, mean_length(columns)))
    if checkpoint is not None:
        started_with = json.loads((checkpoint / "trainer_state.json").read_text())["max_steps"]
        budget.phases["lora"].steps = started_with
        if started_with != budget.phases["lora"].full_steps:
            cfg.max_steps = started_with
        return
    set_lora_steps(budget, cfg)


def set_lora_steps(budget: Budget, cfg) -> None:
    lora = budget.phases["lora"]
    if lora.steps < lora.full_steps:
        cfg.max_steps = lora.steps


def mean_length(columns: dict) -> float:
    return token_count(columns) / max(len(columns["input_ids"]), 1)


def packed(cfg) -> bool:
    """Whether LoRA packs sequences into rows (the `packing` setting)."""
    return bool(getattr(cfg, "packing", False))
