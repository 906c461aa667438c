"""`train`: LoRA supervised fine-tuning with TRL's SFTTrainer, checkpoints, resume, OOM recovery."""

import gc
import json
import os
import shutil
import signal
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypedDict, overload

from transformers import TrainerCallback

from . import budget as budgeting
from . import models, shared_prefix
from .chat_templates import ensure_tool_template
from .config import TrainConfig, fit_seq_length
from .data import dataset_stats, encode_all, file_sha256, read_samples
from .protocol import TrainerError, emit, log
from .results import DryRunDone, LoopSummary, TrainDone, TrainTimings

STOP = threading.Event()
# The longest max_seq_length fitted to the data (a model may allow more; memory seldom does).
SEQ_LENGTH_LIMIT = 32768


def install_signal_handlers() -> None:
    """Ctrl-C / SIGTERM: checkpoint at the end of the current step, then stop. A second Ctrl-C
    stops at once (the CLI also forwards SIGTERM after the terminal's SIGINT, so that one waits)."""
    interrupts = {"count": 0}

    def handler(signum, _frame):
        if signum == signal.SIGINT:
            interrupts["count"] += 1
            if interrupts["count"] > 1:
                signal.signal(signum, signal.SIG_DFL)
                os.kill(os.getpid(), signum)
                return
        if not STOP.is_set():
            log.warning("signal %d: saving a checkpoint and stopping after this step", signum)
        STOP.set()

    signal.signal(signal.SIGINT, handler)
    signal.signal(signal.SIGTERM, handler)


