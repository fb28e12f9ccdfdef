"""Writes the img2dataset/NeMo parquet beside each paired tar (what `dsbuild shards` runs).

    python trainer/shard_parquet.py

A long-lived bridge: it reads requests on stdin, one JSON object a line, `{"out": PATH, "rows": [ROW, ...]}`, and
writes PATH as a parquet file with the fixed schema `SCHEMA` (one row per sample, in the tar's order), through a
temporary in the same folder renamed into place. Output: JSON lines on stdout —

- `{"event": "ready", "pyarrow": VERSION}` once pyarrow is imported;
- `{"event": "written", "out": PATH, "rows": N, "bytes": B}` per request;
- `{"event": "error", "message": TEXT}` for a request that cannot be written (the bridge goes on), or a fatal error
  (pyarrow missing: exit status 2).

The same rows give the same bytes (no timestamps; `created_by` names the pinned pyarrow).
"""

from __future__ import annotations

import json
import os
import signal
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from protocol import Emitter, claim_stdout  # noqa: E402

# img2dataset's columns first, then dsbuild's own.
COLUMNS = [
    ("key", "string"), ("url", "string"), ("caption", "string"), ("status", "string"), ("error_message", "string"),
    ("width", "int64"), ("height", "int64"), ("original_width", "int64"), ("original_height", "int64"),
    ("exif", "string"), ("sha256", "string"),
    ("image_sha256", "string"), ("image_format", "string"), ("kind", "string"), ("keyword", "string"),
    ("category", "string"), ("aspect", "string"), ("language", "string"), ("exif_orientation", "int64"),
    ("orientation_applied", "bool"), ("license", "string"), ("author", "string"), ("source", "string"),
    ("page_url", "string"), ("model", "string"),
]


def schema(pa):
    types = {"string": pa.string(), "int64": pa.int64(), "bool": pa.bool_()}
    return pa.schema([pa.field(name, types[kind]) for name, kind in COLUMNS])


def write(pa, pq, request: dict) -> tuple[int, int]:
    out = request["out"]
    rows = request["rows"]
    table = pa.Table.from_pylist([{name: row.get(name) for name, _ in COLUMNS} for row in rows], schema=schema(pa))
    # Named as dsbuild's own temporaries (`.<file>.<pid>.tmp`), which a later run removes if this one is killed.
    tmp = os.path.join(os.path.dirname(out), f".{os.path.basename(out)}.{os.getpid()}.tmp")
    try:
        pq.write_table(table, tmp, compression="zstd")
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, out)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return len(rows), os.path.getsize(out)


def main() -> int:
    # Ctrl-C reaches the whole process group: dsbuild decides what an interruption means and ends this bridge
    # (closing its input, or SIGTERM), so the bridge itself does not die mid-file on SIGINT.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    emitter = Emitter(claim_stdout())
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError as error:
        emitter.error(f"pyarrow is not installed in {sys.executable} ({error}); run trainer/setup.sh (`dsbuild train --setup`)")
        return 2
    emitter.emit("ready", pyarrow=pa.__version__)
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            request = json.loads(line)
            count, size = write(pa, pq, request)
            emitter.emit("written", out=request["out"], rows=count, bytes=size)
        except Exception as error:  # one bad request: say which, keep serving
            emitter.error(f"{type(error).__name__}: {error}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
