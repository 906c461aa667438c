"""LoRA SFT throughput and peak GPU memory for a published model's shape, built from its config with
random weights (no download), trained through the trainer's own backends: from python/,
`python -m bench.gpu --gpu-shape qwen2.5-1.5b --backend transformers`.

The model folder (weights, a byte-level BPE tokenizer trained on the bench data, the model family's
chat template) loads like any local model, so `train --config` with `model` set to it works too."""

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from mcp_forge_trainer import models
from mcp_forge_trainer.config import load_config
from mcp_forge_trainer.data import dataset_stats, encode_all, read_samples, texts_for_tokenizer
from mcp_forge_trainer.protocol import TrainerError, emit, log, run_command

FIXTURES = Path(__file__).resolve().parents[2] / "tests" / "fixtures"

# Qwen2.5-1.5B-Instruct's config.json, less the token ids (the bench tokenizer has its own).
# "toy" is the same architecture small enough for a CPU test.
SHAPES: dict[str, dict] = {
    "qwen2.5-1.5b": {
        "hidden_size": 1536,
        "intermediate_size": 8960,
        "num_hidden_layers": 28,
        "num_attention_heads": 12,
        "num_key_value_heads": 2,
        "vocab_size": 151936,
        "max_position_embeddings": 32768,
        "rms_norm_eps": 1e-6,
        "rope_theta": 1e6,
        "tie_word_embeddings": True,
        "max_window_layers": 21,
        "sliding_window": 32768,
    },
    "toy": {
        "hidden_size": 64,
        "intermediate_size": 128,
        "num_hidden_layers": 2,
        "num_attention_heads": 4,
        "num_key_value_heads": 2,
        "vocab_size": 4096,
        "max_position_embeddings": 4096,
        "rms_norm_eps": 1e-6,
        "rope_theta": 1e6,
        "tie_word_embeddings": True,
        "max_window_layers": 2,
        "sliding_window": 4096,
    },
}
TEMPLATES = {"qwen2": FIXTURES / "templates" / "qwen2.5-instruct.jinja"}
# Qwen2.5's added tokens that its template writes.
SPECIAL_TOKENS = [
    "<|endoftext|>",
    "<|im_start|>",
    "<|im_end|>",
    "<tool_call>",
    "</tool_call>",
    "<tool_response>",
    "</tool_response>",
]
# backend → (the trainer's backend, Unsloth loads in 4 bits)
# Unsloth's fast LoRA kernels need dropout 0; every backend gets the same.
BENCH_OVERRIDES = {"lora_dropout": 0.0}
VARIANTS = {
    "transformers": ("transformers", True),
    "qlora": ("qlora", True),
    "unsloth": ("unsloth", True),
    "unsloth-16bit": ("unsloth", False),
}


def qwen2_config(shape: str, tokenizer):
    from transformers import Qwen2Config

    if shape not in SHAPES:
        raise TrainerError("bad_input", f"--gpu-shape {shape!r} is not known", f"use one of {', '.join(SHAPES)}")
    dims = dict(SHAPES[shape])
    rope_theta = dims.pop("rope_theta")
    if len(tokenizer) > dims["vocab_size"]:
        raise TrainerError(
            "bad_input",
            f"the bench tokenizer has {len(tokenizer)} tokens, more than shape "
            f"{shape}'s vocabulary of {dims['vocab_size']}",
        )
    return Qwen2Config(
        **dims,
        rope_parameters={"rope_type": "default", "rope_theta": rope_theta},
        use_sliding_window=False,
        hidden_act="silu",
        attention_dropout=0.0,
        bos_token_id=tokenizer.convert_tokens_to_ids("<|endoftext|>"),
        eos_token_id=tokenizer.convert_tokens_to_ids("<|im_end|>"),
        pad_token_id=tokenizer.convert_tokens_to_ids("<|endoftext|>"),
    )


def build_tokenizer(samples: list[dict], vocab_size: int, max_length: int):
    """A byte-level BPE (Qwen's kind) trained on the samples' text, with Qwen2.5's template."""
    from tokenizers import Tokenizer, decoders, pre_tokenizers, trainers
    from tokenizers.models import BPE
    from transformers import PreTrainedTokenizerFast

    template = TEMPLATES["qwen2"].read_text()
    raw = Tokenizer(BPE())
    raw.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    raw.decoder = decoders.ByteLevel()
    raw.train_from_iterator(
        texts_for_tokenizer(samples) + [template],
        trainers.BpeTrainer(
            vocab_size=vocab_size,
            special_tokens=SPECIAL_TOKENS,
            initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
            show_progress=False,
        ),
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=raw,
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        additional_special_tokens=SPECIAL_TOKENS[1:],
        chat_template=template,
        model_max_length=max_length,
    )


