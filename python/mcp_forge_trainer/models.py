"""Base models: named presets, hub ids, local paths or GGUF files; the backend that loads them."""

import os
from dataclasses import dataclass
from pathlib import Path

from . import gguf_base
from .protocol import TrainerError, log

PRESETS = {
    "qwen2.5-0.5b": "Qwen/Qwen2.5-0.5B-Instruct",
    "qwen2.5-1.5b": "Qwen/Qwen2.5-1.5B-Instruct",
    "qwen2.5-3b": "Qwen/Qwen2.5-3B-Instruct",
    "qwen2.5-7b": "Qwen/Qwen2.5-7B-Instruct",
    "llama-3.2-1b": "meta-llama/Llama-3.2-1B-Instruct",
    "llama-3.2-3b": "meta-llama/Llama-3.2-3B-Instruct",
    # The R1 distills keep their <think> block: the template, not the trainer, decides what it renders.
    "deepseek-r1-distill-qwen-1.5b": "deepseek-ai/DeepSeek-R1-Distill-Qwen-1.5B",
    "deepseek-r1-distill-qwen-7b": "deepseek-ai/DeepSeek-R1-Distill-Qwen-7B",
}


def resolve(name: str) -> str:
    """A preset name → its hub id; a GGUF file or a packaged preset (gguf_base.PACKAGED) → its
    dequantised model folder; a hub id or local path as given."""
    folder = gguf_base.resolve(name)
    return str(folder) if folder else PRESETS.get(name.lower(), name)


def record_name(name: str, model_id: str) -> str:
    """The base as the training record and the GGUF's mcp_forge.base_model name it: the hub id, or
    for a GGUF base the packaged preset's name or the file's absolute path (export finds the
    dequantised folder again from it)."""
    if name.lower() in gguf_base.PACKAGED:
        return name.lower()
    return str(Path(name).expanduser().resolve()) if gguf_base.is_gguf_path(name) else model_id


def hub_cache() -> str:
    from huggingface_hub import constants

    return constants.HF_HUB_CACHE


def cpu_has_bf16() -> bool:
    """Whether this CPU computes bf16 natively (AVX512-BF16 or AMX); elsewhere bf16 is slower than fp32."""
    import torch

    return any(
        getattr(torch.cpu, probe, lambda: False)() for probe in ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
    )


@dataclass
class Backend:
    name: str  # unsloth | qlora | transformers
    device: str  # cuda | cpu
    gpus: int


def choose_backend(requested: str = "auto") -> Backend:
    """Unsloth when CUDA and Unsloth are installed, 4-bit QLoRA when CUDA and bitsandbytes are,
    else plain transformers + PEFT (CPU, or a GPU in full precision)."""
    import importlib
    import importlib.util

    import torch

    cuda = torch.cuda.is_available()
    gpus = torch.cuda.device_count() if cuda else 0
    has = lambda mod: importlib.util.find_spec(mod) is not None  # noqa: E731
    if requested not in ("auto", "unsloth", "qlora", "transformers"):
        raise TrainerError(
            "bad_input", f"config /backend: unknown backend {requested!r}", "use auto, unsloth, qlora or transformers"
        )
    if requested in ("unsloth", "qlora") and not cuda:
        raise TrainerError(
            "environment",
            f"backend {requested} needs a CUDA GPU, and none is visible",
            "use --set backend=auto to train on the CPU",
        )
    if requested == "unsloth" or (requested == "auto" and cuda and has("unsloth") and gpus == 1):
        if not has("unsloth"):
            raise TrainerError(
                "environment",
                "backend unsloth requested but Unsloth is not installed",
                "pip install -e 'python[unsloth]' in python/.venv",
            )
        # Unsloth patches transformers, PEFT and TRL when imported: it must come before them.
        importlib.import_module("unsloth")
        return Backend("unsloth", "cuda", gpus)
    if requested == "qlora" or (requested == "auto" and cuda and has("bitsandbytes")):
        if not has("bitsandbytes"):
            raise TrainerError(
                "environment",
                "backend qlora requested but bitsandbytes is not installed",
                "pip install -e 'python[cuda]' in python/.venv",
            )
        return Backend("qlora", "cuda", gpus)
    return Backend("transformers", "cuda" if cuda else "cpu", gpus)


