"""Reading images: every Pillow mode to (H, W, 3) uint8 RGB, and a clear error for the rest."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from perception.errors import PerceptionError
from perception.vision.draw import read_image

MAX_IMAGE_PIXELS = Image.MAX_IMAGE_PIXELS  # the bound read_image keeps (Pillow's)


def test_an_image_over_the_pixel_bound_is_refused_before_decoding(tmp_path):
    side = int(MAX_IMAGE_PIXELS**0.5) + 64  # just over the bound: Pillow would only warn
    path = tmp_path / "bomb.png"
    Image.new("1", (side, side)).save(path)
    with pytest.raises(PerceptionError, match=f"{side}x{side} pixels; expected 1 to"):
        read_image(path)
    huge = tmp_path / "huge.png"  # over twice the bound: Pillow's own DecompressionBombError
    Image.new("1", (3 * side, side)).save(huge)
    with pytest.raises(PerceptionError, match="pixels"):
        read_image(huge)


def test_sixteen_bit_images_are_scaled_not_clipped(tmp_path):
    ramp = np.tile(np.linspace(0, 65535, 64).astype(np.uint16), (8, 1))  # (8, 64)
    path = tmp_path / "ramp16.png"
    Image.fromarray(ramp).save(path)
    rgb = read_image(path)
    assert rgb.shape == (8, 64, 3) and rgb.dtype == np.uint8
    np.testing.assert_allclose(rgb[0, :, 0], ramp[0] / 257, atol=1)


@pytest.mark.parametrize("mode", ["L", "LA", "P", "RGBA", "CMYK", "I", "F", "1"])
def test_every_common_mode_becomes_rgb(tmp_path, mode):
    path = tmp_path / f"img.{'tif' if mode in ('CMYK', 'I', 'F', 'LA') else 'png'}"
    Image.new(mode, (5, 3)).save(path)
    rgb = read_image(path)
    assert rgb.shape == (3, 5, 3) and rgb.dtype == np.uint8


def test_broken_and_missing_files_are_one_line_errors(tmp_path):
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8\xff\xe0" + b"\x00" * 100)
    for path in (broken, tmp_path / "missing.png"):
        with pytest.raises(PerceptionError, match="not a readable image") as info:
            read_image(path)
        assert "\n" not in str(info.value)
