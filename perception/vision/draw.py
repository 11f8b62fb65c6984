"""Reading images and drawing detected regions with their language labels.

This module owns the picture a user looks at (``perception detect --draw``): one colour per
language, the code, its score and the reading beside each polygon. It knows nothing about
detection.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw

from perception.vision.languages import NOTO_TTF
from perception.vision.render import load_font
from perception.vision.types import UNKNOWN_LANGUAGE, TextRegion

LABEL_FONT = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc")


def read_image(path: Path) -> np.ndarray:
    """(H, W, 3) uint8 RGB from any format Pillow reads; EXIF rotation applied."""
    from PIL import ImageOps

    with Image.open(path) as img:
        return np.asarray(ImageOps.exif_transpose(img).convert("RGB"))


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
