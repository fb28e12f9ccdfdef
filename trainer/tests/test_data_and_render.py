"""Shard reading, mode mixing and rendering/masking, in-process (no training)."""

from __future__ import annotations

import gzip
import json
import os
import shutil

import pytest

from dataset import Sample, load_shards
from mixing import Stream, parse_mode
from protocol import UserError
from render import IGNORE, Renderer


def test_load_shards_reads_text_gzip_and_tars(shards):
    s = load_shards(shards)
    index = json.load(open(os.path.join(shards, "shards.json")))
    assert len(s.text) == index["counts"]["text"] == 12
    assert len(s.paired) == index["counts"]["paired"] == 12
    assert any(e["file"].endswith(".gz") for e in index["text"])
    assert {x.kind for x in s.paired} == {"caption", "description", "qa"}
    assert all(x.image is not None and x.image.read()[:2] == b"\xff\xd8" for x in s.paired)  # JPEG bytes
    assert all(x.image is None for x in s.text)


def test_zstd_text_shard_is_read(shards, tmp_path):
    zstandard = pytest.importorskip("zstandard")
    dst = shutil.copytree(shards, tmp_path / "z")
    index = json.load(open(dst / "shards.json"))
    entry = index["text"][0]
    raw = open(dst / entry["file"], "rb").read()
    packed = zstandard.ZstdCompressor().compress(raw)
    (dst / "text" / "00000.jsonl.zst").write_bytes(packed)
    import hashlib

    entry.update(file="text/00000.jsonl.zst", bytes=len(packed), sha256=hashlib.sha256(packed).hexdigest())
    json.dump(index, open(dst / "shards.json", "w"))
    assert len(load_shards(str(dst)).text) == 12


def edit_index(shards, tmp_path, fn):
    dst = shutil.copytree(shards, tmp_path / "edited")
    index = json.load(open(dst / "shards.json"))
    fn(index, dst)
    json.dump(index, open(dst / "shards.json", "w"))
    return str(dst)


def test_sample_count_mismatch_is_an_error(shards, tmp_path):
    root = edit_index(shards, tmp_path, lambda ix, d: ix["paired"][0].update(samples=99))
    with pytest.raises(UserError, match=r"paired/00000.tar holds 6 samples but shards.json says 99"):
        load_shards(root)


def test_missing_and_resized_files_are_errors(shards, tmp_path):
    root = edit_index(shards, tmp_path, lambda ix, d: os.remove(d / ix["text"][0]["file"]))
    with pytest.raises(UserError, match="missing"):
        load_shards(root)
    root2 = edit_index(shards, tmp_path / "b", lambda ix, d: ix["text"][1].update(bytes=1))
    with pytest.raises(UserError, match="truncated or was changed"):
        load_shards(root2)


def test_sha_mismatch_names_the_file(shards, tmp_path):
    def flip(ix, d):
        p = d / ix["text"][1]["file"]
        data = bytearray(p.read_bytes())
        data[10] ^= 1
        p.write_bytes(bytes(data))

    root = edit_index(shards, tmp_path, flip)
    with pytest.raises(UserError, match=r"text/00001.jsonl.gz is corrupt: sha256"):
        load_shards(root)
    # A mode that does not read the corrupt shard does not trip over it.
    assert len(load_shards(root, need_text=False).paired) == 12


def test_modes_draw_the_documented_samples(shards):
    s = load_shards(shards)
    assert {x.paired for x in Stream(parse_mode("text-only"), s, 0).epoch_order(0)} == {False}
    assert {x.paired for x in Stream(parse_mode("paired"), s, 0).epoch_order(0)} == {True}
    vift = Stream(parse_mode("vift"), s, 0).epoch_order(0)
    assert {(x.paired, x.kind) for x in vift} == {(False, "description"), (False, "qa"), (True, "caption")}
    for r in (0.25, 0.5, 0.75):
        order = Stream(parse_mode(f"hybrid:{r}"), s, 1).epoch_order(0)
        assert len(order) == 24 and sum(x.paired for x in order) == round(r * 24)
    # The extremes draw from one pool only (hybrid:0 is text-only, hybrid:1 is paired).
    assert {x.paired for x in Stream(parse_mode("hybrid:0"), s, 1).epoch_order(0)} == {False}
    assert {x.paired for x in Stream(parse_mode("hybrid:1"), s, 1).epoch_order(0)} == {True}
    a, b = Stream(parse_mode("hybrid:0.5"), s, 7), Stream(parse_mode("hybrid:0.5"), s, 7)
    assert [x.id for x in a.epoch_order(3)] == [x.id for x in b.epoch_order(3)]
    with pytest.raises(UserError):
        parse_mode("hybrid:x")
    with pytest.raises(UserError):
        parse_mode("images")


@pytest.fixture(scope="module")
def renderer(tiny_model):
    from hfcompat import load_processor

    return Renderer(load_processor(tiny_model))


def labelled_text(renderer, feats):
    return renderer.tokenizer.decode([t for t in feats.labels if t != IGNORE])


def test_paired_sample_masks_prompt_and_image(renderer, shards):
    sample = next(x for x in load_shards(shards).paired if x.kind == "description")
    f = renderer.render(sample)
    tok = renderer.tokenizer
    pad = tok.convert_tokens_to_ids("<|image_pad|>")
    n_image = f.input_ids.count(pad)
    assert n_image == int(f.image_grid_thw.prod()) // 4 and n_image > 0
    assert f.pixel_values.shape[0] == int(f.image_grid_thw.prod())
    assert all(l == IGNORE for t, l in zip(f.input_ids, f.labels) if t == pad)
    assert labelled_text(renderer, f) == sample.messages[-1]["content"] + "<|im_end|>\n"
    assert "<|vision_start|>" in tok.decode(f.input_ids) and f.mm_token_type_ids is not None


def test_multi_turn_labels_every_assistant_turn_only(renderer):
    s = Sample(id="t", kind="qa", messages=[
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "What is a gat?"},
        {"role": "assistant", "content": "A hat."},
        {"role": "user", "content": "Made of?"},
        {"role": "assistant", "content": "Horsehair."},
    ])
    f = renderer.render(s)
    assert labelled_text(renderer, f) == "A hat.<|im_end|>\nHorsehair.<|im_end|>\n"
    assert f.pixel_values is None


def test_long_text_is_truncated_but_long_paired_is_an_error(renderer, shards):
    short = Renderer(renderer.processor, max_length=20)
    text = Sample(id="t", kind="description", messages=[{"role": "user", "content": "x " * 50},
                                                        {"role": "assistant", "content": "y"}])
    assert len(short.render(text).input_ids) == 20
    with pytest.raises(UserError, match="max_length"):
        short.render(load_shards(shards).paired[0])
