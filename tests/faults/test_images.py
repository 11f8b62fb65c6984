"""Bad images: damaged, truncated, empty, tiny, huge and unusual-mode files at the reader and the
``detect`` command, arrays without pixels at the detector's resize, and camera messages at the
ROS converters (with property-based tests of the converters)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from perception.errors import PerceptionError
from perception.ros.convert import FrameError
from perception.ros.images import ENCODINGS, compressed_to_rgb, image_to_rgb
from perception.vision import ppocr
from perception.vision.draw import read_image
from perception.vision.types import ImageError, TextRegion

pytestmark = pytest.mark.faults

DATA = Path(__file__).parent / "data"
RNG = np.random.default_rng(0)
PHOTO = RNG.integers(0, 255, (48, 64, 3), dtype=np.uint8)


def _encoded(fmt: str) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(PHOTO).save(buffer, format=fmt)
    return buffer.getvalue()


def _files() -> dict[str, tuple[bytes, str]]:
    """name -> (file bytes, expected outcome)."""
    png, jpeg = _encoded("PNG"), _encoded("JPEG")
    return {
        "mmocr broken.jpg": ((DATA / "mmocr_broken.jpg").read_bytes(), "refused"),
        "empty file": (b"", "refused"),
        "text file": (b"hello, not an image\n" * 10, "refused"),
        "png cut to 8 bytes": (png[:8], "refused"),
        "png cut to 33 bytes": (png[:33], "refused"),
        "png cut to 50%": (png[: len(png) // 2], "refused"),
        "png cut before IEND": (png[:-12], "used"),  # every pixel is there
        "jpeg cut to 2 bytes": (jpeg[:2], "refused"),
        "jpeg cut to 50%": (jpeg[: len(jpeg) // 2], "refused"),
        "jpeg header then noise": (jpeg[:200] + RNG.bytes(2000), "refused"),
    }


@pytest.mark.parametrize("name", list(_files()))
def test_damaged_image_files_are_refused_in_one_line(tmp_path, ledger, name):
    data, outcome = _files()[name]
    path = tmp_path / "image.bin"
    path.write_bytes(data)
    if outcome == "refused":
        with pytest.raises(ImageError) as info:
            read_image(path)
        assert str(path) in str(info.value) and "\n" not in str(info.value)
    else:
        assert read_image(path).shape == PHOTO.shape
    ledger.tried("image file (damaged)", outcome)


def _odd_image(kind: str) -> tuple[Image.Image, str, tuple[int, ...]]:
    """kind -> (Pillow image, file format, expected (H, W, 3) shape)."""
    rgb = Image.fromarray(PHOTO)
    return {
        "1x1": (Image.new("RGB", (1, 1), (9, 9, 9)), "PNG", (1, 1, 3)),
        "8000x8000": (Image.new("L", (8000, 8000)), "PNG", (8000, 8000, 3)),
        "16-bit grey": (Image.fromarray(np.full((48, 64), 40000, np.uint16)), "PNG", (48, 64, 3)),
        "grey": (rgb.convert("L"), "PNG", (48, 64, 3)),
        "grey + alpha": (rgb.convert("LA"), "PNG", (48, 64, 3)),
        "palette": (rgb.convert("P"), "PNG", (48, 64, 3)),
        "rgba": (rgb.convert("RGBA"), "PNG", (48, 64, 3)),
        "cmyk jpeg": (rgb.convert("CMYK"), "JPEG", (48, 64, 3)),
        "1-bit": (rgb.convert("1"), "PNG", (48, 64, 3)),
        "gif": (rgb.convert("P"), "GIF", (48, 64, 3)),
    }[kind]


ODD = ["1x1", "8000x8000", "16-bit grey", "grey", "grey + alpha", "palette", "rgba"]
ODD += ["cmyk jpeg", "1-bit", "gif"]


@pytest.mark.parametrize("kind", ODD)
def test_odd_but_valid_images_become_rgb8(tmp_path, ledger, kind):
    image, fmt, shape = _odd_image(kind)
    path = tmp_path / f"odd.{fmt.lower()}"
    image.save(path, format=fmt)
    rgb = read_image(path)
    assert rgb.shape == shape and rgb.dtype == np.uint8
    if kind == "16-bit grey":
        assert int(rgb[0, 0, 0]) == round(40000 / 257)  # scaled, not clipped to 255
    ledger.tried("image file (odd)", "used")


@pytest.mark.parametrize("side", [9500, 20000])  # over Pillow's bound; over twice the bound
def test_decompression_bombs_are_refused_before_decoding(tmp_path, ledger, side):
    path = tmp_path / "bomb.png"
    Image.new("1", (side, side)).save(path)
    with pytest.raises(ImageError, match="pixels"):
        read_image(path)
    ledger.tried("image file (bomb)", "refused")


@pytest.mark.parametrize("shape", [(0, 0, 3), (0, 64, 3), (64, 0, 3)])
def test_arrays_without_pixels_are_refused_at_the_resize(ledger, shape):
    with pytest.raises(ImageError, match="expected an image with pixels"):
        ppocr.prepare(np.zeros(shape, np.uint8))
    ledger.tried("image array (no pixels)", "refused")


class OneBoxDetector:
    """Test stand-in (not a model): one fixed box per image, shape checked."""

    def detect(self, image: np.ndarray) -> list[TextRegion]:
        assert image.ndim == 3 and image.shape[2] == 3 and image.dtype == np.uint8
        return [TextRegion(((0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0)), 0.9, "en")]


def test_detect_counts_each_bad_image_and_reads_the_rest(tmp_path, monkeypatch, ledger, capsys):
    from perception.cli import detect_cmd, main

    monkeypatch.setattr(detect_cmd, "load_detector", lambda options: OneBoxDetector())
    bad = []
    for i, (data, outcome) in enumerate(_files().values()):
        if outcome == "refused":
            bad.append(tmp_path / f"bad{i}.jpg")
            bad[-1].write_bytes(data)
    Image.new("1", (20000, 20000)).save(tmp_path / "bomb.png")
    bad += [tmp_path / "bomb.png", tmp_path / "missing.png"]
    good = tmp_path / "good.png"
    Image.fromarray(PHOTO).save(good)
    files = [bad[0], good, *bad[1:]]
    code = main(["detect", *map(str, files), "--json", "--draw", str(tmp_path / "drawn")])
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert code == 1 and [r["path"] for r in records] == [str(f) for f in files]
    assert sum("error" in r for r in records) == len(bad)
    assert records[1]["regions"] and (tmp_path / "drawn" / "good.png").is_file()
    for _ in bad:
        ledger.tried("detect command", "counted")


def _image_msg(height: int, width: int, encoding: str, step: int, data: bytes):
    from types import SimpleNamespace

    return SimpleNamespace(
        height=height, width=width, encoding=encoding, step=step, data=data, is_bigendian=0
    )


BAD_FRAMES = {
    "0x0 rgb8": _image_msg(0, 0, "rgb8", 0, b""),
    "1x1 rgb8 no data": _image_msg(1, 1, "rgb8", 3, b""),
    "32FC1 depth": _image_msg(2, 2, "32FC1", 8, bytes(16)),
    "step below a row": _image_msg(2, 2, "rgb8", 3, bytes(12)),
    "yuv422 odd width": _image_msg(2, 3, "yuv422", 6, bytes(12)),
    "yuyv odd width": _image_msg(1, 5, "yuyv", 10, bytes(10)),
}


@pytest.mark.parametrize("case", list(BAD_FRAMES))
def test_bad_camera_frames_are_frame_errors(ledger, case):
    with pytest.raises(FrameError) as info:
        image_to_rgb(BAD_FRAMES[case])
    assert "\n" not in str(info.value)
    ledger.tried("camera message (ROS)", "refused")


@pytest.mark.parametrize("data", [b"", b"\xff\xd8\xff", _encoded("PNG")[:40], RNG.bytes(500)])
def test_undecodable_compressed_frames_are_frame_errors(ledger, data):
    from types import SimpleNamespace

    with pytest.raises(FrameError, match="cannot decode compressed image"):
        compressed_to_rgb(SimpleNamespace(format="jpeg", data=data))
    ledger.tried("camera message (ROS)", "refused")


FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(
    height=st.integers(0, 6),
    width=st.integers(0, 6),
    encoding=st.sampled_from([*ENCODINGS, "32FC1", "16UC1", "", "RGB8", "jpeg"]),
    extra_step=st.integers(-4, 4),
    data=st.binary(max_size=400),
)
def test_image_converter_returns_rgb8_or_a_frame_error(height, width, encoding, extra_step, data):
    layout = ENCODINGS.get(encoding.lower())
    row = width * (layout.channels * layout.bits // 8 if layout else 3)
    msg = _image_msg(height, width, encoding, max(0, row + extra_step), data)
    try:
        rgb = image_to_rgb(msg)
    except FrameError as exc:
        assert "\n" not in str(exc)
        return
    assert rgb.shape == (height, width, 3) and rgb.dtype == np.uint8


@FAST
@given(data=st.binary(max_size=300), fmt=st.sampled_from(["jpeg", "png", "rgb8; jpeg", "x"]))
def test_compressed_converter_returns_rgb8_or_a_frame_error(data, fmt):
    from types import SimpleNamespace

    try:
        rgb = compressed_to_rgb(SimpleNamespace(format=fmt, data=data))
    except FrameError:
        return
    assert rgb.ndim == 3 and rgb.shape[2] == 3 and rgb.dtype == np.uint8


@FAST
@given(
    png=st.sampled_from([_encoded("PNG"), cv2.imencode(".png", PHOTO)[1].tobytes()]),
    cut=st.integers(0, 400),
    flip=st.integers(0, 399),
)
def test_damaged_png_bytes_decode_or_are_refused(tmp_path_factory, png, cut, flip):
    data = bytearray(png[: max(cut, 1) * len(png) // 400])
    if data:
        data[flip % len(data)] ^= 0x55
    path = tmp_path_factory.mktemp("png") / "x.png"
    path.write_bytes(bytes(data))
    try:
        rgb = read_image(path)
    except PerceptionError as exc:
        assert "\n" not in str(exc)
        return
    assert rgb.ndim == 3 and rgb.shape[2] == 3
