#!/usr/bin/env bash
# The test command: prepares the Python environments the tests drive (real readers of the shards, the bundled
# trainer, a real llama.cpp server), builds everything, runs the Swift test suite, then the trainer's own tests.
#
# The Swift suite runs serially: several tests time real waits (Retry-After, low-speed aborts) and kill child
# processes; on 2 cores, parallel suites that block threads would starve them and make the timings meaningless.
set -euo pipefail
cd "$(dirname "$0")/.."

# llama.cpp builds from source the first time: start it now, beside the Swift build.
llama_log=$(mktemp)
( bash scripts/llama-venv.sh >"$llama_log" 2>&1 && echo ok >>"$llama_log" || echo "failed" >>"$llama_log" ) &
llama_pid=$!

bash scripts/pyenv-interop.sh
# LLaMA-Factory's own loader for the export tests (torch from PyPI: a large download the first time); the test
# that needs it says why and skips that reader when it cannot be made.
bash scripts/llamafactory-venv.sh || echo "LLaMA-Factory venv could not be made; its loader checks will be skipped"
bash trainer/setup.sh
swift build --build-tests

wait "$llama_pid" || true
if tail -n 1 "$llama_log" | grep -q '^ok$'; then
  echo "llama.cpp server ready for the integration tests"
else
  echo "llama.cpp server could not be installed; its integration tests will be skipped:"; cat "$llama_log"
fi

DSBUILD_TRAINER_PYTHON="$PWD/trainer/.venv/bin/python" swift test --skip-build --no-parallel
trainer/.venv/bin/python -m pytest -q trainer/tests
