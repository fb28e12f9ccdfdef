"""Reads the img2dataset/NeMo files beside dsbuild's paired tars with the real readers; prints one JSON object.

    .venv-interop/bin/python scripts/interop/check_img2dataset.py SHARDS_DIR [ID_COL]

For every paired shard of shards.json:
- pyarrow reads `paired/NNNNN.parquet` (schema, rows) and the report holds its rows (key, sha256, width, height,
  original_*, status, url, caption, exif, image_sha256);
- webdataset iterates the tar (`NNNNN.tar`) and the report holds, per sample in tar order, its key, the sha256 of
  its image bytes, the size Pillow decodes, and its `.json` member's fields;
- `NNNNN_stats.json` is loaded with json as img2dataset's logger reads it (count / duration, successes, …);
- the NeMo Curator way (`ImageTextPairDataset.from_webdataset`): every `*.parquet` of the folder read as a
  partition, each sorted by ID_COL (default `key`), paired with the sorted `*.tar` files; the report says whether
  partition i's ids are tar i's sample keys in order.
Exit status 1 with a message on stderr when a reader fails.
"""

import glob
import hashlib
import io
import json
import os
import sys


def main() -> int:
    root = sys.argv[1]
    id_col = sys.argv[2] if len(sys.argv) > 2 else "key"
    with open(os.path.join(root, "shards.json"), encoding="utf-8") as f:
        index = json.load(f)
    import pandas as pd
    import pyarrow
    import pyarrow.parquet as pq
    import webdataset as wds
    from PIL import Image

    report = {"pyarrow": pyarrow.__version__, "shards": []}
    for entry in index["paired"]:
        tar = os.path.join(root, entry["file"])
        stem = tar[: -len(".tar")]
        table = pq.read_table(stem + ".parquet")
        rows = table.to_pylist()
        samples = []
        for sample in wds.WebDataset([tar], shardshuffle=False, empty_check=False):
            image_ext = [k for k in sample if k in ("jpg", "jpeg", "png", "webp")]
            raw = sample[image_ext[0]]
            img = Image.open(io.BytesIO(raw))
            img.load()
            samples.append({"key": sample["__key__"], "sha256": hashlib.sha256(raw).hexdigest(),
                            "decoded": list(img.size), "json": json.loads(sample["json"].decode("utf-8"))})
        with open(stem + "_stats.json", encoding="utf-8") as f:
            stats = json.load(f)
        stats["images_per_second"] = stats["count"] / stats["duration"]  # what img2dataset's SpeedLogger computes
        report["shards"].append({
            "file": entry["file"],
            "schema": {field.name: str(field.type) for field in table.schema},
            "rows": [{k: row.get(k) for k in ("key", "sha256", "width", "height", "original_width", "original_height",
                                              "status", "error_message", "url", "caption", "exif", "image_sha256",
                                              "keyword", "license")} for row in rows],
            "samples": samples,
            "stats": stats,
        })

    # NeMo Curator's from_webdataset: parquet partitions (one per file) sorted by id, tar files sorted.
    paired = os.path.join(root, "paired")
    partitions = [pd.read_parquet(path).sort_values(id_col).reset_index(drop=True)
                  for path in sorted(glob.glob(os.path.join(paired, "*.parquet")))]
    tars = sorted(glob.glob(os.path.join(paired, "*.tar")))
    aligned = len(partitions) == len(tars)
    for partition, tar in zip(partitions, tars):
        keys = [s["__key__"] for s in wds.WebDataset([tar], shardshuffle=False, empty_check=False)]
        aligned = aligned and list(partition[id_col]) == keys
    report["nemo"] = {"partitions": len(partitions), "tars": len(tars), "aligned": aligned}
    json.dump(report, sys.stdout)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Exception as error:  # a reader failed: say which
        import traceback
        traceback.print_exc()
        print(f"check_img2dataset.py: {type(error).__name__}: {error}", file=sys.stderr)
        sys.exit(1)
