"""From maps to regions: differentiable-binarization post-processing and per-region language.

This module owns turning a text probability map into scored polygons (DBNet, Liao et al.,
AAAI 2020, Sec. 3.5: threshold, connected components, box score, unclip by
D = A * r / L) and naming each polygon's language from class probabilities, or "unknown" when
none is confident. It does not know any network.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import pyclipper

from perception.vision.types import UNKNOWN_LANGUAGE, TextRegion


@dataclass(frozen=True)
class DbOptions:
    """DB post-processing thresholds (PaddleOCR / rapidocr defaults)."""

    bin_threshold: float = 0.3
    box_threshold: float = 0.5
    unclip_ratio: float = 1.6
    min_side_px: float = 3.0
    max_regions: int = 500


@dataclass(frozen=True)
class Candidate:
    """A region before language labelling: polygon in map px and its score."""

    polygon_px: np.ndarray  # (4, 2) float32, map coordinates
    score: float


def db_candidates(prob: np.ndarray, opts: DbOptions) -> list[Candidate]:
    """Scored quadrilaterals from a (H, W) probability map in [0, 1]."""
    bitmap = cv2.dilate((prob > opts.bin_threshold).astype(np.uint8), np.ones((2, 2), np.uint8))
    contours, _ = cv2.findContours(bitmap, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
    out: list[Candidate] = []
    for contour in contours[: opts.max_regions]:
        box, side = _min_box(contour.reshape(-1, 2))
        if side < opts.min_side_px:
            continue
        score = _mean_inside(prob, contour.reshape(-1, 2))
        if score < opts.box_threshold:
            continue
        grown = _unclip(box, opts.unclip_ratio)
        if grown is None:
            continue
        box, side = _min_box(grown)
        if side < opts.min_side_px + 2:
            continue
        out.append(Candidate(box, score))
    return out


def _min_box(points: np.ndarray) -> tuple[np.ndarray, float]:
    """Minimum-area rectangle, corners clockwise from the top-left; and its shorter side."""
    rect = cv2.minAreaRect(points.astype(np.float32))
    corners = cv2.boxPoints(rect)
    return order_clockwise(corners), float(min(rect[1]))


def order_clockwise(corners: np.ndarray) -> np.ndarray:
    """Four corners as top-left, top-right, bottom-right, bottom-left (image y down)."""
    by_x = corners[np.argsort(corners[:, 0])]
    left, right = by_x[:2], by_x[2:]
    tl, bl = left[np.argsort(left[:, 1])]
    tr, br = right[np.argsort(right[:, 1])]
    return np.array([tl, tr, br, bl], np.float32)


def _mean_inside(prob: np.ndarray, polygon: np.ndarray) -> float:
    x0, y0 = np.maximum(polygon.min(0).astype(int), 0)
    x1, y1 = np.minimum(
        np.ceil(polygon.max(0)).astype(int), [prob.shape[1] - 1, prob.shape[0] - 1]
    )
    mask = np.zeros((y1 - y0 + 1, x1 - x0 + 1), np.uint8)
    cv2.fillPoly(mask, [np.round(polygon - [x0, y0]).astype(np.int32)], 1)
    patch = prob[y0 : y1 + 1, x0 : x1 + 1]
    return float((patch * mask).sum() / max(int(mask.sum()), 1))


def _unclip(box: np.ndarray, ratio: float) -> np.ndarray | None:
    poly = box.astype(np.float64)
    area = abs(cv2.contourArea(poly.astype(np.float32)))
    length = cv2.arcLength(poly.astype(np.float32), True)
    if length == 0:
        return None
    offset = pyclipper.PyclipperOffset()
    offset.AddPath([tuple(p) for p in poly], pyclipper.JT_ROUND, pyclipper.ET_CLOSEDPOLYGON)
    grown = offset.Execute(area * ratio / length)
    if len(grown) != 1:
        return None
    return np.array(grown[0], np.float32)


def pick_labels(prob: np.ndarray, classes: list[str], threshold: float) -> list[tuple[str, float]]:
    """(language, probability) per region from probabilities (N, C), or (N, C + 1) whose last
    column is MENTOR's "unknown": the most probable of the C languages, or "unknown" when its
    probability is below ``threshold``. The unknown column only takes probability mass from
    the languages (with the earlier crop-CNN model, an arg-max that included it rejected half of
    the held-out-script regions that the language arg-max named correctly)."""
    out = []
    for p in prob:
        best = int(np.argmax(p[: len(classes)]))
        label = classes[best] if p[best] >= threshold else UNKNOWN_LANGUAGE
        out.append((label, float(p[best])))
    return out


def to_regions(
    candidates: list[Candidate],
    labels: list[tuple[str, float]],
    scale_xy: tuple[float, float],
    image_hw: tuple[int, int],
) -> list[TextRegion]:
    """Regions in image pixels (clipped to the image), highest score first."""
    h, w = image_hw
    regions = []
    for cand, (lang, lang_score) in zip(candidates, labels, strict=True):
        pts = cand.polygon_px * np.float32(scale_xy)
        pts = np.clip(pts, 0, [w - 1, h - 1])
        poly = tuple((float(x), float(y)) for x, y in pts)
        regions.append(TextRegion(poly, float(cand.score), lang, lang_score))
    return sorted(regions, key=lambda r: -r.score)
