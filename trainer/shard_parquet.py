"""Writes the img2dataset/NeMo parquet beside each paired tar (what `dsbuild shards` runs).

    python trainer/shard_parquet.py

A long-lived bridge: it reads requests on stdin, one JSON object a line, `{"out": PATH, "rows": [ROW, ...]}`, and
writes PATH as a parquet file with the fixed columns `COLUMNS` (one row per sample, in the tar's order) through
`parquet_tables`, the one parquet writer (a temporary in the same folder, read back, renamed into place).
Output: JSON lines on stdout —

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


def write(parquet_tables, request: dict) -> tuple[int, int]:
    columns = [{"name": name, "type": kind} for name, kind in COLUMNS]
    return parquet_tables.write(request["out"], columns, request["rows"])


def main() -> int:
    # Ctrl-C reaches the whole process group: dsbuild decides what an interruption means and ends this bridge
    # (closing its input, or SIGTERM), so the bridge itself does not die mid-file on SIGINT.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    emitter = Emitter(claim_stdout())
    try:
        import pyarrow as pa

        import parquet_tables
    except ImportError as error:
        emitter.error(f"pyarrow is not installed in {sys.executable} ({error}); run trainer/setup.sh (`dsbuild train --setup`)")
        return 2
    emitter.emit("ready", pyarrow=pa.__version__)
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            request = json.loads(line)
            count, size = write(parquet_tables, request)
            emitter.emit("written", out=request["out"], rows=count, bytes=size)
        except Exception as error:  # one bad request: say which, keep serving
            emitter.error(f"{type(error).__name__}: {error}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