def _missing(model_id: str, revision: str | None, cause: Exception) -> TrainerError:
    rev = f" at revision {revision}" if revision else ""
    return TrainerError(
        "model_not_found",
        f"cannot load model {model_id}{rev}: it is neither a local folder nor in the Hugging Face cache "
        f"({hub_cache()}), and the Hub could not be reached "
        f"({type(cause).__name__}: {str(cause).splitlines()[0][:200]})",
        f"download it where the Hub is reachable (`hf download {model_id}`) and copy the cache folder here, "
        "point HF_HOME at a cache that holds it, pass a local path with --model, or use --model tiny",
    )


def hub_reachable(timeout: float = 3.0) -> bool:
    import socket
    from urllib.parse import urlparse

    from huggingface_hub import constants

    host = urlparse(constants.ENDPOINT).hostname or "huggingface.co"
    try:
        socket.create_connection((host, 443), timeout=timeout).close()
        return True
    except OSError:
        return False


def check_available(model_id: str, revision: str | None) -> None:
    """Fails fast, naming the model and the cache, when a hub model is neither cached nor downloadable
    (transformers would otherwise retry for a minute before giving up)."""
    from huggingface_hub import try_to_load_from_cache

    if Path(model_id).exists():
        return
    cached = try_to_load_from_cache(model_id, "config.json", revision=revision)
    if isinstance(cached, str):
        return
    if os.environ.get("HF_HUB_OFFLINE") == "1" or not hub_reachable():
        raise _missing(model_id, revision, ConnectionError("no connection to the Hugging Face Hub"))


def load_tokenizer(model_id: str, revision: str | None):
    from transformers import AutoTokenizer

    check_available(model_id, revision)
    try:
        tokenizer = AutoTokenizer.from_pretrained(model_id, revision=revision)
    except (OSError, ValueError) as e:
        if Path(model_id).exists():
            raise TrainerError("bad_input", f"{model_id}: not a model folder with a tokenizer ({e})") from None
        raise _missing(model_id, revision, e) from None
    # A missing chat template (Gemma 3 270M's GGUF has none) is chat_templates.ensure_tool_template's to settle.
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def load_model(model_id: str, revision: str | None, backend: Backend, max_seq_length: int, unsloth_4bit: bool = True):
    """Loads the base for LoRA training with the chosen backend. Unsloth loads in 4 bits unless
    `unsloth_4bit` is False (16-bit LoRA, which the GPU bench compares with plain transformers)."""
    import torch

    if backend.name == "unsloth":
        from unsloth import FastLanguageModel

        model, _ = FastLanguageModel.from_pretrained(
            model_id,
            revision=revision,
            max_seq_length=max_seq_length,
            load_in_4bit=unsloth_4bit,
            load_in_16bit=not unsloth_4bit,
            dtype=torch.bfloat16,
        )
        log.info("loaded %s (unsloth, %s)", model_id, "4-bit" if unsloth_4bit else "16-bit")
        return model
    from transformers import AutoModelForCausalLM

    kwargs: dict = {"revision": revision}
    if backend.name == "qlora":
        from transformers import BitsAndBytesConfig

        kwargs["quantization_config"] = BitsAndBytesConfig(
            load_in_4bit=True,
            bnb_4bit_quant_type="nf4",
            bnb_4bit_use_double_quant=True,
            bnb_4bit_compute_dtype=torch.bfloat16,
        )
        kwargs["device_map"] = {"": int(os.environ.get("LOCAL_RANK", 0))}
    elif backend.device == "cuda":
        kwargs["dtype"] = torch.bfloat16
    else:
        kwargs["dtype"] = torch.float32
    try:
        model = AutoModelForCausalLM.from_pretrained(model_id, **kwargs)
    except OSError as e:
        raise _missing(model_id, revision, e) from None
    if backend.name == "qlora":
        from peft import prepare_model_for_kbit_training

        model = prepare_model_for_kbit_training(model, use_gradient_checkpointing=True)
    log.info("loaded %s (%s on %s)", model_id, backend.name, backend.device)
    return model


def add_lora(model, cfg, backend: Backend):
    if backend.name == "unsloth":
        from unsloth import FastLanguageModel

        targets = (
            cfg.target_modules
            if cfg.target_modules != "all-linear"
            else ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
        )
        return FastLanguageModel.get_peft_model(
            model,
            r=cfg.lora_r,
            lora_alpha=cfg.effective_lora_alpha(),
            lora_dropout=cfg.lora_dropout,
            target_modules=targets,
            random_state=cfg.seed,
        )
    from peft import LoraConfig, get_peft_model

    config = LoraConfig(
        r=cfg.lora_r,
        lora_alpha=cfg.effective_lora_alpha(),
        lora_dropout=cfg.lora_dropout,
        target_modules=cfg.target_modules,
        task_type="CAUSAL_LM",
    )
    return get_peft_model(model, config)
