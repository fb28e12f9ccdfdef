"""An open_clip checkpoint (BioCLIP and other `open_clip_config.json` folders) as a transformers `CLIPModel`.

open_clip itself cannot be installed in dsbuild's bundled environment (it needs torchvision, which has no build for
the CPU-only torch pinned here), but a ViT CLIP of open_clip is, weight for weight, the architecture of
transformers' `CLIPModel`: this module reads `open_clip_config.json` and the state dict
(`open_clip_model.safetensors` or `open_clip_pytorch_model.bin`), builds the matching `CLIPConfig`, renames and
splits the weights onto it (`convert_state_dict`), and builds the image processor from `preprocess_cfg`. The
tokenizer is the folder's own Hugging Face tokenizer files (BioCLIP ships `tokenizer.json`, `vocab.json`,
`merges.txt`: CLIP's BPE).

Supported: the standard ViT image tower and causal text transformer (`quick_gelu` or GELU; `head_width`,
`mlp_ratio`; token pooling). Refused with the reason: timm or Hugging Face towers (`timm_model_name`,
`hf_model_name`), and pooling or norm variants transformers' CLIP does not have (`attentional_pool`,
`no_ln_pre`, `pool_type` other than the defaults, `final_ln_after_pool`, `no_causal_mask`, `proj_bias`…).

`trainer/tests/test_openclip_checkpoint.py` proves the conversion against open_clip's own code: a small model made
and run by the real `open_clip_torch` gives the same embeddings as its conversion.
"""

from __future__ import annotations

import json
import os

from protocol import UserError, one_line

CONFIG = "open_clip_config.json"
WEIGHTS = ("open_clip_model.safetensors", "open_clip_pytorch_model.bin")
OPENAI_MEAN = (0.48145466, 0.4578275, 0.40821073)
OPENAI_STD = (0.26862954, 0.26130258, 0.27577711)
# Keys of a tower's config that change its architecture in ways transformers' CLIP cannot express.
UNSUPPORTED_VISION = ("timm_model_name", "attentional_pool", "no_ln_pre", "final_ln_after_pool", "attn_pooler_queries",
                      "output_tokens", "ls_init_value", "patch_dropout_disabled")
UNSUPPORTED_TEXT = ("hf_model_name", "hf_tokenizer_name", "no_causal_mask", "attn_mask", "proj_bias", "embed_cls",
                    "final_ln_after_pool", "ls_init_value")


def is_checkpoint(path: str) -> bool:
    return os.path.isfile(os.path.join(path, CONFIG))


def _model_cfg(path: str) -> tuple[dict, dict]:
    try:
        with open(os.path.join(path, CONFIG), encoding="utf-8") as f:
            raw = json.load(f)
    except (OSError, json.JSONDecodeError) as e:
        raise UserError(f"cannot read the open_clip config {os.path.join(path, CONFIG)}: {one_line(str(e), 200)}")
    model_cfg = raw.get("model_cfg", raw)
    return model_cfg, raw.get("preprocess_cfg", {}) or {}


def clip_config(model_cfg: dict, path: str):
    """The transformers `CLIPConfig` of an open_clip ViT CLIP, or a UserError naming what it cannot express."""
    from transformers import CLIPConfig

    vision, text = model_cfg.get("vision_cfg", {}), model_cfg.get("text_cfg", {})
    for section, cfg, unsupported in (("vision_cfg", vision, UNSUPPORTED_VISION), ("text_cfg", text, UNSUPPORTED_TEXT)):
        found = [k for k in unsupported if cfg.get(k)]
        if cfg.get("pool_type") not in (None, "tok" if section == "vision_cfg" else "argmax"):
            found.append(f"pool_type={cfg['pool_type']}")
        if found:
            raise UserError(f"{path} is an open_clip model dsbuild cannot load: its {section} sets {', '.join(found)} "
                            f"(dsbuild converts open_clip's standard ViT CLIP, as BioCLIP is, onto transformers' CLIP)")
    if model_cfg.get("custom_text") or isinstance(vision.get("layers"), (list, tuple)):
        raise UserError(f"{path} is an open_clip model dsbuild cannot load: a custom text tower or a ResNet image tower")
    act = "quick_gelu" if model_cfg.get("quick_gelu") else "gelu"
    vision_width = int(vision.get("width", 768))
    text_width = int(text.get("width", 512))
    return CLIPConfig(
        projection_dim=int(model_cfg.get("embed_dim", 512)),
        text_config=dict(
            vocab_size=int(text.get("vocab_size", 49408)), hidden_size=text_width,
            intermediate_size=int(text_width * float(text.get("mlp_ratio", 4.0))),
            num_hidden_layers=int(text.get("layers", 12)), num_attention_heads=int(text.get("heads", 8)),
            max_position_embeddings=int(text.get("context_length", 77)), hidden_act=act,
            projection_dim=int(model_cfg.get("embed_dim", 512)),
            # open_clip pools the text at the end-of-text token (the highest id, CLIP's 49407).
            bos_token_id=int(text.get("vocab_size", 49408)) - 2, eos_token_id=int(text.get("vocab_size", 49408)) - 1,
            pad_token_id=int(text.get("pad_id", 0))),
        vision_config=dict(
            hidden_size=vision_width, intermediate_size=int(vision_width * float(vision.get("mlp_ratio", 4.0))),
            num_hidden_layers=int(vision.get("layers", 12)),
            num_attention_heads=vision_width // int(vision.get("head_width", 64)),
            image_size=int(vision.get("image_size", 224)), patch_size=int(vision.get("patch_size", 16)), hidden_act=act,
            projection_dim=int(model_cfg.get("embed_dim", 512))),
    )


