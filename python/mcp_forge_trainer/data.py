"""The contract's samples: reading them, and rendering them with the model's own chat template
into token ids with a mask that is 1 on assistant turns only."""

import json
from dataclasses import dataclass
from pathlib import Path

from .protocol import TrainerError
from .results import DatasetStats


def read_samples(path: str) -> list[dict]:
    """Reads a JSONL of samples, naming the line of any malformed one."""
    samples = []
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                sample = json.loads(line)
            except json.JSONDecodeError as e:
                raise TrainerError(
                    "bad_input", f"{path}:{lineno}: not valid JSON ({e.msg})", "run `mcp-forge qa --fix` on the data"
                ) from None
            samples.append(normalise(sample, f"{path}:{lineno}"))
    if not samples:
        raise TrainerError("bad_input", f"{path} holds no samples", "run `mcp-forge generate` first")
    return samples


def normalise(sample: dict, where: str) -> dict:
    """Checks the structure and turns JSON-string `arguments` into objects."""
    messages = sample.get("messages") if isinstance(sample, dict) else None
    if not isinstance(messages, list) or not messages:
        raise TrainerError("bad_input", f"{where}: /messages must be a non-empty array")
    tools = sample.get("tools") or []
    if not isinstance(tools, list):
        raise TrainerError("bad_input", f"{where}: /tools must be an array")
    out = []
    for i, m in enumerate(messages):
        if not isinstance(m, dict) or m.get("role") not in ("system", "user", "assistant", "tool"):
            raise TrainerError("bad_input", f"{where}: /messages/{i}/role must be system, user, assistant or tool")
        m = dict(m)
        if m.get("content") is None:
            m["content"] = ""
        calls = []
        for j, call in enumerate(m.get("tool_calls") or []):
            fn = dict(call.get("function") or {})
            args = fn.get("arguments", {})
            if isinstance(args, str):
                try:
                    args = json.loads(args) if args.strip() else {}
                except json.JSONDecodeError:
                    raise TrainerError(
                        "bad_input",
                        f"{where}: /messages/{i}/tool_calls/{j}/function/arguments is not JSON",
                        "run `mcp-forge qa --fix` on the data",
                    ) from None
            if not isinstance(fn.get("name"), str) or not isinstance(args, dict):
                raise TrainerError(
                    "bad_input", f"{where}: /messages/{i}/tool_calls/{j}/function needs a name and object arguments"
                )
            calls.append({**call, "type": "function", "function": {"name": fn["name"], "arguments": args}})
        if calls:
            m["tool_calls"] = calls
        else:
            m.pop("tool_calls", None)
        out.append(m)
    if not any(m["role"] == "assistant" for m in out):
        raise TrainerError("bad_input", f"{where}: no assistant message to learn from")
    return {**sample, "messages": out, "tools": tools}


@dataclass
class Encoded:
    input_ids: list[int]
    assistant_masks: list[int]


def render(tokenizer, messages, tools, add_generation_prompt=False) -> str:
    return tokenizer.apply_chat_template(
        messages, tools=tools or None, tokenize=False, add_generation_prompt=add_generation_prompt
    )


def assistant_spans(tokenizer, messages, tools) -> list[tuple[str, list[tuple[int, int]]]]:
    """Renders a conversation and finds each assistant turn's character span.

    A turn's span runs from the end of the rendered prefix (with the generation prompt) to the end
    of the rendering that includes the turn. Templates whose earlier turns render differently once
    the conversation goes on (e.g. DeepSeek-R1 drops earlier <think> blocks) do not give a text
    prefix; such a conversation becomes one text per assistant turn, each with only its last turn
    carrying loss."""
    full = render(tokenizer, messages, tools)
    spans, texts = [], []
    for i, m in enumerate(messages):
        if m["role"] != "assistant":
            continue
        prefix = render(tokenizer, messages[:i], tools, add_generation_prompt=True)
        upto = render(tokenizer, messages[: i + 1], tools)
        if not upto.startswith(prefix):
            raise TrainerError(
                "bad_input",
                "the chat template renders the generation prompt differently from an assistant turn",
                "this model's template cannot be used for assistant-only loss",
            )
        check_calls_rendered(m, i, upto[len(prefix) :])
        if full.startswith(upto):
            spans.append((len(prefix), len(upto)))
        else:
            texts.append((upto, [(len(prefix), len(upto))]))
    if spans:
        texts.insert(0, (full, spans))
    return texts


def check_calls_rendered(message: dict, index: int, turn: str) -> None:
    """A template that drops tool calls leaves the assistant turn empty: training on it would teach
    the model to say nothing, so it is refused."""
    for call in message.get("tool_calls") or []:
        if call["function"]["name"] not in turn:
            raise TrainerError(
                "bad_input",
                f"the chat template renders the assistant turn /messages/{index} without its tool call "
                f"{call['function']['name']!r} (as {turn[:80]!r}): training would learn empty replies",
                "use a base model whose chat template renders tool calls (e.g. qwen2.5-0.5b), or one with ChatML "
                "or Gemma turn markers, for which mcp-forge writes a tool template",
            )


def encode(tokenizer, sample: dict) -> list[Encoded]:
    """Token ids and assistant mask for a sample (usually one sequence; see assistant_spans)."""
    out = []
    for text, spans in assistant_spans(tokenizer, sample["messages"], sample["tools"]):
        enc = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
        # A token that straddles a span's start (e.g. "\n\n{" merged) still carries the turn's text.
        mask = [1 if any(start < e and end > s for s, e in spans) else 0 for start, end in enc["offset_mapping"]]
        out.append(Encoded(enc["input_ids"], mask))
    return out


def encode_all(tokenizer, samples: list[dict]) -> dict:
    """A datasets-ready dict of columns, plus counts for the report."""
    ids, masks = [], []
    for s in samples:
        for e in encode(tokenizer, s):
            ids.append(e.input_ids)
            masks.append(e.assistant_masks)
    return {"input_ids": ids, "assistant_masks": masks}


def dataset_stats(columns: dict, max_len: int) -> DatasetStats:
    lengths = [len(x) for x in columns["input_ids"]]
    return {
        "sequences": len(lengths),
        "tokens": sum(lengths),
        "assistantTokens": sum(sum(m) for m in columns["assistant_masks"]),
        "maxLength": max(lengths, default=0),
        "meanLength": round(sum(lengths) / max(len(lengths), 1), 1),
        "truncated": sum(1 for n in lengths if n > max_len),
        "truncatedAssistantTokens": sum(sum(m[max_len:]) for m in columns["assistant_masks"]),
    }


def texts_for_tokenizer(samples: list[dict]) -> list[str]:
    """Every string a sample holds, for training the tiny tokenizer."""
    out = []
    for s in samples:
        out.append(json.dumps(s["tools"], ensure_ascii=False))
        for t in s["tools"]:
            out.append(json.dumps(t, ensure_ascii=False))
        for m in s["messages"]:
            out.append(m["content"])
            for c in m.get("tool_calls") or []:
                out.append(
                    json.dumps(
                        {"name": c["function"]["name"], "arguments": c["function"]["arguments"]}, ensure_ascii=False
                    )
                )
    return [t for t in out if t]


def file_sha256(path: str) -> str:
    import hashlib

    h = hashlib.sha256()
    with open(Path(path), "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return "sha256:" + h.hexdigest()