def build_model(shape: str, samples: list[dict], out: Path, seed: int = 0) -> Path:
    """Writes a bf16 model of `shape` with random weights, its tokenizer and chat template, to `out`
    (atomically; an existing folder is reused)."""
    if (out / "config.json").is_file():
        return out
    import shutil

    import torch
    from transformers import AutoModelForCausalLM

    tmp = out.with_name(out.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    dims = SHAPES[shape]
    tokenizer = build_tokenizer(samples, min(32000, dims["vocab_size"]), dims["max_position_embeddings"])
    config = qwen2_config(shape, tokenizer)
    torch.manual_seed(seed)
    with torch.device("cuda" if torch.cuda.is_available() else "cpu"):
        model = AutoModelForCausalLM.from_config(config, dtype=torch.bfloat16)
    model.save_pretrained(str(tmp))
    tokenizer.save_pretrained(str(tmp))
    del model
    tmp.rename(out)
    return out


def write_data(samples: int, data_dir: Path) -> Path:
    """The fixture generator's deterministic server-memory samples, written to `data_dir`."""
    script = FIXTURES / "data" / "make_memory_data.py"
    if not script.is_file():
        raise TrainerError("environment", f"{script} is missing: the GPU bench runs from a checkout of the repository")
    data_dir.mkdir(parents=True, exist_ok=True)
    target = data_dir / f"train-{samples}.jsonl"
    if not target.is_file():
        # The generator writes beside itself; run a copy so the repository stays untouched.
        (data_dir / script.name).write_text(script.read_text())
        (data_dir / "tools.json").write_text((script.parent / "tools.json").read_text())
        subprocess.run(
            [sys.executable, str(data_dir / script.name), str(samples), "0"], check=True, stdout=subprocess.DEVNULL
        )
        (data_dir / "train.jsonl").rename(target)
    return target


def versions() -> dict:
    from importlib.metadata import PackageNotFoundError, version

    out: dict[str, str | None] = {}
    for name in (
        "torch",
        "transformers",
        "peft",
        "trl",
        "accelerate",
        "datasets",
        "bitsandbytes",
        "unsloth",
        "unsloth_zoo",
    ):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = None
    return out


def step_timer(warmup: int, measured: int, counted: dict):
    """Marks the clock and the token count when the warm-up ends and when the measured steps end."""
    import torch
    from transformers import TrainerCallback

    def sync():
        if torch.cuda.is_available():
            torch.cuda.synchronize()

    class Timer(TrainerCallback):
        def __init__(self):
            self.marks: dict[int, tuple[float, int, int]] = {}
            self.losses: list[float] = []

        def on_step_end(self, args, state, control, **kw):
            if state.global_step in (warmup, warmup + measured):
                sync()
                self.marks[state.global_step] = (time.perf_counter(), state.num_input_tokens_seen, counted["tokens"])

        def on_log(self, args, state, control, logs=None, **kw):
            if logs and "loss" in logs:
                self.losses.append(float(logs["loss"]))

    return Timer()


def counting(collator, counted: dict):
    """The collator, counting the non-padding tokens it hands out (Unsloth's training loop does
    not keep the trainer's own count)."""

    def collate(examples):
        batch = collator(examples)
        mask = batch.get("attention_mask")
        counted["tokens"] += int(mask.sum()) if mask is not None else int(batch["input_ids"].numel())
        return batch

    return collate


def measure(
    model_dir: Path,
    data: Path,
    variant: str,
    profile: str,
    warmup: int,
    steps: int,
    work: Path,
    overrides: dict | None = None,
) -> dict:
    """Trains `warmup` + `steps` optimizer steps and times the last `steps`."""
    import torch
    from datasets import Dataset
    from trl import SFTTrainer

    from mcp_forge_trainer.train import Settings, sft_args

    if variant not in VARIANTS:
        raise TrainerError("bad_input", f"--backend {variant!r} is not known", f"use one of {', '.join(VARIANTS)}")
    backend_name, unsloth_4bit = VARIANTS[variant]
    cfg = load_config(
        {
            "data": str(data),
            "output_dir": str(work / f"run-{variant}"),
            "model": str(model_dir),
            "profile": profile,
            "backend": backend_name,
            "max_steps": warmup + steps,
            "save_steps": 10**9,
            "logging_steps": 1,
            **BENCH_OVERRIDES,
            **(overrides or {}),
        }
    )
    backend = models.choose_backend(cfg.backend)
    cuda = backend.device == "cuda"
    tokenizer = models.load_tokenizer(str(model_dir), None)
    samples = read_samples(cfg.data)
    columns = encode_all(tokenizer, samples)
    stats = dataset_stats(columns, cfg.max_seq_length)
    if cuda:
        torch.cuda.reset_peak_memory_stats()
    t0 = time.perf_counter()
    model = models.add_lora(
        models.load_model(str(model_dir), None, backend, cfg.max_seq_length, unsloth_4bit), cfg, backend
    )
    load_seconds = time.perf_counter() - t0
    counted = {"tokens": 0}
    timer = step_timer(warmup, steps, counted)
    trainer = SFTTrainer(
        model=model,
        args=sft_args(
            cfg, Path(cfg.output_dir), Settings(cfg.batch_size, cfg.grad_accum, cfg.max_seq_length), "lora", backend
        ),
        train_dataset=Dataset.from_dict(columns),
        processing_class=tokenizer,
        callbacks=[timer],
    )
    trainer.data_collator = counting(trainer.data_collator, counted)
    t0 = time.perf_counter()
    trainer.train()
    train_seconds = time.perf_counter() - t0
    if warmup not in timer.marks or warmup + steps not in timer.marks:
        raise TrainerError(
            "internal", f"training stopped at step {trainer.state.global_step} before {warmup + steps} steps"
        )
    (ta, seen_a, counted_a), (tb, seen_b, counted_b) = timer.marks[warmup], timer.marks[warmup + steps]
    # The trainer's own count when it keeps one; else what the collator handed out (one batch ahead).
    tokens, source = (seen_b - seen_a, "trainer") if seen_b > seen_a else (counted_b - counted_a, "collator")
    seconds = tb - ta
    gib = 1024**3
    result = {
        "shape": model_dir.name,
        "backend": variant,
        "trainerBackend": backend.name,
        "weights": "4-bit NF4" if variant in ("qlora", "unsloth") else "bf16",
        "device": torch.cuda.get_device_name() if cuda else "cpu",
        "versions": versions(),
        "profile": profile,
        "settings": {
            "maxSeqLength": cfg.max_seq_length,
            "batchSize": cfg.batch_size,
            "gradAccum": cfg.grad_accum,
            "loraR": cfg.lora_r,
            "loraAlpha": cfg.effective_lora_alpha(),
            "loraDropout": cfg.lora_dropout,
            "targetModules": cfg.target_modules,
            "learningRate": cfg.learning_rate,
        },
        "totalParameters": sum(p.numel() for p in model.parameters()),
        "trainableParameters": sum(p.numel() for p in model.parameters() if p.requires_grad),
        "samples": len(samples),
        "sequences": stats["sequences"],
        "meanTokensPerSequence": stats["meanLength"],
        "warmupSteps": warmup,
        "measuredSteps": steps,
        "measuredTokens": tokens,
        "tokenCount": source,
        "measuredSeconds": round(seconds, 3),
        "secondsPerStep": round(seconds / steps, 4),
        "tokensPerSecond": round(tokens / seconds, 1),
        "loadSeconds": round(load_seconds, 1),
        "trainSeconds": round(train_seconds, 1),
        "firstLoss": timer.losses[0] if timer.losses else None,
        "lastLoss": timer.losses[-1] if timer.losses else None,
    }
    if cuda:
        result["peakAllocatedGiB"] = round(torch.cuda.max_memory_allocated() / gib, 2)
        result["peakReservedGiB"] = round(torch.cuda.max_memory_reserved() / gib, 2)
    return result


def gpu_bench(
    shape: str,
    variant: str,
    samples: int,
    steps: int,
    warmup: int,
    profile: str,
    workdir: str,
    out: str | None,
    overrides: dict | None = None,
) -> dict:
    if variant not in VARIANTS:
        raise TrainerError("bad_input", f"--backend {variant!r} is not known", f"use one of {', '.join(VARIANTS)}")
    # Fails fast without the GPU or package the backend needs, and imports Unsloth before transformers.
    models.choose_backend(VARIANTS[variant][0])
    work = Path(workdir)
    data = write_data(samples, work / "data")
    model_dir = build_model(shape, read_samples(str(data)), work / shape)
    log.info("model %s ready in %s", shape, model_dir)
    result = measure(model_dir, data, variant, profile, warmup, steps, work, overrides)
    if out:
        target = Path(out)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(target.name + ".tmp")
        tmp.write_text(json.dumps(result, indent=2))
        tmp.rename(target)
    emit("bench", **result)
    return result


def parse_overrides(pairs: list[str]) -> dict:
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise TrainerError("bad_input", f"--set {pair!r}: expected KEY=VALUE", "for example --set batch_size=8")
        out[key.strip()] = value.strip()
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.gpu", description=__doc__)
    p.add_argument("-v", "--verbose", action="store_true")
    p.add_argument(
        "--gpu-shape",
        required=True,
        help="build this shape with random weights and time LoRA SFT on it (qwen2.5-1.5b; toy for a CPU check)",
    )
    p.add_argument("--backend", default="transformers", help="transformers, qlora, unsloth or unsloth-16bit")
    p.add_argument("--samples", type=int, default=2000, help="samples of the fixture generator to train on")
    p.add_argument("--profile", default="balanced", help="contract profile")
    p.add_argument("--warmup", type=int, default=5, help="optimizer steps before the clock starts")
    p.add_argument("--steps", type=int, default=40, help="optimizer steps timed")
    p.add_argument("--workdir", default=None, help="data and model folder, reused when run again (default: a new one)")
    p.add_argument("--out", help="write the figures to this JSON file")
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a training setting (e.g. batch_size=8)",
    )
    args = p.parse_args(argv)
    return run_command(
        lambda: gpu_bench(
            args.gpu_shape,
            args.backend,
            args.samples,
            args.steps,
            args.warmup,
            args.profile,
            args.workdir or tempfile.mkdtemp(prefix="mcp-forge-gpu-bench-"),
            args.out,
            parse_overrides(args.set),
        ),
        args.verbose,
    )


if __name__ == "__main__":
    sys.exit(main())
