"""A tiny, randomly initialised LLaVA-NeXT (LLaVA-1.6), built with no download (see make_tiny_model.py).

The layout is llava-hf/llava-v1.6-mistral-7b-hf's at toy size: a CLIP vision tower (56 px images, patch 14, so
4 x 4 patches + CLS), the two-layer GELU projector and `image_newline`, a Mistral text model, "anyres"
`image_grid_pinpoints` at 1/6 of LLaVA-1.6's (an image is cut into up to 3 x 1 or 2 x 2 tiles of 56 px plus
a 56 px overview), the `<image>` placeholder token, and the `[INST] … [/INST]` chat template. The tokenizer is
a byte-level BPE trained here with `<unk>`, `<s>`, `</s>`, `<image>`, `<pad>` after the learned vocabulary.
"""

from __future__ import annotations

import os

SPECIAL_TOKENS = ["<unk>", "<s>", "</s>", "<image>", "<pad>"]
IMAGE_TOKEN = "<image>"
IMAGE_SIZE = 56
PATCH_SIZE = 14
# LLaVA-1.6's [[336, 672], [672, 336], [672, 672], [1008, 336], [336, 1008]] divided by 6.
GRID_PINPOINTS = [[56, 112], [112, 56], [112, 112], [168, 56], [56, 168]]

# llava-v1.6-mistral's conversation format: images first in the user turn, the assistant's text after a space,
# closed by </s>. Content may be a string or a list of parts; a system turn goes first, Llama-2 style.
CHAT_TEMPLATE = (
    "{{ bos_token }}{% for message in messages %}"
    "{% if message['role'] == 'system' %}{{ '<<SYS>>\n' }}"
    "{% elif message['role'] == 'user' %}{{ '[INST] ' }}"
    "{% else %}{{ ' ' }}{% endif %}"
    "{% if message['content'] is string %}{{ message['content'] }}"
    "{% else %}"
    "{% for content in message['content'] %}"
    "{% if content['type'] == 'image' or 'image' in content or 'image_url' in content %}{{ '<image>\n' }}{% endif %}"
    "{% endfor %}"
    "{% for content in message['content'] %}"
    "{% if content['type'] == 'text' %}{{ content['text'] }}{% endif %}"
    "{% endfor %}"
    "{% endif %}"
    "{% if message['role'] == 'system' %}{{ '\n<</SYS>>\n\n' }}"
    "{% elif message['role'] == 'user' %}{{ ' [/INST]' }}"
    "{% else %}{{ eos_token }}{% endif %}"
    "{% endfor %}"
)

# Teaches the BPE the template's markers, so they are a few tokens rather than one per character.
TEMPLATE_CORPUS = ["[INST] <image>\nWhat is this? [/INST] This is a gat.", "[INST] Describe it. [/INST] A hat."] * 4


def build_tokenizer(texts: list[str], vocab_size: int):
    from transformers import PreTrainedTokenizerFast

    from make_tiny_model import train_bpe

    tok = train_bpe(texts + TEMPLATE_CORPUS, vocab_size)
    tok.add_special_tokens(SPECIAL_TOKENS)
    hf_tok = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        unk_token="<unk>",
        bos_token="<s>",
        eos_token="</s>",
        pad_token="<pad>",
        extra_special_tokens={"image_token": IMAGE_TOKEN},
        model_max_length=4096,
    )
    hf_tok.chat_template = CHAT_TEMPLATE
    return hf_tok


def build_config(tokenizer, hidden: int, layers: int):
    from transformers import LlavaNextConfig

    ids = {t: tokenizer.convert_tokens_to_ids(t) for t in SPECIAL_TOKENS}
    vocab_size = ((len(tokenizer) + 63) // 64) * 64
    return LlavaNextConfig(
        text_config={
            "model_type": "mistral",
            "vocab_size": vocab_size,
            "hidden_size": hidden,
            "intermediate_size": hidden * 2,
            "num_hidden_layers": layers,
            "num_attention_heads": 4,
            "num_key_value_heads": 2,
            "max_position_embeddings": 4096,
            "rms_norm_eps": 1e-5,
            "sliding_window": None,
            # Wider than the usual 0.02 so that a frozen, random lm_head still lets LoRA move the loss.
            "initializer_range": 0.1,
            "bos_token_id": ids["<s>"],
            "eos_token_id": ids["</s>"],
            "pad_token_id": ids["<pad>"],
            "tie_word_embeddings": False,
        },
        vision_config={
            "model_type": "clip_vision_model",
            "hidden_size": 32,
            "intermediate_size": 64,
            "num_hidden_layers": 2,
            "num_attention_heads": 4,
            "image_size": IMAGE_SIZE,
            "patch_size": PATCH_SIZE,
            "projection_dim": 32,
        },
        image_token_index=ids[IMAGE_TOKEN],
        image_grid_pinpoints=GRID_PINPOINTS,
        image_seq_length=(IMAGE_SIZE // PATCH_SIZE) ** 2,
        vision_feature_select_strategy="default",
        vision_feature_layer=-2,
        projector_hidden_act="gelu",
        tie_word_embeddings=False,
    )


def build_processor(tokenizer):
    from transformers import LlavaNextProcessor
    from transformers.models.llava_next.image_processing_pil_llava_next import LlavaNextImageProcessorPil

    image_processor = LlavaNextImageProcessorPil(
        size={"shortest_edge": IMAGE_SIZE},
        crop_size={"height": IMAGE_SIZE, "width": IMAGE_SIZE},
        image_grid_pinpoints=GRID_PINPOINTS,
    )
    return LlavaNextProcessor(
        image_processor=image_processor,
        tokenizer=tokenizer,
        patch_size=PATCH_SIZE,
        vision_feature_select_strategy="default",
        num_additional_image_tokens=1,  # CLIP's CLS token
        image_token=IMAGE_TOKEN,
        chat_template=CHAT_TEMPLATE,
    )


def build(out: str, texts: list[str], vocab_size: int, seed: int, hidden: int, layers: int) -> str:
    import torch
    from transformers import LlavaNextForConditionalGeneration

    tokenizer = build_tokenizer(texts, vocab_size)
    torch.manual_seed(seed)
    config = build_config(tokenizer, hidden, layers)
    model = LlavaNextForConditionalGeneration(config)
    model.generation_config.bos_token_id = config.text_config.bos_token_id
    model.generation_config.eos_token_id = config.text_config.eos_token_id
    model.generation_config.pad_token_id = config.text_config.pad_token_id

    os.makedirs(out, exist_ok=True)
    model.save_pretrained(out)
    build_processor(tokenizer).save_pretrained(out)
    return os.path.abspath(out)
