"""parquet_write.py, dsbuild publish's parquet writer: HF Image columns, deterministic bytes, one-line errors."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys

import pyarrow.parquet as pq
from PIL import Image

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPT = os.path.join(HERE, "parquet_write.py")
COLUMNS = [
    {"name": "key", "type": "string"},
    {"name": "image", "type": "image"},
    {"name": "options", "type": {"list": "string"}},
    {"name": "messages", "type": {"list": {"struct": [{"name": "role", "type": "string"}, {"name": "content", "type": "string"}]}}},
    {"name": "n", "type": "int64"},
]


def make(tmp_path, rows):
    img = tmp_path / "a.png"
    buf = io.BytesIO()
    Image.new("RGB", (6, 4), (200, 10, 10)).save(buf, format="PNG")
    img.write_bytes(buf.getvalue())
    with open(tmp_path / "rows.jsonl", "w", encoding="utf-8") as f:
        for row in rows(str(img)):
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    out = tmp_path / "out" / "train-00000.parquet"
    spec = [{"out": str(out), "rows": str(tmp_path / "rows.jsonl"), "columns": COLUMNS}]
    (tmp_path / "spec.json").write_text(json.dumps(spec))
    return out, buf.getvalue()


def run(tmp_path):
    return subprocess.run([sys.executable, SCRIPT, "--spec", str(tmp_path / "spec.json")], capture_output=True, text=True)


def test_an_image_column_is_the_hf_image_struct_and_the_bytes_repeat(tmp_path):
    out, png = make(tmp_path, lambda img: [
        {"key": "k1", "image": {"path": "a.png", "file": img}, "options": ["가", "b"], "messages": [{"role": "user", "content": "hi"}], "n": 1},
        {"key": "k2", "image": None, "options": [], "messages": [], "n": None},
    ])
    first = run(tmp_path)
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout.splitlines()[0])["rows"] == 2
    data = out.read_bytes()
    table = pq.read_table(out)
    assert table.column("image").to_pylist() == [{"bytes": png, "path": "a.png"}, None]
    assert table.column("options").to_pylist() == [["가", "b"], []]
    features = json.loads(table.schema.metadata[b"huggingface"])["info"]["features"]
    assert features["image"] == {"_type": "Image"}
    assert features["messages"] == {"feature": {"role": {"dtype": "string", "_type": "Value"}, "content": {"dtype": "string", "_type": "Value"}}, "_type": "List"}
    assert list(features) == [c["name"] for c in COLUMNS]
    assert run(tmp_path).returncode == 0
    assert out.read_bytes() == data, "the same rows must write the same bytes"


def test_a_missing_image_file_is_one_line_naming_the_file_and_no_output(tmp_path):
    out, _ = make(tmp_path, lambda img: [{"key": "k", "image": {"path": "gone.png", "file": img + ".gone"}, "options": [], "messages": [], "n": 0}])
    result = run(tmp_path)
    assert result.returncode == 1
    assert len(result.stderr.strip().splitlines()) == 1 and "train-00000.parquet" in result.stderr and "gone" in result.stderr
    assert not out.exists() and not [p for p in os.listdir(out.parent) if p.endswith(".tmp")]


def test_a_table_without_rows_is_an_error_not_a_0_row_file(tmp_path):
    # A 0-row row group makes `datasets` fail ("BatchSize must be greater than 0"): dsbuild never writes one.
    out, _ = make(tmp_path, lambda img: [])
    result = run(tmp_path)
    assert result.returncode == 1
    assert len(result.stderr.strip().splitlines()) == 1 and "no rows" in result.stderr
    assert not out.exists() and not [p for p in os.listdir(out.parent) if p.endswith(".tmp")]


def test_each_written_table_is_reported_with_the_rows_read_back(tmp_path):
    out, _ = make(tmp_path, lambda img: [{"key": f"k{i}", "image": None, "options": [], "messages": [], "n": i} for i in range(70)])
    result = run(tmp_path)
    assert result.returncode == 0, result.stderr
    assert [json.loads(line) for line in result.stdout.splitlines()] == [{"out": str(out), "rows": 70}]
    assert pq.ParquetFile(out).metadata.num_rows == 70
