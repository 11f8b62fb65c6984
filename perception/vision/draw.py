"""Reading images and drawing detected regions with their language labels.

This module owns the picture a user looks at (``perception detect --draw``): one colour per
language, the code, its score and the reading beside each polygon. It knows nothing about
detection.
"""

from __future__ import annotations

import hashlib
import warnings
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw

from perception.errors import one_line
from perception.vision.languages import NOTO_TTF
from perception.vision.render import load_font
from perception.vision.types import UNKNOWN_LANGUAGE, ImageError, TextRegion

LABEL_FONT = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc")


# Pillow's own bound against decompression bombs (about 89 M pixels): a larger image is refused
# before its pixels are decoded, instead of Pillow's warning or its error at twice the bound.
MAX_IMAGE_PIXELS = int(Image.MAX_IMAGE_PIXELS or 89_478_485)


def read_image(path: Path) -> np.ndarray:
    """(H, W, 3) uint8 RGB from any format Pillow reads; EXIF rotation applied.

    Grey, palette, CMYK and RGBA images are converted (alpha is dropped); 16-bit images are
    scaled to 8 bits, not clipped.

    Raises:
        ImageError: the file is missing, not an image, truncated, empty, or larger than
            :data:`MAX_IMAGE_PIXELS`.
    """
    from PIL import ImageOps

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # checked below
            with Image.open(path) as img:
                w, h = img.size
                if w * h > MAX_IMAGE_PIXELS or w == 0 or h == 0:
                    raise ImageError(
                        f"{path}: {w}x{h} pixels; expected 1 to {MAX_IMAGE_PIXELS:,} pixels "
                        "(Pillow's decompression-bomb bound): shrink the image first"
                    )
                return _to_rgb8(ImageOps.exif_transpose(img))
    except Image.DecompressionBombError as exc:
        raise ImageError(f"{path}: {exc}") from None
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        if isinstance(exc, ImageError):
            raise
        raise ImageError(f"{path}: not a readable image ({one_line(exc)})") from None


def _to_rgb8(img: Image.Image) -> np.ndarray:
    """(H, W, 3) uint8 RGB from a Pillow image of any mode."""
    if img.mode.startswith("I;16") or img.mode in ("I", "F"):
        values = np.asarray(img, np.float64)  # (H, W)
        wide = img.mode.startswith("I;16") or values.max(initial=0) > 255
        grey = np.clip(values / 257.0 if wide else values, 0, 255).round().astype(np.uint8)
        return np.repeat(grey[:, :, None], 3, axis=2)
    return np.asarray(img.convert("RGB"))


def language_color(code: str) -> tuple[int, int, int]:
    """A stable, saturated colour per language code; grey for "unknown"."""
    if code == UNKNOWN_LANGUAGE:
        return (160, 160, 160)
    hue = int(hashlib.sha1(code.encode()).hexdigest()[:4], 16) % 180
    hsv = np.uint8([[[hue, 230, 255]]])
    return tuple(int(v) for v in cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)[0, 0])


def draw_regions(image: np.ndarray, regions: list[TextRegion], out: Path) -> Path:
    """Write :func:`render_regions` of ``image`` to ``out`` (PNG)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(render_regions(image, regions)).save(out)
    return out


def render_regions(image: np.ndarray, regions: list[TextRegion]) -> np.ndarray:
    """A copy of ``image`` with each region's polygon and "code score · text" label."""
    canvas = image.copy()
    for r in regions:
        pts = np.round(np.asarray(r.polygon_px)).astype(np.int32)
        cv2.polylines(canvas, [pts], True, language_color(r.language), 2)
    pil = Image.fromarray(canvas)
    draw = ImageDraw.Draw(pil)
    size = max(12, image.shape[0] // 40)
    # Noto Sans CJK covers Latin and Chinese readings; the plain face when it is missing
    font = load_font(str(LABEL_FONT if LABEL_FONT.is_file() else NOTO_TTF / "NotoSans-Bold.ttf"),
                     size)  # fmt: skip
    for r in regions:
        x, y = np.asarray(r.polygon_px).min(0)
        label = f"{r.language} {r.language_score:.2f}" + (f" · {r.text}" if r.text else "")
        box = draw.textbbox((x, max(y - font.size - 4, 0)), label, font=font)
        draw.rectangle(box, fill=language_color(r.language))
        draw.text((box[0], box[1]), label, font=font, fill=(0, 0, 0))
    return np.asarray(pil)
