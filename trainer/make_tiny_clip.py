"""Build a tiny, randomly initialised CLIP or SigLIP in Hugging Face layout, with no download.

    python trainer/make_tiny_clip.py OUT [--family clip|siglip] [--image-size PX] [--hidden H] [--dim D] [--seed S]

OUT receives config.json + model.safetensors, a tokenizer and an image processor, so that `AutoModel`,
`AutoTokenizer` and `AutoImageProcessor` load it from the folder as they load openai/clip-vit-base-patch32 or
google/siglip-base-patch16-224, and `trainer/embed.py` runs its real loading, batching and pooling code on it.
Prints OUT's absolute path. Its vectors mean nothing (the weights are random), but they are deterministic
(`--seed`) and the same image gives the same vector: enough to test storage, resume, duplicates and leaks.

A random vision tower maps every image to nearly the same direction (a constant part — class and position
embeddings, biases — outweighs what the pixels add: cosines of 0.97 between unrelated photos). The builder
subtracts that constant, measured on synthetic pictures (coloured discs on coloured grounds), from the pooled
output's last bias, as a trained model's features are centred by training: unrelated K-Viscuit photos then meet at
a mean cosine of about 0.3 (photos alike in layout, a small object on white, can still come close to 1), while a
re-encoded, resized or centre-cropped copy of a photo mostly stays above 0.999.

- clip: `CLIPModel` (vision and text towers of 2 layers, projection `--dim`), CLIP's tokenizer with a byte-level
  vocabulary and no merges (every character a token, `</w>` at word ends: CLIP's scheme, tiny), a
  `CLIPImageProcessor` resizing the short side to `--image-size` and centre-cropping.
- open_clip: the clip model written as an open_clip checkpoint (BioCLIP's layout: `open_clip_config.json`,
  `open_clip_pytorch_model.bin` under open_clip's names, the Hugging Face tokenizer files), for tests of the folder
  handling; `trainer/tests/test_openclip_checkpoint.py` proves the conversion itself against the real open_clip.
- siglip: `SiglipModel` of the same size, a byte-level BPE tokenizer in `tokenizer.json` (SigLIP's own is a
  SentencePiece model, which needs the `sentencepiece` package), padded to 64 tokens as SigLIP is, and a
  `SiglipImageProcessor` resizing to `--image-size` square.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

FAMILIES = ("clip", "siglip", "open_clip")

# CLIP's byte → printable-character table (the same as GPT-2's).
def _byte_unicode() -> list[str]:
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return [chr(c) for _, c in sorted(zip(bs, cs))]


def clip_tokenizer():
    """CLIP's tokenizer with a byte-level vocabulary and no merges (514 tokens, like CLIP's before its merges)."""
    from transformers import CLIPTokenizer

    chars = _byte_unicode()
    vocab = {c: i for i, c in enumerate(chars)}
    for c in chars:
        vocab[c + "</w>"] = len(vocab)
    vocab["<|startoftext|>"] = len(vocab)
    vocab["<|endoftext|>"] = len(vocab)
    return CLIPTokenizer(vocab=vocab, merges=[], model_max_length=77)


def siglip_tokenizer():
    """A byte-level BPE wrapped as a generic fast tokenizer: `</s>` ends every text, `<pad>` pads to 64."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    chars = [c for c in pre_tokenizers.ByteLevel.alphabet()]
    vocab = {"<pad>": 0, "</s>": 1, "<unk>": 2}
    for c in sorted(chars):
        vocab.setdefault(c, len(vocab))
    tok = Tokenizer(models.BPE(vocab=vocab, merges=[], unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.TemplateProcessing(single="$A </s>", special_tokens=[("</s>", 1)])
    return PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="<pad>", eos_token="</s>", unk_token="<unk>",
                                   model_max_length=64)


def calibration_images(n: int = 64, size: int = 48, seed: int = 1234) -> list:
    """Synthetic pictures: a disc of one random colour at a random place on a ground of another."""
    import torch
    from PIL import Image, ImageDraw

    g = torch.Generator().manual_seed(seed)
    images = []
    for _ in range(n):
        r = torch.rand(8, generator=g).tolist()
        im = Image.new("RGB", (size, size), tuple(int(255 * x) for x in r[:3]))
        x0, y0 = int(r[3] * size * 0.6), int(r[4] * size * 0.6)
        ImageDraw.Draw(im).ellipse([x0, y0, x0 + int(size * 0.4), y0 + int(size * 0.4)], fill=tuple(int(255 * x) for x in r[5:8]))
        images.append(im)
    return images


def center_image_features(model, processor, family: str) -> None:
    """Moves the last bias before the image embedding so the calibration pictures' embeddings average to zero."""
    import torch

    pixels = processor(images=calibration_images(), return_tensors="pt")["pixel_values"]
    with torch.no_grad():
        if family == "clip":
            # embedding = visual_projection(post_layernorm(class token)): centre what the layer norm puts out.
            vision = model.vision_model
            pooled = vision.post_layernorm(vision(pixel_values=pixels).last_hidden_state[:, 0, :])
            vision.post_layernorm.bias.sub_(pooled.mean(0))
        else:
            # embedding = the attention-pooling head's output, whose last layer is an MLP with a bias.
            output = model.get_image_features(pixel_values=pixels)
            output = output if isinstance(output, torch.Tensor) else output.pooler_output
            model.vision_model.head.mlp.fc2.bias.sub_(output.mean(0))


def open_clip_state_dict(model) -> dict:
    """A transformers CLIPModel's weights under open_clip's names (the inverse of `openclip_checkpoint`)."""
    import torch

    sd = model.state_dict()
    out = {
        "token_embedding.weight": sd["text_model.embeddings.token_embedding.weight"],
        "positional_embedding": sd["text_model.embeddings.position_embedding.weight"],
        "ln_final.weight": sd["text_model.final_layer_norm.weight"], "ln_final.bias": sd["text_model.final_layer_norm.bias"],
        "text_projection": sd["text_projection.weight"].t().contiguous(), "logit_scale": sd["logit_scale"],
        "visual.class_embedding": sd["vision_model.embeddings.class_embedding"],
        "visual.positional_embedding": sd["vision_model.embeddings.position_embedding.weight"],
        "visual.conv1.weight": sd["vision_model.embeddings.patch_embedding.weight"],
        "visual.ln_pre.weight": sd["vision_model.pre_layrnorm.weight"], "visual.ln_pre.bias": sd["vision_model.pre_layrnorm.bias"],
        "visual.ln_post.weight": sd["vision_model.post_layernorm.weight"], "visual.ln_post.bias": sd["vision_model.post_layernorm.bias"],
        "visual.proj": sd["visual_projection.weight"].t().contiguous(),
    }
    for source, target, layers in (("text_model.encoder", "transformer", model.config.text_config.num_hidden_layers),
                                   ("vision_model.encoder", "visual.transformer", model.config.vision_config.num_hidden_layers)):
        for i in range(layers):
            s, t = f"{source}.layers.{i}", f"{target}.resblocks.{i}"
            out[f"{t}.attn.in_proj_weight"] = torch.cat([sd[f"{s}.self_attn.{n}_proj.weight"] for n in "qkv"])
            out[f"{t}.attn.in_proj_bias"] = torch.cat([sd[f"{s}.self_attn.{n}_proj.bias"] for n in "qkv"])
            for a, b in (("attn.out_proj", "self_attn.out_proj"), ("ln_1", "layer_norm1"), ("ln_2", "layer_norm2"),
                         ("mlp.c_fc", "mlp.fc1"), ("mlp.c_proj", "mlp.fc2")):
                for p in ("weight", "bias"):
                    out[f"{t}.{a}.{p}"] = sd[f"{s}.{b}.{p}"]
    return out


def write_open_clip(out: str, model, tokenizer, image_size: int, hidden: int, dim: int) -> None:
    import torch

    text, vision = model.config.text_config, model.config.vision_config
    model_cfg = {
        "embed_dim": dim, "quick_gelu": vision.hidden_act == "quick_gelu",
        "vision_cfg": {"image_size": image_size, "layers": vision.num_hidden_layers, "width": hidden,
                       "patch_size": vision.patch_size, "head_width": hidden // vision.num_attention_heads,
                       "mlp_ratio": vision.intermediate_size / hidden},
        "text_cfg": {"context_length": text.max_position_embeddings, "vocab_size": text.vocab_size, "width": hidden,
                     "heads": text.num_attention_heads, "layers": text.num_hidden_layers,
                     "mlp_ratio": text.intermediate_size / hidden},
    }
    with open(os.path.join(out, "open_clip_config.json"), "w", encoding="utf-8") as f:
        json.dump({"model_cfg": model_cfg, "preprocess_cfg": {"mean": [0.48145466, 0.4578275, 0.40821073],
                                                              "std": [0.26862954, 0.26130258, 0.27577711]}}, f, indent=2)
    torch.save(open_clip_state_dict(model), os.path.join(out, "open_clip_pytorch_model.bin"))
    tokenizer.save_pretrained(out)


def build(out: str, family: str = "clip", image_size: int = 32, hidden: int = 32, dim: int = 32, seed: int = 0) -> str:
    """Write a tiny random `family` model to `out`; returns out's absolute path."""
    import torch

    if family not in FAMILIES:
        raise ValueError(f"unknown family {family!r}; choose one of {', '.join(FAMILIES)}")
    torch.manual_seed(seed)
    tower = {"hidden_size": hidden, "intermediate_size": hidden * 2, "num_hidden_layers": 2, "num_attention_heads": 4}
    patch = max(4, image_size // 8)
    os.makedirs(out, exist_ok=True)
    if family in ("clip", "open_clip"):
        from transformers import CLIPConfig, CLIPModel
        from transformers.models.clip.image_processing_pil_clip import CLIPImageProcessorPil as CLIPImageProcessor

        tokenizer = clip_tokenizer()
        config = CLIPConfig(
            text_config={**tower, "vocab_size": len(tokenizer), "max_position_embeddings": 77,
                         "bos_token_id": tokenizer.bos_token_id, "eos_token_id": tokenizer.eos_token_id,
                         "pad_token_id": tokenizer.pad_token_id},
            vision_config={**tower, "image_size": image_size, "patch_size": patch},
            projection_dim=dim,
        )
        model = CLIPModel(config)
        processor = CLIPImageProcessor(size={"shortest_edge": image_size},
                                       crop_size={"height": image_size, "width": image_size})
    else:
        from transformers import SiglipConfig, SiglipModel
        from transformers.models.siglip.image_processing_pil_siglip import SiglipImageProcessorPil as SiglipImageProcessor

        tokenizer = siglip_tokenizer()
        # SigLIP has no separate projection: the towers' hidden size is the embedding size.
        config = SiglipConfig(
            text_config={**tower, "hidden_size": dim, "vocab_size": len(tokenizer), "max_position_embeddings": 64,
                         "pad_token_id": 0, "bos_token_id": 1, "eos_token_id": 1},
            vision_config={**tower, "hidden_size": dim, "image_size": image_size, "patch_size": patch},
        )
        model = SiglipModel(config)
        processor = SiglipImageProcessor(size={"height": image_size, "width": image_size})
    center_image_features(model, processor, "siglip" if family == "siglip" else "clip")
    if family == "open_clip":
        write_open_clip(out, model, tokenizer, image_size, hidden, dim)
        return os.path.abspath(out)
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    processor.save_pretrained(out)
    return os.path.abspath(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", help="output directory")
    parser.add_argument("--family", choices=FAMILIES, default="clip")
    parser.add_argument("--image-size", type=int, default=32)
    parser.add_argument("--hidden", type=int, default=32, help="hidden size of each tower (multiple of 4)")
    parser.add_argument("--dim", type=int, default=32, help="embedding size")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    print(build(args.out, args.family, args.image_size, args.hidden, args.dim, args.seed), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
