"""`export`: merge the LoRA adapter into the base in full precision, convert with llama.cpp's own
converter, write mcp_forge.* metadata, quantise with llama.cpp's quantizer, load and generate."""

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from . import __version__, gguf_base
from .protocol import TrainerError, emit, log
from .results import ExportDone, ExportTimings, VerifyResult

QUANTS = {
    "q8_0": "LLAMA_FTYPE_MOSTLY_Q8_0",
    "q4_k_m": "LLAMA_FTYPE_MOSTLY_Q4_K_M",
    "q4_k_s": "LLAMA_FTYPE_MOSTLY_Q4_K_S",
    "q5_k_m": "LLAMA_FTYPE_MOSTLY_Q5_K_M",
    "f16": None,
}
# setup.sh unpacks convert_hf_to_gguf.py, its `conversion` package and the gguf-py it was written
# against (newer than PyPI's gguf of the same version number) from the llama-cpp-python sdist, so the
# converter matches the llama.cpp that quantises and loads the file.
CONVERTER_ENV = "MCP_FORGE_CONVERTER"


def converter_path() -> Path:
    if os.environ.get(CONVERTER_ENV):
        return Path(os.environ[CONVERTER_ENV])
    return Path(sys.prefix) / "share" / "mcp-forge" / "llama.cpp" / "convert_hf_to_gguf.py"


def read_training_record(adapter: Path) -> dict:
    if not (adapter / "adapter_config.json").is_file():
        raise TrainerError(
            "bad_input",
            f"{adapter} is not an adapter folder (no adapter_config.json)",
            "pass the folder `mcp-forge train` wrote, e.g. .mcp-forge/model/adapter",
        )
    record_file = adapter / "mcp_forge_training.json"
    record = json.loads(record_file.read_text()) if record_file.is_file() else {}
    if "baseModelPath" not in record:
        cfg = json.loads((adapter / "adapter_config.json").read_text())
        record["baseModelPath"] = cfg["base_model_name_or_path"]
        record.setdefault("revision", cfg.get("revision"))
    return record


def base_folder(record: dict) -> str:
    """The base as training found it; for a GGUF base whose dequantised copy has left the cache,
    dequantised again from its file (the cache folder is named by the file's sha256)."""
    path, name = record["baseModelPath"], str(record.get("baseModel") or "")
    if Path(path).exists() or not gguf_base.is_gguf_name(name):
        return path
    folder = gguf_base.resolve(name)
    if folder is None or folder.name != Path(path).name:
        raise TrainerError(
            "bad_input",
            f"the base model file {name} is not the one the adapter was trained on (its sha256 differs)",
            "export with the file used in training, or train again on this one",
        )
    return str(folder)


def merge(adapter: Path, record: dict, out_dir: Path) -> None:
    """base + adapter → full-precision weights, with the tokenizer and chat template beside them."""
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    base_path, revision = base_folder(record), record.get("revision")
    try:
        base = AutoModelForCausalLM.from_pretrained(base_path, revision=revision, dtype=torch.float32)
    except OSError as e:
        raise TrainerError(
            "model_not_found",
            f"cannot load the base model {base_path}: {str(e).splitlines()[0]}",
            "the base must be where training found it (local folder or Hugging Face cache)",
        ) from None
    merged = PeftModel.from_pretrained(base, str(adapter)).merge_and_unload()
    merged.save_pretrained(str(out_dir), safe_serialization=True)
    tokenizer = AutoTokenizer.from_pretrained(str(adapter))
    tokenizer.save_pretrained(str(out_dir))
    for name in ("tokenizer.model", "generation_config.json"):
        src = Path(base_path) / name
        if src.is_file() and not (out_dir / name).is_file():
            shutil.copy(src, out_dir / name)
    if (out_dir / "tokenizer.model").is_file():
        describe_added_tokens(tokenizer, out_dir / "tokenizer_config.json")


def describe_added_tokens(tokenizer, config_file: Path) -> None:
    """llama.cpp's converter reads a SentencePiece vocab's control tokens from tokenizer_config.json's
    added_tokens_decoder, which transformers 5 no longer writes there."""
    config = json.loads(config_file.read_text())
    config["added_tokens_decoder"] = {
        str(i): {
            "content": t.content,
            "special": t.special,
            "lstrip": t.lstrip,
            "rstrip": t.rstrip,
            "normalized": t.normalized,
            "single_word": t.single_word,
        }
        for i, t in tokenizer.added_tokens_decoder.items()
    }
    if "chat_template" not in config and getattr(tokenizer, "chat_template", None):
        config["chat_template"] = tokenizer.chat_template
    config_file.write_text(json.dumps(config, indent=2))


