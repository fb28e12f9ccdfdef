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

# LLaMA-Factory's own loader for the export tests (torch from PyPI: a large download the first time), also beside
# the build; the test that needs it says why and skips that reader when it cannot be made.
factory_log=$(mktemp)
( bash scripts/llamafactory-venv.sh >"$factory_log" 2>&1 && echo ok >>"$factory_log" || echo "failed" >>"$factory_log" ) &
factory_pid=$!

bash scripts/pyenv-interop.sh
bash trainer/setup.sh
swift build --build-tests

wait "$llama_pid" || true
wait "$factory_pid" || true
if ! tail -n 1 "$factory_log" | grep -q '^ok$'; then
  echo "LLaMA-Factory venv could not be made; its loader checks will be skipped:"; cat "$factory_log"
fi
if tail -n 1 "$llama_log" | grep -q '^ok$'; then
  echo "llama.cpp server ready for the integration tests"
else
  echo "llama.cpp server could not be installed; its integration tests will be skipped:"; cat "$llama_log"
fi

DSBUILD_TRAINER_PYTHON="$PWD/trainer/.venv/bin/python" swift test --skip-build --no-parallel
trainer/.venv/bin/python -m pytest -q trainer/tests
