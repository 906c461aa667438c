"""The trainer's benchmarks, kept out of the product package (`mcp_forge_trainer`): they read the
repository's test fixtures, so each runs as its own module from python/ (`npm run bench` puts python/
on the path), with `--help`:

- `python -m bench.trainer`: tiny-model training throughput and export time
- `python -m bench.gpu --gpu-shape …`: LoRA throughput and GPU memory for a published model's shape
- `python -m bench.cpu`: LoRA tokens per second on the CPU, setting by setting
"""
