"""The `tiny` base model, built on the spot without any download: a SentencePiece tokenizer trained
on the dataset's text, a Hermes/Qwen-style chat template, and a small Llama trained from scratch on
the rendered conversations. It then gets a LoRA adapter like any other base.

The template renders the conversation only: neither a system prompt nor the tools. A model trained
from scratch on one server's samples learns those tools by heart and cannot read a tool list; the
list (and the data's system prompt, which lists the tools again) made up two thirds of every
sequence, and its tool names in every prompt hid the one place that says which tool is wanted, the
request (docs/benchmarks.md: with 4,000 samples, selection 0.92 against 0.46 before).

SentencePiece (tokenizer.model) is what llama.cpp's converter reads for Llama without a BPE
pre-tokenizer hash, so the tiny model exports and loads like any other."""

import hashlib
import json
import shutil
from pathlib import Path

from .config import TinyConfig
from .protocol import log

TEMPLATE = (Path(__file__).parent / "tiny_template.jinja").read_text()
# Control tokens (hidden in output) and the tool-call markers (kept in output text).
CONTROL_TOKENS = ["<|im_start|>", "<|im_end|>"]
MARKER_TOKENS = ["<tool_call>", "</tool_call>", "<tool_response>", "</tool_response>"]
# A newline is always a token of its own, as real tokenizers' pre-tokenizers make it. Merged with the
# next character ("\n\""), the newline that ends the generation prompt would, in training, only ever
# precede a <tool_call>, and the model would call a tool for every answer that opens with a quote.
NEWLINE = "\n"
USER_DEFINED_TOKENS = CONTROL_TOKENS + MARKER_TOKENS + [NEWLINE]
FORMAT_VERSION = 4
MAX_POSITIONS = 4096  # the longest sequence the tiny model is built for, at least


def render_plain(messages, tools, add_generation_prompt=False) -> str:
    """The tiny template rendered as transformers renders chat templates (for tokenizer training)."""
    import jinja2

    env = jinja2.Environment(trim_blocks=True, lstrip_blocks=True, extensions=["jinja2.ext.loopcontrols"])
    env.filters["tojson"] = lambda x, **kw: json.dumps(x, ensure_ascii=False)
    return env.from_string(TEMPLATE).render(
        messages=messages, tools=tools or None, add_generation_prompt=add_generation_prompt
    )


def cache_key(data_hash: str, tiny: TinyConfig, seed: int, stopped_early: bool = False) -> str:
    fields = {"data": data_hash, "tiny": tiny.__dict__, "seed": seed, "v": FORMAT_VERSION}
    if stopped_early:  # the time budget ended pre-training before the planned steps
        fields["stoppedEarly"] = True
    text = json.dumps(fields, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def train_tokenizer(samples: list[dict], out_dir: Path, vocab_size: int):
    import sentencepiece as spm
    from transformers import LlamaTokenizer

    out_dir.mkdir(parents=True, exist_ok=True)
    texts = [render_plain(s["messages"], s["tools"]) for s in samples]
    prefix = out_dir / "sp"
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(texts),
        model_prefix=str(prefix),
        model_type="bpe",
        vocab_size=vocab_size,
        hard_vocab_limit=False,
        character_coverage=1.0,
        byte_fallback=True,
        normalization_rule_name="identity",
        add_dummy_prefix=False,
        remove_extra_whitespaces=False,
        split_by_whitespace=False,
        split_digits=True,
        allow_whitespace_only_pieces=True,
        max_sentencepiece_length=16,
        max_sentence_length=1 << 20,
        user_defined_symbols=USER_DEFINED_TOKENS,
        unk_id=0,
        bos_id=1,
        eos_id=2,
        pad_id=-1,
        num_threads=2,
        minloglevel=2,
    )
    shutil.move(f"{prefix}.model", out_dir / "tokenizer.model")
    Path(f"{prefix}.vocab").unlink(missing_ok=True)
    sp = spm.SentencePieceProcessor(model_file=str(out_dir / "tokenizer.model"))
    added = {
        str(sp.piece_to_id(t)): {
            "content": t,
            "special": t in CONTROL_TOKENS,
            "lstrip": False,
            "rstrip": False,
            "normalized": False,
            "single_word": False,
        }
        for t in USER_DEFINED_TOKENS
    }
    (out_dir / "tokenizer_config.json").write_text(
        json.dumps(
            {
                "tokenizer_class": "LlamaTokenizer",
                "add_bos_token": False,
                "add_eos_token": False,
                "add_prefix_space": False,
                "legacy": False,
                "bos_token": "<s>",
                "eos_token": "<|im_end|>",
                "unk_token": "<unk>",
                "pad_token": "<unk>",
                "model_max_length": 8192,
                "added_tokens_decoder": added,
                "chat_template": TEMPLATE,
                "clean_up_tokenization_spaces": False,
            },
            indent=2,
        )
    )
    tokenizer = LlamaTokenizer.from_pretrained(str(out_dir))
    tokenizer.save_pretrained(str(out_dir))
    return tokenizer


