"""The tiny Qwen2-VL built with no download loads the standard way and is self-consistent."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from conftest import TRAINER
from make_tiny_model import SPECIAL_TOKENS


def test_layout_and_special_token_ids(tiny_model):
    from transformers import AutoConfig, AutoTokenizer, Qwen2VLForConditionalGeneration

    for name in ("config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json",
                 "processor_config.json", "chat_template.jinja"):
        assert os.path.isfile(os.path.join(tiny_model, name)), name
    cfg = AutoConfig.from_pretrained(tiny_model)
    tok = AutoTokenizer.from_pretrained(tiny_model)
    assert cfg.image_token_id == tok.convert_tokens_to_ids("<|image_pad|>")
    assert cfg.video_token_id == tok.convert_tokens_to_ids("<|video_pad|>")
    assert cfg.vision_start_token_id == tok.convert_tokens_to_ids("<|vision_start|>")
    assert cfg.vision_end_token_id == tok.convert_tokens_to_ids("<|vision_end|>")
    assert len({tok.convert_tokens_to_ids(t) for t in SPECIAL_TOKENS}) == len(SPECIAL_TOKENS)
    assert cfg.text_config.vocab_size >= len(tok)
    head_dim = cfg.text_config.hidden_size // cfg.text_config.num_attention_heads
    assert sum(cfg.text_config.rope_parameters["mrope_section"]) * 2 == head_dim
    model = Qwen2VLForConditionalGeneration.from_pretrained(tiny_model)
    assert sum(p.numel() for p in model.parameters()) < 2_000_000


def test_tokenizer_round_trips_and_keeps_special_tokens_whole(tiny_model):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_model)
    text = "Kimchi (김치) is fermented. <|im_start|>user\nHi!<|im_end|>"
    ids = tok(text, add_special_tokens=False)["input_ids"]
    assert tok.decode(ids) == text
    assert tok.convert_tokens_to_ids("<|im_start|>") in ids and tok.convert_tokens_to_ids("<|im_end|>") in ids


def test_processor_chat_template_and_vision_path(tiny_model):
    from PIL import Image

    from hfcompat import load_processor

    proc = load_processor(tiny_model)
    msgs = [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "What is this?"}]}]
    text = proc.apply_chat_template(msgs, tokenize=False, add_generation_prompt=True)
    assert text.endswith("<|im_start|>assistant\n") and "<|vision_start|><|image_pad|><|vision_end|>" in text
    enc = proc(text=[text], images=[Image.new("RGB", (300, 200), "red")], return_tensors="pt")
    thw = enc["image_grid_thw"][0].tolist()
    assert thw[0] == 1 and thw[1] * thw[2] * 14 * 14 <= 112 * 112  # small max_pixels
    assert int((enc["input_ids"] == proc.tokenizer.convert_tokens_to_ids("<|image_pad|>")).sum()) == thw[1] * thw[2] // 4


def test_auto_processor_loads_when_torchvision_is_installed(tiny_model):
    from transformers.utils import is_torchvision_available

    if not is_torchvision_available():
        pytest.skip("torchvision is not installed: transformers 5 builds Qwen2-VL's video processor only with it")
    from transformers import AutoProcessor

    assert AutoProcessor.from_pretrained(tiny_model).image_token == "<|image_pad|>"


def test_cli_prints_the_path(tmp_path):
    out = subprocess.run([sys.executable, os.path.join(TRAINER, "make_tiny_model.py"), str(tmp_path / "m")],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == str(tmp_path / "m")
