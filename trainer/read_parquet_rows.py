"""Streams the rows of a parquet URL list (what `dsbuild collect` runs for a `urls` source whose file is .parquet).

    python trainer/read_parquet_rows.py --file LIST.parquet [--batch-rows N]

Reads the file one record batch at a time (`pyarrow.parquet.ParquetFile.iter_batches`), so memory holds one batch
whatever the file's size. Output: JSON lines on stdout —

- `{"event": "columns", "columns": [NAME, ...], "types": [ARROW TYPE, ...], "rows": N}` first (N from the file's
  metadata);
- `{"event": "rows", "first": ROW, "rows": [{COLUMN: TEXT or null, ...}, ...], "skipped": [INDEX, ...],
  "problems": [{"row": ROW, "message": TEXT}, ...]}` per batch (ROW: the 1-based number of the batch's first row;
  `skipped`: the batch indexes of the rows left out of `rows`, each named in `problems` — a value that is not valid
  UTF-8); every value as text (numbers as Python writes them, lists and structs as JSON);
- `{"event": "end", "rows": N, "max_rss_kb": K}` (K: this process's peak resident memory); `{"event": "error", "message": TEXT}` on a fatal error (exit status 2 for an
  unreadable file, 3 when pyarrow is missing).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import resource
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from protocol import Emitter, claim_stdout  # noqa: E402


def text(value):
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return json.dumps(value, ensure_ascii=False, default=str)


def values(column, name, first, bad):
    """The column's values as Python objects; a value that is not valid UTF-8 (a string column written by a careless
    writer) makes its row bad (`bad[index] = message`, its value None) instead of failing the whole file."""
    try:
        return column.to_pylist()
    except UnicodeDecodeError:
        out = []
        for i in range(len(column)):
            try:
                out.append(column[i].as_py())
            except UnicodeDecodeError:
                bad.setdefault(i, f"invalid UTF-8 in column {name}")
                out.append(None)
        return out


def main() -> int:
    # Ctrl-C reaches the whole process group: dsbuild decides what an interruption means and ends this bridge
    # (closing its input, or SIGTERM), so the bridge itself does not die mid-file on SIGINT.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    parser = argparse.ArgumentParser()
    parser.add_argument("--file", required=True)
    parser.add_argument("--batch-rows", type=int, default=4096)
    args = parser.parse_args()
    emitter = Emitter(claim_stdout())
    try:
        import pyarrow.parquet as pq
    except ImportError as error:
        emitter.error(f"pyarrow is not installed in {sys.executable} ({error}); run trainer/setup.sh (`dsbuild train --setup`)")
        return 3
    try:
        reader = pq.ParquetFile(args.file)
    except Exception as error:  # not a parquet file, unreadable
        emitter.error(f"{args.file} cannot be read as parquet: {error}")
        return 2
    names = reader.schema_arrow.names
    types = [str(field.type) for field in reader.schema_arrow]
    emitter.emit("columns", columns=names, types=types, rows=reader.metadata.num_rows)
    first = 1
    for batch in reader.iter_batches(batch_size=max(1, args.batch_rows)):
        bad = {}
        columns = [values(batch.column(i), names[i], first, bad) for i in range(batch.num_columns)]
        rows = [{name: text(column[i]) for name, column in zip(names, columns)} for i in range(batch.num_rows)]
        problems = [{"row": first + i, "message": message} for i, message in sorted(bad.items())]
        for i in sorted(bad, reverse=True):
            del rows[i]
        emitter.emit("rows", first=first, rows=rows, skipped=sorted(bad), problems=problems)
        first += batch.num_rows
    emitter.emit("end", rows=first - 1, max_rss_kb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
    return 0


if __name__ == "__main__":
    sys.exit(main())
