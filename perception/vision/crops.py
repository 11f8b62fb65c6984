"""Region crops: the line crops a detected or annotated region is read as.

A region is warped to an upright line crop as rapidocr does (:func:`~perception.vision.
recognizer.line_crop`). A box 1.5 times taller than wide is also read two more ways: the same
line turned 180 degrees (it may read top-down or bottom-up), and as a column of upright glyphs cut
into square-ish tiles laid side by side (vertical CJK signs, where turning the column lays every
glyph on its side). The caller keeps the most confident reading. This module owns those views and
the degradations applied to training crops; it knows no model.
"""

from __future__ import annotations

import random

import cv2
import numpy as np

from perception.vision.postprocess import order_clockwise
from perception.vision.recognizer import line_crop

TALL = 1.5  # height / width from which a region is a column (rapidocr turns such crops)


def region_quad(polygon_px) -> np.ndarray:
    """(4, 2) float32 corners clockwise from the top-left: the polygon itself when it has four
    corners, else its minimum-area rectangle (curved text outlines)."""
    poly = np.asarray(polygon_px, np.float32)
    if len(poly) != 4:
        poly = cv2.boxPoints(cv2.minAreaRect(poly))
    return order_clockwise(poly)


def crop_views(image: np.ndarray, polygon_px) -> list[np.ndarray]:
    """The RGB crops a region may be read as: one for a line, three for a column (line, line
    turned 180 degrees, glyphs reflowed into a row)."""
    quad = region_quad(polygon_px)
    line = line_crop(image, quad)
    upright = _upright(image, quad)
    if upright.shape[0] < TALL * upright.shape[1]:
        return [line]
    return [line, np.ascontiguousarray(line[::-1, ::-1]), reflow_column(upright)]


def _upright(image: np.ndarray, quad: np.ndarray) -> np.ndarray:
    """The quadrilateral warped to a rectangle without turning it."""
    w = int(max(np.linalg.norm(quad[0] - quad[1]), np.linalg.norm(quad[2] - quad[3])))
    h = int(max(np.linalg.norm(quad[0] - quad[3]), np.linalg.norm(quad[1] - quad[2])))
    if w < 1 or h < 1:
        return np.zeros((1, 1, 3), np.uint8)
    m = cv2.getPerspectiveTransform(quad, np.float32([[0, 0], [w, 0], [w, h], [0, h]]))
    return cv2.warpPerspective(image, m, (w, h), borderMode=cv2.BORDER_REPLICATE)


def reflow_column(column: np.ndarray) -> np.ndarray:
    """A tall (H, W, ...) patch cut into round(H / W) tiles from the top, laid left to right."""
    h, w = column.shape[:2]
    n = max(1, round(h / max(w, 1)))
    step = h // n
    if step == 0:
        return column
    return np.concatenate([column[i * step : (i + 1) * step] for i in range(n)], axis=1)


def degrade(crop: np.ndarray, rng: random.Random) -> np.ndarray:
    """A camera-like copy of an RGB crop: one or two of shrink-and-enlarge (small text), motion
    blur, defocus blur, JPEG at quality 15-60, sensor noise, uneven light with a glare spot."""
    out = crop.astype(np.float32)
    h, w = out.shape[:2]
    for kind in rng.sample(["scale", "motion", "defocus", "jpeg", "noise", "light"], 2):
        if kind == "scale":
            f = rng.uniform(1.5, 4.0)
            small = cv2.resize(out, (max(2, round(w / f)), max(2, round(h / f))),
                               interpolation=cv2.INTER_AREA)  # fmt: skip
            out = cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
        elif kind == "motion":
            k = rng.choice([3, 5, 7])
            kernel = np.zeros((k, k), np.float32)
            kernel[k // 2] = 1.0 / k
            rot = cv2.getRotationMatrix2D((k / 2 - 0.5, k / 2 - 0.5), rng.uniform(0, 180), 1)
            out = cv2.filter2D(out, -1, cv2.warpAffine(kernel, rot, (k, k)))
        elif kind == "defocus":
            out = cv2.GaussianBlur(out, (0, 0), rng.uniform(0.8, 2.0))
        elif kind == "jpeg":
            ok, enc = cv2.imencode(".jpg", np.clip(out, 0, 255).astype(np.uint8),
                                   [cv2.IMWRITE_JPEG_QUALITY, rng.randint(15, 60)])  # fmt: skip
            out = cv2.imdecode(enc, cv2.IMREAD_UNCHANGED).astype(np.float32) if ok else out
        elif kind == "noise":
            out += np.random.default_rng(rng.randrange(1 << 30)).normal(
                0, rng.uniform(4, 16), out.shape
            )
        else:
            out = _light(out, rng)
    return np.clip(out, 0, 255).astype(np.uint8)


def _light(crop: np.ndarray, rng: random.Random) -> np.ndarray:
    """A brightness ramp across the crop and a soft saturated spot (glare)."""
    h, w = crop.shape[:2]
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    ramp = 1 + rng.uniform(-0.5, 0.5) * (xs / max(w, 1) - 0.5)
    cx, cy, r = rng.uniform(0, w), rng.uniform(0, h), rng.uniform(0.2, 0.6) * max(h, w)
    glare = rng.uniform(60, 160) * np.exp(-((xs - cx) ** 2 + (ys - cy) ** 2) / (2 * r * r))
    return crop * ramp[..., None] + glare[..., None]
