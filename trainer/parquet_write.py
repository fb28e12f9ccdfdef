"""Writes the parquet files of `dsbuild publish` (through `parquet_tables`, the one parquet writer).

    python parquet_write.py --spec SPEC.json

SPEC is a JSON list of tables, each {"out": PATH, "rows": ROWS.jsonl, "columns": [{"name": N, "type": T}, ...]}
with the column types and image values `parquet_tables` documents. Prints one JSON line per table written
({"out": PATH, "rows": N}, N read back from the file); a failure is one line on stderr, exit 1.
"""

import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import parquet_tables  # noqa: E402


def rows_of(path):
    with open(path, encoding="utf-8") as rows:
        for line in rows:
            if line.strip():
                yield json.loads(line)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spec", required=True)
    args = parser.parse_args()
    with open(args.spec, encoding="utf-8") as f:
        tables = json.load(f)
    for table in tables:
        try:
            n, _ = parquet_tables.write(table["out"], table["columns"], rows_of(table["rows"]))
        except Exception as error:  # one line naming the file and the cause
            print(f"parquet_write: {table.get('out')}: {type(error).__name__}: {error}", file=sys.stderr)
            sys.exit(1)
        print(json.dumps({"out": table["out"], "rows": n}), flush=True)


if __name__ == "__main__":
    main()
