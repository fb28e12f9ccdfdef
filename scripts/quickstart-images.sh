#!/usr/bin/env bash
# Fills examples/local-quickstart/images/<keyword>/ from the K-Viscuit images (../shared/data/k-viscuit, CC-BY-4.0,
# Baek et al. 2024): the directory source of examples/local-quickstart.yaml reads one folder per keyword. Files are
# hard-linked (copied across file systems), never committed: the data stays in ../shared. Beside each, a sidecar
# (<file>.json) carries its attribution from annotations.jsonl (the Wikimedia Commons URL, the dataset's licence).
# Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
data="${KVISCUIT_DIR:-../shared/data/k-viscuit}"
out=examples/local-quickstart/images
python3 - "$data" "$out" <<'PY'
import json, os, shutil, sys
data, out = sys.argv[1], sys.argv[2]
# The keywords: the Type 1 answers of these K-Viscuit images.
wanted = ["6.jpg", "7.jpg", "10.jpg"]
rows = [json.loads(line) for line in open(os.path.join(data, "annotations.jsonl"), encoding="utf-8")]
for row in rows:
    if row["question_type"] != 1 or row["image_path"] not in wanted:
        continue
    keyword = row["options"][row["answer"]]
    folder = os.path.join(out, keyword)
    os.makedirs(folder, exist_ok=True)
    source, target = os.path.join(data, "images", row["image_path"]), os.path.join(folder, row["image_path"])
    if not os.path.exists(target):
        try:
            os.link(source, target)
        except OSError:
            shutil.copyfile(source, target)
    sidecar = {"title": f"{keyword} ({row['category']})", "page_url": row["image_url"], "license": "cc-by",
               "license_url": "https://creativecommons.org/licenses/by/4.0/",
               "author": "K-Viscuit benchmark (Baek et al. 2024), from Wikimedia Commons"}
    with open(target + ".json", "w", encoding="utf-8") as f:
        json.dump(sidecar, f, indent=1)
    print(f"{keyword}: {target}")
PY
