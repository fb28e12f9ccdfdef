#!/usr/bin/env python3
"""Loads dsbuild's LLaMA-Factory export with LLaMA-Factory's own loader (its dataset_info.json parser,
_load_single_dataset and align_dataset converters, merged as get_dataset merges them before tokenizing) and
prints, per dataset, what LLaMA-Factory made of it as JSON.

Usage: llamafactory_load.py EXPORTS_DIR DATASET [DATASET ...]   (e.g. dsbuild_paired dsbuild_alpaca_text)

For each dataset: rows, formatting, and per row the roles of _prompt and _response, the number of <image> tags,
and the _images paths LLaMA-Factory resolved (each must be a file it found under the dataset dir, decoding with
Pillow) with their [width, height, mode]. Every row goes through LLaMA-Factory's own placeholder check
(BasePlugin._validate_messages: as many <image>/<video>/<audio> tags as images, videos, audios), which it runs before
tokenizing: a row it rejects, or any broken contract, exits 1.
"""
import json
import os
import sys
import tempfile

# LLaMA-Factory is installed --no-deps with only what its data loader imports (scripts/llamafactory-venv.sh):
# its import-time check of the training stack (trl, …) is switched off the way it documents.
os.environ.setdefault("DISABLE_VERSION_CHECK", "1")

from PIL import Image
from transformers import Seq2SeqTrainingArguments

from llamafactory.data.loader import _get_merged_dataset
from llamafactory.data.mm_plugin import get_mm_plugin
from llamafactory.data.parser import get_dataset_list
from llamafactory.hparams import DataArguments, ModelArguments


def main():
    folder, names = os.path.abspath(sys.argv[1]), sys.argv[2:]
    model_args = ModelArguments(model_name_or_path="dsbuild-export-check")
    data_args = DataArguments(dataset=",".join(names), dataset_dir=folder)
    training_args = Seq2SeqTrainingArguments(output_dir=tempfile.mkdtemp())
    plugin = get_mm_plugin("base", image_token="<image>")
    out = {}
    rejected = []
    for name, attr in zip(names, get_dataset_list(names, folder)):
        merged = _get_merged_dataset([name], model_args, data_args, training_args, stage="sft", return_dict=True)[name]
        rows = []
        for example in merged:
            images = example.get("_images") or []
            sizes = []
            for path in images:
                assert os.path.isabs(path) and os.path.isfile(path), f"{name}: image {path} was not found under {folder}"
                with Image.open(path) as image:
                    image.load()
                    sizes.append([image.size[0], image.size[1], image.mode])
            messages = example["_prompt"] + example["_response"]
            try:
                plugin._validate_messages(messages, images, example.get("_videos") or [], example.get("_audios") or [])
            except ValueError as error:
                rejected.append(f"{name}: {error}"[:400])
            text = " ".join(m["content"] for m in messages)
            rows.append({"prompt_roles": [m["role"] for m in example["_prompt"]],
                         "response_roles": [m["role"] for m in example["_response"]],
                         "image_tags": text.count("<image>"), "images": images, "sizes": sizes,
                         "response": example["_response"][0]["content"] if example["_response"] else None})
        out[name] = {"formatting": attr.formatting, "rows": rows}
    print(json.dumps(out))
    if rejected:
        print(f"LLaMA-Factory rejects {len(rejected)} row(s):", *rejected[:5], sep="\n", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
