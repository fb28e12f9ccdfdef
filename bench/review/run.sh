#!/usr/bin/env bash
# bench/review: server time of `dsbuild review`'s keyword list and image pages on a workspace of N synthetic images
# (default 100000; BENCH_N to change), made with the commands — a directory source of tiny noise JPEGs with
# img2dataset sidecars (250 per keyword), then init → collect → filter; no SQL is written by this script.
# It then starts `dsbuild review`, asks each page several times through curl on loopback and prints the server's
# own time (its `Server-Timing: app;dur=…` header), median and worst, against the issue's 300 ms.
# Usage: bench/review/run.sh    Env: BENCH_N, BENCH_BIN (e.g. a debug build), BENCH_PYTHON, BENCH_KEEP=1.
set -euo pipefail

root="$(cd "$(dirname "$0")/../.." && pwd)"
n="${BENCH_N:-100000}"
per_keyword=250
python="${BENCH_PYTHON:-$root/.venv-interop/bin/python}"
[[ -x "$python" ]] || { echo "bench/review: needs Pillow; run scripts/pyenv-interop.sh first (or set BENCH_PYTHON)" >&2; exit 2; }
command -v curl > /dev/null || { echo "bench/review: needs curl" >&2; exit 2; }
if [[ -n "${BENCH_BIN:-}" ]]; then
  bin="$BENCH_BIN"
else
  echo "== building release dsbuild" >&2
  (cd "$root" && swift build -c release --product dsbuild >&2)
  bin="$(cd "$root" && swift build -c release --show-bin-path)/dsbuild"
fi

work="$(mktemp -d /tmp/dsbuild-bench-review.XXXXXX)"
server_pid=""
cleanup() {
  [[ -n "$server_pid" ]] && kill "$server_pid" 2> /dev/null || true
  [[ "${BENCH_KEEP:-0}" == 1 ]] || rm -rf "$work"
}
trap cleanup EXIT

echo "== writing $n noise images with sidecars ($per_keyword per keyword)" >&2
"$python" - "$work/photos" "$n" "$per_keyword" <<'PY'
import json, os, random, sys
from PIL import Image
folder, n, per_keyword = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rng = random.Random(n)
for i in range(n):
    keyword = f"kw{i // per_keyword:05d}"
    d = os.path.join(folder, keyword)
    if i % per_keyword == 0:
        os.makedirs(d, exist_ok=True)
    side = 64 if i % 5 else 40  # one in five is dropped by min_short_side
    im = Image.frombytes("L", (8, 8), bytes(rng.randrange(256) for _ in range(64))).resize((side, side), Image.NEAREST)
    stem = f"img{i:07d}"
    im.convert("RGB").save(os.path.join(d, stem + ".jpg"), quality=90)
    with open(os.path.join(d, stem + ".json"), "w") as f:
        json.dump({"license": "cc0", "author": f"Author {i % 97}", "page_url": f"https://example.org/photo/{i}"}, f)
PY
ls "$work/photos" > "$work/keywords.txt"
cat > "$work/recipe.yaml" <<YAML
name: review-bench
keywords: keywords.txt
collect:
  per_keyword: $per_keyword
  licenses: [cc0]
  sources:
    directory:
      path: photos
filter:
  min_short_side: 48
  aspect_ratio: [0.5, 2.0]
YAML
ws="$work/ws"
"$bin" init "$ws" --recipe "$work/recipe.yaml" --quiet
echo "== collect, filter" >&2
"$bin" collect --workspace "$ws" --quiet
"$bin" filter --workspace "$ws" --quiet
"$bin" status --workspace "$ws" | head -6 >&2

"$bin" review --workspace "$ws" --quiet > "$work/url.txt" &
server_pid=$!
for _ in $(seq 100); do [[ -s "$work/url.txt" ]] && break; sleep 0.1; done
url="$(head -1 "$work/url.txt")"
base="${url%/}"  # http://127.0.0.1:P/s/<token>: the app's capability path, each route appended
last_kw="$(tail -1 "$work/keywords.txt")"

# server_ms PATH: the Server-Timing duration of one request (ms).
server_ms() {
  curl -s -o /dev/null -D - "$base$1" | tr -d '\r' | sed -n 's/^[Ss]erver-[Tt]iming: app;dur=//p'
}
report() {
  local label="$1" path="$2"
  server_ms "$path" > /dev/null  # warm the page cache
  local times=()
  for _ in 1 2 3 4 5 6 7; do times+=("$(server_ms "$path")"); done
  printf '%s\n' "${times[@]}" | sort -n | awk -v label="$label" '{ t[NR] = $1 } END {
      printf "  %-44s median %8.2f ms   worst %8.2f ms   (< 300 ms: %s)\n", label, t[int((NR + 1) / 2)], t[NR], (t[NR] < 300 ? "yes" : "NO") }'
}
images=$("$bin" status --workspace "$ws" --json | "$python" -c 'import json,sys; print(json.load(sys.stdin)["images"]["stored"])')
echo "server time of dsbuild review at $images images ($(wc -l < "$work/keywords.txt") keywords), $(basename "$bin") at $bin:"
report "keyword list (first page, by keyword)" "/"
report "keyword list (sorted by kept, needs review)" "/?sort=kept&needs=1"
report "keyword list (last page)" "/?page=$(( $(wc -l < "$work/keywords.txt") / 100 ))"
report "images of a keyword (first page)" "/keyword?k=kw00000"
report "images of a keyword (last page)" "/keyword?k=$last_kw&page=4"
report "next unreviewed (redirect)" "/next"
