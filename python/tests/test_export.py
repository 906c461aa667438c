import json
from pathlib import Path

import pytest
import torch

from mcp_forge_trainer.export import read_metadata, toolset_hash

from conftest import FIXTURES, run_trainer


def test_merged_model_equals_base_plus_adapter(tiny_run):
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    record = json.loads((tiny_run["adapter"] / "mcp_forge_training.json").read_text())
    base = AutoModelForCausalLM.from_pretrained(record["baseModelPath"], dtype=torch.float32)
    model = PeftModel.from_pretrained(base, str(tiny_run["adapter"])).eval()
    ids = torch.arange(5, 69).unsqueeze(0)
    with torch.no_grad():
        with model.disable_adapter():
            plain = model(ids).logits
        adapted = model(ids).logits
        merged = model.merge_and_unload()(ids).logits
    assert (adapted - plain).abs().max() > 1e-4, "the adapter must change the output for this test to mean anything"
    assert torch.allclose(merged, adapted, atol=1e-4)


@pytest.mark.parametrize("quant", ["f16", "q8_0", "q4_k_m"])
def test_export_writes_a_gguf_llama_cpp_loads(tiny_run, tmp_path, quant):
    out = tmp_path / f"model-{quant}.gguf"
    tools = FIXTURES / "tools.json"
    code, events, stderr = run_trainer(
        ["export", "--adapter", str(tiny_run["adapter"]), "--out", str(out), "--quant", quant, "--tools", str(tools)]
    )
    assert code == 0, stderr[-3000:]
    done = events[-1]
    assert done["event"] == "done" and done["verify"]["generatedTokens"] > 0
    assert out.stat().st_size == done["sizeBytes"]
    meta = read_metadata(out)
    tools_json = json.loads(tools.read_text())
    assert meta["mcp_forge.toolset_hash"] == toolset_hash(tools_json["tools"]) == tools_json["toolsetHash"]
    assert json.loads(meta["mcp_forge.tools"]) == tools_json["tools"]
    assert meta["mcp_forge.base_model"] == "tiny" and meta["mcp_forge.quantization"] == quant
    assert meta["mcp_forge.training_config_hash"].startswith("sha256:")
    assert json.loads(meta["mcp_forge.dataset_stats"])["sequences"] == 48
    assert "<tool_call>" in meta["tokenizer.chat_template"]
    assert not list(Path(tmp_path).glob(".*.work"))


def test_export_rejects_an_unknown_quantisation(tiny_run, tmp_path):
    code, events, _ = run_trainer(
        ["export", "--adapter", str(tiny_run["adapter"]), "--out", str(tmp_path / "x.gguf"), "--quant", "q3_weird"]
    )
    assert code == 2 and events[-1]["kind"] == "bad_input"
