"""Camera messages to RGB arrays: every Image encoding we accept, and CompressedImage."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from perception.bag.types import writer_typestore
from perception.ros.convert import FrameError
from perception.ros.images import compressed_to_rgb, image_to_rgb

STORE = writer_typestore()
RNG = np.random.default_rng(0)
RGB = RNG.integers(0, 255, (6, 8, 3), dtype=np.uint8)


def _header():
    Header, Time = (STORE.types[t] for t in ("std_msgs/msg/Header", "builtin_interfaces/msg/Time"))
    return Header(stamp=Time(sec=1, nanosec=5), frame_id="cam")


def _image(encoding: str, pixels: np.ndarray, step_pad: int = 0, bigendian: bool = False):
    """An Image whose rows are ``pixels`` (H, W, C) as bytes, each row padded by step_pad."""
    h = pixels.shape[0]
    if pixels.dtype == np.uint16:
        pixels = pixels.astype(">u2" if bigendian else "<u2")
    row = np.ascontiguousarray(pixels).view(np.uint8).reshape(h, -1)
    rows = np.zeros((h, row.shape[1] + step_pad), np.uint8)
    rows[:, : row.shape[1]] = row
    return STORE.types["sensor_msgs/msg/Image"](
        header=_header(),
        height=h,
        width=pixels.shape[1],
        encoding=encoding,
        is_bigendian=int(bigendian),
        step=rows.shape[1],
        data=rows.reshape(-1),
    )


def _compressed(fmt: str, data: bytes):
    return STORE.types["sensor_msgs/msg/CompressedImage"](
        header=_header(), format=fmt, data=np.frombuffer(data, np.uint8)
    )


ALPHA = np.full(RGB.shape[:2] + (1,), 255, np.uint8)


@pytest.mark.parametrize(
    "encoding, pixels",
    [
        ("rgb8", RGB),
        ("bgr8", RGB[:, :, ::-1]),
        ("rgba8", np.dstack([RGB, ALPHA])),
        ("bgra8", np.dstack([RGB[:, :, ::-1], ALPHA])),
        ("8UC3", RGB[:, :, ::-1]),
    ],
)
def test_colour_encodings_give_rgb(encoding, pixels):
    out = image_to_rgb(_image(encoding, pixels, step_pad=3))
    assert out.shape == RGB.shape and out.dtype == np.uint8
    np.testing.assert_array_equal(out, RGB)


@pytest.mark.parametrize("bigendian", [False, True])
def test_sixteen_bit_encodings_keep_the_high_byte(bigendian):
    wide = RGB.astype(np.uint16) * 256 + 77  # low byte 77 must be dropped
    for encoding, pixels in (("rgb16", wide), ("bgr16", wide[:, :, ::-1])):
        out = image_to_rgb(_image(encoding, pixels, step_pad=2, bigendian=bigendian))
        np.testing.assert_array_equal(out, RGB)
    mono = image_to_rgb(_image("mono16", wide[:, :, :1], bigendian=bigendian))
    np.testing.assert_array_equal(mono, np.repeat(RGB[:, :, :1], 3, axis=2))


def test_mono8_is_replicated():
    out = image_to_rgb(_image("mono8", RGB[:, :, :1]))
    np.testing.assert_array_equal(out, np.repeat(RGB[:, :, :1], 3, axis=2))


def test_yuv422_byte_orders():
    """Grey ramp, chroma neutral: UYVY (ROS's yuv422) and YUYV give the luma in pixel order."""
    luma = np.tile(np.array([40, 90, 140, 190], np.uint8), (2, 1))  # (2, 4)
    chroma = np.full_like(luma, 128)
    uyvy = np.stack([chroma, luma], axis=2)  # U Y V Y: chroma byte first in each pixel
    yuyv = np.stack([luma, chroma], axis=2)
    for encoding, pixels in (("yuv422", uyvy), ("uyvy", uyvy), ("yuv422_yuy2", yuyv)):
        out = image_to_rgb(_image(encoding, pixels)).astype(int)
        expected = np.repeat(((luma.astype(int) - 16) * 255 / 219)[:, :, None], 3, axis=2)
        assert np.abs(out - expected).max() <= 2, (encoding, out[0, :, 0])


def _mosaic(pattern: str, rgb: np.ndarray) -> np.ndarray:
    """A Bayer mosaic in ROS's naming: the pattern's letters fill the top-left 2x2 cell."""
    out = np.zeros(rgb.shape[:2], rgb.dtype)
    for i, colour in enumerate(pattern):
        dy, dx = divmod(i, 2)
        out[dy::2, dx::2] = rgb[dy::2, dx::2, "rgb".index(colour)]
    return out


@pytest.mark.parametrize("pattern", ["rggb", "bggr", "gbrg", "grbg"])
def test_bayer_patterns_demosaic_to_the_right_colour(pattern):
    flat = np.empty((8, 8, 3), np.uint8)
    flat[:] = (200, 100, 50)
    out = image_to_rgb(_image(f"bayer_{pattern}8", _mosaic(pattern, flat)[:, :, None]))
    assert tuple(out[4, 4]) == (200, 100, 50)
    wide = _mosaic(pattern, flat.astype(np.uint16) * 256)[:, :, None]
    out16 = image_to_rgb(_image(f"bayer_{pattern}16", wide))
    assert tuple(out16[4, 4]) == (200, 100, 50)


@pytest.mark.parametrize("encoding", ["16UC1", "32FC1", "nv21"])
def test_depth_float_and_unknown_encodings_are_errors(encoding):
    msg = _image("rgb8", RGB)
    msg.encoding = encoding
    with pytest.raises(FrameError, match="not supported"):
        image_to_rgb(msg)


def test_corrupt_frame_is_an_error():
    short = _image("rgb8", RGB)
    short.data = short.data[:-7]
    with pytest.raises(FrameError, match="corrupt image"):
        image_to_rgb(short)
    narrow = _image("yuv422", RGB[:, :, :2])
    narrow.step = 10  # less than 8 px * 2 bytes
    with pytest.raises(FrameError, match="step >= 16"):
        image_to_rgb(narrow)


def _encode(ext: str, pixels: np.ndarray) -> bytes:
    ok, buf = cv2.imencode(ext, pixels)
    assert ok
    return buf.tobytes()


def test_compressed_jpeg_as_image_transport_writes_it():
    smooth = cv2.resize(RGB, (64, 48), interpolation=cv2.INTER_LINEAR)  # JPEG-friendly
    msg = _compressed("rgb8; jpeg compressed bgr8", _encode(".jpg", smooth[:, :, ::-1]))
    out = compressed_to_rgb(msg)
    assert out.shape == smooth.shape
    assert np.abs(out.astype(int) - smooth).mean() < 4  # lossy, but the channels are in order
    swapped = np.abs(out.astype(int) - smooth[:, :, ::-1]).mean()
    assert swapped > 10


@pytest.mark.parametrize(
    "fmt, stored",
    [("png", "bgr"), ("bgr8; png compressed bgr8", "bgr"), ("rgb8; png compressed rgb8", "rgb")],
)
def test_compressed_png_channel_order_follows_the_format(fmt, stored):
    pixels = RGB[:, :, ::-1] if stored == "bgr" else RGB
    out = compressed_to_rgb(_compressed(fmt, _encode(".png", pixels)))
    np.testing.assert_array_equal(out, RGB)


def test_compressed_mono_and_sixteen_bit_png():
    grey = RGB[:, :, 0]
    out = compressed_to_rgb(_compressed("mono8; png compressed mono8", _encode(".png", grey)))
    np.testing.assert_array_equal(out, np.repeat(grey[:, :, None], 3, axis=2))
    wide = grey.astype(np.uint16) * 256 + 5
    out16 = compressed_to_rgb(_compressed("mono16; png compressed mono16", _encode(".png", wide)))
    np.testing.assert_array_equal(out16, np.repeat(grey[:, :, None], 3, axis=2))


def test_compressed_depth_garbage_and_empty_are_errors():
    depth = _compressed("16UC1; compressedDepth png", _encode(".png", RGB[:, :, 0]))
    with pytest.raises(FrameError, match="depth stream"):
        compressed_to_rgb(depth)
    with pytest.raises(FrameError, match="cannot decode compressed image"):
        compressed_to_rgb(_compressed("jpeg", b"\xff\xd8 not really a jpeg"))
    with pytest.raises(FrameError, match="0 bytes"):
        compressed_to_rgb(_compressed("jpeg", b""))
