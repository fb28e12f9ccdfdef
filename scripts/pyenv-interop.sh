#!/usr/bin/env bash
# Creates .venv-interop: the real Python readers (webdataset, Hugging Face datasets, Pillow, pyarrow, mlcroissant
# for croissant.json; selenium for the review app's browser test; zstandard for
# datasets' .zst support) at pinned versions,
# which the shard tests use to read dsbuild's output unchanged. Idempotent: an existing venv with the pinned
# versions is kept. Usage: scripts/pyenv-interop.sh [VENV]
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${1:-.venv-interop}"
pins=(webdataset==1.0.2 datasets==4.4.1 pillow==11.3.0 zstandard==0.25.0 pyarrow==22.0.0 mlcroissant==1.1.1 selenium==4.50.0)
stamp="$venv/.dsbuild-pins"
if [ -x "$venv/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "${pins[*]}" ]; then
  exit 0
fi
python3 -m venv "$venv"
"$venv/bin/python" -m pip install -q "${pins[@]}"
echo "${pins[*]}" > "$stamp"
