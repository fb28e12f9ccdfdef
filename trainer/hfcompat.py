"""Loading processors and models the same way everywhere, with or without torchvision.

transformers 5.x gives Qwen2-VL's processor a video sub-processor that needs torchvision (LLaVA-NeXT's processor
has none and loads with `AutoProcessor` either way). The trainer only uses
images, and a CPU-only torch has no matching torchvision wheel on PyPI, so when torchvision is missing the
processor is assembled from its tokenizer and (PIL) image processor without the video part. With torchvision
installed, `AutoProcessor.from_pretrained` is used unchanged.
"""

from __future__ import annotations

import json
import os


def torchvision_available() -> bool:
    from transformers.utils import is_torchvision_available

    return is_torchvision_available()


def _image_only_processor_class(base):
    """A subclass of `base` whose constructor has no video_processor, so ProcessorMixin does not require one."""

    class ImageOnlyProcessor(base):  # type: ignore[misc, valid-type]
        def __init__(self, image_processor=None, tokenizer=None, chat_template=None, **kwargs):
            base.__init__(self, image_processor, tokenizer, None, chat_template=chat_template, **kwargs)
            self.video_processor = None

    ImageOnlyProcessor.__name__ = base.__name__
    ImageOnlyProcessor.__qualname__ = base.__qualname__
    return ImageOnlyProcessor


def needs_video_processor(processor_class) -> bool:
    """Whether the processor class's constructor takes a video sub-processor (Qwen2-VL's does)."""
    import inspect

    try:
        return "video_processor" in inspect.signature(processor_class.__init__).parameters
    except (TypeError, ValueError):
        return False


def processor_class_name(path: str) -> str | None:
    for name in ("processor_config.json", "preprocessor_config.json", "tokenizer_config.json"):
        p = os.path.join(path, name)
        if os.path.isfile(p):
            with open(p, encoding="utf-8") as f:
                cls = json.load(f).get("processor_class")
            if cls:
                return cls
    return None


def load_processor(path: str):
    """The model's processor from a local directory (never the network)."""
    import transformers
    from transformers import AutoProcessor

    if torchvision_available():
        return AutoProcessor.from_pretrained(path, local_files_only=True)
    name = processor_class_name(path)
    base = getattr(transformers, name, None) if name else None
    if base is None or not needs_video_processor(base):
        # e.g. LlavaNextProcessor: image processor + tokenizer only, AutoProcessor builds it without torchvision.
        return AutoProcessor.from_pretrained(path, local_files_only=True)
    from transformers import AutoImageProcessor, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
    image_processor = AutoImageProcessor.from_pretrained(path, local_files_only=True, backend="pil")
    chat_template = getattr(tokenizer, "chat_template", None)
    template_file = os.path.join(path, "chat_template.jinja")
    if os.path.isfile(template_file):
        with open(template_file, encoding="utf-8") as f:
            chat_template = f.read()
    processor = _image_only_processor_class(base)(
        image_processor=image_processor, tokenizer=tokenizer, chat_template=chat_template
    )
    processor.dsbuild_video_config = None
    cfg_path = os.path.join(path, "processor_config.json")
    if os.path.isfile(cfg_path):
        with open(cfg_path, encoding="utf-8") as f:
            processor.dsbuild_video_config = json.load(f).get("video_processor")
    return processor


def save_processor(processor, path: str) -> None:
    """save_pretrained, keeping the video sub-processor's config that an image-only processor could not build."""
    processor.save_pretrained(path)
    video = getattr(processor, "dsbuild_video_config", None)
    cfg_path = os.path.join(path, "processor_config.json")
    if video and os.path.isfile(cfg_path):
        with open(cfg_path, encoding="utf-8") as f:
            cfg = json.load(f)
        if "video_processor" not in cfg:
            cfg["video_processor"] = video
            with open(cfg_path, "w", encoding="utf-8") as f:
                json.dump(cfg, f, indent=2)


def make_processor(base_class, image_processor, tokenizer, chat_template):
    """Construct an image-only processor in memory (used when building a model)."""
    return _image_only_processor_class(base_class)(
        image_processor=image_processor, tokenizer=tokenizer, chat_template=chat_template
    )


def add_special_tokens_for(tokenizer, text: str) -> bool:
    """Whether tokenising a chat-template rendering should add the tokenizer's special tokens: not when the
    template already wrote the BOS token (the rule of transformers' own processor `apply_chat_template`), so a
    sample gets one BOS whether the template or the tokenizer supplies it."""
    bos = getattr(tokenizer, "bos_token", None)
    return not (bos and text.startswith(bos))
