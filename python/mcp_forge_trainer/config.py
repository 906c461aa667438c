"""Training configuration: the contract's profiles, overridable key by key."""

import hashlib
import json
from dataclasses import MISSING, asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from .protocol import TrainerError, log

PROFILES: dict[str, dict] = {
    "fast_dev": {
        "max_seq_length": 2048,
        "lora_r": 8,
        "batch_size": 4,
        "grad_accum": 2,
        "learning_rate": 5e-4,
        "epochs": 1,
        "warmup_steps": 5,
    },
    "balanced": {
        "max_seq_length": 4096,
        "lora_r": 16,
        "batch_size": 2,
        "grad_accum": 4,
        "learning_rate": 2e-4,
        "epochs": 1,
        "warmup_steps": 10,
    },
    "max_quality": {
        "max_seq_length": 4096,
        "lora_r": 32,
        "batch_size": 1,
        "grad_accum": 8,
        "learning_rate": 1e-4,
        "epochs": 2,
        "warmup_steps": 20,
    },
}


def setting(default: Any = MISSING, help: str = "", **kw: Any) -> Any:
    """A config field with its help text (`dataclasses.fields(TrainConfig)[i].metadata["help"]`)."""
    return field(default=default, metadata={"help": help}, **kw)


@dataclass
class TinyConfig:
    """Shape and pre-training of the `tiny` base model (dims are multiples of 256 for k-quants)."""

    vocab_size: int = setting(2048, "the SentencePiece BPE tokenizer's vocabulary, trained on the rendered data")
    hidden_size: int = setting(256, "the Llama's hidden size")
    intermediate_size: int = setting(512, "the Llama's feed-forward size")
    num_layers: int = setting(2, "the Llama's layers")
    # against 4: every trainer seed tried meets the release gate, not two in three
    num_heads: int = setting(8, "the Llama's attention heads")
    # Most of what the tiny model learns comes from this phase. More samples beat more epochs: on
    # the main command's data 500 samples overfit by 30 epochs, 4,000 × 4 do best (docs/benchmarks.md).
    pretrain_epochs: float = setting(4.0, "epochs of pre-training from scratch on the data")
    pretrain_lr: float = setting(3e-3, "pre-training learning rate")
    pretrain_batch_size: int = setting(8, "pre-training batch size")
    # Learning to predict the requests and results too needs no extra pass and steadies the calls the model
    # writes (docs/benchmarks.md: every threshold met from trainer seeds on which "assistant" failed).
    pretrain_loss: str = setting("all", '"all": pre-training loss on every token; "assistant": on assistant turns only')
    max_samples: int = setting(0, "pre-train on the first N samples (0: all); LoRA still sees every sample")


@dataclass
class TrainConfig:
    data: str = setting(help="training samples, the contract's JSONL")
    output_dir: str = setting(help="folder for checkpoints and the adapter")
    model: str = setting(
        "tiny", "base model: a preset, a Hugging Face id, a local folder, or tiny (built from the data)"
    )
    revision: str | None = setting(None, "the base model's Hugging Face revision")
    profile: str = setting("fast_dev", "the contract profile whose values come before the file's")
    eval_data: str | None = setting(None, "held-out samples, the contract's JSONL, for the eval loss")
    max_seq_length: int = setting(2048, "tokens per sequence at most")
    lora_r: int = setting(8, "LoRA rank")
    lora_alpha: int = setting(0, "LoRA alpha (0: twice the rank)")
    lora_dropout: float = setting(0.05, "LoRA dropout")
    target_modules: str | list[str] = setting("all-linear", "the modules LoRA adapts")
    batch_size: int = setting(4, "sequences per device step")
    grad_accum: int = setting(2, "device steps per optimizer step")
    learning_rate: float = setting(5e-4, "LoRA learning rate")
    epochs: float = setting(1.0, "passes over the data")
    warmup_steps: int = setting(5, "learning-rate warm-up steps")
    max_steps: int = setting(-1, "optimizer steps at most (-1: as many as the epochs make)")
    save_steps: int = setting(50, "a checkpoint every N optimizer steps")
    save_total_limit: int = setting(3, "checkpoints kept")
    logging_steps: int = setting(1, "a step event every N optimizer steps")
    seed: int = setting(42, "the random seed")
    lr_scheduler: str = setting("cosine", "the learning-rate schedule")
    min_seq_length: int = setting(1024, "OOM recovery shortens sequences down to this")
    backend: str = setting("auto", "auto | unsloth | qlora | transformers")
    # CPU speed (measure with `python -m bench.cpu` from python/).
    # On by default for pretrained models (1.5× SmolLM2's tokens/s, docs/benchmarks.md); the tiny model's
    # recipe and figures were made in float32 and it keeps it.
    cpu_bf16: bool = setting(True, "autocast to bf16 where the CPU computes it natively (AVX512-BF16 or AMX)")
    packing: bool = setting(
        False, "lay sequences end to end in rows of max_seq_length, no token attending across samples"
    )
    group_by_length: bool = setting(False, "batch sequences of like length (less padding)")
    torch_compile: bool = setting(False, "compile the model before training")
    shared_prefix: bool = setting(
        True,
        "pretrained models: batches of samples sharing their system turn and tools run that prefix once, "
        "without gradient (shared_prefix.py)",
    )
    # Not part of the hash: what it changes (epochs, max_steps) is set in the config before training.
    time_budget_seconds: float = setting(
        0.0, "wall-clock seconds for the whole `train` (0: no limit): the loops are planned to fit and stopped at it"
    )
    # Not part of the hash: max_seq_length itself is.
    fit_seq_length: bool = setting(
        True,
        "raise max_seq_length to the data's longest sequence, so long samples are not cut "
        "(off when max_seq_length is set explicitly)",
    )
    tiny: TinyConfig = setting(default_factory=TinyConfig, help="the tiny model's shape and pre-training")

    def pretrained(self) -> bool:
        """A real base model, not the tiny model built from scratch for the data."""
        return self.model != "tiny"

    def effective_lora_alpha(self) -> int:
        return self.lora_alpha or 2 * self.lora_r

    def to_dict(self) -> dict:
        return asdict(self)

    def hash(self) -> str:
        """What the model learned from: everything but paths, checkpoint and time settings."""
        d = self.to_dict()
        for k in (
            "data",
            "output_dir",
            "eval_data",
            "save_steps",
            "save_total_limit",
            "time_budget_seconds",
            "fit_seq_length",
        ):
            d.pop(k, None)
        return "sha256:" + hashlib.sha256(json.dumps(d, sort_keys=True).encode()).hexdigest()


