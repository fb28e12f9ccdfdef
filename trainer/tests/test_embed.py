"""embed.py on tiny CLIP and SigLIP models built locally: the protocol, normalised float16 vectors in item order,
batching, upright images, a bad image skipped with the rest embedded, and clear errors for folders it cannot use."""

from __future__ import annotations

import base64
import io
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from conftest import ENV, TRAINER, Run

KVISCUIT = os.path.normpath(os.path.join(TRAINER, "..", "..", "shared", "data", "k-viscuit", "images"))


@pytest.fixture(scope="session", params=["clip", "siglip"])
def tiny_embedder(request, tmp_path_factory) -> tuple[str, str]:
    import make_tiny_clip

    out = str(tmp_path_factory.mktemp(f"tiny-{request.param}"))
    return request.param, make_tiny_clip.build(out, request.param)


def run_embed(model: str, items: list[dict], tmp_path, *extra: str) -> Run:
    path = tmp_path / "items.jsonl"
    path.write_text("".join(json.dumps(i) + "\n" for i in items), encoding="utf-8")
    cmd = [sys.executable, os.path.join(TRAINER, "embed.py"), "--model", model, "--items", str(path), *extra]
    return Run(subprocess.run(cmd, capture_output=True, text=True, timeout=600, env=ENV))


def vectors(run: Run, kind: str) -> dict[str, np.ndarray]:
    dim = run.one("model")["dim"]
    out = {}
    for batch in run.of("batch"):
        if batch["kind"] != kind:
            continue
        assert batch["dtype"] == "<f2"
        rows = np.frombuffer(base64.b64decode(batch["vectors"]), dtype="<f2").reshape(len(batch["ids"]), dim)
        out.update({i: r.astype(np.float32) for i, r in zip(batch["ids"], rows)})
    return out


def kviscuit(n: int) -> list[str]:
    names = sorted(f for f in os.listdir(KVISCUIT) if f.endswith(".jpg"))[:n]
    return [os.path.join(KVISCUIT, f) for f in names]


def test_texts_and_images_are_embedded_in_batches_as_unit_float16_rows(tiny_embedder, tmp_path):
    family, model = tiny_embedder
    images = kviscuit(5)
    items = [{"kind": "text", "id": "1", "text": "a photo of Hanbok."}, {"kind": "text", "id": "2", "text": "a photo of 김치."}]
    items += [{"kind": "image", "id": f"img{i}", "path": p} for i, p in enumerate(images)]
    run = run_embed(model, items, tmp_path, "--batch-size", "2", "--device", "cpu")
    assert run.returncode == 0, run.stderr[-2000:]
    model_event = run.one("model")
    assert model_event["family"] == family and model_event["dim"] == 32
    # Texts first, then images, at most two a batch, in item order.
    kinds = [(b["kind"], len(b["ids"])) for b in run.of("batch")]
    assert kinds == [("text", 2), ("image", 2), ("image", 2), ("image", 1)]
    texts, embedded = vectors(run, "text"), vectors(run, "image")
    assert list(embedded) == [f"img{i}" for i in range(5)]
    for v in list(texts.values()) + list(embedded.values()):
        assert abs(float(np.linalg.norm(v)) - 1) < 2e-3
    end = run.one("end")
    assert end["texts"] == 2 and end["images"] == 5 and end["skipped"] == 0


def test_the_same_image_gives_the_same_vector_whatever_its_batch(tiny_embedder, tmp_path):
    _, model = tiny_embedder
    images = kviscuit(3)
    one = vectors(run_embed(model, [{"kind": "image", "id": "a", "path": images[2]}], tmp_path), "image")["a"]
    many = vectors(run_embed(model, [{"kind": "image", "id": str(i), "path": p} for i, p in enumerate(images)], tmp_path,
                             "--batch-size", "3"), "image")["2"]
    assert float(one @ many) > 0.9995


def test_an_image_stored_sideways_is_embedded_upright(tiny_embedder, tmp_path):
    """A photo stored turned a quarter with EXIF orientation 6 gives the vector of the same photo stored upright."""
    from PIL import Image

    _, model = tiny_embedder
    upright = Image.open(kviscuit(1)[0]).convert("RGB").resize((120, 90))
    upright.save(tmp_path / "upright.png")
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90° clockwise to display": stored turned a quarter counter-clockwise
    upright.transpose(Image.Transpose.ROTATE_90).save(tmp_path / "sideways.png", exif=exif.tobytes())
    plain = upright.transpose(Image.Transpose.ROTATE_90)
    plain.save(tmp_path / "sideways-untagged.png")
    items = [{"kind": "image", "id": n, "path": str(tmp_path / f"{n}.png")} for n in ("upright", "sideways", "sideways-untagged")]
    got = vectors(run_embed(model, items, tmp_path), "image")
    assert float(got["upright"] @ got["sideways"]) > 0.9999
    # The control: the same pixels without the tag are a different picture to the model.
    assert float(got["upright"] @ got["sideways-untagged"]) < float(got["upright"] @ got["sideways"])


