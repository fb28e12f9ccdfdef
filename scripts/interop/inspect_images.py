"""Reads the images of a dsbuild shard folder (and any image files named) with the real clients and prints what
each saw, as one JSON object, so the Swift tests can check orientation and format as a user's tools see them.

    .venv-interop/bin/python scripts/interop/inspect_images.py SHARDS_DIR [FILE ...]

- webdataset (raw bytes, decoded with Pillow WITHOUT exif_transpose, as webdataset's own decoders and most
  trainers do): per sample key, member extension, decoded width/height, Pillow mode, the EXIF orientation tag
  left in the bytes (or null), the mean luminance of the top and bottom quarter, sha256 of the bytes, and the
  sample json's image fields.
- Hugging Face datasets (`load_dataset("webdataset", ...)` over the paired tars): rows, the image columns, and
  per key the decoded size and top/bottom luminance.
- each FILE: the same fields as a webdataset sample's image.
Exit status 1 with a message on stderr when a client fails.
"""

import hashlib
import io
import json
import os
import sys


def describe(raw):
    from PIL import Image

    img = Image.open(io.BytesIO(raw))
    fmt = img.format
    exif = img.getexif()
    orientation = exif.get(0x0112) if exif else None
    img.load()
    return describe_image(img) | {"format": fmt, "exif_orientation": orientation,
                                  "sha256": hashlib.sha256(raw).hexdigest()}


def describe_image(img):
    grey = img.convert("L")
    w, h = grey.size
    q = max(1, h // 4)
    top = list(grey.crop((0, 0, w, q)).getdata())
    bottom = list(grey.crop((0, h - q, w, h)).getdata())
    return {"width": w, "height": h, "mode": img.mode,
            "top": sum(top) / len(top), "bottom": sum(bottom) / len(bottom)}


def main() -> int:
    root = sys.argv[1]
    with open(os.path.join(root, "shards.json"), encoding="utf-8") as f:
        index = json.load(f)
    out = {"webdataset": {}, "datasets": {}, "files": {}}

    import webdataset as wds

    tars = [os.path.join(root, e["file"]) for e in index["paired"]]
    samples = {}
    for sample in wds.WebDataset(tars, shardshuffle=False, empty_check=False):
        key = sample["__key__"]
        exts = [k for k in sample if k in ("jpg", "jpeg", "png", "webp", "gif", "bmp", "tif", "tiff")]
        assert len(exts) == 1, f"{key}: image members {exts}"
        meta = json.loads(sample["json"].decode("utf-8"))
        seen = describe(sample[exts[0]])
        seen["ext"] = exts[0]
        seen["json"] = {k: meta.get(k) for k in ("image_sha256", "written_sha256", "exif_orientation",
                                                  "orientation_applied", "width", "height", "image_format",
                                                  "reencoded", "kind", "keyword")}
        samples[key] = seen
    out["webdataset"] = samples

    if tars:
        from datasets import load_dataset

        ds = load_dataset("webdataset", data_files={"train": tars}, split="train")
        columns = sorted(ds.column_names)
        image_columns = [c for c in columns if c in ("jpg", "jpeg", "png", "webp")]
        rows = {}
        for row in ds:
            col = [c for c in image_columns if row.get(c) is not None]
            assert len(col) == 1, f"{row['__key__']}: image columns {col}"
            rows[row["__key__"]] = describe_image(row[col[0]]) | {"column": col[0]}
        out["datasets"] = {"rows": ds.num_rows, "columns": columns, "image_columns": image_columns, "samples": rows}

    for path in sys.argv[2:]:
        with open(path, "rb") as f:
            out["files"][path] = describe(f.read())
    json.dump(out, sys.stdout, sort_keys=True)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Exception as e:  # noqa: BLE001 - reported to the Swift test
        print(f"inspect_images failed: {type(e).__name__}: {e}", file=sys.stderr)
        sys.exit(1)
