"""A source stored sideways with an EXIF orientation tag is seen upright everywhere the trainer opens images."""

from __future__ import annotations

import io
import os

import pytest

from dataset import ImageRef, Sample
from render import Renderer

RED, BLUE = (220, 20, 20), (20, 20, 220)


def upright_image():
    """40 wide, 80 tall: red on top, blue below."""
    from PIL import Image

    im = Image.new("RGB", (40, 80), BLUE)
    im.paste(Image.new("RGB", (40, 40), RED), (0, 0))
    return im


def sideways_jpeg() -> bytes:
    """The upright image stored turned a quarter left (80 x 40), tagged Orientation 6: "turn 90° clockwise to
    display", the way a phone writes a portrait photo."""
    from PIL import Image

    stored = upright_image().transpose(Image.Transpose.ROTATE_90)
    assert stored.size == (80, 40)
    exif = Image.Exif()
    exif[0x0112] = 6
    buf = io.BytesIO()
    stored.save(buf, format="JPEG", quality=95, exif=exif.tobytes())
    return buf.getvalue()


def assert_upright(im):
    assert im.size == (40, 80), im.size
    top, bottom = im.getpixel((20, 10)), im.getpixel((20, 70))
    assert top[0] > 150 and top[2] < 100, top  # red on top
    assert bottom[2] > 150 and bottom[0] < 100, bottom  # blue below


def test_the_fixture_really_is_stored_sideways():
    from PIL import Image

    im = Image.open(io.BytesIO(sideways_jpeg()))
    assert im.size == (80, 40) and im.getexif().get(0x0112) == 6


def test_open_upright_applies_the_orientation_tag():
    from images import open_upright

    assert_upright(open_upright(sideways_jpeg()))


def rotated_sample(tmp_path) -> Sample:
    data = sideways_jpeg()
    path = tmp_path / "rotated.jpg"
    path.write_bytes(data)
    return Sample(id="rot", kind="caption", image=ImageRef(str(path), 0, len(data), "rotated.jpg"),
                  messages=[{"role": "user", "content": "What is shown?"}, {"role": "assistant", "content": "A gat."}])


def test_renderer_feeds_a_rotated_source_upright_to_llava_next(tiny_llava, tmp_path):
    from family import detect
    from hfcompat import load_processor

    f = Renderer(load_processor(tiny_llava), family=detect(tiny_llava)).render(rotated_sample(tmp_path))
    assert f.image_sizes.tolist() == [[80, 40]]  # (height, width) of the upright image
    # The overview tile (resized, padded to square) has the red half on top.
    overview = f.pixel_values[0, 0]
    h = overview.shape[1]
    assert overview[0, h // 4, h // 2] > overview[2, h // 4, h // 2]  # red channel wins in the top half
    assert overview[2, 3 * h // 4, h // 2] > overview[0, 3 * h // 4, h // 2]  # blue wins in the bottom half


def test_renderer_feeds_a_rotated_source_upright_to_qwen2_vl(tiny_model, tmp_path):
    from family import detect
    from hfcompat import load_processor

    f = Renderer(load_processor(tiny_model), family=detect(tiny_model)).render(rotated_sample(tmp_path))
    _, grid_h, grid_w = f.image_grid_thw[0].tolist()
    assert grid_h > grid_w, (grid_h, grid_w)  # taller than wide, as the upright image


def test_eval_opens_question_images_upright(tmp_path):
    from eval_mcq import load_image

    (tmp_path / "rotated.jpg").write_bytes(sideways_jpeg())
    im, why = load_image({"image_path": "rotated.jpg"}, str(tmp_path), str(tmp_path))
    assert why is None
    assert_upright(im)


def test_shard_fixture_writes_rotated_sources_upright(tmp_path):
    import make_shards

    (tmp_path / "rotated.jpg").write_bytes(sideways_jpeg())
    data, w, h = make_shards.small_jpeg(str(tmp_path / "rotated.jpg"), 80)
    from PIL import Image

    im = Image.open(io.BytesIO(data))
    assert (w, h) == (40, 80) and im.getexif().get(0x0112) is None
    assert_upright(im.convert("RGB"))


def test_undecodable_image_is_a_clear_error_naming_the_sample(tiny_llava, tmp_path):
    from family import detect
    from hfcompat import load_processor
    from protocol import UserError

    path = tmp_path / "broken.jpg"
    path.write_bytes(b"\xff\xd8 not really a jpeg")
    s = Sample(id="broken-1", kind="caption", image=ImageRef(str(path), 0, os.path.getsize(path), "broken.jpg"),
               messages=[{"role": "user", "content": "?"}, {"role": "assistant", "content": "x"}])
    with pytest.raises(UserError, match=r"sample broken-1: its image broken.jpg cannot be decoded"):
        Renderer(load_processor(tiny_llava), family=detect(tiny_llava)).render(s)