def test_an_unreadable_image_is_skipped_by_name_and_the_rest_are_embedded(tiny_embedder, tmp_path):
    _, model = tiny_embedder
    bad = tmp_path / "truncated.jpg"
    bad.write_bytes(open(kviscuit(1)[0], "rb").read()[:300])
    images = kviscuit(2)
    items = [{"kind": "image", "id": "ok1", "path": images[0]}, {"kind": "image", "id": "bad", "path": str(bad)},
             {"kind": "image", "id": "gone", "path": str(tmp_path / "missing.jpg")}, {"kind": "image", "id": "ok2", "path": images[1]}]
    run = run_embed(model, items, tmp_path, "--batch-size", "4")
    assert run.returncode == 0, run.stderr[-2000:]
    skipped = {s["id"]: s for s in run.of("skip")}
    assert set(skipped) == {"bad", "gone"}
    assert skipped["bad"]["path"] == str(bad) and skipped["bad"]["reason"]
    assert set(vectors(run, "image")) == {"ok1", "ok2"}
    assert run.one("end")["skipped"] == 2


def test_a_broken_open_clip_checkpoint_is_refused_with_the_reason(tmp_path):
    folder = tmp_path / "bioclip"
    folder.mkdir()
    (folder / "open_clip_config.json").write_text('{"model_cfg": {"embed_dim": 512}}')
    (folder / "open_clip_model.safetensors").write_bytes(b"\0" * 16)
    run = run_embed(str(folder), [{"kind": "text", "id": "1", "text": "x"}], tmp_path)
    assert run.returncode == 2
    message = run.one("error")["message"]
    assert "open_clip weights" in message and str(folder) in message
    assert not run.of("batch")


@pytest.mark.parametrize("setup, expected", [
    ("missing", "is not a folder"),
    ("empty", "has no config.json"),
    ("llama", "is a llama model"),
])
def test_a_folder_that_is_no_clip_or_siglip_model_is_refused(setup, expected, tmp_path):
    folder = tmp_path / "model"
    if setup != "missing":
        folder.mkdir()
    if setup == "llama":
        (folder / "config.json").write_text('{"model_type": "llama"}')
    run = run_embed(str(folder), [], tmp_path)
    assert run.returncode == 2
    assert expected in run.one("error")["message"]


def test_a_siglip_folder_with_a_sentencepiece_tokenizer_loads_as_googles_do(tmp_path):
    """google/siglip-* checkpoints carry `spiece.model`: with the pinned sentencepiece and protobuf, AutoTokenizer
    reads it (SiglipTokenizer) and embed.py embeds with it."""
    spm = pytest.importorskip("sentencepiece")
    pytest.importorskip("google.protobuf")

    import make_tiny_clip
    from transformers import SiglipTokenizer

    model = make_tiny_clip.build(str(tmp_path / "siglip"), "siglip")
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("\n".join(["a photo of kimchi", "a photo of hanbok", "traditional korean food"] * 50), encoding="utf-8")
    spm.SentencePieceTrainer.train(input=str(corpus), model_prefix=str(tmp_path / "spiece"), vocab_size=40, model_type="unigram",
                                   pad_id=0, eos_id=1, unk_id=2, bos_id=-1, pad_piece="<pad>", eos_piece="</s>",
                                   unk_piece="<unk>", hard_vocab_limit=False, minloglevel=2)
    for name in ("tokenizer.json", "tokenizer_config.json"):
        os.remove(os.path.join(model, name))
    SiglipTokenizer(vocab_file=str(tmp_path / "spiece.model")).save_pretrained(model)
    assert os.path.isfile(os.path.join(model, "spiece.model"))
    run = run_embed(model, [{"kind": "text", "id": "1", "text": "a photo of kimchi."},
                            {"kind": "image", "id": "a", "path": kviscuit(1)[0]}], tmp_path)
    assert run.returncode == 0, run.stderr[-2000:]
    assert set(vectors(run, "text")) == {"1"} and set(vectors(run, "image")) == {"a"}
