"""Reads a `dsbuild publish` folder with the real readers and prints what each saw, as one JSON object, so the
Swift tests can check it against the manifest.

    .venv-interop/bin/python scripts/interop/check_publish.py RELEASE_DIR

- Hugging Face datasets: `load_dataset(DIR, config)` for every config of the card, and `load_dataset(DIR)` (the
  default config): per config and split the row count, the columns, the features' types, and per row its
  `image_sha256` (or `key`/`id`), the image's decoded width/height (Pillow, WITHOUT exif_transpose, as most
  trainers decode), the EXIF orientation left in the bytes, the sha256 of the embedded bytes and the list lengths
  of the per-image layout's fields.
- mlcroissant: `Dataset(croissant.json)` (which validates the metadata and raises on an error), then every record
  set iterated: per record set the number of records and how many image fields decoded to a PIL image.
Exit status 1 with a message on stderr when a reader fails.
"""

import hashlib
import io
import json
import os
import sys


def image_facts(value):
    from PIL import Image

    raw = value["bytes"]
    img = Image.open(io.BytesIO(raw))
    exif = img.getexif()
    img.load()
    return {"width": img.width, "height": img.height, "format": img.format, "mode": img.mode,
            "orientation": exif.get(0x0112) if exif else None, "sha256": hashlib.sha256(raw).hexdigest(),
            "path": value.get("path")}


def read_hf(folder):
    import datasets

    out = {"configs": {}}
    names = datasets.get_dataset_config_names(folder)
    out["config_names"] = names
    for name in names:
        ds = datasets.load_dataset(folder, name)
        config = {}
        for split, table in ds.items():
            features = {k: type(v).__name__ for k, v in table.features.items()}
            raw = table.cast_column("image", datasets.Image(decode=False)) if "image" in table.column_names else table
            rows = []
            for i, row in enumerate(raw):
                item = {k: row.get(k) for k in ("key", "id", "image_sha256", "keyword", "kind", "type", "answer", "license",
                                                "author", "source_page", "text") if k in row}
                if row.get("image") is not None:
                    item["image"] = image_facts(row["image"])
                for k in ("descriptions", "questions", "options", "messages"):
                    if k in row and row[k] is not None:
                        item[k + "_count"] = len(row[k])
                rows.append(item)
            decoded = 0
            if "image" in table.column_names:
                for value in table["image"]:
                    if value is not None and hasattr(value, "size"):
                        decoded += 1
            config[split] = {"rows": table.num_rows, "columns": table.column_names, "features": features, "items": rows,
                             "decoded_images": decoded}
        out["configs"][name] = config
    default = datasets.load_dataset(folder)
    out["default"] = {split: {"rows": t.num_rows, "columns": t.column_names} for split, t in default.items()}
    return out


def read_croissant(folder):
    import mlcroissant as mlc

    dataset = mlc.Dataset(jsonld=os.path.join(folder, "croissant.json"))
    out = {"name": dataset.metadata.name, "record_sets": {}, "license": dataset.metadata.license}
    for record_set in dataset.metadata.record_sets:
        count, images = 0, 0
        for record in dataset.records(record_set=record_set.uuid):
            count += 1
            for key, value in record.items():
                if key.endswith("/image") and hasattr(value, "size"):
                    images += 1
        out["record_sets"][record_set.name] = {"records": count, "images": images}
    out["files"] = [{"name": d.name, "sha256": getattr(d, "sha256", None), "content_url": d.content_url}
                    for d in dataset.metadata.distribution if getattr(d, "content_url", None)]
    return out


def main():
    folder = os.path.abspath(sys.argv[1])
    try:
        hf = read_hf(folder)
    except Exception as error:
        print(f"check_publish: datasets could not load {folder}: {type(error).__name__}: {error}", file=sys.stderr)
        sys.exit(1)
    try:
        croissant = read_croissant(folder)
    except Exception as error:
        print(f"check_publish: mlcroissant rejected {folder}/croissant.json: {type(error).__name__}: {error}", file=sys.stderr)
        sys.exit(1)
    json.dump({"hf": hf, "croissant": croissant}, sys.stdout, default=str)


if __name__ == "__main__":
    main()