def build_model(tokenizer, tiny: TinyConfig, max_len: int, seed: int):
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(seed)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=tiny.hidden_size,
        intermediate_size=tiny.intermediate_size,
        num_hidden_layers=tiny.num_layers,
        num_attention_heads=tiny.num_heads,
        num_key_value_heads=tiny.num_heads,
        max_position_embeddings=max(max_len, MAX_POSITIONS),
        tie_word_embeddings=True,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.convert_tokens_to_ids("<|im_end|>"),
        pad_token_id=tokenizer.pad_token_id,
        torch_dtype="float32",
    )
    return LlamaForCausalLM(config)


def ensure_tiny_base(samples: list[dict], data_hash: str, cfg, run_sft, events, work_dir: Path | None = None) -> Path:
    """Builds (or reuses) the tiny base for these samples under <output_dir>/tiny-base-<key>. It is built
    in `work_dir` (default output_dir) and moved there when whole. `run_sft` pre-trains and returns
    whether it ran all its planned steps; it may lower cfg.tiny.pretrain_epochs to fit a time budget."""
    key = cache_key(data_hash, cfg.tiny, cfg.seed)
    base_dir = Path(cfg.output_dir) / f"tiny-base-{key}"
    if (base_dir / "model.safetensors").is_file() and (base_dir / "tokenizer.model").is_file():
        log.info("reusing the tiny base model in %s", base_dir)
        return base_dir
    tmp = Path(work_dir or cfg.output_dir) / f".tiny-base-{key}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    pre = samples[: cfg.tiny.max_samples] if cfg.tiny.max_samples else samples
    log.info("building the tiny base: tokenizer on %d samples, then pre-training from scratch", len(pre))
    try:
        tokenizer = train_tokenizer(pre, tmp, cfg.tiny.vocab_size)
        model = build_model(tokenizer, cfg.tiny, cfg.max_seq_length, cfg.seed)
        events(
            "tiny_base",
            path=str(base_dir),
            parameters=sum(p.numel() for p in model.parameters()),
            vocabSize=len(tokenizer),
        )
        complete = run_sft(model, tokenizer, pre, phase="pretrain", out_dir=tmp / "run")
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    shutil.rmtree(tmp / "run", ignore_errors=True)
    # Kept under the key of what it learned: the budget's plan may have changed the epochs.
    base_dir = Path(cfg.output_dir) / f"tiny-base-{cache_key(data_hash, cfg.tiny, cfg.seed, not complete)}"
    model.save_pretrained(str(tmp))
    tokenizer.save_pretrained(str(tmp))
    (tmp / "mcp_forge_tiny.json").write_text(json.dumps({"dataHash": data_hash, "tiny": cfg.tiny.__dict__}))
    shutil.rmtree(base_dir, ignore_errors=True)
    tmp.rename(base_dir)
    return base_dir
