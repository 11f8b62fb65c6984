"""The script-ID baseline: a crop classifier over the seen languages only.

This module owns the baseline that MENTOR is measured against on unseen languages (issue 4,
item 7): each detected region is rectified to a 32x128 grey crop, embedded by the same frozen
recogniser backbone MENTOR uses, and classified into one of the languages seen in training. It
cannot name a language it was not trained on, by construction; with the features shared, the
gap between it and MENTOR is what the templates add. It does not know training loops.
"""

from __future__ import annotations

import cv2
import numpy as np
import torch
from torch import nn

from perception.vision.mentor import Standardize
from perception.vision.recognizer import FEATURE_DIM
from perception.vision.render import TEMPLATE_HW_PX


def crop_region(image: np.ndarray, polygon_px: np.ndarray) -> np.ndarray:
    """Rectify a region to (32, 128) float32 in [0, 1], dark-on-light normalised (1 = ink).

    The polygon's minimum-area rectangle is warped upright with its long side horizontal;
    polarity is flipped so that the majority (background) is 0, the way templates are drawn.
    ``image`` is RGB or :func:`grey_image`'s output.
    """
    return fit_crop(upright_patch(grey_image(image), polygon_px, long_side="horizontal"))


def grey_image(image: np.ndarray) -> np.ndarray:
    """(H, W, 3) uint8 RGB → (H, W) float32 grey in [0, 1]; a grey float image passes through,
    so a caller cropping many regions converts once."""
    if image.ndim == 2:
        return image
    return cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).astype(np.float32) / 255.0


def crop_views(image: np.ndarray, polygon_px: np.ndarray) -> list[np.ndarray]:
    """The crops a region may be read as: :func:`crop_region` alone for a box whose long side
    runs more across than up; for one that runs up the image, also that crop turned 180 degrees
    (the line may read top-down or bottom-up) and the box read as a vertical column of upright
    glyphs, cut into square-ish tiles laid side by side (vertical CJK signs), since rotating a
    column to horizontal would lay every glyph on its side. ``image`` is RGB or
    :func:`grey_image`'s output."""
    grey = grey_image(image)
    line = upright_patch(grey, polygon_px, long_side="horizontal")
    if not is_vertical(polygon_px):
        return [fit_crop(line)]
    column = upright_patch(grey, polygon_px, long_side="vertical")
    return [fit_crop(line), fit_crop(line[::-1, ::-1]), fit_crop(reflow_column(column))]


def is_vertical(polygon_px: np.ndarray, min_aspect: float = 1.5) -> bool:
    """Whether the region's minimum-area rectangle is at least ``min_aspect`` times longer than
    wide and its long side is closer to the image's vertical than to its horizontal."""
    (_, _), (rw, rh), angle = cv2.minAreaRect(np.asarray(polygon_px, np.float32))
    if min(rw, rh) <= 0 or max(rw, rh) / min(rw, rh) < min_aspect:
        return False
    # the side of length rw makes ``angle`` degrees with the x axis
    long_angle = angle if rw >= rh else angle + 90.0
    return 45.0 < abs(long_angle) % 180.0 < 135.0


def upright_patch(grey: np.ndarray, polygon_px: np.ndarray, long_side: str) -> np.ndarray:
    """The pixels of a grey image (:func:`grey_image`) in the polygon's minimum-area rectangle,
    warped axis-aligned with its long side ``"horizontal"`` or ``"vertical"``."""
    (cx, cy), (rw, rh), angle = cv2.minAreaRect(np.asarray(polygon_px, np.float32))
    if (rw < rh) == (long_side == "horizontal"):
        rw, rh, angle = rh, rw, angle + 90
    m = cv2.getRotationMatrix2D((cx, cy), angle, 1.0)
    upright = cv2.warpAffine(grey, m, (grey.shape[1], grey.shape[0]), flags=cv2.INTER_LINEAR)
    x0, y0 = int(max(cx - rw / 2, 0)), int(max(cy - rh / 2, 0))
    return upright[y0 : int(cy + rh / 2) + 1, x0 : int(cx + rw / 2) + 1]


def reflow_column(column: np.ndarray) -> np.ndarray:
    """A tall (H, W) patch cut into round(H / W) tiles from the top, laid left to right."""
    h, w = column.shape[:2]
    n = max(1, round(h / max(w, 1)))
    step = h // n
    if step == 0:
        return column
    return np.concatenate([column[i * step : (i + 1) * step] for i in range(n)], axis=1)


def fit_crop(patch: np.ndarray) -> np.ndarray:
    """A grey patch scaled to fit (32, 128) keeping its aspect, stretched to [0, 1], the
    majority (background) made 0, placed at the left and centred vertically."""
    h, w = TEMPLATE_HW_PX
    if patch.size == 0:
        return np.zeros((h, w), np.float32)
    scale = min(h / patch.shape[0], w / patch.shape[1])
    size = (max(1, round(patch.shape[1] * scale)), max(1, round(patch.shape[0] * scale)))
    small = cv2.resize(np.ascontiguousarray(patch), size)
    lo, hi = float(small.min()), float(small.max())
    small = (small - lo) / max(hi - lo, 1e-3)
    if np.median(small) > 0.5:
        small = 1.0 - small
    out = np.zeros((h, w), np.float32)
    top = (h - small.shape[0]) // 2
    out[top : top + small.shape[0], : small.shape[1]] = small
    return out


class ScriptIdNet(nn.Module):
    """Region features (B, F) → (B, n_classes) logits: standardised, dropout, linear."""

    def __init__(self, n_classes: int, feature_dim: int = FEATURE_DIM, dropout: float = 0.5):
        super().__init__()
        self.scaler = Standardize(feature_dim)
        self.head = nn.Sequential(nn.Dropout(dropout), nn.Linear(feature_dim, n_classes))

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.head(self.scaler(features))
