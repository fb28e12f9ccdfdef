#!/usr/bin/env bash
# Create (or update) the trainer's virtual environment and install the pinned requirements.
#   bash trainer/setup.sh [VENV_DIR]      (default: trainer/.venv)
# Idempotent: when every pin is already satisfied, nothing is downloaded or installed.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="${1:-$here/.venv}"
req="$here/requirements.txt"
python="${PYTHON:-python3}"

if ! "$python" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else 1)'; then
    echo "setup.sh: $python is older than Python 3.10; set PYTHON=/path/to/python3.10+" >&2
    exit 1
fi

if [ ! -x "$venv/bin/python" ]; then
    echo "setup.sh: creating virtual environment $venv" >&2
    "$python" -m venv "$venv"
fi

# Every pin satisfied already? Then there is nothing to do (no network needed).
if "$venv/bin/python" - "$req" <<'PY'
import sys
from importlib import metadata
ok = True
for line in open(sys.argv[1]):
    line = line.split("#", 1)[0].strip()
    if not line:
        continue
    name, _, want = line.partition("==")
    try:
        have = metadata.version(name)
    except metadata.PackageNotFoundError:
        ok = False
        break
    if have.split("+", 1)[0] != want.split("+", 1)[0]:
        ok = False
        break
sys.exit(0 if ok else 1)
PY
then
    echo "setup.sh: requirements already satisfied in $venv" >&2
else
    echo "setup.sh: installing $req into $venv" >&2
    "$venv/bin/python" -m pip install --disable-pip-version-check -q -r "$req"
fi
echo "$venv"
