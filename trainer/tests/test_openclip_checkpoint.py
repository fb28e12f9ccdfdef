"""An open_clip checkpoint converted onto transformers' CLIP (`openclip_checkpoint`) embeds exactly as open_clip
does: a small ViT CLIP is built, saved and run by the real `open_clip_torch` (pinned, installed for this test with
pip; its torchvision import satisfied by `openclip_stand_in/`, see its README), and its conversion gives the same
token ids, text embeddings and image embeddings. Then `embed.py` embeds with the folder end to end."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from conftest import ENV, TRAINER, Run

PINS = ["open_clip_torch==3.3.0", "ftfy==6.3.1", "wcwidth==0.2.13"]
STAND_IN = os.path.join(TRAINER, "tests", "openclip_stand_in")
KVISCUIT = os.path.normpath(os.path.join(TRAINER, "..", "..", "shared", "data", "k-viscuit", "images"))


@pytest.fixture(scope="session")
def open_clip():
    """The real open_clip package, installed into a folder beside the trainer's environment (not into it)."""
    target = os.environ.get("DSBUILD_OPENCLIP_DIR") or os.path.join(TRAINER, ".venv", "openclip-test-packages")
    stamp = os.path.join(target, ".pins")
    if not (os.path.isfile(stamp) and open(stamp).read() == " ".join(PINS)):
        done = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", target, *PINS],
                              capture_output=True, text=True, timeout=600)
        if done.returncode != 0:
            pytest.skip(f"open_clip_torch could not be installed: {done.stderr.strip()[-300:]}")
        with open(stamp, "w") as f:
            f.write(" ".join(PINS))
    # transformers decides once, at import, whether torchvision is there: it must see the real answer (no), not the
    # stand-in, or it would use torchvision's transforms for its image processors.
    import transformers.image_processing_utils  # noqa: F401
    import transformers.image_utils  # noqa: F401
    from transformers import CLIPImageProcessor  # noqa: F401

    sys.path[:0] = [STAND_IN, target]
    import open_clip as package

    return package


def hf_tokenizer_files(open_clip, folder: str) -> None:
    """CLIP's BPE (open_clip's own vocabulary file) as the Hugging Face tokenizer files BioCLIP ships."""
    from open_clip.tokenizer import bytes_to_unicode, default_bpe
    from transformers import CLIPTokenizer

    with gzip.open(default_bpe(), "rt", encoding="utf-8") as f:
        merges = f.read().split("\n")[1:49152 - 256 - 2 + 1]
    merges = [tuple(m.split()) for m in merges]
    vocab = list(bytes_to_unicode().values())
    vocab = vocab + [v + "</w>" for v in vocab] + ["".join(m) for m in merges] + ["<|startoftext|>", "<|endoftext|>"]
    with open(os.path.join(folder, "vocab.json"), "w", encoding="utf-8") as f:
        json.dump({t: i for i, t in enumerate(vocab)}, f)
    with open(os.path.join(folder, "merges.txt"), "w", encoding="utf-8") as f:
        f.write("#version: 0.2\n" + "\n".join(" ".join(m) for m in merges) + "\n")
    CLIPTokenizer(os.path.join(folder, "vocab.json"), os.path.join(folder, "merges.txt"), model_max_length=77,
                  pad_token="<|endoftext|>").save_pretrained(folder)


@pytest.fixture(scope="session", params=[False, True], ids=["gelu", "quick_gelu"])
def checkpoint(request, open_clip, tmp_path_factory):
    """A small ViT CLIP made by open_clip, saved as an open_clip checkpoint folder (BioCLIP's layout)."""
    import torch

    torch.manual_seed(11)
    model_cfg = {"embed_dim": 32, "quick_gelu": request.param,
                 "vision_cfg": {"image_size": 64, "layers": 2, "width": 64, "patch_size": 16, "head_width": 32},
                 "text_cfg": {"context_length": 77, "vocab_size": 49408, "width": 48, "heads": 3, "layers": 2}}
    model = open_clip.model.CLIP(**{k: v for k, v in model_cfg.items()}).eval()
    for p in model.parameters():  # random but not degenerate: layer norms and biases away from their init
        p.data.add_(0.02 * torch.randn_like(p))
    folder = str(tmp_path_factory.mktemp("openclip"))
    with open(os.path.join(folder, "open_clip_config.json"), "w") as f:
        json.dump({"model_cfg": model_cfg, "preprocess_cfg": {"mean": [0.48145466, 0.4578275, 0.40821073],
                                                              "std": [0.26862954, 0.26130258, 0.27577711]}}, f)
    torch.save(model.state_dict(), os.path.join(folder, "open_clip_pytorch_model.bin"))
    hf_tokenizer_files(open_clip, folder)
    return model, folder