# The converter with any BPE pre-tokenizer accepted: for a GGUF base, whose vocabulary the export takes
# from the base file itself (add_metadata), transformers' rebuilt tokenizer (Gemma 3's) need not be
# one the converter knows by hash.
ANY_PRE_TOKENIZER = """import runpy, sys
from pathlib import Path
script = sys.argv[1]
sys.argv = sys.argv[1:]
sys.path[:0] = [str(Path(script).parent / "gguf-py"), str(Path(script).parent)]
from conversion.base import TextModel
TextModel.get_vocab_base_pre = lambda self, tokenizer: "default"
runpy.run_path(script, run_name="__main__")
"""


def convert(merged: Path, out_file: Path, outtype: str, vocab_from_base: bool = False) -> None:
    script = converter_path()
    if not script.is_file():
        raise TrainerError(
            "environment",
            f"llama.cpp's converter is missing ({script})",
            "run `npm run setup:python`, or set MCP_FORGE_CONVERTER to convert_hf_to_gguf.py",
        )
    env = {k: v for k, v in os.environ.items() if k != "NO_LOCAL_GGUF"}
    command = [sys.executable, *(["-c", ANY_PRE_TOKENIZER] if vocab_from_base else []), str(script)]
    proc = subprocess.run(
        [*command, str(merged), "--outfile", str(out_file), "--outtype", outtype],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    if proc.returncode != 0:
        log.error("%s", proc.stdout)
        raise TrainerError(
            "environment",
            f"llama.cpp's converter failed (exit {proc.returncode}): "
            f"{proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else ''}",
            "see the converter's output on stderr (run with -v); the architecture may be unsupported",
        )
    log.debug("%s", proc.stdout)


def metadata(record: dict, tools_path: str | None, quant: str) -> dict:
    meta = {
        "mcp_forge.version": __version__,
        "mcp_forge.base_model": str(record.get("baseModel") or record["baseModelPath"]),
        "mcp_forge.base_model_revision": str(record.get("revision") or ""),
        "mcp_forge.training_config_hash": str(record.get("trainingConfigHash") or ""),
        "mcp_forge.dataset_stats": json.dumps(record.get("datasetStats") or {}, sort_keys=True),
        "mcp_forge.data_hash": str(record.get("dataHash") or ""),
        "mcp_forge.quantization": quant,
    }
    if tools_path:
        try:
            tools_file = json.loads(Path(tools_path).read_text())
        except (OSError, json.JSONDecodeError) as e:
            raise TrainerError("bad_input", f"{tools_path}: cannot read the tools file ({e})") from None
        if not isinstance(tools_file, dict) or not isinstance(tools_file.get("tools"), list):
            raise TrainerError("bad_input", f"{tools_path}: /tools is missing; expected a tools.json")
        meta["mcp_forge.toolset_hash"] = toolset_hash(tools_file["tools"])
        meta["mcp_forge.tools"] = json.dumps(tools_file["tools"], sort_keys=True, separators=(",", ":"))
    return meta


def toolset_hash(tools: list) -> str:
    """The contract's hash: sha256 over the canonical JSON (sorted keys, no whitespace) of the tools."""
    import hashlib

    text = json.dumps(tools, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def add_metadata(src: Path, dst: Path, meta: dict, tokenizer_from: Path | None = None) -> None:
    """Copies `src` with the mcp_forge.* keys added and, given the GGUF file the base came from, that
    file's own tokenizer.ggml.* keys in place of the converter's."""
    import gguf
    from gguf.scripts.gguf_new_metadata import MetadataDetails, copy_with_new_metadata

    reader = gguf.GGUFReader(str(src), "r")
    arch = reader.fields[gguf.Keys.General.ARCHITECTURE].contents()
    writer = gguf.GGUFWriter(str(dst), arch=arch, endianess=reader.endianess)
    alignment = reader.fields.get(gguf.Keys.General.ALIGNMENT)
    if alignment is not None:
        writer.data_alignment = alignment.contents()
    new = {k: MetadataDetails(gguf.GGUFValueType.STRING, v) for k, v in meta.items()}
    removed = []
    if tokenizer_from is not None:
        vocab = gguf_base.tokenizer_fields(tokenizer_from)
        new.update(vocab)
        removed = [name for name in reader.fields if name.startswith(gguf_base.TOKENIZER_PREFIX) and name not in vocab]
    copy_with_new_metadata(reader, writer, new, removed)


def quantize(src: Path, dst: Path, quant: str) -> None:
    import ctypes

    import llama_cpp

    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = getattr(llama_cpp, QUANTS[quant])  # type: ignore[arg-type]  # f16 (None) is never quantised
    params.nthread = os.cpu_count() or 2
    rc = llama_cpp.llama_model_quantize(str(src).encode(), str(dst).encode(), ctypes.byref(params))
    if rc != 0:
        raise TrainerError(
            "environment",
            f"llama.cpp's quantizer failed for {quant} (code {rc})",
            "k-quants need tensor rows that are multiples of 256; try --quant q8_0",
        )


def read_metadata(path: Path) -> dict:
    import gguf

    reader = gguf.GGUFReader(str(path), "r")
    out = {}
    for name, field in reader.fields.items():
        if name.startswith("mcp_forge.") or name in (
            "general.architecture",
            "tokenizer.chat_template",
            "general.file_type",
        ):
            out[name] = field.contents()
    return out


def load_and_generate(
    path: Path, prompt: str = "<|im_start|>user\nhello<|im_end|>\n<|im_start|>assistant\n"
) -> VerifyResult:
    """Loads the file with llama.cpp and generates a few tokens greedily. Token by token rather than
    llama-cpp-python's completion, which failed ("no memory slot") on a test model that writes
    tokens decoding to no text."""
    import llama_cpp
    from llama_cpp import Llama

    t0 = time.time()
    llm = Llama(model_path=str(path), n_ctx=512, n_threads=os.cpu_count() or 2, verbose=False)
    llm.eval(llm.tokenize(prompt.encode(), add_bos=False, special=True))
    generated: list[int] = []
    while len(generated) < 8:
        token = llm.sample(temp=0.0)
        if llama_cpp.llama_vocab_is_eog(llm._model.vocab, token):
            break
        generated.append(token)
        llm.eval([token])
    text = llm.detokenize(generated).decode("utf-8", errors="replace")
    tokens = len(generated)
    llm.close()
    if tokens < 1:
        raise TrainerError("environment", f"llama.cpp loaded {path} but generated nothing")
    return {"generatedTokens": tokens, "sample": text, "seconds": round(time.time() - t0, 2)}


def export(
    adapter_dir: str, out: str, quant: str = "q8_0", tools_path: str | None = None, verify: bool = True
) -> ExportDone:
    do_verify = verify
    quant = quant.lower()
    if quant not in QUANTS:
        raise TrainerError("bad_input", f"unknown quantisation {quant!r}", f"use one of {', '.join(QUANTS)}")
    adapter, out_file = Path(adapter_dir), Path(out)
    record = read_training_record(adapter)
    meta = metadata(record, tools_path, quant)
    emit(
        "start",
        phase="export",
        adapter=str(adapter),
        quant=quant,
        out=str(out_file),
        baseModel=meta["mcp_forge.base_model"],
    )
    out_file.parent.mkdir(parents=True, exist_ok=True)
    work = out_file.parent / f".{out_file.name}.work"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    timings: ExportTimings = {}
    try:
        t = time.time()
        merge(adapter, record, work / "merged")
        timings["mergeSeconds"] = round(time.time() - t, 2)
        emit("step", phase="export", stage="merge", step=1, total=4)
        t = time.time()
        converted = work / "converted.gguf"
        base_file = gguf_base.source_file(str(record.get("baseModel") or ""))
        convert(work / "merged", converted, "f16", vocab_from_base=base_file is not None)
        timings["convertSeconds"] = round(time.time() - t, 2)
        emit("step", phase="export", stage="convert", step=2, total=4)
        with_meta = work / "f16.gguf"
        add_metadata(converted, with_meta, meta, tokenizer_from=base_file)
        converted.unlink()
        t = time.time()
        final = work / "final.gguf"
        if quant == "f16":
            with_meta.rename(final)
        else:
            quantize(with_meta, final, quant)
        timings["quantizeSeconds"] = round(time.time() - t, 2)
        emit("step", phase="export", stage="quantize", step=3, total=4)
        check = load_and_generate(final) if do_verify else None
        emit("step", phase="export", stage="verify", step=4, total=4)
        read_back = read_metadata(final)
        missing = [k for k in meta if read_back.get(k) != meta[k]]
        if missing:
            raise TrainerError("environment", f"metadata did not survive quantisation: {', '.join(missing)}")
        os.replace(final, out_file)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    result: ExportDone = {
        "path": str(out_file),
        "sizeBytes": out_file.stat().st_size,
        "quant": quant,
        "timings": timings,
        "verify": check,
        "metadata": sorted(meta),
    }
    emit("done", **result)
    return result
