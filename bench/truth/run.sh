#!/bin/sh
# bench/truth: planted noise on the real K-Viscuit photos (10 % filed under a wrong keyword of their category, …),
# judged through the commands against a loopback perfect verifier; prints recall and precision of each check and
# the requests of a rerun (0 expected). Needs ../shared/data/k-viscuit beside the repository.
set -e
cd "$(dirname "$0")/../.."
out="${DSBUILD_BENCH_OUT:-bench/truth/results.txt}"
: > "$out"
DSBUILD_BENCH=1 DSBUILD_BENCH_OUT="$PWD/$out" swift test --filter TruthBench
cat "$out"
