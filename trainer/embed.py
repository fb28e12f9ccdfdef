"""Image and keyword-text embeddings with a CLIP-family model from a local folder (what `dsbuild embed` runs).

    python trainer/embed.py --model DIR --items FILE.jsonl [--batch-size N] [--device auto|cpu|cuda]

DIR is a Hugging Face folder of a CLIP (`model_type: clip`, e.g. openai/clip-vit-base-patch32) or SigLIP
(`model_type: siglip`, e.g. google/siglip-base-patch16-224) model, loaded with `AutoModel`, `AutoTokenizer` and
`AutoImageProcessor`, never from the network — or an open_clip checkpoint (`open_clip_config.json`, e.g.
imageomics/bioclip), converted onto transformers' CLIP by `openclip_checkpoint` (open_clip itself needs
torchvision, which has no build for the CPU-only torch pinned here).

FILE.jsonl holds one item a line: `{"kind": "text", "id": ID, "text": TEXT}` or `{"kind": "image", "id": ID,
"path": PATH}`. Texts are embedded first, then images, `--batch-size` at a time; every image is opened upright
(its EXIF orientation applied, `images.open_upright`). Output: JSON lines on stdout —

- `{"event": "model", "family", "model_type", "dim", "device"}` once the model is loaded;
- `{"event": "batch", "kind", "ids": [...], "dtype": "<f2", "vectors": BASE64}` per batch: the L2-normalised
  vectors as little-endian float16 rows, in `ids` order;
- `{"event": "skip", "kind": "image", "id", "path", "reason"}` for an image that cannot be opened (the rest go on);
- `{"event": "end", "texts", "images", "skipped", "seconds"}`; `{"event": "error", "message"}` on a fatal error
  (exit status 2 for a user error: a wrong folder, an unsupported model).
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import sys
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import openclip_checkpoint  # noqa: E402
from images import open_upright  # noqa: E402
from protocol import Emitter, UserError, claim_stdout, one_line, quiet_env, quiet_transformers  # noqa: E402

SUPPORTED = ("clip", "siglip")  # Hugging Face model types; open_clip checkpoints are recognised by their config


def model_type(path: str) -> str:
    """The folder's model family, or a UserError that says what the folder is and what to do."""
    if not os.path.isdir(path):
        raise UserError(f"embedding model {path!r} is not a folder; set filter.embeddings.model to a local "
                        f"Hugging Face CLIP or SigLIP folder, or an open_clip checkpoint folder")
    if openclip_checkpoint.is_checkpoint(path):
        return "open_clip"
    config = os.path.join(path, "config.json")
    if not os.path.isfile(config):
        raise UserError(f"{path} has no config.json (nor open_clip_config.json): not a Hugging Face model folder")
    with open(config, encoding="utf-8") as f:
        kind = json.load(f).get("model_type", "")
    if kind not in SUPPORTED:
        raise UserError(f"{path} is a {kind or 'unknown'!s} model; dsbuild embeds with {' or '.join(SUPPORTED)} "
                        f"models (e.g. openai/clip-vit-base-patch32, google/siglip-base-patch16-224)")
    return kind


def read_items(path: str) -> tuple[list[dict], list[dict]]:
    if not os.path.isfile(path):
        raise UserError(f"items file {path} not found")
    texts, images = [], []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
            except json.JSONDecodeError as e:
                raise UserError(f"{path} line {n}: not valid JSON ({e.msg})")
            kind = item.get("kind")
            if kind == "text" and isinstance(item.get("text"), str):
                texts.append(item)
            elif kind == "image" and isinstance(item.get("path"), str):
                images.append(item)
            else:
                raise UserError(f"{path} line {n}: needs kind 'text' with a text or kind 'image' with a path")
    return texts, images


