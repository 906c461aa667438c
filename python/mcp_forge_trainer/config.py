"""Training configuration: the contract's profiles, overridable key by key."""

import hashlib
import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

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


@dataclass
class TinyConfig:
    """Shape and pre-training of the `tiny` base model (dims are multiples of 256 for k-quants)."""

    vocab_size: int = 2048
    hidden_size: int = 256
    intermediate_size: int = 512
    num_layers: int = 2
    num_heads: int = 8  # against 4: every trainer seed tried meets the release gate, not two in three
    # Most of what the tiny model learns comes from this phase. More samples beat more epochs: on
    # the main command's data 500 samples overfit by 30 epochs, 4,000 × 4 do best (docs/benchmarks.md).
    pretrain_epochs: float = 4.0
    pretrain_lr: float = 3e-3
    pretrain_batch_size: int = 8
    # "all": pre-training loss on every token; "assistant": on assistant turns only. Learning to
    # predict the requests and results too needs no extra pass and steadies the calls the model
    # writes (docs/benchmarks.md: every threshold met from trainer seeds on which "assistant" failed).
    pretrain_loss: str = "all"
    max_samples: int = 0  # pre-train on the first N samples (0: all); LoRA still sees every sample


@dataclass
class TrainConfig:
    data: str
    output_dir: str
    model: str = "tiny"
    revision: str | None = None
    profile: str = "fast_dev"
    eval_data: str | None = None
    max_seq_length: int = 2048
    lora_r: int = 8
    lora_alpha: int = 0  # 0: twice the rank
    lora_dropout: float = 0.05
    target_modules: str | list[str] = "all-linear"
    batch_size: int = 4
    grad_accum: int = 2
    learning_rate: float = 5e-4
    epochs: float = 1.0
    warmup_steps: int = 5
    max_steps: int = -1
    save_steps: int = 50
    save_total_limit: int = 3
    logging_steps: int = 1
    seed: int = 42
    lr_scheduler: str = "cosine"
    min_seq_length: int = 1024  # OOM recovery shortens sequences down to this
    backend: str = "auto"  # auto | unsloth | qlora | transformers
    # CPU speed (measure with `python -m bench.cpu` from python/): `cpu_bf16` autocasts to bf16
    # where the CPU computes it natively (AVX512-BF16 or AMX); `packing` lays sequences end to end in
    # rows of max_seq_length, no token attending across samples; `group_by_length` batches sequences
    # of like length (less padding); `torch_compile` compiles the model before training.
    # On by default for pretrained models (1.5× SmolLM2's tokens/s, docs/benchmarks.md); the tiny model's
    # recipe and figures were made in float32 and it keeps it.
    cpu_bf16: bool = True
    packing: bool = False
    group_by_length: bool = False
    torch_compile: bool = False
    # Pretrained models: batches of samples sharing their system turn and tools run that prefix once,
    # without gradient (shared_prefix.py).
    shared_prefix: bool = True
    # Wall-clock seconds for the whole `train` (0: no limit): the loops are planned to fit and stopped at it.
    # Not part of the hash: what it changes (epochs, max_steps) is set in the config before training.
    time_budget_seconds: float = 0.0
    # Raise max_seq_length to the data's longest sequence, so long samples are not cut (off when
    # max_seq_length is set explicitly). Not part of the hash: max_seq_length itself is.
    fit_seq_length: bool = True
    tiny: TinyConfig = field(default_factory=TinyConfig)

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