TEXTS = ["Danaus plexippus", "a photo of a monarch butterfly", "Bungeo-ppang (붕어빵), a fish-shaped pastry", "gat"]


def test_the_conversion_tokenizes_and_embeds_texts_as_open_clip_does(open_clip, checkpoint):
    import torch

    import openclip_checkpoint

    reference, folder = checkpoint
    model, tokenizer, _ = openclip_checkpoint.load(folder)
    ids = open_clip.get_tokenizer("ViT-B-32")(TEXTS)
    ours = tokenizer(TEXTS, padding="max_length", max_length=77, return_tensors="pt")["input_ids"]
    # open_clip pads with 0 after the end-of-text token, the Hugging Face files with the end-of-text token itself.
    for a, b in zip(ids, ours):
        end = int((a == 49407).nonzero()[0])
        assert a[:end + 1].tolist() == b[:end + 1].tolist()
    with torch.inference_mode():
        expected = reference.encode_text(ids)
        got = model.get_text_features(input_ids=ours)
        got = got if isinstance(got, torch.Tensor) else got.pooler_output
    np.testing.assert_allclose(got.numpy(), expected.numpy(), rtol=1e-4, atol=1e-5)


def test_the_conversion_embeds_images_as_open_clip_does(checkpoint):
    import torch
    from PIL import Image

    import openclip_checkpoint

    reference, folder = checkpoint
    model, _, processor = openclip_checkpoint.load(folder)
    images = [Image.open(os.path.join(KVISCUIT, name)).convert("RGB") for name in sorted(os.listdir(KVISCUIT))[:3]]
    pixels = processor(images=images, return_tensors="pt")["pixel_values"]
    assert tuple(pixels.shape[-2:]) == (64, 64)
    with torch.inference_mode():
        expected = reference.encode_image(pixels)
        got = model.get_image_features(pixel_values=pixels)
        got = got if isinstance(got, torch.Tensor) else got.pooler_output
    np.testing.assert_allclose(got.numpy(), expected.numpy(), rtol=1e-4, atol=1e-5)


def test_embed_py_embeds_with_an_open_clip_folder(checkpoint, tmp_path):
    _, folder = checkpoint
    items = [{"kind": "text", "id": "k1", "text": "Danaus plexippus"},
             {"kind": "image", "id": "i1", "path": os.path.join(KVISCUIT, sorted(os.listdir(KVISCUIT))[0])}]
    path = tmp_path / "items.jsonl"
    path.write_text("".join(json.dumps(i) + "\n" for i in items), encoding="utf-8")
    run = Run(subprocess.run([sys.executable, os.path.join(TRAINER, "embed.py"), "--model", folder, "--items", str(path),
                              "--device", "cpu"], capture_output=True, text=True, timeout=600, env=ENV))
    assert run.returncode == 0, run.stderr
    model = run.one("model")
    assert model["family"] == "open_clip" and model["dim"] == 32
    assert [b["kind"] for b in run.of("batch")] == ["text", "image"]


def test_an_open_clip_model_it_cannot_express_is_refused_with_the_reason(tmp_path):
    import openclip_checkpoint
    from protocol import UserError

    (tmp_path / "open_clip_config.json").write_text(json.dumps(
        {"model_cfg": {"embed_dim": 512, "vision_cfg": {"image_size": 224}, "text_cfg": {"hf_model_name": "bert-base-uncased"}}}))
    with pytest.raises(UserError) as refused:
        openclip_checkpoint.load(str(tmp_path))
    assert "hf_model_name" in str(refused.value) and str(tmp_path) in str(refused.value)
