"""Camera messages to the (H, W, 3) uint8 RGB arrays the text detector takes.

Owns one converter per message type: ``sensor_msgs/Image`` in the encodings cameras publish
(colour and mono in 8 and 16 bits, YUV 4:2:2, Bayer mosaics) and ``sensor_msgs/CompressedImage``
(JPEG or PNG, with the ``format`` string image_transport writes, e.g. "rgb8; jpeg compressed
bgr8"). Readers are duck-typed (rclpy and rosbags messages alike). 16-bit values become 8-bit by
dropping the low byte, as cv_bridge does. Depth and float images are refused: they hold no text
to read. It knows nothing about models or bags.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from perception.ros.convert import FrameError


@dataclass(frozen=True)
class Layout:
    """How one ``sensor_msgs/Image`` encoding lays out a pixel."""

    channels: int  # values per pixel in the buffer
    bits: int  # 8 or 16 per value
    cv_code: int | None = None  # cv2.cvtColor code to RGB; None: plain channels
    bgr: bool = False  # plain channels in B, G, R(, A) order


_BAYER_CODES = {  # ROS names the top-left 2x2 cell; OpenCV names it from the second row on
    "rggb": cv2.COLOR_BayerBG2RGB,
    "bggr": cv2.COLOR_BayerRG2RGB,
    "gbrg": cv2.COLOR_BayerGR2RGB,
    "grbg": cv2.COLOR_BayerGB2RGB,
}
ENCODINGS: dict[str, Layout] = {
    "rgb8": Layout(3, 8),
    "bgr8": Layout(3, 8, bgr=True),
    "rgba8": Layout(4, 8),
    "bgra8": Layout(4, 8, bgr=True),
    "mono8": Layout(1, 8),
    "8uc1": Layout(1, 8),
    "8uc3": Layout(3, 8, bgr=True),  # cv_bridge's reading of an untyped 3-channel image
    "rgb16": Layout(3, 16),
    "bgr16": Layout(3, 16, bgr=True),
    "rgba16": Layout(4, 16),
    "bgra16": Layout(4, 16, bgr=True),
    "mono16": Layout(1, 16),
    "yuv422": Layout(2, 8, cv2.COLOR_YUV2RGB_UYVY),  # ROS's yuv422 is UYVY byte order
    "uyvy": Layout(2, 8, cv2.COLOR_YUV2RGB_UYVY),
    "yuv422_yuy2": Layout(2, 8, cv2.COLOR_YUV2RGB_YUY2),
    "yuyv": Layout(2, 8, cv2.COLOR_YUV2RGB_YUY2),
    **{f"bayer_{p}8": Layout(1, 8, code) for p, code in _BAYER_CODES.items()},
    **{f"bayer_{p}16": Layout(1, 16, code) for p, code in _BAYER_CODES.items()},
}


def image_to_rgb(msg: Any) -> np.ndarray:
    """A sensor_msgs/Image as an (H, W, 3) uint8 RGB array.

    Raises:
        FrameError: for an unsupported encoding or a data size that does not match the header.
    """
    encoding = str(msg.encoding).lower()
    layout = ENCODINGS.get(encoding)
    if layout is None:
        raise FrameError(
            f"image encoding {msg.encoding!r} is not supported; expected one of "
            f"{', '.join(ENCODINGS)} (depth and float images hold no text to read)"
        )
    h, w, step = int(msg.height), int(msg.width), int(msg.step)
    row_bytes = w * layout.channels * layout.bits // 8
    data = np.frombuffer(msg.data, np.uint8)
    if h <= 0 or w <= 0 or step < row_bytes or data.size < step * h:
        raise FrameError(
            f"corrupt image: {w}x{h} {encoding} needs step >= {row_bytes} and "
            f"{step * h} bytes, got step {step} and {data.size} bytes"
        )
    rows = data[: step * h].reshape(h, step)[:, :row_bytes]
    if layout.bits == 16:
        order = ">" if int(msg.is_bigendian) else "<"
        rows = np.ascontiguousarray(rows).view(f"{order}u2")
    pixels = rows.reshape(h, w, layout.channels)
    if layout.cv_code is None:
        return _to_rgb8(pixels, layout.bgr)
    try:
        if layout.bits == 16:  # demosaic at full depth, then drop the low byte
            return (cv2.cvtColor(pixels[:, :, 0].astype(np.uint16), layout.cv_code) >> 8).astype(
                np.uint8
            )
        return cv2.cvtColor(np.ascontiguousarray(pixels), layout.cv_code)
    except cv2.error as exc:  # e.g. YUV 4:2:2 of odd width, a Bayer mosaic of one row
        why = " ".join(str(exc).split())[-160:]
        raise FrameError(f"corrupt image: {w}x{h} {encoding} not convertible ({why})") from None


def compressed_to_rgb(msg: Any) -> np.ndarray:
    """A sensor_msgs/CompressedImage (JPEG or PNG) as an (H, W, 3) uint8 RGB array.

    The codec is read from the data itself; the ``format`` string decides the channel order
    ("... compressed rgb8" keeps R first; bgr8, the image_transport default, is swapped).

    Raises:
        FrameError: for depth streams, empty or undecodable data.
    """
    fmt = str(msg.format).strip().lower()
    if "compresseddepth" in fmt:
        raise FrameError(
            f"compressed image format {msg.format!r} is a depth stream; text detection needs "
            "a colour or mono camera topic"
        )
    data = np.frombuffer(msg.data, np.uint8)
    try:
        image = cv2.imdecode(data, cv2.IMREAD_UNCHANGED) if data.size else None
    except cv2.error:  # OpenCV refuses some damaged or oversized files by raising
        image = None
    if image is None or image.size == 0 or image.dtype not in (np.uint8, np.uint16):
        raise FrameError(
            f"cannot decode compressed image ({data.size} bytes, format {msg.format!r}); "
            "expected JPEG or PNG data (image_transport's compressed plugin)"
        )
    stored = fmt.rpartition("compressed")[2].strip()
    pixels = image if image.ndim == 3 else image[:, :, None]
    return _to_rgb8(pixels, bgr=not stored.startswith("rgb"))


def _to_rgb8(pixels: np.ndarray, bgr: bool) -> np.ndarray:
    """(H, W, C) uint8 or uint16 with C in 1, 3, 4 → (H, W, 3) uint8 RGB (alpha dropped)."""
    if pixels.dtype != np.uint8:
        pixels = (pixels >> 8).astype(np.uint8)
    if pixels.shape[2] == 1:
        return np.repeat(pixels, 3, axis=2)
    rgb = pixels[:, :, :3]
    return np.ascontiguousarray(rgb[:, :, ::-1] if bgr else rgb)
