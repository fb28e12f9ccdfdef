"""Reads a dsbuild shard folder with the real clients and prints what they saw, as one JSON object.

    .venv-interop/bin/python scripts/interop/check_shards.py SHARDS_DIR

- webdataset: iterates every paired sample of every tar (raw bytes), decodes the image with Pillow, parses the
  json, reads the txt; reports each key's txt, image sha256, decoded size and the json's fields.
- Hugging Face datasets: loads the text JSONL files with the `json` builder and the tars with the `webdataset`
  builder; reports row counts and columns.
- the bundled trainer's reader (trainer/dataset.py): loads the folder with checksum verification.
Exit status 1 with a message on stderr when a client fails.
"""

import hashlib
import io
import json
import os
import sys


def main() -> int:
    root = sys.argv[1]
    with open(os.path.join(root, "shards.json"), encoding="utf-8") as f:
        index = json.load(f)
    out = {"webdataset": {}, "datasets": {}}

    import webdataset as wds
    from PIL import Image

    tars = [os.path.join(root, e["file"]) for e in index["paired"]]
    samples = {}
    if tars:
        for sample in wds.WebDataset(tars, shardshuffle=False, empty_check=False):
            key = sample["__key__"]
            image_ext = [k for k in sample if k in ("jpg", "jpeg", "png", "webp")]
            assert len(image_ext) == 1, f"{key}: image members {image_ext}"
            raw = sample[image_ext[0]]
            img = Image.open(io.BytesIO(raw))
            img.load()
            meta = json.loads(sample["json"].decode("utf-8"))
            samples[key] = {
                "txt": sample["txt"].decode("utf-8"),
                "image_sha256": hashlib.sha256(raw).hexdigest(),
                "decoded": [img.width, img.height],
                "json_key": meta["key"],
                "json_image_sha256": meta["image_sha256"],
                "kind": meta["kind"],
                "keyword": meta["keyword"],
                "messages": meta["messages"],
                "license": meta["provenance"].get("license"),
            }
    out["webdataset"] = {"count": len(samples), "samples": samples}

    from datasets import load_dataset

    text_files = [os.path.join(root, e["file"]) for e in index["text"]]
    if text_files:
        ds = load_dataset("json", data_files=text_files, split="train")
        out["datasets"]["text_rows"] = ds.num_rows
        out["datasets"]["text_columns"] = sorted(ds.column_names)
        out["datasets"]["text_ids"] = sorted(ds["id"])
    if tars:
        ds = load_dataset("webdataset", data_files={"train": tars}, split="train")
        out["datasets"]["paired_rows"] = ds.num_rows
        out["datasets"]["paired_columns"] = sorted(ds.column_names)
    # The bundled trainer's own reader (stdlib only), with its checksum verification.
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "trainer"))
    import dataset as trainer_dataset

    shard_set = trainer_dataset.load_shards(root, verify=True)
    out["trainer"] = {"text": len(shard_set.text), "paired": len(shard_set.paired),
                      "paired_image_bytes_ok": all(len(s.image.read()) > 0 for s in shard_set.paired)}
    json.dump(out, sys.stdout, sort_keys=True)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Exception as e:  # noqa: BLE001 - reported to the Swift test
        print(f"check_shards failed: {type(e).__name__}: {e}", file=sys.stderr)
        sys.exit(1)
