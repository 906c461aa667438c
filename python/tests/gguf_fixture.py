"""A small GGUF model the tests build themselves: a 2-layer Llama with random weights and a
SentencePiece-style vocabulary (bytes, printable characters, ChatML and Hermes markers), written
with the `gguf` package in f32 and quantised to Q8_0 by llama.cpp, as models are found in the wild.

Run as a script by the TypeScript tests: python gguf_fixture.py OUT.gguf"""

import sys
import tempfile
from pathlib import Path

import numpy as np

TEMPLATE = (Path(__file__).resolve().parents[1] / "mcp_forge_trainer" / "tiny_template.jinja").read_text()
CONTROL = ["<|im_start|>", "<|im_end|>"]
MARKERS = ["<tool_call>", "</tool_call>", "<tool_response>", "</tool_response>"]
HIDDEN, FFN, LAYERS, HEADS = 128, 256, 2, 4


def vocabulary() -> tuple[list[str], list[float], list[int]]:
    import gguf

    T = gguf.TokenType
    tokens = ["<unk>", "<s>", "</s>", *CONTROL, *MARKERS]
    types = [T.UNKNOWN, T.CONTROL, T.CONTROL, *[T.CONTROL] * len(CONTROL), *[T.USER_DEFINED] * len(MARKERS)]
    tokens += [f"<0x{b:02X}>" for b in range(256)]
    types += [T.BYTE] * 256
    chars = ["▁"] + [chr(c) for c in range(33, 127)]
    tokens += chars
    types += [T.NORMAL] * len(chars)
    scores = [0.0] * (len(tokens) - len(chars)) + [-float(i) for i in range(len(chars))]
    return tokens, scores, [int(t) for t in types]


def write_f32(path: Path, arch: str = "llama", seed: int = 0) -> None:
    import gguf

    tokens, scores, types = vocabulary()
    rng = np.random.default_rng(seed)

    def w(*shape: int):
        return (rng.standard_normal(shape) * 0.05).astype(np.float32)

    writer = gguf.GGUFWriter(str(path), arch)
    writer.add_name("forge-test-llama")
    writer.add_context_length(2048)
    writer.add_embedding_length(HIDDEN)
    writer.add_block_count(LAYERS)
    writer.add_feed_forward_length(FFN)
    writer.add_rope_dimension_count(HIDDEN // HEADS)
    writer.add_head_count(HEADS)
    writer.add_head_count_kv(HEADS)
    writer.add_layer_norm_rms_eps(1e-5)
    writer.add_file_type(gguf.LlamaFileType.ALL_F32)
    writer.add_tokenizer_model("llama")
    writer.add_token_list(tokens)
    writer.add_token_scores(scores)
    writer.add_token_types(types)
    writer.add_bos_token_id(1)
    writer.add_eos_token_id(tokens.index("<|im_end|>"))
    writer.add_unk_token_id(0)
    writer.add_add_bos_token(False)
    writer.add_add_space_prefix(False)
    writer.add_chat_template(TEMPLATE)
    writer.add_tensor("token_embd.weight", w(len(tokens), HIDDEN))
    for i in range(LAYERS):
        writer.add_tensor(f"blk.{i}.attn_norm.weight", np.ones(HIDDEN, np.float32))
        for name in ("attn_q", "attn_k", "attn_v", "attn_output"):
            writer.add_tensor(f"blk.{i}.{name}.weight", w(HIDDEN, HIDDEN))
        writer.add_tensor(f"blk.{i}.ffn_norm.weight", np.ones(HIDDEN, np.float32))
        writer.add_tensor(f"blk.{i}.ffn_gate.weight", w(FFN, HIDDEN))
        writer.add_tensor(f"blk.{i}.ffn_up.weight", w(FFN, HIDDEN))
        writer.add_tensor(f"blk.{i}.ffn_down.weight", w(HIDDEN, FFN))
    writer.add_tensor("output_norm.weight", np.ones(HIDDEN, np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


def build(out: Path) -> Path:
    """The Q8_0 model file at `out`."""
    from mcp_forge_trainer.export import quantize

    with tempfile.TemporaryDirectory() as tmp:
        f32 = Path(tmp) / "model-f32.gguf"
        write_f32(f32)
        quantize(f32, out, "q8_0")
    return out


if __name__ == "__main__":
    print(build(Path(sys.argv[1])))
