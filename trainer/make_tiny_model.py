"""Build a tiny, randomly initialised vision-language model in Hugging Face layout, with no download.

    python trainer/make_tiny_model.py OUT [--family qwen2-vl|llava-next] [--corpus FILE ...] [--vocab-size N]
                                          [--hidden H] [--layers L] [--seed S]

OUT receives config.json + model weights, a byte-level BPE tokenizer trained here on a built-in corpus
(plus any --corpus text files) with the family's special tokens and chat template, the family's image processor
with small sizes, and a processor, so that `AutoProcessor.from_pretrained(OUT)` and
`AutoModelForImageTextToText.from_pretrained(OUT)` load it. Prints OUT's absolute path.

- qwen2-vl (default): Qwen2-VL's special tokens and chat template, a Qwen2-VL image processor with small pixel
  limits.
- llava-next: LLaVA-1.6 (`LlavaNextForConditionalGeneration`): a tiny CLIP vision tower (56 px, patch 14), a tiny
  Mistral text model, `image_grid_pinpoints` at 1/6 of LLaVA-1.6's, the `<image>` token and a llava-v1.6-mistral
  style `[INST] … [/INST]` chat template (see tiny_llava_next.py).
"""

from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

# The same special tokens, in the same order, as Qwen2-VL (there they start at id 151643).
SPECIAL_TOKENS = [
    "<|endoftext|>",
    "<|im_start|>",
    "<|im_end|>",
    "<|object_ref_start|>",
    "<|object_ref_end|>",
    "<|box_start|>",
    "<|box_end|>",
    "<|quad_start|>",
    "<|quad_end|>",
    "<|vision_start|>",
    "<|vision_end|>",
    "<|vision_pad|>",
    "<|image_pad|>",
    "<|video_pad|>",
]

# Qwen2-VL-Instruct's chat template, verbatim.
CHAT_TEMPLATE = (
    "{% set image_count = namespace(value=0) %}{% set video_count = namespace(value=0) %}"
    "{% for message in messages %}{% if loop.first and message['role'] != 'system' %}"
    "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n{% endif %}"
    "<|im_start|>{{ message['role'] }}\n"
    "{% if message['content'] is string %}{{ message['content'] }}<|im_end|>\n"
    "{% else %}{% for content in message['content'] %}"
    "{% if content['type'] == 'image' or 'image' in content or 'image_url' in content %}"
    "{% set image_count.value = image_count.value + 1 %}"
    "{% if add_vision_id %}Picture {{ image_count.value }}: {% endif %}"
    "<|vision_start|><|image_pad|><|vision_end|>"
    "{% elif content['type'] == 'video' or 'video' in content %}"
    "{% set video_count.value = video_count.value + 1 %}"
    "{% if add_vision_id %}Video {{ video_count.value }}: {% endif %}"
    "<|vision_start|><|video_pad|><|vision_end|>"
    "{% elif 'text' in content %}{{ content['text'] }}{% endif %}{% endfor %}<|im_end|>\n"
    "{% endif %}{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)

# A small built-in corpus so the tokenizer learns common English merges; bytes cover everything else.
BUILTIN_CORPUS = """\
You are a helpful assistant. Describe the image. What is shown in this image? This image shows a traditional
Korean object. Answer with the option's letter from the given choices directly. A. B. C. D.
The gat is a traditional Korean hat made of horsehair and bamboo, worn by married men of the Joseon dynasty.
Hanbok is the traditional clothing of Korea, with a jeogori jacket and a chima skirt or baji trousers.
Kimchi is fermented cabbage seasoned with chili pepper, garlic, ginger and fish sauce; families make it together
in late autumn. Bibimbap is rice mixed with vegetables, meat, egg and gochujang. Tteok is a rice cake, eaten at
festivals such as Chuseok and Seollal. Hanok is a traditional house with a curved tiled roof and an ondol floor
heated from below. The temple, the palace and the gate were built of wood and stone. Butterflies have four wings
covered in scales; the monarch, the swallowtail and the cabbage white are common species. The question asks what
the food, the clothing, the building, the instrument, the game or the festival in the picture is called, where
its name comes from, when it is eaten or worn, and why people use it. The answer is the name of the object.
Music, dance, painting, pottery, celadon, porcelain, paper, fan, drum, flute, mask, festival, holiday, season.
0 1 2 3 4 5 6 7 8 9 10 100 1000 first second third fourth left right top bottom red blue green yellow white black.
"""


def train_bpe(texts: list[str], vocab_size: int):
    """A byte-level BPE (Qwen2's normaliser, pre-tokeniser and decoder) trained on `texts`: a tokenizers.Tokenizer
    with no special tokens yet."""
    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers
    from transformers.models.qwen2.tokenization_qwen2 import PRETOKENIZE_REGEX

    tok = Tokenizer(models.BPE())
    tok.normalizer = normalizers.NFC()
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(PRETOKENIZE_REGEX), behavior="isolated", invert=False),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
        ]
    )
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        min_frequency=2,
        show_progress=False,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        special_tokens=[],
    )
    tok.train_from_iterator(texts, trainer=trainer)
    return tok


