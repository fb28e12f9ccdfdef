#!/usr/bin/env bash
# Creates .venv-llamafactory: LLaMA-Factory 0.9.5 (installed --no-deps: its full dependency set pulls gradio,
# vLLM-era extras, trl, modelscope, …) with the packages its data loader imports at pinned versions — torch and
# torchaudio (mm_plugin imports both; 2.11.0 from PyPI: torchaudio's extension must match torch's build, and no
# torchaudio matches the CPU torch 2.13.0 the trainer uses), transformers, peft, accelerate, datasets, omegaconf.
# The export tests load dsbuild's sharegpt and alpaca files through it (scripts/interop/llamafactory_load.py).
# Idempotent: an existing venv with the pinned versions is kept. Usage: scripts/llamafactory-venv.sh [VENV]
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${1:-.venv-llamafactory}"
pins=(torch==2.11.0 torchaudio==2.11.0 transformers==5.6.0 peft==0.18.1 accelerate==1.11.0 datasets==4.0.0
      omegaconf==2.4.0 pyyaml==6.0.4 pillow==13.0.0 fsspec==2025.3.0 numpy==2.4.6 pandas==3.1.1)
stamp="$venv/.dsbuild-pins"
if [ -x "$venv/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "${pins[*]} llamafactory==0.9.5" ]; then
  exit 0
fi
python3 -m venv "$venv"
"$venv/bin/python" -m pip install -q "${pins[@]}"
"$venv/bin/python" -m pip install -q --no-deps llamafactory==0.9.5
echo "${pins[*]} llamafactory==0.9.5" > "$stamp"
