"""Build a small, real dsbuild shard folder (docs/shard-format.md) from the K-Viscuit data.

    python trainer/tests/make_shards.py OUT [--kviscuit DIR] [--images N] [--image-size PX] [--gzip]

For each of the first N K-Viscuit images that exist on disk, the keyword is the answer of its Type 1 question.
Text records (no pixels): a `description` built from the image's questions and answers, and one `qa` per
question in the K-Viscuit prompt convention. Paired samples (image + text): a `caption`, a `description` and a
Type 1 `qa`. Images are resized so their long side is PX (small, for fast CPU steps) and stored as JPEG.
Also writes OUT/eval/questions.jsonl and OUT/eval/images/ for eval_mcq.py. Prints OUT/shards.json.

Usable as a fixture by other test suites: it needs only Pillow and the standard library.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import json
import os
import sys
import tarfile

DEFAULT_KVISCUIT = os.environ.get("DSBUILD_KVISCUIT") or os.path.normpath(
    os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "shared", "data", "k-viscuit")
)
# The prompt as dsbuild asks it, from the spec dsbuild writes (trainer/mcq_prompt.json), as eval_mcq.py reads it.
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "mcq_prompt.json"), encoding="utf-8") as _f:
    PROMPT_SPEC = json.load(_f)
LETTERS = "".join(PROMPT_SPEC["letters"])


def mcq_prompt(question: str, options: list[str]) -> str:
    lines = ([question] + [f"{LETTERS[i]}{PROMPT_SPEC['option_separator']}{o}" for i, o in enumerate(options)]
             + [PROMPT_SPEC["instruction"]])
    return PROMPT_SPEC["line_separator"].join(lines)


def read_annotations(root: str) -> list[dict]:
    with open(os.path.join(root, "annotations.jsonl"), encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def pick_groups(annotations: list[dict], root: str, n_images: int) -> list[list[dict]]:
    groups: dict[str, list[dict]] = {}
    for a in annotations:
        groups.setdefault(a["image_path"], []).append(a)
    picked = []
    for name, qs in groups.items():
        if not os.path.isfile(os.path.join(root, "images", name)):
            continue
        if not any(q["question_type"] == 1 for q in qs):
            continue
        picked.append(qs)
        if len(picked) == n_images:
            break
    return picked


def small_jpeg(path: str, size: int) -> tuple[bytes, int, int]:
    from PIL import Image, ImageOps

    with Image.open(path) as src:
        im = ImageOps.exif_transpose(src).convert("RGB")  # upright: the re-encoded JPEG keeps no orientation tag
        im.thumbnail((size, size))
        buf = io.BytesIO()
        im.save(buf, format="JPEG", quality=85)
        return buf.getvalue(), im.width, im.height


def short_hash(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:16]


def provenance(q: dict) -> dict:
    return {"model": "k-viscuit-annotations", "template_sha256": "0" * 64, "mode": "image-grounded",
            "source": "commons", "license": "CC BY 4.0", "author": "K-Viscuit (Baek et al.)",
            "page_url": q.get("image_url", "")}


def build_records(groups: list[list[dict]]):
    text, paired = [], []
    for qs in groups:
        t1 = next(q for q in qs if q["question_type"] == 1)
        keyword = t1["options"][t1["answer"]]
        category = t1["category"]
        facts = [f"{q['question']} {q['options'][q['answer']]}." for q in qs if q["question_type"] == 2]
        description = f"{keyword} is part of Korean {category.lower()}. " + " ".join(facts)
        common = {"keyword": keyword, "category": category, "language": "en"}
        text.append({
            "id": "t-" + short_hash("description", t1["id_"]), "kind": "description", "aspect": "cultural",
            **common, "text": description,
            "messages": [{"role": "user", "content": f"Describe {keyword}."},
                         {"role": "assistant", "content": description}],
            "provenance": {**provenance(t1), "mode": "text-only"},
        })
        for q in qs:
            text.append({
                "id": "t-" + short_hash("qa", q["id_"]), "kind": "qa", "aspect": "cultural", **common,
                "text": q["options"][q["answer"]],
                "messages": [{"role": "user", "content": mcq_prompt(q["question"], q["options"])},
                             {"role": "assistant", "content": LETTERS[q["answer"]]}],
                "provenance": {**provenance(q), "mode": "text-only"},
            })
        for kind, user, answer in (
            ("caption", "What is shown in this image?", f"This image shows {keyword}."),
            ("description", f"Describe the {keyword} in this image.", description),
            ("qa", mcq_prompt(t1["question"], t1["options"]), LETTERS[t1["answer"]]),
        ):
            paired.append({
                "key": "p-" + short_hash(kind, t1["id_"]), "kind": kind, "aspect": "visual", **common,
                "image_path": t1["image_path"], "text": answer,
                "messages": [{"role": "user", "content": user}, {"role": "assistant", "content": answer}],
                "provenance": provenance(t1),
            })
    return text, paired


def write_tar(path: str, samples: list[dict], root: str, size: int) -> None:
    cache: dict[str, tuple[bytes, int, int]] = {}

    def add(tar: tarfile.TarFile, name: str, data: bytes) -> None:
        info = tarfile.TarInfo(name)
        info.size, info.mtime, info.mode = len(data), 0, 0o644
        tar.addfile(info, io.BytesIO(data))

    with tarfile.open(path, "w", format=tarfile.USTAR_FORMAT) as tar:
        for s in samples:
            name = s["image_path"]
            if name not in cache:
                cache[name] = small_jpeg(os.path.join(root, "images", name), size)
            jpeg, w, h = cache[name]
            meta = {k: v for k, v in s.items() if k not in ("image_path", "text")}
            meta.update({"image_sha256": hashlib.sha256(jpeg).hexdigest(), "width": w, "height": h})
            add(tar, f"{s['key']}.jpg", jpeg)
            add(tar, f"{s['key']}.txt", s["text"].encode())
            add(tar, f"{s['key']}.json", json.dumps(meta, ensure_ascii=False).encode())


def entry(out: str, rel: str, samples: int) -> dict:
    path = os.path.join(out, rel)
    with open(path, "rb") as f:
        data = f.read()
    return {"file": rel, "samples": samples, "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}


def build(out: str, root: str = DEFAULT_KVISCUIT, n_images: int = 4, image_size: int = 96,
          use_gzip: bool = False) -> str:
    annotations = read_annotations(root)
    groups = pick_groups(annotations, root, n_images)
    if not groups:
        raise SystemExit(f"no usable K-Viscuit images under {root}/images")
    text, paired = build_records(groups)
    os.makedirs(os.path.join(out, "text"), exist_ok=True)
    os.makedirs(os.path.join(out, "paired"), exist_ok=True)

    half = (len(text) + 1) // 2
    text_entries = []
    for i, chunk in enumerate((text[:half], text[half:])):
        body = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in chunk).encode()
        rel = f"text/{i:05d}.jsonl" + (".gz" if use_gzip and i == 1 else "")
        with open(os.path.join(out, rel), "wb") as f:
            f.write(gzip.compress(body, mtime=0) if rel.endswith(".gz") else body)
        text_entries.append(entry(out, rel, len(chunk)))

    half = (len(paired) + 1) // 2
    paired_entries = []
    for i, chunk in enumerate((paired[:half], paired[half:])):
        rel = f"paired/{i:05d}.tar"
        write_tar(os.path.join(out, rel), chunk, root, image_size)
        paired_entries.append(entry(out, rel, len(chunk)))

    by_kind: dict[str, int] = {}
    for r in text + paired:
        by_kind[r["kind"]] = by_kind.get(r["kind"], 0) + 1
    shas = sorted(e["sha256"] for e in text_entries + paired_entries)
    index = {
        "format": "dsbuild-shards", "version": 1, "dsbuild_version": "0.1.0",
        "fingerprint": hashlib.sha256("".join(shas).encode()).hexdigest(),
        "recipe": {"name": "k-viscuit-fixture", "images": n_images, "image_size": image_size},
        "split": {"by": "keyword", "test_fraction": 0.0, "seed": 0},
        "novel_keywords": [],
        "text": text_entries, "paired": paired_entries,
        "counts": {"text": len(text), "paired": len(paired), "by_kind": by_kind},
    }
    with open(os.path.join(out, "shards.json"), "w", encoding="utf-8") as f:
        json.dump(index, f, indent=2, ensure_ascii=False)

    eval_dir = os.path.join(out, "eval")
    os.makedirs(os.path.join(eval_dir, "images"), exist_ok=True)
    with open(os.path.join(eval_dir, "questions.jsonl"), "w", encoding="utf-8") as f:
        for qs in groups:
            jpeg, _, _ = small_jpeg(os.path.join(root, "images", qs[0]["image_path"]), image_size)
            with open(os.path.join(eval_dir, "images", qs[0]["image_path"]), "wb") as img:
                img.write(jpeg)
            for q in qs:
                f.write(json.dumps({"id": q["id_"], "question": q["question"], "options": q["options"],
                                    "answer": q["answer"], "question_type": q["question_type"],
                                    "image_path": q["image_path"]}, ensure_ascii=False) + "\n")
    return os.path.join(out, "shards.json")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out")
    parser.add_argument("--kviscuit", default=DEFAULT_KVISCUIT, help="K-Viscuit folder (annotations.jsonl, images/)")
    parser.add_argument("--images", type=int, default=4, help="how many images to use")
    parser.add_argument("--image-size", type=int, default=96, help="long side of the stored images, in pixels")
    parser.add_argument("--gzip", action="store_true", help="write the second text shard as .jsonl.gz")
    args = parser.parse_args(argv)
    print(build(args.out, args.kviscuit, args.images, args.image_size, args.gzip))
    return 0


if __name__ == "__main__":
    sys.exit(main())
