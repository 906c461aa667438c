"""The trainer's benchmarks, kept out of the product package (`mcp_forge_trainer`): they read the
repository's test fixtures, so they run from a checkout with python/ on the path (the CLI's
`npm run bench` and `python -m mcp_forge_trainer bench` put it there; from python/, `python -m bench.cpu`).

- `trainer`: tiny-model training throughput and export time (`python -m mcp_forge_trainer bench`)
- `gpu`: LoRA throughput and GPU memory for a published model's shape (`bench --gpu-shape`)
- `cpu`: LoRA tokens per second on the CPU, setting by setting (`python -m bench.cpu`)
"""
