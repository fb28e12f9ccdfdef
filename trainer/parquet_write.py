"""Writes the parquet files of `dsbuild publish` with pyarrow (no hand-written parquet writer in dsbuild).

    python parquet_write.py --spec SPEC.json

SPEC is a JSON list of tables, each {"out": PATH, "rows": ROWS.jsonl, "columns": [{"name": N, "type": T}, ...]}
where T is "string", "int64", "bool", "image", {"list": T} or {"struct": [{"name": N, "type": T}, ...]}. An image
value in ROWS is {"path": NAME, "file": ABSOLUTE_PATH} (the bytes are read from the file) or null. Each table is
written as HF `datasets` writes one: an image is the struct {bytes: binary, path: string} and the schema carries the
`huggingface` metadata that declares it `Image()`, so `load_dataset` and the Hub viewer type it as an image.

The output is a function of the input only (no timestamps; fixed row groups, compression and writer version), so
the same rows write the same bytes. Each file is written to a temporary beside it and renamed into place.
Prints one JSON line per table written ({"out": PATH, "rows": N}, N read back from the file); a failure is one
line on stderr, exit 1. A table without rows is an error (a 0-row row group breaks readers).
"""

import argparse
import json
import os
import sys

import pyarrow as pa
import pyarrow.parquet as pq

ROW_GROUP = 64
IMAGE = pa.struct([("bytes", pa.binary()), ("path", pa.string())])


def arrow_type(t):
    if t == "string":
        return pa.string()
    if t == "int64":
        return pa.int64()
    if t == "bool":
        return pa.bool_()
    if t == "image":
        return IMAGE
    if isinstance(t, dict) and "list" in t:
        return pa.list_(arrow_type(t["list"]))
    if isinstance(t, dict) and "struct" in t:
        return pa.struct([(c["name"], arrow_type(c["type"])) for c in t["struct"]])
    raise ValueError(f"unknown column type {t!r}")


def hf_feature(t):
    """The `datasets` feature of a column type, as `Features.to_dict()` writes it (datasets 4)."""
    if t in ("string", "int64", "bool"):
        return {"dtype": t, "_type": "Value"}
    if t == "image":
        return {"_type": "Image"}
    if isinstance(t, dict) and "list" in t:
        return {"feature": hf_feature(t["list"]), "_type": "List"}
    if isinstance(t, dict) and "struct" in t:
        return {c["name"]: hf_feature(c["type"]) for c in t["struct"]}
    raise ValueError(f"unknown column type {t!r}")


def value(v, t):
    """A row's JSON value as pyarrow takes it: images read from their files."""
    if v is None:
        return None
    if t == "image":
        with open(v["file"], "rb") as f:
            return {"bytes": f.read(), "path": v["path"]}
    if isinstance(t, dict) and "list" in t:
        return [value(x, t["list"]) for x in v]
    if isinstance(t, dict) and "struct" in t:
        return {c["name"]: value(v.get(c["name"]), c["type"]) for c in t["struct"]}
    return v


def write_table(table):
    columns = table["columns"]
    schema = pa.schema([(c["name"], arrow_type(c["type"])) for c in columns])
    features = {c["name"]: hf_feature(c["type"]) for c in columns}
    schema = schema.with_metadata({"huggingface": json.dumps({"info": {"features": features}}, ensure_ascii=False)})
    out = table["out"]
    os.makedirs(os.path.dirname(out) or ".", exist_ok=True)
    tmp = os.path.join(os.path.dirname(out), f".{os.path.basename(out)}.{os.getpid()}.tmp")
    count = 0
    writer = pq.ParquetWriter(tmp, schema, compression="snappy", version="2.6", write_statistics=False,
                              store_schema=True)
    try:
        batch = []

        def flush():
            if batch:
                arrays = [pa.array([row[i] for row in batch], type=schema.field(i).type) for i in range(len(columns))]
                writer.write_table(pa.Table.from_arrays(arrays, schema=schema), row_group_size=ROW_GROUP)
                batch.clear()

        with open(table["rows"], encoding="utf-8") as rows:
            for line in rows:
                if not line.strip():
                    continue
                row = json.loads(line)
                batch.append([value(row.get(c["name"]), c["type"]) for c in columns])
                count += 1
                if len(batch) == ROW_GROUP:
                    flush()
        flush()
        if count == 0:
            # A 0-row row group breaks readers (datasets: "BatchSize must be greater than 0"): dsbuild never asks.
            raise ValueError("no rows: an empty table is not written")
        writer.close()
    except BaseException:
        writer.close()
        os.unlink(tmp)
        raise
    # Read back what was written: the rows the file holds are the rows given.
    written = pq.ParquetFile(tmp).metadata.num_rows
    if written != count:
        os.unlink(tmp)
        raise ValueError(f"wrote {written} rows, expected {count}")
    os.replace(tmp, out)
    return count


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spec", required=True)
    args = parser.parse_args()
    with open(args.spec, encoding="utf-8") as f:
        tables = json.load(f)
    for table in tables:
        try:
            n = write_table(table)
        except Exception as error:  # one line naming the file and the cause
            print(f"parquet_write: {table.get('out')}: {type(error).__name__}: {error}", file=sys.stderr)
            sys.exit(1)
        print(json.dumps({"out": table["out"], "rows": n}), flush=True)


if __name__ == "__main__":
    main()
