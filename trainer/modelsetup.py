"""Loading the model, choosing what trains (LoRA or full; vision tower and projector frozen or not), saving."""

from __future__ import annotations

import json
import os
import re

from protocol import UserError

DEFAULT_LORA_TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
VISION_PREFIXES = ("visual", "vision_tower", "vision_model")
# Qwen2-VL's `merger`; LLaVA's `multi_modal_projector` (LLaVA-NeXT adds the `image_newline` parameter, which
# LLaVA trains with the projector).
PROJECTOR_NAMES = ("merger", "multi_modal_projector", "mm_projector", "image_newline")


def is_vision(name: str) -> bool:
    parts = name.split(".")
    return any(p in VISION_PREFIXES for p in parts) and not is_projector(name)


def is_projector(name: str) -> bool:
    return any(p in PROJECTOR_NAMES for p in name.split("."))


def is_adapter_dir(path: str) -> bool:
    return os.path.isfile(os.path.join(path, "adapter_config.json"))


def model_class():
    from transformers import AutoModelForImageTextToText

    return AutoModelForImageTextToText


def check_model_dir(path: str) -> None:
    if not os.path.isdir(path):
        raise UserError(f"model {path!r} is not a local directory; give the path of a Hugging Face model folder")
    if not os.path.isfile(os.path.join(path, "config.json")):
        raise UserError(f"{path} has no config.json; it is not a Hugging Face model folder")


def load_base(path: str, dtype=None):
    import torch

    check_model_dir(path)
    return model_class().from_pretrained(path, dtype=dtype or torch.float32, local_files_only=True)


def adapter_base_path(adapter_dir: str) -> str:
    with open(os.path.join(adapter_dir, "adapter_config.json"), encoding="utf-8") as f:
        base = json.load(f).get("base_model_name_or_path")
    if not base:
        raise UserError(f"{adapter_dir}/adapter_config.json names no base model; pass --base")
    return base


def lora_regex(targets: list[str]) -> str:
    """LoRA on the language model's linear layers only, never inside the vision tower or projector."""
    alt = "|".join(re.escape(t) for t in targets)
    return rf"^(?!.*\b(?:{'|'.join(VISION_PREFIXES)})\b).*\.(?:{alt})$"


def prepare(model, lora: dict, freeze_vision: bool, freeze_projector: bool):
    """Set requires_grad per the config; wrap with peft for LoRA. Returns the (possibly wrapped) model."""
    if lora.get("enabled", True):
        from peft import LoraConfig, get_peft_model

        targets = lora.get("target_modules") or DEFAULT_LORA_TARGETS
        # peft keeps whole modules trainable (`modules_to_save`); a bare parameter such as LLaVA-NeXT's
        # image_newline cannot be one, so with LoRA it stays as in the base model.
        modules = dict(model.named_modules())
        projector = sorted({r for n, _ in model.named_parameters() if is_projector(n)
                            for r in [_projector_root(n)] if r in modules})
        cfg = LoraConfig(
            r=int(lora.get("r", 8)),
            lora_alpha=int(lora.get("alpha", 16)),
            lora_dropout=float(lora.get("dropout", 0.0)),
            target_modules=lora_regex(targets),
            modules_to_save=None if freeze_projector or not projector else [p.split(".")[-1] for p in projector],
            task_type="CAUSAL_LM",
        )
        try:
            model = get_peft_model(model, cfg)
        except ValueError as e:
            raise UserError(f"LoRA target_modules {targets} match nothing in the model ({e})")
        for name, p in model.named_parameters():
            if is_vision(name) and not _is_lora(name):
                p.requires_grad_(False)
        return model
    for name, p in model.named_parameters():
        if is_vision(name):
            p.requires_grad_(not freeze_vision)
        elif is_projector(name):
            p.requires_grad_(not freeze_projector)
        else:
            p.requires_grad_(True)
    return model


def _projector_root(name: str) -> str:
    parts = name.split(".")
    for i, part in enumerate(parts):
        if part in PROJECTOR_NAMES:
            return ".".join(parts[: i + 1])
    return name


def _is_lora(name: str) -> bool:
    return "lora_" in name


def count_params(model) -> tuple[int, int]:
    total = trainable = 0
    for p in model.parameters():
        total += p.numel()
        if p.requires_grad:
            trainable += p.numel()
    return trainable, total


def load_for_training(base_path: str, resume_dir: str | None, lora: dict, freeze_vision: bool, freeze_projector: bool):
    """The model to train: fresh from `base_path`, or restored from a checkpoint directory."""
    if resume_dir is None:
        return prepare(load_base(base_path), lora, freeze_vision, freeze_projector)
    if lora.get("enabled", True):
        from peft import PeftModel

        model = PeftModel.from_pretrained(load_base(base_path), resume_dir, is_trainable=True)
        for name, p in model.named_parameters():
            if is_vision(name) and not _is_lora(name):
                p.requires_grad_(False)
        return model
    return prepare(load_base(resume_dir), lora, freeze_vision, freeze_projector)


def save(model, processor, path: str, merged_path: str | None = None) -> None:
    """save_pretrained for the model (or adapter) and the processor; for LoRA optionally a merged full model
    (which merges `model` in place: pass `merged_path` only when training is over)."""
    os.makedirs(path, exist_ok=True)
    from hfcompat import save_processor

    model.save_pretrained(path)
    save_processor(processor, path)
    if merged_path is not None and hasattr(model, "merge_and_unload"):
        # In place (no second copy of a large model in memory): the adapter is already saved above, and this is
        # only called once training is over.
        merged = model.merge_and_unload()
        os.makedirs(merged_path, exist_ok=True)
        merged.save_pretrained(merged_path)
        save_processor(processor, merged_path)
