"""`python -m bench.gpu`: the published shape is the real one, and the bench's model folder trains
through the normal entry point. Runs on CPU with the `toy` shape; the GPU figures are in
docs/benchmarks.md."""

import json

import pytest
import torch

from bench.gpu import build_tokenizer, qwen2_config
from mcp_forge_trainer.data import read_samples

from conftest import FIXTURES, run_trainer


def run_gpu_bench(args: list[str]) -> tuple[int, list[dict], str]:
    return run_trainer(args, entry=["-m", "bench.gpu"])


def test_qwen2_5_1_5b_shape_has_the_published_parameter_count():
    from transformers import AutoModelForCausalLM

    samples = read_samples(str(FIXTURES / "train.jsonl"))[:20]
    config = qwen2_config("qwen2.5-1.5b", build_tokenizer(samples, 2000, 32768))
    with torch.device("meta"):
        model = AutoModelForCausalLM.from_config(config)
    # Qwen2.5-1.5B-Instruct: 1.54 B parameters, input and output embeddings tied.
    assert sum(p.numel() for p in model.parameters()) == 1_543_714_304
    assert model.config.tie_word_embeddings and model.config.num_key_value_heads == 2


@pytest.fixture(scope="module")
def toy_bench(tmp_path_factory):
    work = tmp_path_factory.mktemp("gpu-bench")
    code, events, stderr = run_gpu_bench(
        [
            "--gpu-shape",
            "toy",
            "--backend",
            "transformers",
            "--samples",
            "24",
            "--warmup",
            "1",
            "--steps",
            "2",
            "--workdir",
            str(work),
            "--out",
            str(work / "figures.json"),
        ]
    )
    assert code == 0, stderr[-3000:]
    return work, events


def test_toy_bench_times_the_steps_after_warm_up(toy_bench):
    work, events = toy_bench
    bench = next(e for e in events if e["event"] == "bench")
    figures = json.loads((work / "figures.json").read_text())
    assert figures["measuredSteps"] == 2 and figures["warmupSteps"] == 1
    assert figures["measuredTokens"] > 0 and figures["tokensPerSecond"] > 0
    assert figures["settings"]["loraR"] == 16 and figures["settings"]["batchSize"] == 2  # profile balanced
    assert figures["samples"] == 24 and bench["tokensPerSecond"] == figures["tokensPerSecond"]


def test_bench_model_folder_trains_through_the_train_entry_point(toy_bench, tmp_path):
    work, _ = toy_bench
    config = {
        "data": str(work / "data" / "train-24.jsonl"),
        "output_dir": str(tmp_path / "out"),
        "model": str(work / "toy"),
        "profile": "fast_dev",
        "max_steps": 2,
        "save_steps": 1,
    }
    (tmp_path / "c.json").write_text(json.dumps(config))
    code, events, stderr = run_trainer(["train", "--config", str(tmp_path / "c.json")])
    assert code == 0, stderr[-3000:]
    kinds = [e["event"] for e in events]
    assert kinds[0] == "start" and kinds.count("checkpoint") == 2 and kinds[-1] == "done"
    assert (tmp_path / "out" / "adapter" / "adapter_model.safetensors").is_file()


def test_unknown_backend_is_named(tmp_path):
    code, events, _ = run_gpu_bench(["--gpu-shape", "toy", "--backend", "vllm", "--workdir", str(tmp_path)])
    assert code == 2 and "--backend 'vllm'" in events[-1]["message"]


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message given without a GPU")
def test_gpu_backend_without_a_gpu_fails_before_building_anything(tmp_path):
    code, events, _ = run_gpu_bench(["--gpu-shape", "toy", "--backend", "unsloth", "--workdir", str(tmp_path)])
    assert code == 3 and "needs a CUDA GPU" in events[-1]["message"]
    assert not list(tmp_path.iterdir())


def test_malformed_setting_override_is_named(tmp_path):
    code, events, _ = run_gpu_bench(["--gpu-shape", "toy", "--set", "batch_size", "--workdir", str(tmp_path)])
    assert code == 2 and "--set 'batch_size'" in events[-1]["message"] and "KEY=VALUE" in events[-1]["message"]
