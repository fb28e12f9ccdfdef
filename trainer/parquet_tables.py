"""The one parquet writer of dsbuild's Python side (pyarrow; no hand-written parquet writer anywhere).

`write(out, columns, rows)` writes rows as one parquet file, the way HF `datasets` writes one: column types
"string", "int64", "bool", "image", {"list": T} or {"struct": [{"name": N, "type": T}, ...]}; an image is the
struct {bytes: binary, path: string} (its row value {"path": NAME, "file": ABSOLUTE_PATH}, the bytes read from the
file, or null) and the schema carries the `huggingface` metadata that types every column, so `load_dataset` and the
Hub viewer read it as written. Used by `parquet_write.py` (dsbuild publish) and `shard_parquet.py` (the
img2dataset parquet beside each paired tar).

The output is a function of the rows only (no timestamps; fixed row groups, compression and writer version), so the
same rows write the same bytes. The file is written to a temporary beside it (named like dsbuild's own
temporaries, `.<file>.<pid>.tmp`, which a later run removes if this one is killed), synced, read back (the rows it
holds are the rows given) and renamed into place. A table without rows is an error: a 0-row row group breaks
readers (datasets: "BatchSize must be greater than 0").
"""

import json
import os

import pyarrow as pa
import pyarrow.parquet as pq

ROW_GROUP = 64
COMPRESSION = "snappy"
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


def schema(columns):
    """The arrow schema of `columns` ([{"name", "type"}]) with the `huggingface` features metadata."""
    fields = pa.schema([(c["name"], arrow_type(c["type"])) for c in columns])
    features = {c["name"]: hf_feature(c["type"]) for c in columns}
    return fields.with_metadata({"huggingface": json.dumps({"info": {"features": features}}, ensure_ascii=False)})


def write(out, columns, rows):
    """Writes `rows` (an iterable of dicts keyed by column name) to `out`; returns (rows written, bytes)."""
    table_schema = schema(columns)
    os.makedirs(os.path.dirname(out) or ".", exist_ok=True)
    tmp = os.path.join(os.path.dirname(out), f".{os.path.basename(out)}.{os.getpid()}.tmp")
    count = 0
    writer = pq.ParquetWriter(tmp, table_schema, compression=COMPRESSION, version="2.6", write_statistics=False,
                              store_schema=True)
    try:
        batch = []

        def flush():
            if batch:
                arrays = [pa.array([row[i] for row in batch], type=table_schema.field(i).type)
                          for i in range(len(columns))]
                writer.write_table(pa.Table.from_arrays(arrays, schema=table_schema), row_group_size=ROW_GROUP)
                batch.clear()

        for row in rows:
            batch.append([value(row.get(c["name"]), c["type"]) for c in columns])
            count += 1
            if len(batch) == ROW_GROUP:
                flush()
        flush()
        if count == 0:
            raise ValueError("no rows: an empty table is not written")
        writer.close()
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        written = pq.ParquetFile(tmp).metadata.num_rows
        if written != count:
            raise ValueError(f"wrote {written} rows, expected {count}")
        os.replace(tmp, out)
    except BaseException:
        writer.close()
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return count, os.path.getsize(out)
