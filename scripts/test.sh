#!/usr/bin/env bash
# The test command: builds everything (tests included) and runs the Swift test suite, then the trainer's tests.
# The suite runs serially: several tests time real waits (Retry-After, low-speed aborts) and kill child
# processes; on 2 cores, parallel suites that block threads would starve them and make timings meaningless.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build --build-tests
swift test --skip-build --no-parallel
if [ -f trainer/tests/test_train.py ] || ls trainer/tests/test_*.py >/dev/null 2>&1; then
  bash trainer/setup.sh
  trainer/.venv/bin/python -m pytest -q trainer/tests
fi
