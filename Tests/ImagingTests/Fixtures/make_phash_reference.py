#!/usr/bin/env python3
"""Reference values for ImagingTests, computed with Pillow + imagehash.

Writes phash_reference.json: for every image in the K-Viscuit image folder,
  imagehash.phash(Image.open(path))       (no EXIF transpose, exactly as imagehash is normally called)
  Image.open(path).size / .format
  ImageOps.exif_transpose(Image.open(path)).size
Pinned: Pillow==11.3.0 imagehash==4.3.2 numpy==2.2.6 scipy==1.15.3

Usage: make_phash_reference.py [IMAGE_DIR] [OUT_JSON]
"""
import json
import os
import sys

import imagehash
import PIL
from PIL import Image, ImageOps

here = os.path.dirname(os.path.abspath(__file__))
image_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "../../../../shared/data/k-viscuit/images")
out_path = sys.argv[2] if len(sys.argv) > 2 else os.path.join(here, "phash_reference.json")

entries = []
for name in sorted(os.listdir(image_dir)):
    path = os.path.join(image_dir, name)
    with Image.open(path) as im:
        fmt, size, mode = im.format, im.size, im.mode
        h = str(imagehash.phash(im))
    with Image.open(path) as im:
        display = ImageOps.exif_transpose(im).size
    entries.append({"file": name, "format": fmt, "mode": mode, "width": size[0], "height": size[1],
                    "display_width": display[0], "display_height": display[1], "phash": h})

json.dump({"generator": "make_phash_reference.py", "pillow": PIL.__version__, "imagehash": "4.3.2",
           "images": entries}, open(out_path, "w"), indent=1)
print(f"wrote {len(entries)} entries to {out_path}")
