"""Chat templates that carry tools. A probe tells whether a model's own template renders a tool list,
a call and its result; a model whose template cannot (SmolLM2's plain ChatML, Gemma's) trains with
mcp-forge's Hermes-style tool template written on its own turn markers. The template set here is the
one the adapter's tokenizer saves, export writes into the GGUF and every later stage reads from it."""

import json
from pathlib import Path

from .protocol import TrainerError, log

HERE = Path(__file__).parent

# The tool templates by their turn markers, and the probe conversation; shared with src/models/tool-template.ts.
SPEC = json.loads((HERE / "tool_templates.json").read_text())
TOOL_TEMPLATES = {t["family"]: t for t in SPEC["templates"]}
PROBE = SPEC["probe"]


def tool_template(family: str) -> str:
    """The source of mcp-forge's tool template for a family of turn markers (chatml, gemma)."""
    return (HERE / TOOL_TEMPLATES[family]["file"]).read_text()


def carries_tools(tokenizer, template: str | None = None) -> bool:
    """Whether `template` (default: the tokenizer's own) renders a probe conversation's tool call, with
    its name and arguments, and the tool's result. A template that fails on it cannot carry tools."""
    template = template if template is not None else getattr(tokenizer, "chat_template", None)
    if not template:
        return False
    try:
        text = tokenizer.apply_chat_template(
            PROBE["messages"], tools=PROBE["tools"], chat_template=template, tokenize=False
        )
    except Exception as e:  # noqa: BLE001 - a template may raise anything (Gemma's: raise_exception)
        log.debug("the chat template fails on the tool probe: %s", e)
        return False
    return all(s in text for s in PROBE["mustAppear"])


def marker_family(tokenizer) -> str | None:
    """The family whose turn markers are all single tokens of the tokenizer's vocabulary."""
    vocab = tokenizer.get_vocab()
    return next((family for family, t in TOOL_TEMPLATES.items() if t["start"] in vocab and t["end"] in vocab), None)


def ensure_tool_template(tokenizer) -> str | None:
    """Keeps the tokenizer's chat template when it carries tools (returns None); else sets mcp-forge's
    tool template on the model's own turn markers and returns its source. A model with neither is refused."""
    if carries_tools(tokenizer):
        return None
    name = getattr(tokenizer, "name_or_path", "") or "the base model"
    family = marker_family(tokenizer)
    if family is None:
        own = (
            "has no chat template"
            if not getattr(tokenizer, "chat_template", None)
            else "has a chat template that cannot render tool calls"
        )
        raise TrainerError(
            "bad_input",
            f"{name} {own}, and its vocabulary has neither ChatML's (<|im_start|>, <|im_end|>) nor Gemma's "
            "(<start_of_turn>, <end_of_turn>) turn markers to write a tool template on",
            "use a model whose chat template renders tools (e.g. --model qwen2.5-0.5b or llama-3.2-1b), "
            "or smollm2-135m, gemma3-270m or tiny",
        )
    template = tool_template(family)
    tokenizer.chat_template = template
    log.info(
        "%s: its chat template cannot render tool calls; training with mcp-forge's tool template on its "
        "%s turn markers (%s)",
        name,
        family,
        TOOL_TEMPLATES[family]["file"],
    )
    return template
