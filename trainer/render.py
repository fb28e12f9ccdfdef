"""Turning a sample into model inputs with the processor's own chat template, and batching them.

Paired samples put an image content part before the first user turn's text and go through the processor's
vision path; text-only samples are tokenised as plain text, so they carry no image tokens and no pixel values.
Labels are -100 everywhere except the assistant turns (their text and the template's end-of-turn tokens).
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import torch

from dataset import Sample
from protocol import UserError

IGNORE = -100


@dataclass
class Features:
    input_ids: list[int]
    labels: list[int]
    pixel_values: torch.Tensor | None = None
    image_grid_thw: torch.Tensor | None = None
    mm_token_type_ids: list[int] | None = None  # returned by processors whose models need it for M-RoPE

    @property
    def trained_tokens(self) -> int:
        return sum(1 for x in self.labels if x != IGNORE)


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
    def __init__(self, processor, max_length: int = 2048):
        self.processor = processor
        self.tokenizer = getattr(processor, "tokenizer", processor)
        self.max_length = max_length
        self.image_token = getattr(processor, "image_token", "<|image_pad|>")

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
        if sample.paired:
            from PIL import Image

            try:
                image = Image.open(io.BytesIO(sample.image.read()))
                image.load()
                image = image.convert("RGB")
            except (OSError, ValueError) as e:
                raise UserError(f"sample {sample.id}: its image {sample.image.name} cannot be decoded ({e})")
            enc = self.processor(text=[text], images=[image], return_offsets_mapping=True)
            grid = torch.as_tensor(enc["image_grid_thw"])
            pixels = torch.as_tensor(enc["pixel_values"])
            spans = self._shift_for_images(text, spans, grid)
            types = list(enc["mm_token_type_ids"][0]) if "mm_token_type_ids" in enc else None
        else:
            enc = self.tokenizer([text], return_offsets_mapping=True, add_special_tokens=False)
            grid = pixels = types = None
        ids = list(enc["input_ids"][0])
        offsets = enc["offset_mapping"][0]
        labels = [tok if _inside(start, end, spans) else IGNORE for tok, (start, end) in zip(ids, offsets)]
        if len(ids) > self.max_length:
            if sample.paired:
                raise UserError(
                    f"sample {sample.id} renders to {len(ids)} tokens, over max_length {self.max_length}; "
                    "raise max_length or lower the image processor's max_pixels"
                )
            ids, labels = ids[: self.max_length], labels[: self.max_length]
        return Features(ids, labels, pixels, grid, types)

    def _shift_for_images(self, text: str, spans, grid: torch.Tensor):
        """Map spans in the template text to the processor's text, where each image pad became N pads."""
        merge = getattr(self.processor.image_processor, "merge_size", 2)
        pad = self.image_token
        positions = []
        start = 0
        while (at := text.find(pad, start)) >= 0:
            positions.append(at)
            start = at + len(pad)
        if len(positions) != len(grid):
            raise UserError(f"rendered text has {len(positions)} image placeholders for {len(grid)} images")
        extra = [(int(g.prod()) // merge**2 - 1) * len(pad) for g in grid]

        def shift(c: int) -> int:
            return c + sum(e for p, e in zip(positions, extra) if p < c)

        return [(shift(a), shift(b)) for a, b in spans]


def _inside(start: int, end: int, spans) -> bool:
    return end > start and any(a <= start < b for a, b in spans)


def collate(features: list[Features], pad_id: int) -> dict:
    """Right-pad a batch; pixel values of the paired samples are concatenated, text-only ones add none."""
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
    with_pixels = [f for f in features if f.pixel_values is not None]
    if with_pixels:
        batch["pixel_values"] = torch.cat([f.pixel_values for f in with_pixels])
        batch["image_grid_thw"] = torch.cat([f.image_grid_thw for f in with_pixels])
    return batch
