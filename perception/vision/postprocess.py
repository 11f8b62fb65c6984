"""From maps to regions: differentiable-binarization post-processing and per-region language.

This module owns turning a text probability map into scored polygons in image pixels (DBNet,
Liao et al., AAAI 2020, Sec. 3.5: threshold, connected components, box score, unclip by
D = A * r / L, with rapidocr's rounding) and naming each polygon's language from class
probabilities, or "unknown" when none is confident. It does not know any network.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import pyclipper

from perception.vision.types import UNKNOWN_LANGUAGE, Reading, TextRegion


@dataclass(frozen=True)
class DbOptions:
    """DB post-processing thresholds (rapidocr's defaults for PP-OCRv4)."""

    bin_threshold: float = 0.3
    box_threshold: float = 0.5
    unclip_ratio: float = 1.6
    min_side_px: float = 3.0
    max_regions: int = 1000


@dataclass(frozen=True)
class Candidate:
    """A region before language labelling: polygon in image px (whole pixels) and its score."""

    polygon_px: np.ndarray  # (4, 2) float32, clockwise from the top-left
    score: float


def db_candidates(
    prob: np.ndarray, opts: DbOptions, image_hw: tuple[int, int] | None = None
) -> list[Candidate]:
    """Scored quadrilaterals from a (H', W') probability map in [0, 1], in the pixels of an
    ``image_hw`` image (default: the map's own size).

    The steps and their rounding follow rapidocr's DB post-processing, so that our boxes equal
    its boxes: dilated binary map, contours, minimum-area box, mean probability inside the box
    (its integer-cornered bounding window), unclip, minimum-area box again, scaling to the
    image with rounding, clockwise order, clipping, and dropping boxes 3 px or thinner.
    """
    h, w = prob.shape
    dest_h, dest_w = image_hw or (h, w)
    bitmap = cv2.dilate((prob > opts.bin_threshold).astype(np.uint8), np.ones((2, 2), np.uint8))
    contours, _ = cv2.findContours(bitmap * 255, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
    out: list[Candidate] = []
    for contour in contours[: opts.max_regions]:
        box, side = _min_box(contour.reshape(-1, 2))
        if side < opts.min_side_px:
            continue
        score = _box_score(prob, box)
        if score < opts.box_threshold:
            continue
        box, side = _min_box(_unclip(box, opts.unclip_ratio))
        if side < opts.min_side_px + 2:
            continue
        scaled = np.stack(
            [
                np.clip(np.round(box[:, 0] / w * dest_w), 0, dest_w),
                np.clip(np.round(box[:, 1] / h * dest_h), 0, dest_h),
            ],
            1,
        ).astype(np.int32)
        kept = _in_image(order_clockwise(scaled.astype(np.float32)), dest_h, dest_w)
        if kept is not None:
            out.append(Candidate(kept, score))
    return out


def _min_box(points: np.ndarray) -> tuple[np.ndarray, float]:
    """Minimum-area rectangle (corners in DB's order) and its shorter side."""
    rect = cv2.minAreaRect(points.astype(np.float32))
    p = sorted(cv2.boxPoints(rect).tolist(), key=lambda q: q[0])
    left = (p[0], p[1]) if p[1][1] > p[0][1] else (p[1], p[0])  # (top, bottom)
    right = (p[2], p[3]) if p[3][1] > p[2][1] else (p[3], p[2])
    box = np.array([left[0], right[0], right[1], left[1]], np.float32)
    return box, float(min(rect[1]))


def order_clockwise(corners: np.ndarray) -> np.ndarray:
    """Four corners as top-left, top-right, bottom-right, bottom-left (image y down)."""
    by_x = corners[np.argsort(corners[:, 0])]
    left, right = by_x[:2], by_x[2:]
    tl, bl = left[np.argsort(left[:, 1])]
    tr, br = right[np.argsort(right[:, 1])]
    return np.array([tl, tr, br, bl], np.float32)


def _in_image(box: np.ndarray, h: int, w: int) -> np.ndarray | None:
    """Corners clipped to the image in whole pixels; None when a side is 3 px or less."""
    box = np.stack([np.clip(box[:, 0], 0, w - 1), np.clip(box[:, 1], 0, h - 1)], 1)
    box = np.trunc(box).astype(np.float32)
    width = int(np.linalg.norm(box[0] - box[1]))
    height = int(np.linalg.norm(box[0] - box[3]))
    return None if width <= 3 or height <= 3 else box


def _box_score(prob: np.ndarray, box: np.ndarray) -> float:
    """Mean probability inside ``box`` (DB's "fast" score, over its bounding window)."""
    h, w = prob.shape
    x0, y0 = np.clip(np.floor(box.min(0)), 0, [w - 1, h - 1]).astype(int)
    x1, y1 = np.clip(np.ceil(box.max(0)), 0, [w - 1, h - 1]).astype(int)
    mask = np.zeros((y1 - y0 + 1, x1 - x0 + 1), np.uint8)
    shifted = (box - np.float32([x0, y0])).astype(np.int32)
    cv2.fillPoly(mask, shifted.reshape(1, -1, 2), 1)
    return float(cv2.mean(prob[y0 : y1 + 1, x0 : x1 + 1], mask)[0])


def _unclip(box: np.ndarray, ratio: float) -> np.ndarray:
    """The box grown by D = area × ratio / perimeter (DBNet, Sec. 3.5), round joins."""
    area = abs(cv2.contourArea(box))
    length = cv2.arcLength(box, True)
    offset = pyclipper.PyclipperOffset()
    offset.AddPath(box.tolist(), pyclipper.JT_ROUND, pyclipper.ET_CLOSEDPOLYGON)
    grown = offset.Execute(area * ratio / length) if length > 0 else []
    return np.array(grown, np.float32).reshape(-1, 2) if grown else box


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
    readings: list[Reading] | None = None,
    mode: str = "detect",
) -> list[TextRegion]:
    """Regions (candidates are already in image pixels), highest score first; ``mode`` says
    how they were found ("detect" or "whole-image")."""
    readings = readings or [Reading()] * len(candidates)
    regions = []
    for cand, (lang, lang_score), r in zip(candidates, labels, readings, strict=True):
        poly = tuple((float(x), float(y)) for x, y in cand.polygon_px)
        regions.append(
            TextRegion(
                poly, float(cand.score), lang, lang_score, r.text, r.score, r.reader, r.note, mode
            )
        )
    return sorted(regions, key=lambda r: -r.score)
