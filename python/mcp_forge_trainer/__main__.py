"""Command line: `python -m mcp_forge_trainer train|export`."""

import argparse
import sys

from .protocol import run_command


def run(args: argparse.Namespace) -> None:
    if args.command == "train":
        from .config import read_config_file
        from .train import install_signal_handlers, train

        install_signal_handlers()
        train(read_config_file(args.config), resume=args.resume, dry_run=args.dry_run)
    else:
        from .export import export

        export(args.adapter, args.out, args.quant, tools_path=args.tools, verify=not args.no_verify)


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
    args = parser.parse_args(argv)
    return run_command(lambda: run(args), args.verbose)


if __name__ == "__main__":
    sys.exit(main())
