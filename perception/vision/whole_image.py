"""When an image is itself a word or a text line: read and name it whole.

PP-OCRv4's detector was trained on scenes; on a tight word crop or a single text line, where the
text fills the image, it finds nothing or only pieces of the word. On 53 tight crops of the
labelled regions of the real photos (``tests/data/photos``), the detector path read 18 exactly and
reading the whole image read 43; the rule reads 36
(``bench/results/vision_whole_image.txt``). The rule here: the
image is taken whole when the detector's boxes (at most ``max_boxes``) together span at least
``min_width_cover`` of its width and ``min_height_cover`` of its height and cover
``min_area_share`` of its area (a sparse scene with a few words spans the image too, but its
boxes cover under a fifth of it); or when it finds nothing but does find text once the image
gets a plain border (the text touched the edges); or when it finds nothing and the image is
line-shaped. On the 13 real photos and 40 rendered scenes the rule never fires. This module owns
the rule and knows no model.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from perception.vision.postprocess import Candidate

DETECT = "detect"
WHOLE_IMAGE = "whole-image"


@dataclass(frozen=True)
class CropRule:
    """Thresholds of the rule in the module doc; ``pad_fraction`` is the border added on each
    side, as a share of the image height; ``line_aspect`` the width / height of a line."""

    min_width_cover: float = 0.5
    min_height_cover: float = 0.4
    min_area_share: float = 0.25
    max_boxes: int = 4
    pad_fraction: float = 0.25
    line_aspect: float = 2.0


def fills_image(cands: list[Candidate], hw: tuple[int, int], rule: CropRule) -> bool:
    """Whether at most ``rule.max_boxes`` boxes together span most of an (H, W) image and
    cover ``rule.min_area_share`` of its area."""
    if not cands or len(cands) > rule.max_boxes:
        return False
    pts = np.concatenate([c.polygon_px for c in cands])
    span = pts.max(0) - pts.min(0)
    area = sum(cv2.contourArea(c.polygon_px.astype(np.float32)) for c in cands)
    return (
        span[0] >= rule.min_width_cover * hw[1]
        and span[1] >= rule.min_height_cover * hw[0]
        and area >= rule.min_area_share * hw[0] * hw[1]
    )


def with_border(image: np.ndarray, rule: CropRule) -> np.ndarray:
    """The image inside a border of its edges' median colour."""
    pad = int(max(8, rule.pad_fraction * image.shape[0]))
    edges = np.concatenate([image[0], image[-1], image[:, 0], image[:, -1]])
    colour = [int(v) for v in np.median(edges, 0)]
    return cv2.copyMakeBorder(image, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=colour)


def is_line(hw: tuple[int, int], rule: CropRule) -> bool:
    return hw[1] >= rule.line_aspect * hw[0]


def whole_candidate(hw: tuple[int, int], score: float) -> Candidate:
    """The whole (H, W) image as one box, clockwise from the top-left."""
    h, w = hw
    return Candidate(np.float32([[0, 0], [w - 1, 0], [w - 1, h - 1], [0, h - 1]]), score)
