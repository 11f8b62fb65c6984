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

    The polygon's minimum-area rectangle is warped upright; polarity is flipped so that the
    majority (background) is 0, the way templates are drawn.
    """
    h, w = TEMPLATE_HW_PX
    rect = cv2.minAreaRect(np.asarray(polygon_px, np.float32))
    (cx, cy), (rw, rh), angle = rect
    if rw < rh:
        rw, rh, angle = rh, rw, angle + 90
    m = cv2.getRotationMatrix2D((cx, cy), angle, 1.0)
    grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).astype(np.float32) / 255.0
    upright = cv2.warpAffine(grey, m, (image.shape[1], image.shape[0]), flags=cv2.INTER_LINEAR)
    x0, y0 = int(max(cx - rw / 2, 0)), int(max(cy - rh / 2, 0))
    patch = upright[y0 : int(cy + rh / 2) + 1, x0 : int(cx + rw / 2) + 1]
    if patch.size == 0:
        return np.zeros((h, w), np.float32)
    scale = min(h / patch.shape[0], w / patch.shape[1])
    size = (max(1, round(patch.shape[1] * scale)), max(1, round(patch.shape[0] * scale)))
    small = cv2.resize(patch, size)
    lo, hi = float(small.min()), float(small.max())
    small = (small - lo) / max(hi - lo, 1e-3)
    if np.median(small) > 0.5:
        small = 1.0 - small
    out = np.zeros((h, w), np.float32)
    out[
        (h - small.shape[0]) // 2 : (h - small.shape[0]) // 2 + small.shape[0], : small.shape[1]
    ] = small
    return out


class ScriptIdNet(nn.Module):
    """Region features (B, F) → (B, n_classes) logits: standardised, dropout, linear."""

    def __init__(self, n_classes: int, feature_dim: int = FEATURE_DIM, dropout: float = 0.5):
        super().__init__()
        self.scaler = Standardize(feature_dim)
        self.head = nn.Sequential(nn.Dropout(dropout), nn.Linear(feature_dim, n_classes))

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.head(self.scaler(features))
