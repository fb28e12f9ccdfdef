#!/usr/bin/env python3
"""Checks OpenAI fine-tuning JSONL files against every rule of OpenAI's fine-tuning guide (chat format, vision).

Usage: check_openai_finetune.py --train FILE [FILE ...] [--validation FILE ...] [--max-file-bytes N]

Rules (each violation is one line on stderr naming the file, line and rule; exit status 1 when any):
  - each line is a JSON object with a non-empty `messages` list and nothing the API rejects
  - roles are system, user or assistant (tool/function not used here); the last message is the assistant's
  - every message has content: a non-empty string, or (user only) a list of parts {type: text, text} and
    {type: image_url, image_url: {url}}; assistant content is a string
  - an image URL is an https URL or a data URL `data:image/{jpeg,png,webp};base64,...` whose bytes decode (Pillow)
    in the format it says, in mode RGB or RGBA, at most 10 MB (10,000,000 bytes, the stricter reading)
  - each file is at most --max-file-bytes (default 512,000,000) and a training file holds at least 10 examples
Prints a JSON summary on stdout: per file, examples, images, image modes, formats, largest image bytes, max side.
"""
import argparse
import base64
import io
import json
import os
import sys

from PIL import Image

MAX_IMAGE_BYTES = 10_000_000
MIN_EXAMPLES = 10
MIMES = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP"}


def check_file(path, kind, max_file_bytes, problems):
    summary = {"file": os.path.basename(path), "kind": kind, "examples": 0, "images": 0, "modes": {}, "formats": {},
               "largest_image_bytes": 0, "max_side": 0, "bytes": os.path.getsize(path)}

    def bad(line, rule):
        problems.append(f"{os.path.basename(path)} line {line}: {rule}")

    if summary["bytes"] > max_file_bytes:
        bad(0, f"file is {summary['bytes']} bytes, more than {max_file_bytes}")
    with open(path, "rb") as f:
        raw = f.read()
    for n, line in enumerate(raw.split(b"\n"), start=1):
        if not line.strip():
            continue
        summary["examples"] += 1
        try:
            obj = json.loads(line)
        except Exception as e:
            bad(n, f"not JSON ({e})")
            continue
        messages = obj.get("messages") if isinstance(obj, dict) else None
        if not isinstance(messages, list) or not messages:
            bad(n, "no messages list")
            continue
        for i, m in enumerate(messages):
            role = m.get("role") if isinstance(m, dict) else None
            if role not in ("system", "user", "assistant"):
                bad(n, f"message {i} has role {role!r}")
                continue
            content = m.get("content")
            if isinstance(content, str):
                if not content.strip():
                    bad(n, f"message {i} ({role}) has empty content")
                continue
            if role != "user" or not isinstance(content, list) or not content:
                bad(n, f"message {i} ({role}) content must be a string" + (" or a list of parts" if role == "user" else ""))
                continue
            for part in content:
                kind_ = part.get("type") if isinstance(part, dict) else None
                if kind_ == "text":
                    if not isinstance(part.get("text"), str) or not part["text"].strip():
                        bad(n, f"message {i} has an empty text part")
                elif kind_ == "image_url":
                    url = (part.get("image_url") or {}).get("url") if isinstance(part.get("image_url"), dict) else None
                    check_image(url, n, summary, bad)
                else:
                    bad(n, f"message {i} has a part of type {kind_!r}")
        if not isinstance(messages[-1], dict) or messages[-1].get("role") != "assistant":
            bad(n, "the last message is not the assistant's")
    if kind == "train" and summary["examples"] < MIN_EXAMPLES:
        bad(0, f"a training file needs at least {MIN_EXAMPLES} examples, has {summary['examples']}")
    return summary


def check_image(url, n, summary, bad):
    if not isinstance(url, str):
        bad(n, "an image_url part has no url")
        return
    summary["images"] += 1
    if url.startswith("https://"):
        return
    if not url.startswith("data:") or ";base64," not in url:
        bad(n, "an image url is neither https nor a base64 data URL")
        return
    mime = url[5:url.index(";base64,")]
    if mime not in MIMES:
        bad(n, f"image type {mime} is not JPEG, PNG or WebP")
        return
    try:
        data = base64.b64decode(url[url.index(";base64,") + 8:], validate=True)
    except Exception as e:
        bad(n, f"image data is not base64 ({e})")
        return
    if len(data) > MAX_IMAGE_BYTES:
        bad(n, f"image is {len(data)} bytes, more than {MAX_IMAGE_BYTES}")
    summary["largest_image_bytes"] = max(summary["largest_image_bytes"], len(data))
    try:
        image = Image.open(io.BytesIO(data))
        image.load()
    except Exception as e:
        bad(n, f"image does not decode ({e})")
        return
    if image.format != MIMES[mime]:
        bad(n, f"image says {mime} but is {image.format}")
    if image.mode not in ("RGB", "RGBA"):
        bad(n, f"image mode is {image.mode}, not RGB or RGBA")
    summary["modes"][image.mode] = summary["modes"].get(image.mode, 0) + 1
    summary["formats"][image.format] = summary["formats"].get(image.format, 0) + 1
    summary["max_side"] = max(summary["max_side"], *image.size)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--train", nargs="+", required=True)
    parser.add_argument("--validation", nargs="*", default=[])
    parser.add_argument("--max-file-bytes", type=int, default=512_000_000)
    args = parser.parse_args()
    problems = []
    files = [check_file(p, "train", args.max_file_bytes, problems) for p in args.train]
    files += [check_file(p, "validation", args.max_file_bytes, problems) for p in args.validation]
    for p in problems:
        print(p, file=sys.stderr)
    print(json.dumps({"files": files, "problems": len(problems)}))
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