def _coerce(name: str, value, like):
    if isinstance(like, bool):
        if isinstance(value, str):
            return value.lower() in ("1", "true", "yes")
        return bool(value)
    if isinstance(like, int) and not isinstance(like, bool):
        return int(value)
    if isinstance(like, float):
        return float(value)
    return value


def load_config(raw: dict) -> TrainConfig:
    """Builds the config: profile defaults, then the file's keys (dotted `tiny.x` allowed)."""
    raw = dict(raw)
    profile = raw.get("profile", "fast_dev")
    if profile not in PROFILES:
        raise TrainerError(
            "bad_input", f"config /profile: unknown profile {profile!r}", f"use one of {', '.join(PROFILES)}"
        )
    for key in ("data", "output_dir"):
        if not raw.get(key):
            raise TrainerError("bad_input", f"config /{key} is missing")
    values = {**PROFILES[profile], **raw}
    tiny_values = dict(values.pop("tiny", {}) or {})
    for key in [k for k in values if k.startswith("tiny.")]:
        tiny_values[key[len("tiny.") :]] = values.pop(key)
    known = {f.name: f for f in fields(TrainConfig)}
    tiny_known = {f.name: f for f in fields(TinyConfig)}
    cfg = TrainConfig(data=values["data"], output_dir=values["output_dir"])
    for key, value in values.items():
        if key not in known or key == "tiny":
            raise TrainerError(
                "bad_input",
                f"config /{key}: unknown setting",
                f"known settings: {', '.join(sorted(k for k in known if k != 'tiny'))}, tiny.<{'|'.join(tiny_known)}>",
            )
        if value is None:
            setattr(cfg, key, None)
            continue
        try:
            setattr(cfg, key, _coerce(key, value, getattr(cfg, key)))
        except (TypeError, ValueError):
            raise TrainerError("bad_input", f"config /{key}: {value!r} is not a valid value") from None
    for key, value in tiny_values.items():
        if key not in tiny_known:
            raise TrainerError("bad_input", f"config /tiny/{key}: unknown setting", f"known: {', '.join(tiny_known)}")
        try:
            setattr(cfg.tiny, key, _coerce(key, value, getattr(cfg.tiny, key)))
        except (TypeError, ValueError):
            raise TrainerError("bad_input", f"config /tiny/{key}: {value!r} is not a valid value") from None
    for key in ("batch_size", "grad_accum", "max_seq_length", "lora_r"):
        if getattr(cfg, key) < 1:
            raise TrainerError("bad_input", f"config /{key} must be at least 1, got {getattr(cfg, key)}")
    if "max_seq_length" in raw:
        cfg.fit_seq_length = False
    if cfg.time_budget_seconds < 0:
        raise TrainerError(
            "bad_input", f"config /time_budget_seconds must be 0 (no limit) or more, got {cfg.time_budget_seconds}"
        )
    if not Path(cfg.data).is_file():
        raise TrainerError(
            "bad_input",
            f"training data {cfg.data} does not exist",
            "run `mcp-forge generate` first, or pass --data <file.jsonl>",
        )
    return cfg


def read_config_file(path: str) -> TrainConfig:
    try:
        raw = json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise TrainerError("bad_input", f"config file {path} does not exist") from None
    except json.JSONDecodeError as e:
        raise TrainerError("bad_input", f"{path}:{e.lineno}: not valid JSON ({e.msg})") from None
    if not isinstance(raw, dict):
        raise TrainerError("bad_input", f"{path}: expected a JSON object")
    return load_config(raw)


def fit_seq_length(cfg: TrainConfig, columns: dict, limit: int) -> None:
    """Raises max_seq_length (to a multiple of 256, at most `limit`) when the data's longest sequence
    is longer, unless max_seq_length was set explicitly."""
    longest = max((len(ids) for ids in columns["input_ids"]), default=0)
    if cfg.fit_seq_length and longest > cfg.max_seq_length:
        fitted = min(limit, -(-longest // 256) * 256)
        log.info("sequences up to %d tokens: max_seq_length %d → %d", longest, cfg.max_seq_length, fitted)
        cfg.max_seq_length = max(cfg.max_seq_length, fitted)
