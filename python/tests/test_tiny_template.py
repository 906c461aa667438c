"""The tiny model's chat template as transformers renders it in training: the conversation only
(no system turn, no tool list: the tiny model learns one server's tools by heart)."""

from transformers.utils.chat_template_utils import render_jinja_template

from mcp_forge_trainer.tiny import TEMPLATE

TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "search_nodes",
            "description": "Search the graph",
            "parameters": {
                "type": "object",
                "properties": {
                    "query": {"type": "string"},
                    "limit": {"type": "integer"},
                    "tags": {"type": "array", "items": {"type": "string"}},
                    "mode": {"type": ["string", "null"]},
                },
                "required": ["query"],
            },
        },
    },
    {"type": "function", "function": {"name": "read_graph", "parameters": {"type": "object", "properties": {}}}},
]


def render(messages, tools=None, add_generation_prompt=True) -> str:
    rendered, _ = render_jinja_template(
        [messages], tools=tools, chat_template=TEMPLATE, add_generation_prompt=add_generation_prompt
    )
    return rendered[0]


def test_neither_the_tools_nor_a_system_prompt_are_rendered():
    text = render([{"role": "system", "content": "Be useful."}, {"role": "user", "content": "hi"}], TOOLS)
    assert text == "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n"
    assert render([{"role": "user", "content": "hi"}]) == text


def test_calls_and_results_keep_the_hermes_format():
    messages = [
        {"role": "user", "content": "find Ada"},
        {
            "role": "assistant",
            "content": "",
            "tool_calls": [{"type": "function", "function": {"name": "search_nodes", "arguments": {"query": "Ada"}}}],
        },
        {"role": "tool", "content": '{"entities": []}'},
        {"role": "assistant", "content": "Nothing found."},
    ]
    text = render(messages, TOOLS, add_generation_prompt=False)
    assert text.endswith(
        "<|im_start|>assistant\n<tool_call>\n"
        '{"name": "search_nodes", "arguments": {"query": "Ada"}}\n</tool_call><|im_end|>\n'
        '<|im_start|>user\n<tool_response>\n{"entities": []}\n</tool_response><|im_end|>\n'
        "<|im_start|>assistant\nNothing found.<|im_end|>\n"
    )
    assert text.startswith("<|im_start|>user\nfind Ada<|im_end|>\n")


def test_a_newline_is_always_a_token_of_its_own(tmp_path):
    """Were "\\n" merged with the next character, the generation prompt's closing newline would only
    ever precede <tool_call> in training, and every answer that opens with a quote would become a call."""
    import json

    from mcp_forge_trainer.tiny import train_tokenizer

    from conftest import FIXTURES

    samples = [json.loads(line) for line in (FIXTURES / "train.jsonl").read_text().splitlines()[:200]]
    tokenizer = train_tokenizer(samples, tmp_path / "tok", 1024)
    prompt = render([{"role": "user", "content": 'Spell "ruin" backwards.'}])
    answer = prompt + '"ruin" backwards is "niur".<|im_end|>\n'
    call = render([{"role": "user", "content": "find Ada"}]) + '<tool_call>\n{"name": "search_nodes"}\n</tool_call>'
    for text in (answer, call):
        ids = tokenizer(text, add_special_tokens=False)["input_ids"]
        pieces = tokenizer.convert_ids_to_tokens(ids)
        assert [p for p in pieces if "\n" in p] == ["\n"] * text.count("\n")
        assert tokenizer.decode(ids) == text
    # The prompt's tokens are a prefix of the reply's: generation continues the training-time sequence.
    prompt_ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
    assert tokenizer(answer, add_special_tokens=False)["input_ids"][: len(prompt_ids)] == prompt_ids
