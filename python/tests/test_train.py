import json
import shutil
from pathlib import Path

import pytest

from mcp_forge_trainer.data import encode, read_samples

from conftest import FIXTURES, run_trainer, train


def steps(events, phase="lora"):
    return [e for e in events if e["event"] == "step" and e.get("phase") == phase]


def test_protocol_reports_start_steps_checkpoints_and_done(tiny_run):
    events = tiny_run["events"]
    kinds = [e["event"] for e in events]
    assert kinds.index("start") < kinds.index("step") < kinds.index("done")
    start = [e for e in events if e["event"] == "start" and e["phase"] == "lora"][0]
    assert start["backend"] == "transformers" and start["device"] == "cpu"
    assert 0 < start["trainableParameters"] < start["totalParameters"]
    lora = steps(events)
    assert [e["step"] for e in lora] == list(range(1, 7))
    assert all(e["total"] == 6 and e["tokensPerSecond"] > 0 and "etaSeconds" in e for e in lora)
    checkpoints = [Path(e["path"]).name for e in events if e["event"] == "checkpoint" and e["phase"] == "lora"]
    assert checkpoints == ["checkpoint-2", "checkpoint-4", "checkpoint-6"]
    assert (tiny_run["adapter"] / "adapter_model.safetensors").is_file()


def test_loss_falls_while_training_the_tiny_model(tiny_run):
    pre = [e["loss"] for e in steps(tiny_run["events"], "pretrain")]
    assert len(pre) >= 5
    assert pre[-1] < pre[0] - 1.0


def test_only_assistant_tokens_carry_loss(tiny_run):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(tiny_run["adapter"]))
    sample = next(s for s in read_samples(str(FIXTURES / "eval.jsonl")) if s["scenario"] == "standard")
    [enc] = encode(tokenizer, sample)
    learned = tokenizer.decode([t for t, m in zip(enc.input_ids, enc.assistant_masks) if m])
    ignored = tokenizer.decode([t for t, m in zip(enc.input_ids, enc.assistant_masks) if not m])
    call = sample["messages"][2]["tool_calls"][0]["function"]
    assert (
        f'<tool_call>\n{{"name": "{call["name"]}", "arguments": {json.dumps(call["arguments"])}}}\n</tool_call>'
        in learned
    )
    assert sample["messages"][4]["content"] in learned
    assert learned.count("<|im_end|>") == 2
    for hidden in (sample["messages"][1]["content"], "<tool_response>", "<|im_start|>assistant"):
        assert hidden not in learned and hidden in ignored


def test_resume_continues_at_the_next_step_with_the_same_schedule(tiny_run, data_file, tmp_path):
    out = tmp_path / "model"
    shutil.copytree(tiny_run["model_dir"], out, ignore=shutil.ignore_patterns("adapter"))
    for later in ("checkpoint-4", "checkpoint-6"):
        shutil.rmtree(out / "checkpoints" / later)
    code, events, stderr = train(tmp_path, data_file, {"max_steps": 6}, resume=True, out=out)
    assert code == 0, stderr[-3000:]
    resumed = [e for e in events if e["event"] == "resume"]
    assert resumed and resumed[0]["checkpoint"].endswith("checkpoint-2")
    after = steps(events)
    assert [e["step"] for e in after] == [3, 4, 5, 6]
    before = {e["step"]: e for e in steps(tiny_run["events"])}
    for e in after:
        assert abs(e["lr"] - before[e["step"]]["lr"]) < 1e-12
        assert abs(e["loss"] - before[e["step"]]["loss"]) < 1e-3


def test_injected_oom_halves_the_batch_and_finishes(tiny_run, data_file, tmp_path):
    out = tmp_path / "model"
    shutil.copytree(tiny_run["model_dir"], out, ignore=shutil.ignore_patterns("adapter", "checkpoints"))
    code, events, stderr = train(tmp_path, data_file, {"max_steps": 4}, out=out, inject_oom_at_step=3)
    assert code == 0, stderr[-3000:]
    [oom] = [e for e in events if e["event"] == "oom"]
    assert oom["previous"]["batch_size"] == 4 and oom["previous"]["grad_accum"] == 2
    assert oom["next"]["batch_size"] == 2 and oom["next"]["grad_accum"] == 4
    resumed = [e for e in events if e["event"] == "resume"]
    assert resumed and resumed[0]["checkpoint"].endswith("checkpoint-2")
    assert [e["step"] for e in steps(events)][-2:] == [3, 4]
    assert any(e["event"] == "done" for e in events)


def test_oom_at_batch_one_and_shortest_sequences_fails_with_advice(tiny_run, data_file, tmp_path):
    from mcp_forge_trainer.train import Settings

    assert Settings(1, 8, 1024).after_oom(1024) is None
    assert Settings(1, 8, 4096).after_oom(1024) == Settings(1, 8, 2048)
    assert Settings(4, 2, 2048).after_oom(1024) == Settings(2, 4, 2048)


def test_missing_model_names_the_model_and_the_cache(tmp_path, data_file):
    config = {"data": str(data_file), "output_dir": str(tmp_path / "m"), "model": "qwen2.5-0.5b"}
    (tmp_path / "c.json").write_text(json.dumps(config))
    code, events, _ = run_trainer(
        ["train", "--config", str(tmp_path / "c.json")], env={"HF_HOME": str(tmp_path / "hf")}
    )
    assert code == 3
    [error] = [e for e in events if e["event"] == "error"]
    assert error["kind"] == "model_not_found"
    assert "Qwen/Qwen2.5-0.5B-Instruct" in error["message"] and str(tmp_path / "hf") in error["message"]
    assert "--model tiny" in error["hint"]


def test_bad_config_names_the_setting(tmp_path, data_file):
    (tmp_path / "c.json").write_text(
        json.dumps({"data": str(data_file), "output_dir": str(tmp_path), "lerning_rate": 1})
    )
    code, events, _ = run_trainer(["train", "--config", str(tmp_path / "c.json")])
    assert code == 2
    assert "/lerning_rate" in events[-1]["message"] and events[-1]["kind"] == "bad_input"


@pytest.mark.parametrize("template", ["qwen2.5-instruct.jinja", "llama-3.2-instruct.jinja"])
def test_assistant_mask_with_real_model_templates(tiny_run, template):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(tiny_run["adapter"]))
    tokenizer.chat_template = (FIXTURES.parent / "templates" / template).read_text()
    sample = next(s for s in read_samples(str(FIXTURES / "eval.jsonl")) if s["scenario"] == "standard")
    [enc] = encode(tokenizer, sample)
    learned = tokenizer.decode([t for t, m in zip(enc.input_ids, enc.assistant_masks) if m])
    assert sample["messages"][2]["tool_calls"][0]["function"]["name"] in learned
    assert sample["messages"][4]["content"] in learned
    assert sample["messages"][1]["content"] not in learned and "Cutting Knowledge" not in learned
