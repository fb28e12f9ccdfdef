"""Turning a sample into model inputs with the processor's own chat template, and batching them.

Paired samples put an image content part before the first user turn's text and go through the processor's
vision path; text-only samples are tokenised as plain text, so they carry no image tokens and no pixel values.
Labels are -100 everywhere except the assistant turns (their text and the template's end-of-turn tokens).
Images are opened upright (EXIF orientation applied). Which processor outputs carry the image to the model is
the model family's business (`family.py`): Qwen2-VL's flattened patches + `image_grid_thw`, LLaVA-NeXT's
per-image patch stacks + `image_sizes`.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from dataset import Sample
from family import Family
from hfcompat import add_special_tokens_for
from images import ImageDecodeError, open_upright
from protocol import UserError

IGNORE = -100


@dataclass
class Features:
    input_ids: list[int]
    labels: list[int]
    vision: dict[str, torch.Tensor] | None = None  # the processor's image inputs (pixel_values, image_grid_thw…)
    mm_token_type_ids: list[int] | None = None  # returned by processors whose models need it for M-RoPE

    @property
    def trained_tokens(self) -> int:
        return sum(1 for x in self.labels if x != IGNORE)

    @property
    def pixel_values(self) -> torch.Tensor | None:
        return self.vision.get("pixel_values") if self.vision else None

    @property
    def image_grid_thw(self) -> torch.Tensor | None:  # Qwen2-VL
        return self.vision.get("image_grid_thw") if self.vision else None

    @property
    def image_sizes(self) -> torch.Tensor | None:  # LLaVA-NeXT: (height, width) of each source image
        return self.vision.get("image_sizes") if self.vision else None


def to_chat(messages: list[dict], with_image: bool) -> list[dict]:
    """Messages in the processor's content-part form; the image goes before the first user turn's text."""
    out = [dict(m) for m in messages]
    if with_image:
        first_user = next((i for i, m in enumerate(out) if m["role"] == "user"), None)
        if first_user is None:
            raise UserError("a paired sample needs a user turn to hold its image")
        out[first_user]["content"] = [{"type": "image"}, {"type": "text", "text": out[first_user]["content"]}]
    return out


class Renderer:
    def __init__(self, processor, max_length: int = 2048, family: Family | None = None):
        self.processor = processor
        self.tokenizer = getattr(processor, "tokenizer", processor)
        self.max_length = max_length
        self.family = family or Family("generic", None)
        self.image_token = getattr(processor, "image_token", None) or "<|image_pad|>"
        token_id = getattr(processor, "image_token_id", None)
        self.image_token_id = token_id if token_id is not None else self.tokenizer.convert_tokens_to_ids(self.image_token)

    def _template(self, messages: list[dict], generation_prompt: bool = False) -> str:
        return self.processor.apply_chat_template(
            messages, tokenize=False, add_generation_prompt=generation_prompt
        )

    def assistant_spans(self, chat: list[dict]) -> tuple[str, list[tuple[int, int]]]:
        """The rendered conversation and the character spans of its assistant turns."""
        full = self._template(chat)
        spans = []
        for i, m in enumerate(chat):
            if m["role"] != "assistant":
                continue
            if i == 0:
                raise UserError("a conversation must start with a user (or system) turn before the assistant's")
            before = self._template(chat[:i], generation_prompt=True)
            through = self._template(chat[: i + 1])
            if not (full.startswith(through) and through.startswith(before)):
                raise UserError("the model's chat template does not render conversation prefixes consistently; "
                                "assistant turns cannot be located for loss masking")
            spans.append((len(before), len(through)))
        return full, spans

    def render(self, sample: Sample) -> Features:
        chat = to_chat(sample.messages, with_image=sample.paired)
        text, spans = self.assistant_spans(chat)
        special = add_special_tokens_for(self.tokenizer, text)
        if sample.paired:
            try:
                image = open_upright(sample.image.read())
            except ImageDecodeError as e:
                raise UserError(f"sample {sample.id}: its image {sample.image.name} cannot be decoded ({e})")
            enc = self.processor(text=[text], images=[image], return_offsets_mapping=True,
                                 add_special_tokens=special, return_tensors="pt")
            vision = {k: torch.as_tensor(enc[k]) for k in self.family.vision_keys(enc)}
            ids = enc["input_ids"][0].tolist()
            spans = self._shift_for_images(text, spans, ids)
            types = enc["mm_token_type_ids"][0].tolist() if "mm_token_type_ids" in enc else None
            offsets = enc["offset_mapping"][0].tolist()
        else:
            enc = self.tokenizer([text], return_offsets_mapping=True, add_special_tokens=special)
            ids = list(enc["input_ids"][0])
            vision = types = None
            offsets = enc["offset_mapping"][0]
        labels = [tok if _inside(start, end, spans) else IGNORE for tok, (start, end) in zip(ids, offsets)]
        if len(ids) > self.max_length:
            if sample.paired:
                raise UserError(
                    f"sample {sample.id} renders to {len(ids)} tokens, over max_length {self.max_length}; "
                    "raise max_length or make the image processor's images smaller (max_pixels, "
                    "image_grid_pinpoints)"
                )
            ids, labels = ids[: self.max_length], labels[: self.max_length]
        return Features(ids, labels, vision, types)

    def _shift_for_images(self, text: str, spans, ids: list[int]):
        """Map spans in the template text to the processor's text, where each image placeholder became a run
        of N placeholder tokens (N = the image's feature count, which each family computes its own way)."""
        pad = self.image_token
        positions = []
        start = 0
        while (at := text.find(pad, start)) >= 0:
            positions.append(at)
            start = at + len(pad)
        runs = image_token_runs(ids, self.image_token_id)
        if len(positions) != len(runs):
            raise UserError(f"rendered text has {len(positions)} image placeholders {pad!r} but the processor "
                            f"wrote {len(runs)} runs of image tokens; the chat template and processor disagree")
        extra = [(n - 1) * len(pad) for n in runs]

        def shift(c: int) -> int:
            return c + sum(e for p, e in zip(positions, extra) if p < c)

        return [(shift(a), shift(b)) for a, b in spans]


def image_token_runs(ids: list[int], token_id: int) -> list[int]:
    """Lengths of the maximal runs of `token_id` in `ids`, in order."""
    runs, n = [], 0
    for t in ids:
        if t == token_id:
            n += 1
        elif n:
            runs.append(n)
            n = 0
    if n:
        runs.append(n)
    return runs


def _inside(start: int, end: int, spans) -> bool:
    return end > start and any(a <= start < b for a, b in spans)


def stack_images(tensors: list[torch.Tensor]) -> torch.Tensor:
    """Concatenate per-sample image inputs along dim 0. Tensors that differ only in dim 1 (LLaVA-NeXT's
    patches per image) are zero-padded there first; the model reads each image's true patch count from
    `image_sizes` and ignores the padding."""
    shapes = {tuple(t.shape[1:]) for t in tensors}
    if len(shapes) > 1:
        dims = {t.dim() for t in tensors}
        tails = {tuple(t.shape[2:]) for t in tensors}
        if len(dims) != 1 or len(tails) != 1 or next(iter(dims)) < 2:
            raise UserError(f"image inputs of shapes {sorted(shapes)} cannot be batched; use batch_size 1")
        width = max(t.shape[1] for t in tensors)
        padded = []
        for t in tensors:
            if t.shape[1] < width:
                pad = t.new_zeros((t.shape[0], width - t.shape[1], *t.shape[2:]))
                t = torch.cat([t, pad], dim=1)
            padded.append(t)
        tensors = padded
    return torch.cat(tensors)


def collate(features: list[Features], pad_id: int) -> dict:
    """Right-pad a batch; image inputs of the paired samples are batched, text-only ones add none."""
    width = max(len(f.input_ids) for f in features)
    ids = torch.full((len(features), width), pad_id, dtype=torch.long)
    labels = torch.full((len(features), width), IGNORE, dtype=torch.long)
    mask = torch.zeros((len(features), width), dtype=torch.long)
    for i, f in enumerate(features):
        n = len(f.input_ids)
        ids[i, :n] = torch.tensor(f.input_ids)
        labels[i, :n] = torch.tensor(f.labels)
        mask[i, :n] = 1
    batch = {"input_ids": ids, "attention_mask": mask, "labels": labels}
    if any(f.mm_token_type_ids is not None for f in features):
        types = torch.zeros((len(features), width), dtype=torch.long)  # 0 = text, for text-only samples too
        for i, f in enumerate(features):
            if f.mm_token_type_ids is not None:
                types[i, : len(f.mm_token_type_ids)] = torch.tensor(f.mm_token_type_ids)
        batch["mm_token_type_ids"] = types
    with_images = [f for f in features if f.vision]
    if with_images:
        keys = list(with_images[0].vision)
        if any(list(f.vision) != keys for f in with_images):
            raise UserError("paired samples in one batch carry different image inputs; use batch_size 1")
        for k in keys:
            batch[k] = stack_images([f.vision[k] for f in with_images])
    return batch
