"""LoRA training throughput on the CPU, setting by setting: `python -m bench.cpu
--model smollm2-135m`. Each variant runs the same optimizer steps (forward, backward, AdamW on the
adapter) on the same rendered samples and reports non-padding tokens per second (wall and CPU
time), so settings can be compared on the machine that will train. Measure alone on the machine."""

import argparse
import platform
import sys
import time
from pathlib import Path

from mcp_forge_trainer import models, shared_prefix
from mcp_forge_trainer.config import load_config
from mcp_forge_trainer.data import encode_all, read_samples
from mcp_forge_trainer.protocol import emit, run_command

FIXTURE = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "data" / "train.jsonl"
VARIANTS = ("fp32", "fp32-shared-prefix", "bf16", "bf16-shared-prefix", "fp32-packed", "bf16-packed", "fp32-compiled")


def batches(columns: dict, batch_size: int, max_len: int, packed: bool) -> list[dict]:
    """Batches as the trainer builds them: padded to the longest sequence, or (packed) the
    sequences laid end to end in one row with position ids restarting at each, which transformers
    turns into a block-diagonal mask: no token attends across samples."""
    import torch

    # The last max_len tokens: a cut sample keeps its assistant turns, so its loss stays defined.
    seqs = [ids[-max_len:] for ids in columns["input_ids"]]
    labels = [
        [t if m else -100 for t, m in zip(ids, mask)][-max_len:]
        for ids, mask in zip(columns["input_ids"], columns["assistant_masks"])
    ]
    out = []
    for i in range(0, len(seqs) - batch_size + 1, batch_size):
        group, group_labels = seqs[i : i + batch_size], labels[i : i + batch_size]
        if packed:
            out.append(
                {
                    "input_ids": torch.tensor([sum(group, [])]),
                    "labels": torch.tensor([sum(group_labels, [])]),
                    "position_ids": torch.tensor([[p for s in group for p in range(len(s))]]),
                }
            )
        else:
            width = max(len(s) for s in group)
            out.append(
                {
                    "input_ids": torch.tensor([s + [0] * (width - len(s)) for s in group]),
                    "labels": torch.tensor([s + [-100] * (width - len(s)) for s in group_labels]),
                    "attention_mask": torch.tensor([[1] * len(s) + [0] * (width - len(s)) for s in group]),
                }
            )
    return out


def run_variant(variant: str, model_id: str, cfg, data: list[dict], steps: int) -> dict:
    import torch

    backend = models.Backend("transformers", "cpu", 0)
    torch.manual_seed(0)  # the same adapter for every variant: the same losses, up to rounding
    model = models.add_lora(models.load_model(model_id, None, backend, cfg.max_seq_length), cfg, backend)
    model.train()
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-4)
    forward = torch.compile(model, dynamic=True) if variant.endswith("compiled") else model
    dtype = torch.bfloat16 if variant.startswith("bf16") else None
    tokens, seconds, cpu_seconds, losses = 0, 0.0, 0.0, []
    for step, batch in enumerate(data[: steps + 1]):
        t0, c0 = time.perf_counter(), time.process_time()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=dtype is not None):
            inputs = shared_prefix.with_cached_prefix(model, batch) if variant.endswith("shared-prefix") else batch
            loss = forward(**inputs).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        if step == 0:  # warm-up: allocation, and compilation for the compiled variant
            first = time.perf_counter() - t0
            continue
        seconds += time.perf_counter() - t0
        cpu_seconds += time.process_time() - c0
        tokens += int(batch["attention_mask"].sum()) if "attention_mask" in batch else batch["input_ids"].numel()
        losses.append(round(float(loss), 4))
    # Per CPU-second too: on a machine shared with other work, wall time says little.
    return {
        "variant": variant,
        "tokensPerSecond": round(tokens / seconds, 1),
        "tokensPerCpuSecond": round(tokens / cpu_seconds, 1),
        "steps": len(losses),
        "tokens": tokens,
        "firstStepSeconds": round(first, 1),
        "losses": losses,
    }


def cpu_bench(args: argparse.Namespace) -> None:
    # Here rather than at the top: under run_command, a missing or broken torch is an `error` event.
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    cfg = load_config(
        {"data": args.data, "output_dir": "/dev/null", "model": args.model, "max_seq_length": args.max_seq_length}
    )
    model_id = models.resolve(args.model)
    tokenizer = models.load_tokenizer(model_id, None)
    from mcp_forge_trainer.chat_templates import ensure_tool_template

    ensure_tool_template(tokenizer)
    # Four times the rows a variant trains on, so that shared-prefix batches can be formed as in training.
    samples = read_samples(args.data)[: (args.steps + 1) * args.batch_size * 4]
    columns = encode_all(tokenizer, samples)
    machine = {
        "cpu": platform.processor() or platform.machine(),
        "threads": torch.get_num_threads(),
        "bf16Native": bool(getattr(torch.cpu, "_is_avx512_bf16_supported", lambda: False)()),
        "amx": bool(getattr(torch.cpu, "_is_amx_tile_supported", lambda: False)()),
    }
    emit(
        "cpu_bench_start",
        model=args.model,
        sequences=len(columns["input_ids"]),
        meanLength=round(sum(map(len, columns["input_ids"])) / len(columns["input_ids"]), 1),
        **machine,
    )
    for variant in args.variants.split(","):
        ordered = (
            shared_prefix.order_columns(columns, args.batch_size, 0) if variant.endswith("shared-prefix") else columns
        )
        data = batches(ordered, args.batch_size, args.max_seq_length, packed=variant.endswith("packed"))
        emit(
            "cpu_bench",
            model=args.model,
            batchSize=args.batch_size,
            **run_variant(variant, model_id, cfg, data, args.steps),
        )


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.cpu", description=__doc__)
    p.add_argument("--model", default="smollm2-135m")
    p.add_argument("--data", default=str(FIXTURE))
    p.add_argument("--variants", default=",".join(VARIANTS))
    p.add_argument("--steps", type=int, default=4)
    p.add_argument("--batch-size", type=int, default=4)
    p.add_argument("--max-seq-length", type=int, default=2048)
    p.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    args = p.parse_args(argv)
    return run_command(lambda: cpu_bench(args))


if __name__ == "__main__":
    sys.exit(main())
