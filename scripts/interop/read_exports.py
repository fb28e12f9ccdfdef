#!/usr/bin/env python3
"""Reads dsbuild's evaluation exports the way their tools do, and prints what came back as JSON.

  read_exports.py vlmevalkit DIR   DIR/dsbuild_mcq.tsv (and _text.tsv) read with pandas.read_csv(sep="\\t") as
                                   VLMEvalKit's `load` does; image cells resolved as its ImageBaseDataset does (a cell
                                   of at most 64 characters is another row's index) and decoded as its
                                   decode_base64_to_image does (RGBA/P/LA converted to RGB).
  read_exports.py lmms-eval DIR    DIR/dsbuild_mcq.yaml parsed with lmms-eval's `!function module.name` tag (the
                                   function imported from DIR/module.py), the data loaded with datasets.load_dataset
                                   (dataset_path, **dataset_kwargs) split test_split, and every doc passed through
                                   doc_to_visual, doc_to_text, doc_to_target and process_results.

Each row or doc is printed as {id, answer, letters, image: [w, h, mode] | null, ...}; a broken contract exits 1.
"""
import base64
import importlib.util
import io
import json
import os
import string
import sys

import pandas as pd
from PIL import Image


def vlmevalkit(folder):
    out = {"image_rows": [], "text_rows": []}
    for name, key in (("dsbuild_mcq.tsv", "image_rows"), ("dsbuild_mcq_text.tsv", "text_rows")):
        path = os.path.join(folder, name)
        if not os.path.exists(path):
            continue
        data = pd.read_csv(path, sep="\t")
        for column in ("index", "question", "A", "B", "answer", "category"):
            assert column in data, f"{name}: no {column} column"
        if key == "image_rows":
            assert "image" in data, f"{name}: no image column"
            assert not data["image"].isna().any(), f"{name}: a row without an image would be dropped by VLMEvalKit"
        else:
            assert "image" not in data and "image_path" not in data, f"{name}: a text file must have no image column"
        data["index"] = [str(x) for x in data["index"]]
        images = {}
        if "image" in data:
            data["image"] = [str(x) for x in data["image"]]
            image_map = dict(zip(data["index"], data["image"]))
            for k in image_map:
                if len(image_map[k]) <= 64:
                    ref = image_map[k]
                    assert ref in image_map and len(image_map[ref]) > 64, f"{name}: row {k} names {ref}, which holds no image"
                    image_map[k] = image_map[ref]
            images = image_map
        for _, line in data.iterrows():
            letters = [c for c in string.ascii_uppercase if c in line and not pd.isna(line[c])]
            answer = line["answer"]
            assert answer in letters, f"{name}: row {line['index']} answer {answer} is not one of {letters}"
            row = {"index": line["index"], "id": line.get("id"), "question": line["question"], "answer": answer,
                   "options": [str(line[c]) for c in letters], "category": line["category"],
                   "l2": line.get("l2-category"), "image": None}
            if images:
                image = Image.open(io.BytesIO(base64.b64decode(images[line["index"]])))
                original_mode = image.mode
                if image.mode in ("RGBA", "P", "LA"):
                    image = image.convert("RGB")
                row["image"] = [image.size[0], image.size[1], original_mode]
            out[key].append(row)
    return out


def lmms_eval(folder):
    import yaml
    from datasets import load_dataset

    class Loader(yaml.SafeLoader):
        pass

    def function(loader, node):
        module_name, _, attr = loader.construct_scalar(node).rpartition(".")
        spec = importlib.util.spec_from_file_location(module_name, os.path.join(folder, module_name + ".py"))
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return getattr(module, attr)

    Loader.add_constructor("!function", function)
    with open(os.path.join(folder, "dsbuild_mcq.yaml"), encoding="utf-8") as f:
        config = yaml.load(f, Loader=Loader)
    for key in ("task", "dataset_path", "doc_to_visual", "doc_to_text", "doc_to_target", "metric_list", "test_split"):
        assert key in config, f"the task YAML has no {key}"
    dataset = load_dataset(config["dataset_path"], **config.get("dataset_kwargs", {}))[config["test_split"]]
    kwargs = config.get("lmms_eval_specific_kwargs", {}).get("default", {})
    docs = []
    for doc in dataset:
        visuals = config["doc_to_visual"](doc)
        target = config["doc_to_target"](doc)
        text = config["doc_to_text"](doc, kwargs)
        right = config["process_results"](doc, [target])
        wrong_letter = next(l for l in "ABCDEFGH"[:len(doc["options"])] if l != target)
        wrong = config["process_results"](doc, [f"{wrong_letter}."])
        docs.append({"id": doc["id_"], "answer": doc["answer"], "target": target, "text": text,
                     "image": [visuals[0].size[0], visuals[0].size[1], visuals[0].mode] if visuals else None,
                     "visuals": len(visuals), "right": right, "wrong": wrong})
    return {"task": config["task"], "metrics": [m["metric"] for m in config["metric_list"]], "docs": docs}


def main():
    kind, folder = sys.argv[1], sys.argv[2]
    result = vlmevalkit(folder) if kind == "vlmevalkit" else lmms_eval(folder)
    print(json.dumps(result, default=str))


if __name__ == "__main__":
    main()
