#!/bin/sh
# bench/generate: the chat client against the loopback fake endpoint (200 ms latency, 1,800 requests/min
# advertised and enforced over sliding 10 s windows; DSBUILD_BENCH_WINDOW=1 for 1 s), 450 requests at concurrency 8, 32 and 64.
# Prints achieved req/s vs the ceiling min(limit, concurrency / latency) and the 429s the fake had to send.
set -e
cd "$(dirname "$0")/../.."
out="${DSBUILD_BENCH_OUT:-bench/generate/results.txt}"
: > "$out"
DSBUILD_BENCH=1 DSBUILD_BENCH_OUT="$out" swift test --filter GenerateBench
cat "$out"
