#!/bin/sh
# bench/cost: dsbuild estimate vs the actual usage of the same run, on the real K-Viscuit photos, against a loopback
# endpoint that reports usage as OpenAI bills it — text by the real o200k tokenizer (bpe-openai, pinned), images by
# the documented tile rule. A cold estimate (empty cache: no calibration) and one after a pilot (calibrated by the
# cache's real usage). Prints requests, tokens and cost, estimated and actual, and their ratio.
set -e
cd "$(dirname "$0")/../.."
venv=bench/cost/.venv
if ! "$venv/bin/python" -c "import bpe_openai" 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install -q "bpe-openai==0.1.4"
fi
out="${DSBUILD_BENCH_OUT:-bench/cost/results.txt}"
: > "$out"
swift build --build-tests
DSBUILD_BENCH=1 DSBUILD_BENCH_OUT="$PWD/$out" DSBUILD_BENCH_TOKENIZER="$PWD/$venv/bin/python $PWD/bench/cost/count_tokens.py" \
  swift test --skip-build --filter CostBench
cat "$out"