@dataclass
class Settings:
    """What OOM recovery may change between attempts; the effective batch stays the same."""

    batch_size: int
    grad_accum: int
    max_seq_length: int

    def after_oom(self, min_seq_length: int) -> "Settings | None":
        if self.batch_size > 1:
            return Settings(self.batch_size // 2, self.grad_accum * 2, self.max_seq_length)
        if self.max_seq_length > min_seq_length:
            return Settings(1, self.grad_accum, max(min_seq_length, self.max_seq_length // 2))
        return None


def is_oom(error: BaseException) -> bool:
    import torch

    return isinstance(error, torch.OutOfMemoryError) or (
        isinstance(error, RuntimeError) and "out of memory" in str(error).lower()
    )


def latest_checkpoint(directory: Path) -> Path | None:
    found = [p for p in directory.glob("checkpoint-*") if p.is_dir() and (p / "trainer_state.json").is_file()]
    return max(found, key=lambda p: int(p.name.split("-")[1]), default=None)


class Progress(TrainerCallback):
    """Reports a phase's steps and checkpoints on the protocol, and stops at the end of the step after
    SIGINT/SIGTERM (with a checkpoint)."""

    def __init__(self, phase: str):
        self.phase = phase

    def on_train_begin(self, args, state, control, **kw):
        self.t0, self.tokens0, self.step0 = time.time(), state.num_input_tokens_seen, state.global_step

    def on_step_end(self, args, state, control, **kw):
        if STOP.is_set() or state.global_step >= state.max_steps:
            control.should_save = True
        if STOP.is_set():
            control.should_training_stop = True

    def on_log(self, args, state, control, logs=None, **kw):
        if not logs or "loss" not in logs:
            return
        elapsed = max(time.time() - self.t0, 1e-6)
        done = max(state.global_step - self.step0, 1)
        emit(
            "step",
            phase=self.phase,
            step=state.global_step,
            total=state.max_steps,
            loss=round(float(logs["loss"]), 5),
            lr=logs.get("learning_rate"),
            tokensPerSecond=round((state.num_input_tokens_seen - self.tokens0) / elapsed, 1),
            etaSeconds=round(elapsed / done * (state.max_steps - state.global_step), 1),
            epoch=round(state.epoch or 0, 3),
        )

    def on_save(self, args, state, control, **kw):
        emit(
            "checkpoint",
            phase=self.phase,
            step=state.global_step,
            path=str(Path(args.output_dir) / f"checkpoint-{state.global_step}"),
        )


def sft_args(cfg: TrainConfig, out_dir: Path, settings: Settings, phase: str, backend: models.Backend):
    from trl import SFTConfig

    pretrain = phase == "pretrain"
    cuda = backend.device == "cuda"
    import torch

    return SFTConfig(
        output_dir=str(out_dir),
        per_device_train_batch_size=cfg.tiny.pretrain_batch_size if pretrain else settings.batch_size,
        # The held-out rows are ordered as the training rows are: batches of this size share their prefix.
        per_device_eval_batch_size=settings.batch_size,
        gradient_accumulation_steps=1 if pretrain else settings.grad_accum,
        learning_rate=cfg.tiny.pretrain_lr if pretrain else cfg.learning_rate,
        num_train_epochs=cfg.tiny.pretrain_epochs if pretrain else cfg.epochs,
        max_steps=-1 if pretrain else cfg.max_steps,
        warmup_steps=cfg.warmup_steps,
        lr_scheduler_type=cfg.lr_scheduler,
        weight_decay=0.0 if not pretrain else 0.01,
        logging_steps=cfg.logging_steps,
        save_strategy="no" if pretrain else "steps",
        save_steps=cfg.save_steps,
        save_total_limit=cfg.save_total_limit,
        max_length=settings.max_seq_length,
        seed=cfg.seed,
        report_to=[],
        disable_tqdm=True,
        use_cpu=not cuda,
        bf16=torch.cuda.is_bf16_supported()
        if cuda
        else (not pretrain and cfg.cpu_bf16 and cfg.pretrained() and models.cpu_has_bf16()),
        gradient_checkpointing=cuda and backend.name != "unsloth",
        dataloader_num_workers=0,
        include_num_input_tokens_seen="non_padding",
        # train reports the eval loss only: otherwise evaluate keeps every batch's logits (for the main
        # command's 35 held-out SmolLM2 samples, 35 × 1,650 tokens × 49,152 float32s: 11 GB).
        prediction_loss_only=True,
        # Packed rows go through padding-free batches with position ids restarting at each sequence,
        # from which transformers builds a block-diagonal mask: no token attends across samples.
        packing=cfg.packing and not pretrain,
        packing_strategy="bfd",
        train_sampling_strategy=(
            "sequential"
            if shared_prefix.applies(cfg, phase)
            else "group_by_length"
            if cfg.group_by_length and not pretrain
            else "random"
        ),
        torch_compile=cfg.torch_compile and not pretrain,
        dataset_num_proc=None,
    )


def phase_dataset(phase: str, cfg: TrainConfig, columns: dict):
    from datasets import Dataset

    full_loss = phase == "pretrain" and cfg.tiny.pretrain_loss == "all"
    if shared_prefix.applies(cfg, phase):
        columns = shared_prefix.order_columns(columns, cfg.batch_size, cfg.seed)
    return Dataset.from_dict({"input_ids": columns["input_ids"]} if full_loss else columns)


def trainer_class(cfg: TrainConfig, phase: str):
    from trl import SFTTrainer

    return shared_prefix.trainer_class() if shared_prefix.applies(cfg, phase) else SFTTrainer


class PhaseResult(TypedDict):
    """One phase trained: its summary, the trained model and the trainer (for the eval loss)."""

    summary: LoopSummary
    model: Any
    trainer: Any


def run_phase(
    phase: str,
    make_model,
    tokenizer,
    columns: dict,
    cfg: TrainConfig,
    out_dir: Path,
    backend: models.Backend,
    resume: bool,
    extra_callbacks: tuple = (),
) -> PhaseResult:
    """Trains one phase to the end, recovering from out-of-memory errors. Returns the summary."""
    import torch

    settings = Settings(cfg.batch_size, cfg.grad_accum, cfg.max_seq_length)
    retried = False
    while True:
        model = make_model()
        trainer = None
        try:
            trainer = trainer_class(cfg, phase)(
                model=model,
                args=sft_args(cfg, out_dir, settings, phase, backend),
                train_dataset=phase_dataset(phase, cfg, columns),
                processing_class=tokenizer,
                callbacks=[Progress(phase), *extra_callbacks],
            )
            checkpoint = latest_checkpoint(out_dir) if (resume or retried) and phase == "lora" else None
            if checkpoint:
                log.info("resuming from %s", checkpoint)
                emit("resume", phase=phase, checkpoint=str(checkpoint))
            t_loop, cpu_loop = time.time(), time.process_time()
            result = trainer.train(resume_from_checkpoint=str(checkpoint) if checkpoint else None)
            loop_seconds, loop_cpu_seconds = time.time() - t_loop, time.process_time() - cpu_loop
            history = [h["loss"] for h in trainer.state.log_history if "loss" in h]
            summary: LoopSummary = {
                "steps": trainer.state.global_step,
                "maxSteps": trainer.state.max_steps,
                "finalLoss": history[-1] if history else None,
                "firstLoss": history[0] if history else None,
                "trainLoss": result.training_loss,
                "batchSize": settings.batch_size,
                "gradAccum": settings.grad_accum,
                "maxSeqLength": settings.max_seq_length,
                "tokensSeen": trainer.state.num_input_tokens_seen,
                "runtimeSeconds": round(result.metrics.get("train_runtime", 0.0), 2),
                "interrupted": STOP.is_set(),
                "loopSeconds": round(loop_seconds, 2),
                "loopCpuSeconds": round(loop_cpu_seconds, 2),
                "stepsRun": trainer.state.global_step - (int(checkpoint.name.split("-")[1]) if checkpoint else 0),
            }
            return {"summary": summary, "model": trainer.model, "trainer": trainer}
        except BaseException as error:  # noqa: BLE001 - OOM may surface as several types
            if not is_oom(error):
                raise
            nxt = settings.after_oom(cfg.min_seq_length)
            if nxt is None:
                raise TrainerError(
                    "oom",
                    f"out of memory even at batch size 1 and max sequence length {settings.max_seq_length}",
                    "use a smaller model (e.g. --model qwen2.5-0.5b), a smaller LoRA rank (--set lora_r=8), "
                    "a GPU with more memory, "
                    "or install the CUDA extras for 4-bit QLoRA (pip install -e 'python[cuda]')",
                ) from None
            emit("oom", phase=phase, message=str(error).splitlines()[0], previous=settings.__dict__, next=nxt.__dict__)
            log.warning("out of memory: retrying with %s from the last checkpoint", nxt)
            settings, retried = nxt, True
        finally:
            del trainer
            gc.collect()
            if torch.cuda.is_available():
                torch.cuda.empty_cache()


@overload
def train(cfg: TrainConfig, resume: bool = False, dry_run: Literal[False] = False) -> TrainDone: ...
@overload
def train(cfg: TrainConfig, resume: bool = False, dry_run: bool = False) -> TrainDone | DryRunDone: ...


def train(cfg: TrainConfig, resume: bool = False, dry_run: bool = False) -> TrainDone | DryRunDone:
    """Trains within cfg.time_budget_seconds (0: no limit). With `dry_run`, only measures and emits the
    estimate: nothing is trained and nothing is written to the output folder."""
    budget = budgeting.Budget(cfg.time_budget_seconds, time.time(), dry_run)
    scratch = Path(tempfile.mkdtemp(prefix="mcp-forge-dry-run-")) if dry_run else None
    try:
        return train_within(cfg, resume, budget, scratch)
    except budgeting.DryRun:
        done: DryRunDone = {"dryRun": True, "estimate": budget.estimated}
        emit("done", **done)
        return done
    finally:
        if scratch:
            shutil.rmtree(scratch, ignore_errors=True)


def train_within(cfg: TrainConfig, resume: bool, budget: budgeting.Budget, scratch: Path | None) -> TrainDone:
    t_start = budget.started
    out = Path(cfg.output_dir)
    if not budget.dry_run:
        out.mkdir(parents=True, exist_ok=True)
    samples = read_samples(cfg.data)
    data_hash = file_sha256(cfg.data)
    backend = models.choose_backend(cfg.backend)
    timings: TrainTimings = {}

    if not cfg.pretrained():
        from .tiny import MAX_POSITIONS, ensure_tiny_base

        backend = models.Backend("transformers", backend.device, backend.gpus)

        def pretrain(model, tokenizer, pre_samples, phase, out_dir):
            columns = encode_all(tokenizer, pre_samples)
            emit(
                "start",
                phase=phase,
                backend=backend.name,
                device=backend.device,
                model="tiny",
                trainableParameters=sum(p.numel() for p in model.parameters()),
                sequences=len(columns["input_ids"]),
            )
            t_encode = time.time()
            lora_columns = encode_all(tokenizer, samples)
            fit_seq_length(cfg, {"input_ids": columns["input_ids"] + lora_columns["input_ids"]}, MAX_POSITIONS)
            budgeting.plan_tiny(budget, model, tokenizer, columns, lora_columns, cfg, backend, time.time() - t_encode)
            result = run_phase(
                phase,
                lambda: model,
                tokenizer,
                columns,
                cfg,
                out_dir,
                backend,
                resume=False,
                extra_callbacks=(budget.deadline_callback(phase, checkpoint=False),),
            )
            done = result["summary"]
            if done["interrupted"]:
                raise TrainerError(
                    "interrupted",
                    "interrupted while pre-training the tiny base model",
                    "run `mcp-forge train --resume` to start again",
                )
            budget.record(phase, done["steps"], done["stepsRun"], done["loopSeconds"], done["loopCpuSeconds"])
            return done["steps"] >= done["maxSteps"]

        t0 = time.time()
        model_id = str(ensure_tiny_base(samples, data_hash, cfg, pretrain, emit, work_dir=scratch))
        timings["tinyBaseSeconds"] = round(time.time() - t0, 2)
        revision = None
    else:
        model_id, revision = models.resolve(cfg.model), cfg.revision

    tokenizer = models.load_tokenizer(model_id, revision)
    ensure_tool_template(tokenizer)
    columns = encode_all(tokenizer, samples)
    fit_seq_length(cfg, columns, min(tokenizer.model_max_length, SEQ_LENGTH_LIMIT))
    stats = dataset_stats(columns, cfg.max_seq_length)
    if stats["truncated"]:
        emit(
            "warning",
            message=f"{stats['truncated']} of {stats['sequences']} sequences exceed max_seq_length "
            f"{cfg.max_seq_length} and are cut ({stats['truncatedAssistantTokens']} assistant tokens lost)",
        )

    def make_model():
        return models.add_lora(models.load_model(model_id, revision, backend, cfg.max_seq_length), cfg, backend)

    probe = make_model()
    trainable = sum(p.numel() for p in probe.parameters() if p.requires_grad)
    total = sum(p.numel() for p in probe.parameters())
    emit(
        "start",
        phase="lora",
        backend=backend.name,
        device=backend.device,
        model=cfg.model,
        modelId=model_id,
        revision=revision,
        trainableParameters=trainable,
        totalParameters=total,
        gpus=backend.gpus,
        sequences=stats["sequences"],
        tokens=stats["tokens"],
        profile=cfg.profile,
    )
    models_made = [probe]

    def reuse_first():
        return models_made.pop() if models_made else make_model()

    checkpoint = latest_checkpoint(out / "checkpoints") if resume else None
    budgeting.plan_lora(budget, probe, tokenizer, columns, cfg, backend, checkpoint)
    t0 = time.time()
    result = run_phase(
        "lora",
        reuse_first,
        tokenizer,
        columns,
        cfg,
        out / "checkpoints",
        backend,
        resume,
        extra_callbacks=(budget.deadline_callback("lora", checkpoint=True),),
    )
    timings["trainSeconds"] = round(time.time() - t0, 2)
    summary = result["summary"]
    budget.record("lora", summary["steps"], summary["stepsRun"], summary["loopSeconds"], summary["loopCpuSeconds"])
    if summary["interrupted"]:
        ckpt = latest_checkpoint(out / "checkpoints")
        raise TrainerError(
            "interrupted",
            f"training interrupted at step {summary['steps']} of {summary['maxSteps']}; checkpoint saved in {ckpt}",
            "run `mcp-forge train --resume` to continue from it",
        )

    eval_loss = None
    if cfg.eval_data and budget.past_deadline():
        emit("warning", message="the time budget has run out: the eval loss is not computed")
    elif cfg.eval_data:
        eval_columns = encode_all(tokenizer, read_samples(cfg.eval_data))
        metrics = result["trainer"].evaluate(eval_dataset=phase_dataset("lora", cfg, eval_columns))
        eval_loss = metrics.get("eval_loss")

    adapter_dir = out / "adapter"
    tmp = out / ".adapter.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    result["model"].save_pretrained(str(tmp))
    tokenizer.save_pretrained(str(tmp))
    timings["totalSeconds"] = round(time.time() - t_start, 2)
    record: dict[str, Any] = {
        "baseModel": models.record_name(cfg.model, model_id) if cfg.pretrained() else "tiny",
        "baseModelPath": model_id,
        "revision": revision,
        "backend": backend.name,
        "device": backend.device,
        "trainingConfigHash": cfg.hash(),
        "config": cfg.to_dict(),
        "dataHash": data_hash,
        "datasetStats": stats,
        "summary": summary,
        "evalLoss": eval_loss,
        "timings": timings,
        "budget": budget.report(),
    }
    (tmp / "mcp_forge_training.json").write_text(json.dumps(record, indent=2, default=str))
    shutil.rmtree(adapter_dir, ignore_errors=True)
    tmp.rename(adapter_dir)
    done: TrainDone = {
        "finalLoss": summary["finalLoss"],
        "firstLoss": summary["firstLoss"],
        "evalLoss": eval_loss,
        "adapterPath": str(adapter_dir),
        "steps": summary["steps"],
        "timings": timings,
        "tokensPerSecond": round(summary["tokensSeen"] / max(timings["trainSeconds"], 1e-6), 1),
        "datasetStats": stats,
        "trainingConfigHash": cfg.hash(),
        "backend": backend.name,
        "budget": record["budget"],
    }
    emit("done", **done)
    return done
