"""Opening an image the trainer will show a model: decoded, turned upright per its EXIF orientation, RGB.

Every place the trainer or the scorer opens an image goes through `open_upright`, so a source that carries an
EXIF orientation tag (a phone photo stored sideways) is seen the way a person sees it, never sideways.
"""

from __future__ import annotations

import io


class ImageDecodeError(ValueError):
    """The bytes are not an image Pillow can decode (or its orientation tag cannot be applied)."""


def open_upright(data: bytes, min_side: int | None = None):
    """A loaded RGB PIL image from encoded bytes, with its EXIF orientation applied.

    With `min_side`, a JPEG is decoded at the smallest DCT scale (1/2 … 1/8) that keeps both sides at least that
    long (Pillow's `draft`): a fraction of the work for a model that shrinks the image anyway."""
    from PIL import Image, ImageOps

    try:
        image = Image.open(io.BytesIO(data))
        if min_side and image.format == "JPEG":
            image.draft("RGB", (min_side, min_side))
        image.load()
        upright = ImageOps.exif_transpose(image)
        return (upright if upright is not None else image).convert("RGB")
    except (OSError, ValueError, SyntaxError, KeyError, TypeError) as e:
        raise ImageDecodeError(str(e) or type(e).__name__) from e
