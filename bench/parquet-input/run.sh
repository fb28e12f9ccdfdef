#!/usr/bin/env bash
# bench/parquet-input: a LAION-style parquet URL list read into the manifest by `dsbuild collect` (the `urls` source,
# search only: no image is fetched), against img2dataset's own reader of the same file (pyarrow `read_table` of the
# URL, caption and extra columns, sliced into 10 000-row Arrow shards: img2dataset/reader.py), in the same run.
#
# For each size N (default 10000 100000 1000000; BENCH_ROWS to change) it writes the list with pyarrow (LAION's
# columns URL, TEXT, WIDTH, HEIGHT, pwatermark, punsafe, LICENSE, NSFW, similarity, SAMPLE_ID and a keyword column,
# row groups of 10 000), then measures each reader on it with measure.py: wall time, rows/s, the peak resident memory
# of the process itself (VmHWM) and of the process with the children it waited for (wait4's ru_maxrss, GNU time's
# %M: for dsbuild, the pyarrow reader it starts). BENCH_BEFORE=/path/to/dsbuild adds an older build on the same
# lists (the figures before streaming).
# Usage: bench/parquet-input/run.sh   Env: BENCH_ROWS, BENCH_BIN (default: a release build), BENCH_BEFORE,
#        BENCH_PYTHON (a Python with pyarrow; default .venv-interop), BENCH_KEEP=1.
set -euo pipefail

root="$(cd "$(dirname "$0")/../.." && pwd)"
here="$root/bench/parquet-input"
sizes="${BENCH_ROWS:-10000 100000 1000000}"
python="${BENCH_PYTHON:-$root/.venv-interop/bin/python}"
"$python" -c "import pyarrow" 2>/dev/null || { echo "bench/parquet-input: needs pyarrow; run scripts/pyenv-interop.sh (or set BENCH_PYTHON)" >&2; exit 2; }

if [[ -n "${BENCH_BIN:-}" ]]; then
  bin="$BENCH_BIN"
else
  echo "== building release dsbuild" >&2
  (cd "$root" && swift build -c release --product dsbuild >&2)
  bin="$(cd "$root" && swift build -c release --show-bin-path)/dsbuild"
fi
export DSBUILD_TRAINER_DIR="${DSBUILD_TRAINER_DIR:-$root/trainer}"

work="$(mktemp -d /tmp/dsbuild-bench-parquet.XXXXXX)"
[[ "${BENCH_KEEP:-0}" == 1 ]] || trap 'rm -rf "$work"' EXIT
results="$work/results.tsv"
: > "$results"

# measure LABEL N CMD...: one line of results.tsv (N, label, wall s, own peak KiB, tree peak KiB, exit status).
measure() {
  local label="$1" n="$2"; shift 2
  local line
  line="$("$python" "$here/measure.py" "$@")"
  "$python" - "$label" "$n" "$line" >> "$results" <<'PY'
import json, sys
label, n, m = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
print(f"{n}\t{label}\t{m['wall_s']:.3f}\t{m['own_peak_kb']}\t{m['tree_peak_kb']}\t{m['status']}")
if m["status"] not in (0, 1):  # 1: collect names a refused row; anything else is a failure
    sys.stderr.write(f"{label} at N={n} failed: {m['stderr_tail']}\n")
    sys.exit(1)
PY
  tail -n 1 "$results" | awk -F'\t' '{printf "  %-26s N=%-8s %8.2f s  own %8d KiB  with children %8d KiB\n", $2, $1, $3, $4, $5}' >&2
}

collect() {  # collect BINARY N LIST
  local ws="$work/ws-$(basename "$1")-$2"
  rm -rf "$ws"
  "$1" init "$ws" --quiet
  measure "$4" "$2" "$1" collect --workspace "$ws" --sources urls --source-file "$3" --url-column URL --caption-column TEXT \
    --keyword-column keyword --search-only --quiet
  local stored
  stored="$("$python" -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('SELECT COUNT(*) FROM candidates').fetchone()[0])" "$ws/dsbuild.sqlite")"
  [[ "$stored" == "$2" ]] || { echo "bench/parquet-input: $4 stored $stored candidates of $2 rows" >&2; exit 1; }
  rm -rf "$ws"
}

for n in $sizes; do
  list="$work/laion-$n.parquet"
  "$python" - "$list" "$n" <<'PY'
import sys, pyarrow as pa, pyarrow.parquet as pq
path, n = sys.argv[1], int(sys.argv[2])
keywords = ["김치", "bibimbap", "한복", "hanok", "tteok", "gat", "buchae", "jangdok", "yut", "taegeukgi"]
writer = None
for start in range(0, n, 100_000):  # written a part at a time, so making a 1M list does not need the whole list in memory
    r = range(start, min(n, start + 100_000))
    table = pa.table({
        "SAMPLE_ID": pa.array(list(r), pa.int64()),
        "URL": [f"http://127.0.0.1:9/img/{i}.jpg" for i in r],
        "TEXT": [f"a photo of thing number {i} on a table" for i in r],
        "WIDTH": pa.array([640.0 + i % 5 for i in r], pa.float64()),
        "HEIGHT": pa.array([480 + i % 7 for i in r], pa.int64()),
        "LICENSE": ["CC BY 4.0"] * len(r),
        "NSFW": ["UNLIKELY"] * len(r),
        "similarity": [0.31] * len(r),
        "pwatermark": [round(0.01 * (i % 100), 2) for i in r],
        "punsafe": [0.001] * len(r),
        "keyword": [keywords[i % len(keywords)] for i in r],
    })
    writer = writer or pq.ParquetWriter(path, table.schema)
    writer.write_table(table, row_group_size=10000)
writer.close()
PY
  echo "== N=$n ($(du -h "$list" | cut -f1) parquet)" >&2
  collect "$bin" "$n" "$list" "dsbuild collect"
  if [[ -n "${BENCH_BEFORE:-}" ]]; then collect "$BENCH_BEFORE" "$n" "$list" "dsbuild collect (before)"; fi
  measure "img2dataset reader" "$n" "$python" "$here/img2dataset_reader.py" "$list" URL TEXT \
    WIDTH HEIGHT LICENSE NSFW similarity pwatermark punsafe SAMPLE_ID keyword
  rm -f "$list"
done

"$python" - "$results" <<'PY'
import sys
rows = [line.rstrip("\n").split("\t") for line in open(sys.argv[1])]
print(f"{'rows':>9}  {'reader':<26} {'wall s':>8} {'rows/s':>10} {'peak RSS MiB':>13} {'with children':>14}")
for n, label, wall, own, tree, status in rows:
    print(f"{int(n):>9}  {label:<26} {float(wall):>8.2f} {int(n) / float(wall):>10.0f} {int(own) / 1024:>13.1f} {int(tree) / 1024:>14.1f}")
labels = sorted({r[1] for r in rows}, key=[r[1] for r in rows].index)
sizes = sorted({int(r[0]) for r in rows})
if len(sizes) > 1:
    print("peak RSS growth from the smallest to the largest list (MiB, the process itself):")
    for label in labels:
        own = {int(r[0]): int(r[3]) for r in rows if r[1] == label}
        print(f"  {label:<26} {own[sizes[0]] / 1024:.1f} -> {own[sizes[-1]] / 1024:.1f}  (+{(own[sizes[-1]] - own[sizes[0]]) / 1024:.1f})")
PY