def train_tokenizer(texts: list[str], vocab_size: int):
    """Train a byte-level BPE with Qwen2's normaliser, pre-tokeniser and decoder; return a Qwen2Tokenizer."""
    import json
    import tempfile

    from transformers import Qwen2Tokenizer

    model = train_bpe(texts, vocab_size).model
    with tempfile.TemporaryDirectory() as tmp:
        model.save(tmp)
        with open(os.path.join(tmp, "vocab.json"), encoding="utf-8") as f:
            vocab = json.load(f)
        with open(os.path.join(tmp, "merges.txt"), encoding="utf-8") as f:
            merges = [
                tuple(line.rstrip("\n").split(" "))
                for line in f
                if line.strip() and not line.startswith("#version")
            ]
    # Special tokens follow the learned vocabulary, in Qwen2-VL's order.
    for token in SPECIAL_TOKENS:
        vocab.setdefault(token, len(vocab))
    hf_tok = Qwen2Tokenizer(
        vocab=vocab,
        merges=merges,
        unk_token=None,
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        additional_special_tokens=SPECIAL_TOKENS[1:],
        model_max_length=4096,
    )
    hf_tok.chat_template = CHAT_TEMPLATE
    return hf_tok


def build_config(tokenizer, hidden: int, layers: int):
    from transformers import Qwen2VLConfig

    ids = {t: tokenizer.convert_tokens_to_ids(t) for t in SPECIAL_TOKENS}
    vocab_size = ((len(tokenizer) + 63) // 64) * 64
    heads, kv_heads = 4, 2
    head_dim = hidden // heads
    # mrope_section covers half the head dimension: temporal, height, width.
    half = head_dim // 2
    h = w = half // 4
    t = half - h - w
    return Qwen2VLConfig(
        text_config={
            "vocab_size": vocab_size,
            "hidden_size": hidden,
            "intermediate_size": hidden * 2,
            "num_hidden_layers": layers,
            "num_attention_heads": heads,
            "num_key_value_heads": kv_heads,
            "max_position_embeddings": 4096,
            "rms_norm_eps": 1e-6,
            # Wider than the usual 0.02 so that a frozen, random lm_head still lets LoRA move the loss.
            "initializer_range": 0.1,
            "rope_parameters": {"rope_type": "default", "rope_theta": 10000.0, "mrope_section": [t, h, w]},
            "bos_token_id": ids["<|endoftext|>"],
            "eos_token_id": ids["<|im_end|>"],
            "pad_token_id": ids["<|endoftext|>"],
            "use_cache": True,
        },
        vision_config={
            "depth": 2,
            "embed_dim": 32,
            "hidden_size": hidden,
            "mlp_ratio": 2,
            "num_heads": 4,
            "in_channels": 3,
            "patch_size": 14,
            "spatial_merge_size": 2,
            "temporal_patch_size": 2,
        },
        image_token_id=ids["<|image_pad|>"],
        video_token_id=ids["<|video_pad|>"],
        vision_start_token_id=ids["<|vision_start|>"],
        vision_end_token_id=ids["<|vision_end|>"],
        tie_word_embeddings=False,
    )


FAMILIES = ("qwen2-vl", "llava-next")


def corpus(corpus_files: list[str]) -> list[str]:
    texts = [line for line in BUILTIN_CORPUS.splitlines() if line.strip()]
    for path in corpus_files:
        with open(path, encoding="utf-8") as f:
            texts.extend(line for line in f.read().splitlines() if line.strip())
    return texts


def build(out: str, corpus_files: list[str], vocab_size: int, seed: int, hidden: int, layers: int,
          family: str = "qwen2-vl") -> str:
    """Write a tiny random model of `family` to `out`; returns out's absolute path."""
    if family == "llava-next":
        import tiny_llava_next

        return tiny_llava_next.build(out, corpus(corpus_files), vocab_size, seed, hidden, layers)
    if family != "qwen2-vl":
        raise ValueError(f"unknown family {family!r}; choose one of {', '.join(FAMILIES)}")
    return build_qwen2_vl(out, corpus(corpus_files), vocab_size, seed, hidden, layers)


def build_qwen2_vl(out: str, texts: list[str], vocab_size: int, seed: int, hidden: int, layers: int) -> str:
    import torch
    from transformers import Qwen2VLForConditionalGeneration, Qwen2VLProcessor
    from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import Qwen2VLImageProcessorPil

    from hfcompat import make_processor

    tokenizer = train_tokenizer(texts, vocab_size)

    torch.manual_seed(seed)
    config = build_config(tokenizer, hidden, layers)
    model = Qwen2VLForConditionalGeneration(config)
    model.generation_config.pad_token_id = config.text_config.pad_token_id
    model.generation_config.eos_token_id = [config.text_config.eos_token_id, config.text_config.bos_token_id]

    image_processor = Qwen2VLImageProcessorPil(
        min_pixels=56 * 56,
        max_pixels=112 * 112,
        patch_size=14,
        temporal_patch_size=2,
        merge_size=2,
    )
    processor = make_processor(Qwen2VLProcessor, image_processor, tokenizer, CHAT_TEMPLATE)

    os.makedirs(out, exist_ok=True)
    model.save_pretrained(out)
    processor.save_pretrained(out)
    add_video_processor_config(out, image_processor)
    return os.path.abspath(out)


def add_video_processor_config(out: str, image_processor) -> None:
    """Record the video sub-processor too, so that where torchvision is installed `AutoProcessor` builds the
    full Qwen2VLProcessor (this trainer never feeds video; without torchvision it is simply not built)."""
    import json

    path = os.path.join(out, "processor_config.json")
    with open(path, encoding="utf-8") as f:
        cfg = json.load(f)
    if "video_processor" not in cfg:
        cfg["video_processor"] = {
            "video_processor_type": "Qwen2VLVideoProcessor",
            "size": dict(image_processor.size),
            "patch_size": image_processor.patch_size,
            "temporal_patch_size": image_processor.temporal_patch_size,
            "merge_size": image_processor.merge_size,
            "image_mean": list(image_processor.image_mean),
            "image_std": list(image_processor.image_std),
        }
        with open(path, "w", encoding="utf-8") as f:
            json.dump(cfg, f, indent=2)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", help="output directory")
    parser.add_argument("--corpus", action="append", default=[], help="extra text file(s) to train the tokenizer on")
    parser.add_argument("--vocab-size", type=int, default=1024)
    parser.add_argument("--hidden", type=int, default=64, help="text hidden size (multiple of 32)")
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--family", choices=FAMILIES, default="qwen2-vl",
                        help="qwen2-vl (default) or llava-next (LLaVA-1.6: CLIP vision tower + Mistral text model)")
    args = parser.parse_args(argv)
    if args.hidden % 32:
        parser.error("--hidden must be a multiple of 32")
    path = build(args.out, args.corpus, args.vocab_size, args.seed, args.hidden, args.layers, args.family)
    print(path, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
