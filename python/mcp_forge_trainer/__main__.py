"""Command line: `python -m mcp_forge_trainer train|export|bench`."""

import argparse
import sys

from .protocol import TrainerError, claim_stdout, emit, fail, log, setup_logging


def parse_overrides(pairs: list[str]) -> dict:
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise TrainerError("bad_input", f"--set {pair!r}: expected KEY=VALUE", "for example --set batch_size=8")
        out[key.strip()] = value.strip()
    return out


def require_bench() -> None:
    """The benchmarks live in python/bench, beside this package in a checkout, not in it: puts that
    folder's parent on the path when it is there."""
    import importlib.util
    from pathlib import Path

    checkout = Path(__file__).resolve().parents[1]
    if (checkout / "bench" / "__init__.py").is_file() and str(checkout) not in sys.path:
        sys.path.insert(0, str(checkout))
    if importlib.util.find_spec("bench") is None:
        raise TrainerError(
            "bad_input",
            "bench: the benchmarks (python/bench) are not on the Python path",
            "run it from a checkout of MCP-Forge with python/ on PYTHONPATH (npm run bench does)",
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m mcp_forge_trainer", description="MCP-Forge trainer: LoRA fine-tuning and GGUF export"
    )
    parser.add_argument("-v", "--verbose", action="store_true")
    sub = parser.add_subparsers(dest="command", required=True)
    t = sub.add_parser("train", help="LoRA fine-tune on the contract's JSONL")
    t.add_argument("--config", required=True, help="JSON config: data, output_dir, model, profile, overrides")
    t.add_argument("--resume", action="store_true", help="continue from the latest checkpoint")
    t.add_argument("--dry-run", action="store_true", help="print only the estimate: train and write nothing")
    e = sub.add_parser("export", help="merge the adapter and write a quantised GGUF")
    e.add_argument("--adapter", required=True, help="adapter folder written by train")
    e.add_argument("--out", required=True, help="GGUF file to write")
    e.add_argument("--quant", default="q8_0", help="q8_0 (default), q4_k_m, q4_k_s, q5_k_m, f16")
    e.add_argument("--tools", help="tools.json whose hash and tools go into the GGUF metadata")
    e.add_argument("--no-verify", action="store_true", help="skip loading the file with llama.cpp")
    b = sub.add_parser(
        "bench",
        help="measure tiny-model training and export on this machine, or with "
        "--gpu-shape LoRA throughput for a published model's shape",
    )
    b.add_argument("--samples", type=int, default=2000)
    b.add_argument("--workdir", default=None)
    b.add_argument(
        "--gpu-shape",
        help="build this shape with random weights and time LoRA SFT on it (qwen2.5-1.5b; toy for a CPU check)",
    )
    b.add_argument("--backend", default="transformers", help="transformers, qlora, unsloth or unsloth-16bit")
    b.add_argument("--profile", default="balanced", help="contract profile for the --gpu-shape bench")
    b.add_argument("--warmup", type=int, default=5, help="optimizer steps before the clock starts")
    b.add_argument("--steps", type=int, default=40, help="optimizer steps timed")
    b.add_argument("--out", help="write the --gpu-shape figures to this JSON file")
    b.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a training setting of the --gpu-shape bench (e.g. batch_size=8)",
    )
    args = parser.parse_args(argv)
    setup_logging(args.verbose)
    claim_stdout()
    try:
        if args.command == "train":
            from .config import read_config_file
            from .train import install_signal_handlers, train

            install_signal_handlers()
            train(read_config_file(args.config), resume=args.resume, dry_run=args.dry_run)
        elif args.command == "export":
            from .export import export

            export(args.adapter, args.out, args.quant, tools_path=args.tools, verify=not args.no_verify)
        elif args.gpu_shape:
            import tempfile

            require_bench()

            from bench.gpu import gpu_bench

            gpu_bench(
                args.gpu_shape,
                args.backend,
                args.samples,
                args.steps,
                args.warmup,
                args.profile,
                args.workdir or tempfile.mkdtemp(prefix="mcp-forge-gpu-bench-"),
                args.out,
                parse_overrides(args.set),
            )
        else:
            require_bench()
            from bench.trainer import bench

            bench(args.samples, args.workdir)
        return 0
    except TrainerError as error:
        return fail(error)
    except KeyboardInterrupt:
        return fail(TrainerError("interrupted", "interrupted", "run again with --resume"))
    except Exception as error:  # noqa: BLE001 - reported on the protocol, then re-raised for the traceback
        log.exception("trainer crashed")
        emit(
            "error",
            kind="internal",
            message=f"{type(error).__name__}: {error}",
            hint="this is a bug in the trainer; the traceback is on stderr",
        )
        return 1


if __name__ == "__main__":
    sys.exit(main())
