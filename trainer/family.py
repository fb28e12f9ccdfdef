"""Which vision-language model family a model folder holds, read from its config.json.

The family decides which of the processor's outputs carry an image to the model: Qwen2-VL gives flattened
patches plus `image_grid_thw`; LLaVA-NeXT (LLaVA-1.6) gives `pixel_values` of shape (images, patches, C, H, W)
plus `image_sizes`. Any other `AutoModelForImageTextToText` is handled generically: every non-text output of
the processor for an image is passed through.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

from protocol import UserError

# Processor outputs that describe the text, not the image.
TEXT_KEYS = frozenset({"input_ids", "attention_mask", "offset_mapping", "token_type_ids", "mm_token_type_ids"})


@dataclass(frozen=True)
class Family:
    """A model family: its name and the processor outputs its forward pass takes for images."""

    name: str
    vision_inputs: tuple[str, ...] | None  # None: every non-text processor output

    def vision_keys(self, enc) -> list[str]:
        """The image inputs in a processor output; an error when one the family needs is missing."""
        if self.vision_inputs is None:
            return [k for k in enc.keys() if k not in TEXT_KEYS]
        missing = [k for k in self.vision_inputs if k not in enc]
        if missing:
            raise UserError(f"the {self.name} processor returned no {', '.join(missing)} for an image; "
                            "the model folder's processor does not match its config")
        return list(self.vision_inputs)


QWEN2_VL = Family("qwen2-vl", ("pixel_values", "image_grid_thw"))
LLAVA_NEXT = Family("llava-next", ("pixel_values", "image_sizes"))

MODEL_TYPES = {
    "qwen2_vl": QWEN2_VL,
    "qwen2_5_vl": QWEN2_VL,
    "llava_next": LLAVA_NEXT,
}


def model_type(model_dir: str) -> str:
    path = os.path.join(model_dir, "config.json")
    try:
        with open(path, encoding="utf-8") as f:
            cfg = json.load(f)
    except FileNotFoundError:
        raise UserError(f"{model_dir} has no config.json; it is not a Hugging Face model folder")
    except json.JSONDecodeError as e:
        raise UserError(f"{path} is not valid JSON ({e.msg}); the model folder is damaged")
    kind = cfg.get("model_type")
    if not isinstance(kind, str) or not kind:
        raise UserError(f"{path} names no model_type; it is not a Hugging Face model config")
    return kind


def detect(model_dir: str) -> Family:
    """The family of the model in `model_dir` (a full model folder, not a LoRA adapter)."""
    kind = model_type(model_dir)
    return MODEL_TYPES.get(kind) or Family(kind, None)