class Embedder:
    def __init__(self, path: str, device_name: str):
        import torch
        from transformers import AutoImageProcessor, AutoModel, AutoTokenizer

        quiet_transformers()
        self.torch = torch
        self.kind = model_type(path)
        if device_name == "auto":
            device_name = "cuda" if torch.cuda.is_available() else "cpu"
        if device_name == "cuda" and not torch.cuda.is_available():
            raise UserError("device 'cuda' was asked for but torch sees no CUDA GPU; use --device cpu")
        self.device = torch.device(device_name)
        try:
            if self.kind == "open_clip":
                model, self.tokenizer, self.processor = openclip_checkpoint.load(path)
                self.model = model.to(self.device)
            else:
                self.model = AutoModel.from_pretrained(path, local_files_only=True).to(self.device).eval()
                self.tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
                self.processor = AutoImageProcessor.from_pretrained(path, local_files_only=True)
        except (OSError, ValueError, ImportError) as e:
            raise UserError(f"cannot load the {self.kind} model in {path}: {one_line(str(e), 400)}")
        text_config = self.model.config.text_config
        self.max_tokens = int(getattr(text_config, "max_position_embeddings", 77))
        # The side JPEGs are decoded at (at least twice the model's input) before the processor resizes them.
        size = getattr(self.processor, "size", None) or {}
        side = size.get("shortest_edge") or size.get("height") or 224
        self.decode_side = int(side) * 2
        self.dim = None

    def _features(self, output):
        # transformers 5 returns a model output whose pooler_output is the projected embedding; 4.x a tensor.
        features = output if isinstance(output, self.torch.Tensor) else output.pooler_output
        features = features.float()
        return features / features.norm(dim=-1, keepdim=True).clamp_min(1e-12)

    def texts(self, texts: list[str]):
        # SigLIP was trained on texts padded to the full length (its text tower pools the last position).
        padding = "max_length" if self.kind == "siglip" else True
        enc = self.tokenizer(texts, padding=padding, truncation=True, max_length=self.max_tokens, return_tensors="pt")
        enc = {k: v.to(self.device) for k, v in enc.items() if k in ("input_ids", "attention_mask", "position_ids")}
        if self.kind == "siglip":
            enc.pop("attention_mask", None)  # SigLIP's text tower takes none
        with self.torch.inference_mode():
            return self._features(self.model.get_text_features(**enc))

    def images(self, images: list):
        inputs = self.processor(images=images, return_tensors="pt")
        inputs = {k: v.to(self.device) for k, v in inputs.items()}
        with self.torch.inference_mode():
            return self._features(self.model.get_image_features(**inputs))


def encode(vectors) -> str:
    import numpy as np

    return base64.b64encode(vectors.cpu().numpy().astype("<f2", copy=False).tobytes()).decode("ascii")


def open_image(path: str, decode_side: int):
    """The image upright and RGB; a JPEG is decoded at a reduced scale no smaller than `decode_side`."""
    with open(path, "rb") as f:
        data = f.read()
    return open_upright(data, min_side=decode_side)


def run(args, emit: Emitter) -> int:
    t0 = time.time()
    texts, images = read_items(args.items)
    if args.batch_size < 1:
        raise UserError("--batch-size must be at least 1")
    embedder = Embedder(args.model, args.device)
    probe = embedder.texts(["a photo"])
    embedder.dim = int(probe.shape[-1])
    emit.emit("model", family=embedder.kind, model_type=embedder.kind, dim=embedder.dim, device=str(embedder.device))
    for start in range(0, len(texts), args.batch_size):
        batch = texts[start:start + args.batch_size]
        vectors = embedder.texts([t["text"] for t in batch])
        emit.emit("batch", kind="text", ids=[t["id"] for t in batch], dtype="<f2", vectors=encode(vectors))
    skipped = 0
    for start in range(0, len(images), args.batch_size):
        opened, ids = [], []
        for item in images[start:start + args.batch_size]:
            try:
                opened.append(open_image(item["path"], embedder.decode_side))
                ids.append(item["id"])
            except Exception as e:  # noqa: BLE001 — any undecodable file is one skipped image, never the run
                skipped += 1
                reason = one_line(str(e) or type(e).__name__, 300)
                emit.emit("skip", kind="image", id=item["id"], path=item["path"], reason=reason)
        if opened:
            vectors = embedder.images(opened)
            emit.emit("batch", kind="image", ids=ids, dtype="<f2", vectors=encode(vectors))
    emit.emit("end", texts=len(texts), images=len(images) - skipped, skipped=skipped, seconds=round(time.time() - t0, 3))
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", required=True, help="a local Hugging Face CLIP or SigLIP folder")
    p.add_argument("--items", required=True, help="items JSONL (texts and images to embed)")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--device", choices=("cpu", "cuda", "auto"), default="auto")
    args = p.parse_args(argv)
    emit = Emitter(claim_stdout())
    quiet_env()
    try:
        return run(args, emit)
    except UserError as e:
        emit.error(str(e))
        print(f"error: {one_line(str(e))}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        return 1  # the caller went away (killed): what it recorded is all that counts
    except Exception as e:  # noqa: BLE001
        traceback.print_exc(file=sys.stderr)
        emit.error(f"{type(e).__name__}: {e}")
        return 1


if __name__ == "__main__":
    sys.exit(main())