def _tower(state: dict, source: str, target: str, layers: int, out: dict) -> None:
    """Renames one tower's transformer blocks (open_clip `resblocks.N` → transformers `layers.N`)."""
    import torch

    for i in range(layers):
        s, t = f"{source}.resblocks.{i}", f"{target}.layers.{i}"
        q, k, v = torch.chunk(state[f"{s}.attn.in_proj_weight"], 3, dim=0)
        qb, kb, vb = torch.chunk(state[f"{s}.attn.in_proj_bias"], 3, dim=0)
        for name, w, b in (("q_proj", q, qb), ("k_proj", k, kb), ("v_proj", v, vb)):
            out[f"{t}.self_attn.{name}.weight"], out[f"{t}.self_attn.{name}.bias"] = w, b
        pairs = (("attn.out_proj", "self_attn.out_proj"), ("ln_1", "layer_norm1"), ("ln_2", "layer_norm2"),
                 ("mlp.c_fc", "mlp.fc1"), ("mlp.c_proj", "mlp.fc2"))
        for a, b_ in pairs:
            for p in ("weight", "bias"):
                out[f"{t}.{b_}.{p}"] = state[f"{s}.{a}.{p}"]


def convert_state_dict(state: dict, config) -> dict:
    """open_clip's ViT CLIP state dict under transformers' `CLIPModel` names."""
    state = {k.removeprefix("module."): v for k, v in state.items()}
    out = {
        "text_model.embeddings.token_embedding.weight": state["token_embedding.weight"],
        "text_model.embeddings.position_embedding.weight": state["positional_embedding"],
        "text_model.final_layer_norm.weight": state["ln_final.weight"],
        "text_model.final_layer_norm.bias": state["ln_final.bias"],
        "text_projection.weight": state["text_projection"].t().contiguous(),
        "logit_scale": state["logit_scale"],
        "vision_model.embeddings.class_embedding": state["visual.class_embedding"],
        "vision_model.embeddings.position_embedding.weight": state["visual.positional_embedding"],
        "vision_model.embeddings.patch_embedding.weight": state["visual.conv1.weight"],
        "vision_model.pre_layrnorm.weight": state["visual.ln_pre.weight"],
        "vision_model.pre_layrnorm.bias": state["visual.ln_pre.bias"],
        "vision_model.post_layernorm.weight": state["visual.ln_post.weight"],
        "vision_model.post_layernorm.bias": state["visual.ln_post.bias"],
        "visual_projection.weight": state["visual.proj"].t().contiguous(),
    }
    _tower(state, "transformer", "text_model.encoder", config.text_config.num_hidden_layers, out)
    _tower(state, "visual.transformer", "vision_model.encoder", config.vision_config.num_hidden_layers, out)
    return out


def read_state_dict(path: str) -> dict:
    for name in WEIGHTS:
        file = os.path.join(path, name)
        if not os.path.isfile(file):
            continue
        try:
            if name.endswith(".safetensors"):
                from safetensors.torch import load_file

                return load_file(file)
            import torch

            state = torch.load(file, map_location="cpu", weights_only=True)
            return state.get("state_dict", state) if isinstance(state, dict) else state
        except Exception as e:  # noqa: BLE001 — any unreadable weights file is the same user error
            raise UserError(f"cannot read the open_clip weights {file}: {one_line(str(e) or type(e).__name__, 300)}")
    raise UserError(f"{path} has {CONFIG} but no weights ({' or '.join(WEIGHTS)})")


def image_processor(model_cfg: dict, preprocess: dict):
    """open_clip's preprocessing as a `CLIPImageProcessor`: resize (short side, or both sides for `squash`) with its
    interpolation, centre-crop to the model's size, normalise with its mean and std (OpenAI's by default)."""
    from transformers import CLIPImageProcessor

    size = int(model_cfg.get("vision_cfg", {}).get("image_size", 224))
    resample = {"bicubic": 3, "bilinear": 2, "nearest": 0}.get(str(preprocess.get("interpolation", "bicubic")), 3)
    squash = preprocess.get("resize_mode") == "squash"
    return CLIPImageProcessor(
        do_resize=True, size={"height": size, "width": size} if squash else {"shortest_edge": size}, resample=resample,
        do_center_crop=True, crop_size={"height": size, "width": size}, do_normalize=True,
        image_mean=list(preprocess.get("mean", OPENAI_MEAN)), image_std=list(preprocess.get("std", OPENAI_STD)),
        do_convert_rgb=True)


def load(path: str):
    """(model, tokenizer, image processor) of the open_clip checkpoint in `path`, on the CPU."""
    from transformers import AutoTokenizer, CLIPModel

    model_cfg, preprocess = _model_cfg(path)
    config = clip_config(model_cfg, path)
    state = read_state_dict(path)
    try:
        converted = convert_state_dict(state, config)
    except KeyError as e:
        raise UserError(f"{path}: the open_clip weights lack {e.args[0]} — not a standard ViT CLIP checkpoint")
    model = CLIPModel(config)
    missing, unexpected = model.load_state_dict(converted, strict=False)
    # position_ids is a buffer transformers builds itself; anything else missing is a real mismatch.
    missing = [k for k in missing if not k.endswith("position_ids")]
    if missing or unexpected:
        raise UserError(f"{path}: the open_clip weights do not fit its config (missing {missing[:3]}, unexpected {unexpected[:3]})")
    try:
        tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
    except (OSError, ValueError) as e:
        raise UserError(f"{path} is an open_clip checkpoint without a Hugging Face tokenizer (tokenizer.json or "
                        f"vocab.json + merges.txt, as BioCLIP ships): {one_line(str(e), 200)}")
    return model.eval(), tokenizer, image_processor(model_cfg, preprocess)
